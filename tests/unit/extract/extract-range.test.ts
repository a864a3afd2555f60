import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { PromfluxError, QueryError } from '../../../src/core/errors.js';
import { chunkPoints } from '../../../src/extract/chunk-plan.js';
import { firstGridPoint } from '../../../src/core/step-grid.js';
import { extractRange, type ExtractedChunk } from '../../../src/extract/extract-range.js';
import type { QueryRangeOptions } from '../../../src/extract/prometheus.js';
import type { Chunk, MatrixResult, RangeRequest } from '../../../src/extract/types.js';
import { blockTimestamps, seriesBlock } from '../../../src/core/series.js';

interface Call {
  chunk: Chunk;
  signal: AbortSignal | undefined;
  settled: boolean;
  /** The caller let this call read its body (its bodyGate settled). */
  bodyOpened: boolean;
}

/** A fake PrometheusClient: one series per `seriesCount`, a sample at every grid point. */
class FakeClient {
  readonly calls: Call[] = [];
  inFlight = 0;
  maxInFlight = 0;
  constructor(
    private readonly opts: {
      latency?: (call: number) => number;
      seriesCount?: number;
      fail?: (chunk: Chunk, points: number) => Error | undefined;
      never?: (call: number) => boolean;
      /** Answer only once the caller opens the body gate, as the real client reads the body. */
      gated?: boolean;
    } = {},
  ) {}

  queryRange = (req: RangeRequest, o: QueryRangeOptions = {}): Promise<MatrixResult> => {
    const index = this.calls.length;
    const call: Call = {
      chunk: { startMs: req.startMs, endMs: req.endMs },
      signal: o.signal,
      settled: false,
      bodyOpened: false,
    };
    void o.bodyGate?.then(() => (call.bodyOpened = true));
    this.calls.push(call);
    this.inFlight++;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    return new Promise<MatrixResult>((resolve, reject) => {
      const done = (): void => {
        call.settled = true;
        this.inFlight--;
        o.signal?.removeEventListener('abort', onAbort);
      };
      let timer: NodeJS.Timeout | undefined;
      const onAbort = (): void => {
        clearTimeout(timer);
        done();
        reject(new PromfluxError('ABORTED', 'Operation aborted.'));
      };
      o.signal?.addEventListener('abort', onAbort, { once: true });
      const settle = (): void => {
        if (call.settled) return;
        done();
        const points = chunkPoints(call.chunk, req.stepMs);
        const error = this.opts.fail?.(call.chunk, points);
        if (error) reject(error);
        else resolve(result(req, this.opts.seriesCount ?? 1));
      };
      const answer = (): void => {
        if (call.settled || this.opts.never?.(index)) return;
        const latency = this.opts.latency?.(index) ?? 0;
        // No latency: answer on the microtask queue, so that `settled()` below sees it.
        if (latency === 0) queueMicrotask(settle);
        else timer = setTimeout(settle, latency);
      };
      if (this.opts.gated && o.bodyGate) void o.bodyGate.then(answer);
      else answer();
    });
  };
}

function result(req: RangeRequest, seriesCount: number): MatrixResult {
  const ts: number[] = [];
  for (let t = firstGridPoint(req.startMs, req.stepMs); t <= req.endMs; t += req.stepMs) ts.push(t);
  const series = Array.from({ length: seriesCount }, (_, i) =>
    seriesBlock({ i: String(i) }, ts, new Float64Array(ts.length).fill(i)),
  );
  return { series, warnings: [], infos: [], samples: ts.length * seriesCount };
}

const tooManySamples = (): QueryError =>
  new QueryError(
    'QUERY_EXECUTION',
    'q',
    'execution',
    'query processing would load too many samples into memory in query execution',
  );

async function collect(gen: AsyncGenerator<ExtractedChunk>): Promise<ExtractedChunk[]> {
  const out: ExtractedChunk[] = [];
  for await (const x of gen) out.push(x);
  return out;
}

function gridOf(startMs: number, endMs: number, stepMs: number): number[] {
  const out: number[] = [];
  for (let t = firstGridPoint(startMs, stepMs); t <= endMs; t += stepMs) out.push(t);
  return out;
}

/**
 * Resolves once every microtask queued so far, and every one they queue, has run: a macrotask runs
 * only after the microtask queue is empty. The fake answers without latency on that queue, so all
 * the work a step of extractRange starts is done by then, with no guess at how long it takes.
 */
const settled = (): Promise<void> => new Promise((r) => setImmediate(r));

describe('extractRange', () => {
  it('yields every grid point once, in range order, under random latencies, within the concurrency bound', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 0, max: 400 }),
        fc.integer({ min: 1, max: 5 }),
        fc.integer({ min: 1, max: 40 }),
        fc.array(fc.integer({ min: 0, max: 4 }), { minLength: 1, maxLength: 20 }),
        fc.integer({ min: 0, max: 20_000 }),
        async (points, concurrency, maxPoints, latencies, offset) => {
          const step = 15_000;
          const req = {
            name: 'q',
            expr: 'up',
            startMs: 1_700_000_000_000 + offset,
            endMs: 0,
            stepMs: step,
          };
          req.endMs = req.startMs + points * step;
          const client = new FakeClient({ latency: (i) => latencies[i % latencies.length]! });
          const out = await collect(
            extractRange(client, req, {
              concurrency,
              maxPointsPerSeries: maxPoints,
              maxSamplesPerRequest: 1_000_000,
            }),
          );
          const seen = out.flatMap((x) => Array.from(blockTimestamps(x.result.series[0]!)));
          expect(seen).toEqual(gridOf(req.startMs, req.endMs, step));
          out.forEach((x, i) => {
            if (i > 0) expect(x.chunk.startMs).toBe(out[i - 1]!.chunk.endMs + step);
          });
          expect(client.maxInFlight).toBeLessThanOrEqual(concurrency);
        },
      ),
      { numRuns: 60 },
    );
  });

  it("sends requests ahead but opens only the head chunk's body", async () => {
    const client = new FakeClient({ gated: true });
    const req = { name: 'q', expr: 'up', startMs: 0, endMs: 29 * 15_000, stepMs: 15_000 };
    let consumed = 0;
    for await (const x of extractRange(client, req, {
      concurrency: 3,
      maxPointsPerSeries: 5,
      maxSamplesPerRequest: 1e6,
    })) {
      expect(x.chunk.startMs).toBe(consumed * 5 * 15_000);
      await settled();
      const sent = client.calls.length;
      // The `concurrency` chunks behind this one are requested (evaluated meanwhile)...
      expect(sent).toBe(Math.min(6, consumed + 1 + 3));
      // ...but no body is read beyond the one the consumer holds.
      expect(client.calls.filter((c) => c.bodyOpened)).toHaveLength(consumed + 1);
      consumed++;
    }
    expect(consumed).toBe(6);
  });

  it('stops fetching when the consumer stops pulling', async () => {
    const client = new FakeClient();
    const req = { name: 'q', expr: 'up', startMs: 0, endMs: 100 * 15_000, stepMs: 15_000 };
    const gen = extractRange(client, req, {
      concurrency: 3,
      maxPointsPerSeries: 5,
      maxSamplesPerRequest: 1e6,
    });
    const first = await gen.next();
    expect(first.done).toBe(false);
    await settled();
    // One result with the consumer, at most `concurrency` fetched or in flight behind it.
    expect(client.calls.length).toBeLessThanOrEqual(1 + 3);
    await gen.return(undefined);
    expect(client.calls.every((c) => c.settled)).toBe(true);
  });

  it('aborts requests in flight when the consumer returns early', async () => {
    const client = new FakeClient({ never: (i) => i > 0 });
    const req = { name: 'q', expr: 'up', startMs: 0, endMs: 100 * 15_000, stepMs: 15_000 };
    const gen = extractRange(client, req, {
      concurrency: 4,
      maxPointsPerSeries: 5,
      maxSamplesPerRequest: 1e6,
    });
    for await (const x of gen) {
      expect(x.chunk.startMs).toBe(0);
      break;
    }
    expect(client.calls.length).toBeGreaterThan(1);
    for (const call of client.calls.slice(1)) {
      expect(call.signal?.aborted).toBe(true);
      expect(call.settled).toBe(true);
    }
  });

  it('sizes chunks from the series count of the latest response', async () => {
    const client = new FakeClient({ seriesCount: 4 });
    const req = { name: 'q', expr: 'up', startMs: 0, endMs: 1000 * 1000, stepMs: 1000 };
    const out = await collect(
      extractRange(client, req, {
        concurrency: 1,
        maxPointsPerSeries: 11_000,
        maxSamplesPerRequest: 400,
        initialSeriesEstimate: 100,
      }),
    );
    expect(chunkPoints(out[0]!.chunk, 1000)).toBe(4);
    // With concurrency 1 the second chunk is planned after the first response: 400 / 4 series.
    expect(out.slice(1, -1).every((x) => chunkPoints(x.chunk, 1000) === 100)).toBe(true);
  });

  it('sends one request until the first answer, then the rest sized from its series count', async () => {
    const client = new FakeClient({ seriesCount: 4, gated: true });
    const req = { name: 'q', expr: 'up', startMs: 0, endMs: 1000 * 1000, stepMs: 1000 };
    let first = true;
    for await (const x of extractRange(client, req, {
      concurrency: 3,
      maxPointsPerSeries: 11_000,
      maxSamplesPerRequest: 400,
      initialSeriesEstimate: 100,
    })) {
      if (!first) continue;
      first = false;
      expect(chunkPoints(x.chunk, 1000)).toBe(4);
      await settled();
      // Sent when the first answer came (not with it), planned for its 4 series: 400 / 4.
      expect(client.calls.slice(1).map((c) => chunkPoints(c.chunk, 1000))).toEqual([100, 100, 100]);
    }
    expect(first).toBe(false);
  });

  it('splits chunks refused with "too many samples", in order, and plans smaller chunks after', async () => {
    const client = new FakeClient({
      latency: (i) => (i * 7) % 4,
      fail: (_chunk, points) => (points > 3 ? tooManySamples() : undefined),
    });
    const req = { name: 'q', expr: 'up', startMs: 0, endMs: 400 * 15_000, stepMs: 15_000 };
    const out = await collect(
      extractRange(client, req, {
        concurrency: 3,
        maxPointsPerSeries: 16,
        maxSamplesPerRequest: 1e6,
      }),
    );
    const seen = out.flatMap((x) => Array.from(blockTimestamps(x.result.series[0]!)));
    expect(seen).toEqual(gridOf(req.startMs, req.endMs, req.stepMs));
    expect(out.every((x) => chunkPoints(x.chunk, req.stepMs) <= 3)).toBe(true);
    // Once split, new chunks are planned no larger than the halves: only the first ones fail.
    const fails = client.calls.map((c) => chunkPoints(c.chunk, req.stepMs) > 3);
    // The 3 chunks of 16 fetched before the first refusal fail as 16, 8+8, 4+4+4+4 each.
    expect(fails.filter(Boolean).length).toBeLessThanOrEqual(3 * 7);
    expect(fails.slice(-100).some(Boolean)).toBe(false);
    expect(client.maxInFlight).toBeLessThanOrEqual(3);
  });

  it('propagates "too many samples" for a single point', async () => {
    const client = new FakeClient({ fail: () => tooManySamples() });
    const req = { name: 'q', expr: 'up', startMs: 0, endMs: 8 * 1000, stepMs: 1000 };
    await expect(
      collect(
        extractRange(client, req, {
          concurrency: 2,
          maxPointsPerSeries: 100,
          maxSamplesPerRequest: 1e6,
        }),
      ),
    ).rejects.toThrow(/too many samples/);
    expect(client.calls.some((c) => chunkPoints(c.chunk, 1000) === 1)).toBe(true);
  });

  it('yields what came before a failed chunk, then throws its error and aborts the rest', async () => {
    const bad = new QueryError('QUERY_BAD_DATA', 'q', 'bad_data', 'nope');
    const client = new FakeClient({
      // The third chunk fails fast, before the first two are back; later ones hang.
      latency: (i) => (i === 2 ? 0 : 10),
      fail: (chunk) => (chunk.startMs === 20_000 ? bad : undefined),
      never: (i) => i > 3,
    });
    const req = { name: 'q', expr: 'up', startMs: 0, endMs: 100_000, stepMs: 1000 };
    const yielded: Chunk[] = [];
    let caught: unknown;
    try {
      for await (const x of extractRange(client, req, {
        concurrency: 4,
        maxPointsPerSeries: 10,
        maxSamplesPerRequest: 1e6,
      })) {
        yielded.push(x.chunk);
      }
    } catch (err) {
      caught = err;
    }
    expect(caught).toBe(bad);
    expect(yielded).toEqual([
      { startMs: 0, endMs: 9000 },
      { startMs: 10_000, endMs: 19_000 },
    ]);
    expect(client.calls.every((c) => c.settled)).toBe(true);
    expect(client.calls.slice(3).every((c) => c.signal?.aborted)).toBe(true);
  });

  it('stops when the caller aborts', async () => {
    const controller = new AbortController();
    const client = new FakeClient({ never: (i) => i > 0 });
    const req = { name: 'q', expr: 'up', startMs: 0, endMs: 100_000, stepMs: 1000 };
    const gen = extractRange(client, req, {
      concurrency: 2,
      maxPointsPerSeries: 10,
      maxSamplesPerRequest: 1e6,
      signal: controller.signal,
    });
    await gen.next();
    const next = gen.next();
    controller.abort();
    await expect(next).rejects.toMatchObject({ code: 'ABORTED' });
    expect(client.calls.every((c) => c.settled)).toBe(true);
  });

  it('yields nothing for a range without grid points', async () => {
    const client = new FakeClient();
    const req = { name: 'q', expr: 'up', startMs: 1001, endMs: 1999, stepMs: 1000 };
    expect(
      await collect(
        extractRange(client, req, {
          concurrency: 2,
          maxPointsPerSeries: 10,
          maxSamplesPerRequest: 10,
        }),
      ),
    ).toEqual([]);
    expect(client.calls).toHaveLength(0);
  });
});
