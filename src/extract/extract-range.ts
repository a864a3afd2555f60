import { QueryError, UsageError } from '../core/errors.js';
import { anySignal } from '../core/http-client.js';
import { chunkPoints, planChunk, splitChunk } from './chunk-plan.js';
import type { PrometheusClient, QueryRangeOptions } from './prometheus.js';
import type { Chunk, MatrixResult, RangeRequest } from './types.js';

export interface ExtractRangeOptions {
  /** Requests in flight at most (their bodies are read one at a time, in range order). */
  concurrency: number;
  maxPointsPerSeries: number;
  maxSamplesPerRequest: number;
  /** Series expected before the first response says (default 1000). */
  initialSeriesEstimate?: number;
  signal?: AbortSignal;
  deadlineMs?: number;
}

export interface ExtractedChunk {
  chunk: Chunk;
  result: MatrixResult;
}

type Outcome = { ok: true; result: MatrixResult } | { ok: false; error: unknown };

interface Slot {
  chunk: Chunk;
  /** Set once the request started; settles, never rejects (prefetched failures wait their turn). */
  outcome?: Promise<Outcome>;
  /** Lets the client read the response body: called when the slot is at the head. */
  openBody?: () => void;
}

/** Prometheus' `-query.max-samples` refusal: smaller chunks will pass. */
export function isTooManySamples(err: unknown): boolean {
  return (
    err instanceof QueryError &&
    err.errorType === 'execution' &&
    /too many samples/i.test(err.message)
  );
}

/**
 * The extract stage: the range as chunks on the step grid, fetched up to `concurrency` ahead and
 * yielded strictly in range order (the consumer's per-series dedupe relies on it).
 *
 * Only the chunk at the head has its response body read and decoded: the requests behind it are
 * sent early, so the server evaluates them meanwhile, but their bodies wait in the socket (and the
 * server) rather than as decoded columns here. promflux thus holds one chunk's columns at a time,
 * which lets chunks be long (Prometheus serves long chunks with less CPU per sample).
 *
 * Chunks are sized for the samples budget from the series count of the latest non-empty
 * response. A chunk Prometheus refuses with "too many samples" is split in halves (down to one
 * point, then the error propagates), and later chunks are no larger than those halves.
 * Backpressure: nothing is fetched beyond `concurrency` unconsumed results. On any error, or when
 * the consumer stops early, requests in flight are aborted and awaited before the generator
 * finishes.
 */
export async function* extractRange(
  client: Pick<PrometheusClient, 'queryRange'>,
  req: RangeRequest,
  opts: ExtractRangeOptions,
): AsyncGenerator<ExtractedChunk, void, undefined> {
  if (!(req.stepMs > 0)) throw new UsageError(`Query "${req.name}": the step must be positive.`);
  const concurrency = Math.max(1, Math.floor(opts.concurrency));
  // Aborted when the consumer stops or fails, and whenever the caller's signal aborts.
  const controller = new AbortController();
  const requestOptions: QueryRangeOptions = {
    signal: anySignal([opts.signal, controller.signal]),
    deadlineMs: opts.deadlineMs,
  };

  let seriesEstimate = Math.max(1, opts.initialSeriesEstimate ?? 1000);
  let pointsCap = opts.maxPointsPerSeries;
  let cursor = req.startMs;
  let answered = false;
  const queue: Slot[] = [];

  const fill = (): void => {
    // Until the first answer, one request: on a shared core the server would evaluate the others
    // at the same time, delaying the first write, which everything waits for; and the others are
    // then sized from the real series count.
    const limit = answered ? concurrency : 1;
    while (queue.length < limit) {
      const chunk = planChunk(cursor, req.endMs, req.stepMs, {
        maxPointsPerSeries: pointsCap,
        maxSamplesPerRequest: opts.maxSamplesPerRequest,
        expectedSeries: seriesEstimate,
      });
      if (!chunk) break;
      queue.push({ chunk });
      cursor = chunk.endMs + req.stepMs;
    }
    // Started slots are in flight or buffered: at most `concurrency`, the earliest first.
    let started = queue.filter((slot) => slot.outcome !== undefined).length;
    for (const slot of queue) {
      if (started >= limit) break;
      if (slot.outcome) continue;
      const bodyGate = new Promise<void>((open) => (slot.openBody = open));
      slot.outcome = client
        .queryRange(
          { ...req, startMs: slot.chunk.startMs, endMs: slot.chunk.endMs },
          { ...requestOptions, bodyGate },
        )
        .then(
          (result): Outcome => ({ ok: true, result }),
          (error: unknown): Outcome => ({ ok: false, error }),
        );
      started++;
    }
  };

  try {
    for (;;) {
      fill();
      const head = queue[0];
      if (!head) return;
      head.openBody!();
      const outcome = await head.outcome!;
      answered = true;
      queue.shift();
      if (outcome.ok) {
        // An empty chunk (a gap) says nothing about the series to come.
        if (outcome.result.series.length > 0) seriesEstimate = outcome.result.series.length;
        // Top up first, so the next requests run while the consumer works on this result.
        fill();
        yield { chunk: head.chunk, result: outcome.result };
        continue;
      }
      const halves = isTooManySamples(outcome.error)
        ? splitChunk(head.chunk, req.stepMs)
        : undefined;
      if (!halves) throw outcome.error;
      pointsCap = Math.min(pointsCap, chunkPoints(halves[0], req.stepMs));
      queue.unshift({ chunk: halves[0] }, { chunk: halves[1] });
    }
  } finally {
    controller.abort();
    await Promise.all(queue.flatMap((slot) => (slot.outcome ? [slot.outcome] : [])));
  }
}
