import type { Writable } from 'node:stream';
import type { Sink, SinkCheckResult, WriteReport } from './sink.js';
import type { LineBatch } from '../core/line-batch.js';

/**
 * `--dry-run`: the pipeline runs unchanged up to the sink, which prints the line protocol (or,
 * with `--summary`, only counts it). Nothing is written anywhere else.
 */
export class StdoutSink implements Sink {
  readonly name = 'stdout';
  private precision: string | undefined;

  constructor(
    private readonly out: Writable,
    private readonly print: boolean,
  ) {}

  async write(batch: LineBatch): Promise<WriteReport> {
    if (this.print) {
      // Line protocol carries no precision: say it in a comment line (`influx write` skips those).
      if (batch.precision !== this.precision) {
        this.precision = batch.precision;
        this.out.write(`# precision=${batch.precision}\n`);
      }
      // Settle only once the stream is done with the bytes: the batch's buffer is then reused.
      await new Promise<void>((resolve, reject) =>
        this.out.write(batch.body, (err) => (err ? reject(err) : resolve())),
      );
    }
    return {
      written: batch.lines,
      rejected: 0,
      skippedBeyondRetention: 0,
      requests: 0,
      retries: 0,
    };
  }

  check(): Promise<SinkCheckResult> {
    return Promise.resolve({ ok: true, details: ['dry run: nothing is written'] });
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}
