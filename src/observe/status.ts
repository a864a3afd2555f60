import { describeError } from '../core/errors.js';
import { toRfc3339 } from '../core/time.js';
import type { QueryRunResult } from '../pipeline/run-query.js';
import { outageCause } from './outage-cause.js';
import { tierLagMs, TierBook } from './tier-book.js';

export interface TierStatus {
  name: string;
  /** null for a raw tier. */
  resolutionSeconds: number | null;
  watermark: string | null;
  lagSeconds: number | null;
}

export interface QueryStatus {
  query: string;
  lastRunAt: string | null;
  lastSuccessAt: string | null;
  watermark: string | null;
  lagSeconds: number | null;
  pointsWritten: number;
  lastError: string | null;
  /** The tiers the query feeds, in order (see TierBook). */
  tiers: TierStatus[];
}

interface QueryState {
  lastRunMs?: number;
  lastSuccessMs?: number;
  watermarkMs?: number;
  pointsWritten: number;
  lastError?: string;
  /** Set when the last error was an end of the pipeline being down or hung (see outageCause). */
  lastOutage?: string;
}

/**
 * What the daemon's status endpoints report: per query the last run, lag and last error, and
 * whether the last cycle reached both ends (ready). Pure bookkeeping, fed by the daemon.
 */
export class DaemonStatus {
  private readonly queries = new Map<string, QueryState>();
  private readonly startedMs: number;
  private cycles = 0;
  private lastCycle: { endedMs: number; ok: boolean; error?: string } | undefined;

  constructor(
    queryNames: readonly string[],
    private readonly now: () => number = Date.now,
    private readonly tiers: TierBook = new TierBook(),
  ) {
    this.startedMs = now();
    for (const name of queryNames) this.queries.set(name, { pointsWritten: 0 });
  }

  recordRun(result: QueryRunResult): void {
    const state = this.state(result.query);
    state.lastRunMs = this.now();
    for (const totals of Object.values(result.sinks)) state.pointsWritten += totals.written;
    if (result.error === undefined) {
      state.lastSuccessMs = state.lastRunMs;
      delete state.lastError;
      delete state.lastOutage;
    } else {
      state.lastError = describeError(result.error);
      state.lastOutage = outageCause(result.error);
    }
  }

  recordWatermark(query: string, ms: number): void {
    this.state(query).watermarkMs = ms;
  }

  /** A cycle ended: `ok` when the sink opened and no query run failed. */
  recordCycle(ok: boolean, error?: unknown): void {
    this.cycles++;
    this.lastCycle = {
      endedMs: this.now(),
      ok,
      ...(error !== undefined && { error: describeError(error) }),
    };
  }

  /** Ready once a cycle reached both ends: Prometheus answered and every write was acknowledged. */
  readiness(): { ready: boolean; reason: string } {
    if (!this.lastCycle) return { ready: false, reason: 'no cycle has finished yet' };
    if (!this.lastCycle.ok) {
      const failing = [...this.queries].filter(([, s]) => s.lastError);
      const failed = `the last cycle failed for ${failing.length ? failing.map(([q]) => q).join(', ') : 'some queries'}`;
      // An outage is named first, with the error that shows it: what an operator acts on.
      const outage = failing.find(([, s]) => s.lastOutage);
      return {
        ready: false,
        reason:
          this.lastCycle.error ??
          (outage ? `${outage[1].lastOutage} (${failed}): ${outage[1].lastError}` : failed),
      };
    }
    return { ready: true, reason: 'the last cycle reached Prometheus and the sink' };
  }

  snapshot(): {
    startedAt: string;
    cycles: number;
    ready: boolean;
    readyReason: string;
    queries: QueryStatus[];
  } {
    const nowMs = this.now();
    const time = (ms: number | undefined): string | null =>
      ms === undefined ? null : toRfc3339(ms);
    const { ready, reason } = this.readiness();
    return {
      startedAt: toRfc3339(this.startedMs),
      cycles: this.cycles,
      ready,
      readyReason: reason,
      queries: [...this.queries].map(([query, s]) => ({
        query,
        lastRunAt: time(s.lastRunMs),
        lastSuccessAt: time(s.lastSuccessMs),
        watermark: time(s.watermarkMs),
        lagSeconds: s.watermarkMs === undefined ? null : (nowMs - s.watermarkMs) / 1000,
        pointsWritten: s.pointsWritten,
        lastError: s.lastError ?? null,
        tiers: this.tiers.tiersOf(query).map(({ view, watermarkMs }) => ({
          name: view.name,
          resolutionSeconds: view.resolutionMs === undefined ? null : view.resolutionMs / 1000,
          watermark: time(watermarkMs),
          lagSeconds: watermarkMs === undefined ? null : tierLagMs(view, watermarkMs, nowMs) / 1000,
        })),
      })),
    };
  }

  private state(query: string): QueryState {
    let state = this.queries.get(query);
    if (!state) this.queries.set(query, (state = { pointsWritten: 0 }));
    return state;
  }
}
