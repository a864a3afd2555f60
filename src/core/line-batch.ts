/**
 * What flows from transform to load: encoded line protocol, cut into batches by
 * `transform/line-batcher.ts` and written by the sinks (`load/sink.ts`).
 */

/** Timestamp precision of a batch: the coarsest one that represents every timestamp in it exactly. */
export type Precision = 's' | 'ms';

/** Encoded line protocol: complete lines, each terminated by `\n`. */
export interface LineBatch {
  body: Buffer;
  lines: number;
  precision: Precision;
  /** The query (config name) the lines came from: for dead letters, logs and metrics. */
  query: string;
  /**
   * Called once, by whoever submitted the batch, when no write of it is in progress any more: the
   * body's memory may then be reused. Sinks must not hold on to `body` after `write` settles.
   */
  release?: () => void;
}
