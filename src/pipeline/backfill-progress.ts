import type { TimeRange } from './run-query.js';

/** How far a backfill is, at one moment. */
export interface ProgressSnapshot {
  /** 0..1: acknowledged grid points over all grid points, summed over the queries. */
  fraction: number;
  samples: number;
  elapsedSeconds: number;
  samplesPerSecond: number;
  /** Seconds left at the pace so far; undefined until something was acknowledged. */
  etaSeconds: number | undefined;
  /** The query being worked on (the last one that reported). */
  query: string | undefined;
  queriesDone: number;
  queries: number;
}

interface QueryProgress {
  range: TimeRange;
  stepMs: number;
  /** Grid points of the range (per series). */
  total: number;
  acked: number;
  done: boolean;
}

/**
 * Progress of a backfill over several queries. A query's share is its grid points (range / step):
 * a query's series count is unknown before it runs, so every series is assumed to be as long as
 * every other. Pure bookkeeping: the caller says what happened and when.
 */
export class BackfillProgress {
  private readonly queries = new Map<string, QueryProgress>();
  private readonly totalPoints: number;
  private samples = 0;
  private current: string | undefined;

  constructor(
    ranges: ReadonlyArray<{ name: string; range: TimeRange; stepMs: number }>,
    private readonly startedMs: number,
  ) {
    for (const { name, range, stepMs } of ranges) {
      const total = Math.floor((range.endMs - range.startMs) / stepMs) + 1;
      this.queries.set(name, { range, stepMs, total, acked: 0, done: false });
    }
    this.totalPoints = [...this.queries.values()].reduce((sum, q) => sum + q.total, 0);
  }

  addSamples(query: string, samples: number): void {
    this.current = query;
    this.samples += samples;
  }

  /** Every grid point of `query` up to and including `ackedThroughMs` is written. */
  ack(query: string, ackedThroughMs: number): void {
    const q = this.queries.get(query);
    if (!q) return;
    this.current = query;
    const points = Math.floor((ackedThroughMs - q.range.startMs) / q.stepMs) + 1;
    q.acked = Math.min(q.total, Math.max(q.acked, points));
  }

  /** The query's run ended, written or not: it takes no more time. */
  finish(query: string): void {
    const q = this.queries.get(query);
    if (q) q.done = true;
  }

  snapshot(nowMs: number): ProgressSnapshot {
    const elapsedSeconds = Math.max(0, (nowMs - this.startedMs) / 1000);
    let acked = 0;
    let remaining = 0;
    let queriesDone = 0;
    for (const q of this.queries.values()) {
      acked += q.acked;
      if (q.done) queriesDone++;
      else remaining += q.total - q.acked;
    }
    const fraction = this.totalPoints === 0 ? 1 : acked / this.totalPoints;
    return {
      fraction,
      samples: this.samples,
      elapsedSeconds,
      samplesPerSecond: elapsedSeconds > 0 ? this.samples / elapsedSeconds : 0,
      etaSeconds:
        acked > 0 && elapsedSeconds > 0 ? (remaining * elapsedSeconds) / acked : undefined,
      query: this.current,
      queriesDone,
      queries: this.queries.size,
    };
  }
}
