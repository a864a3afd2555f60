import pino from 'pino';
import { describe, expect, it } from 'vitest';
import type { QueryConfig, TransformConfig } from '../../../src/config/types.js';
import type { QueryRangeOptions } from '../../../src/extract/prometheus.js';
import type { MatrixResult, RangeRequest } from '../../../src/extract/types.js';
import { runQuery, type QueryRunOptions } from '../../../src/pipeline/run-query.js';
import {
  FakePrometheusClient,
  badData,
  type FakeSeries,
} from '../../support/fake-prometheus-client.js';
import { RecordingSink } from '../../support/recording-sink.js';

const STEP = 15_000;
const T0 = 1_700_000_100_000 - (1_700_000_100_000 % STEP);
const silent = pino({ level: 'silent' });

const transform: TransformConfig = {
  validMetrics: ['up', '/node_.*/'],
  measurement: 'health_metrics',
  field: 'value',
  labels: { drop: [], keep: [], rename: {} },
  staticTags: {},
  maxFutureSkewMs: 600_000,
};

function query(expr = 'up'): QueryConfig {
  return { name: 'availability', expr, stepMs: STEP, tags: {} };
}

function options(over: Partial<QueryRunOptions> = {}): QueryRunOptions {
  return {
    query: query(),
    range: { startMs: T0, endMs: T0 + 999 * STEP },
    extract: { concurrency: 2, maxPointsPerSeries: 11_000, maxSamplesPerRequest: 1000 },
    transform,
    batchSize: 100,
    maxWritesInFlight: 2,
    logger: silent,
    now: () => T0 + 1000 * STEP,
    ...over,
  };
}

const series: FakeSeries[] = [
  { labels: { __name__: 'up', job: 'a', instance: 'h1' }, valueAt: (t) => (t / STEP) % 2 },
  {
    labels: { __name__: 'up', job: 'a', instance: 'h2' },
    valueAt: (t) => ((t / STEP) % 7 === 0 ? NaN : 1),
  },
  { labels: { __name__: 'other', job: 'a' }, valueAt: () => 5 },
  {
    labels: { __name__: 'node_load1', job: 'b' },
    valueAt: (t) => ((t / STEP) % 10 === 0 ? undefined : 0.25),
  },
];

describe('runQuery', () => {
  it('writes every valid sample exactly once across chunks, and counts every drop', async () => {
    const client = new FakePrometheusClient(series);
    const sink = new RecordingSink();
    const acks: number[] = [];
    const result = await runQuery(client, [sink], options({ onAck: (ms) => acks.push(ms) }));

    expect(result.error).toBeUndefined();
    expect(client.requests.length).toBeGreaterThan(3);
    const expectedLines: string[] = [];
    for (let k = 0; k < 1000; k++) {
      const t = T0 + k * STEP;
      const s = t / 1000;
      expectedLines.push(
        `health_metrics,instance=h1,metric_name=up,metric_type=availability,service=a value=${(t / STEP) % 2} ${s}`,
      );
      if ((t / STEP) % 7 !== 0) {
        expectedLines.push(
          `health_metrics,instance=h2,metric_name=up,metric_type=availability,service=a value=1 ${s}`,
        );
      }
      if ((t / STEP) % 10 !== 0) {
        expectedLines.push(
          `health_metrics,metric_name=node_load1,metric_type=availability,service=b value=0.25 ${s}`,
        );
      }
    }
    expect([...sink.lines].sort()).toEqual(expectedLines.sort());
    expect(result.points).toBe(expectedLines.length);
    expect(result.sinks.recording!.written).toBe(expectedLines.length);
    expect(result.drops.nan).toBe(
      Array.from({ length: 1000 }, (_, k) => k).filter((k) => (T0 / STEP + k) % 7 === 0).length,
    );
    expect(result.drops.not_whitelisted).toBe(1000);
    expect(result.samples).toBe(result.points + result.drops.nan + result.drops.not_whitelisted);
    expect(result.ackedThroughMs).toBe(T0 + 999 * STEP);
    expect(acks).toEqual([...acks].sort((a, b) => a - b));
    expect(acks.at(-1)).toBe(T0 + 999 * STEP);
  });

  it('writes the first of out-of-order duplicate timestamps and counts what lands', async () => {
    const [t0, t1, t2] = [T0, T0 + STEP, T0 + 2 * STEP];
    const samples = [
      [t2, 2],
      [t0, 0],
      [t1, 1],
      [t1, 1],
      [t0, 9],
    ] as const;
    const client = new FakePrometheusClient([
      { labels: { __name__: 'up', job: 'a' }, valueAt: () => undefined, samples },
    ]);
    const sink = new RecordingSink();
    const result = await runQuery(client, [sink], options());

    // What InfluxDB keeps: one point per timestamp, the last line written for it.
    const landed = new Map(sink.lines.map((l) => [l.split(' ')[2], l.split(' ')[1]]));
    expect(Object.fromEntries(landed)).toEqual({
      [t0 / 1000]: 'value=0',
      [t1 / 1000]: 'value=1',
      [t2 / 1000]: 'value=2',
    });
    expect(result.points).toBe(landed.size);
    expect(result.sinks.recording!.written).toBe(landed.size);
    expect(result.drops).toMatchObject({ duplicate: 2, label_collision: 0 });
  });

  it('counts points of series that still map to one series key as label collisions', async () => {
    // A newline and the two characters "\n" are written alike (the documented sanitising).
    const client = new FakePrometheusClient([
      { labels: { __name__: 'up', job: 'a', path: 'x\ny' }, valueAt: () => 1 },
      { labels: { __name__: 'up', job: 'a', path: 'x\\ny' }, valueAt: () => 2 },
    ]);
    const sink = new RecordingSink();
    const result = await runQuery(client, [sink], options());

    expect(new Set(sink.lines.map((l) => l.split(' ')[0])).size).toBe(1);
    expect(result.points).toBe(1000);
    expect(result.drops).toMatchObject({ duplicate: 0, label_collision: 1000 });
    expect(result.samples).toBe(2000);
  });

  it('never has more writes in flight than the window allows', async () => {
    const sink = new RecordingSink();
    sink.delayMs = 2;
    await runQuery(
      new FakePrometheusClient(series),
      [sink],
      options({ batchSize: 10, maxWritesInFlight: 3 }),
    );
    expect(sink.maxConcurrent).toBeLessThanOrEqual(3);
    expect(sink.maxConcurrent).toBeGreaterThan(1);
  });

  it('stops at the first failed write and acknowledges only the chunks before it', async () => {
    const sink = new RecordingSink();
    sink.failWrite = (n) => n === 12;
    const acks: number[] = [];
    const result = await runQuery(
      new FakePrometheusClient(series),
      [sink],
      options({ maxWritesInFlight: 1, onAck: (ms) => acks.push(ms) }),
    );
    expect(result.error).toBeDefined();
    expect(result.ackedThroughMs).toBeDefined();
    expect(result.ackedThroughMs!).toBeLessThan(T0 + 999 * STEP);
    // Everything up to the watermark landed; nothing at or after the failed batch counts as written.
    const landed = new Set(sink.lines.map((l) => Number(l.split(' ')[2]) * 1000));
    for (let t = T0; t <= result.ackedThroughMs!; t += STEP) expect(landed.has(t)).toBe(true);
    expect(acks.at(-1)).toBe(result.ackedThroughMs);
  });

  it('reports a bad query as an error without writing', async () => {
    const client = new FakePrometheusClient(series);
    client.failOn = badData;
    const sink = new RecordingSink();
    const result = await runQuery(client, [sink], options());
    expect(result.error).toMatchObject({ code: 'QUERY_BAD_DATA' });
    expect(result.ackedThroughMs).toBeUndefined();
    expect(sink.writes).toBe(0);
  });

  it('writes each batch to every sink and acknowledges only what all of them took', async () => {
    const a = new RecordingSink('a');
    const b = new RecordingSink('b');
    b.failWrite = (n) => n === 3;
    const result = await runQuery(
      new FakePrometheusClient(series),
      [a, b],
      options({ maxWritesInFlight: 1 }),
    );
    expect(result.error).toBeDefined();
    expect(a.lines.length).toBeGreaterThan(b.lines.length);
    const bLanded = new Set(b.lines.map((l) => Number(l.split(' ')[2]) * 1000));
    for (let t = T0; t <= (result.ackedThroughMs ?? T0 - 1); t += STEP)
      expect(bLanded.has(t)).toBe(true);
  });

  it('asks the rate limiter for every point before it is written', async () => {
    const client = new FakePrometheusClient(series);
    const sink = new RecordingSink();
    const taken: number[] = [];
    const result = await runQuery(
      client,
      [sink],
      options({ limiter: { take: (n) => (taken.push(n), Promise.resolve()) } }),
    );
    expect(result.error).toBeUndefined();
    expect(taken.reduce((a, b) => a + b, 0)).toBe(sink.lines.length);
    expect(taken.length).toBe(sink.batches.length);
  });
});

describe('runQuery debug timeline', () => {
  it('logs, as each chunk arrives, how many writes the sinks are still busy with', async () => {
    // Writes are held until the next chunk's line is logged: the chunk before's are in flight
    // then, and none before the first chunk. The last chunk's write is not held.
    const total = (await runQuery(new FakePrometheusClient(series), [], options())).chunks;
    let seen = 0;
    const held: (() => void)[] = [];
    const active = { now: 0 };
    const sink = new RecordingSink();
    const write = sink.write.bind(sink);
    sink.write = async (batch) => {
      active.now++;
      try {
        if (seen < total) await new Promise<void>((release) => held.push(release));
        return await write(batch);
      } finally {
        active.now--;
      }
    };
    const logged: { msg: string; writesInFlight?: number; sinkActive: number }[] = [];
    const logger = pino(
      { level: 'debug' },
      {
        write: (line: string) => {
          const record = JSON.parse(line) as { msg: string; writesInFlight?: number };
          logged.push({ ...record, sinkActive: active.now });
          if (record.msg === 'Chunk decoded.') seen++;
          if (record.msg === 'Chunk decoded.') for (const release of held.splice(0)) release();
        },
      },
    );
    const client = new FakePrometheusClient(series);
    const result = await runQuery(client, [sink], options({ logger, batchSize: 10_000 }));

    expect(result.error).toBeUndefined();
    const chunks = logged.filter((l) => l.msg === 'Chunk decoded.');
    expect(chunks.length).toBe(total);
    expect(chunks.length).toBeGreaterThan(2);
    expect(chunks[0]!.writesInFlight).toBe(0);
    for (const c of chunks.slice(1)) expect(c.writesInFlight).toBeGreaterThan(0);
    expect(chunks.map((c) => c.writesInFlight)).toEqual(chunks.map((c) => c.sinkActive));
    expect(logged.filter((l) => l.msg === 'First write.')).toHaveLength(1);
  });
});

/**
 * Prometheus as the real client sees it: a response body is read only once extractRange opens its
 * gate, and its columns stay in memory until runQuery releases the result.
 */
/**
 * Serves the fake series with each response body held until extraction opens it, and reading it
 * taking `readTicks` event-loop turns (a sink write takes one): meanwhile it counts the turns in
 * which the sink had none of our writes to work on.
 */
class GatedClient {
  private readonly fake = new FakePrometheusClient(series);
  bodiesOpened = 0;
  /** Turns spent reading a body (after the first) with no write outstanding at the sink. */
  idleTurns = 0;
  /** Results decoded and not released yet: the chunks' columns promflux holds. */
  live = 0;
  maxLive = 0;

  constructor(
    private readonly outstandingWrites: () => number,
    private readonly readTicks: number,
  ) {}

  queryRange = async (req: RangeRequest, o: QueryRangeOptions = {}): Promise<MatrixResult> => {
    await o.bodyGate;
    if (this.bodiesOpened++ > 0) {
      for (let i = 0; i < this.readTicks; i++) {
        await settled();
        if (this.outstandingWrites() === 0) this.idleTurns++;
      }
    }
    const result = await this.fake.queryRange(req);
    this.maxLive = Math.max(this.maxLive, ++this.live);
    return { ...result, release: () => void this.live-- };
  };
}

/** Resolves once every microtask queued so far (and those they queue) has run. */
const settled = (): Promise<void> => new Promise((r) => setImmediate(r));

describe('runQuery overlap', () => {
  it("keeps the sink busy while the next chunk's body is read, holding one chunk's columns", async () => {
    const sink = new RecordingSink();
    const write = sink.write.bind(sink);
    let outstanding = 0;
    sink.write = async (batch) => {
      outstanding++;
      await settled();
      try {
        return await write(batch);
      } finally {
        outstanding--;
      }
    };
    // Reading a body takes as long as three writes; a chunk (3 series x 5 points) is 4 batches.
    const client = new GatedClient(() => outstanding, 3);
    const over = {
      range: { startMs: T0, endMs: T0 + 39 * STEP },
      extract: { concurrency: 2, maxPointsPerSeries: 5, maxSamplesPerRequest: 1e6 },
      batchSize: 4,
      maxWritesInFlight: 1,
    };
    const result = await runQuery(client, [sink], options(over));

    expect(result.error).toBeUndefined();
    expect(result.chunks).toBe(8);
    expect(client.bodiesOpened).toBe(8);
    // The chunk's queued batches kept the sink writing through every later body read...
    expect(client.idleTurns).toBe(0);
    // ...while promflux held one chunk's columns at a time.
    expect(client.maxLive).toBe(1);
    expect(client.live).toBe(0);
    // Exactly the points of a run without gates, each once.
    const plain = new RecordingSink();
    await runQuery(new FakePrometheusClient(series), [plain], options(over));
    expect(sink.lines.length).toBe(result.points);
    expect([...sink.lines].sort()).toEqual([...plain.lines].sort());
    expect(result.ackedThroughMs).toBe(T0 + 39 * STEP);
  });
});
