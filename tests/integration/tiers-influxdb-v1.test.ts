/**
 * Tiers end to end on real servers, through the CLI: a promtool-backfilled Prometheus →
 * `promflux provision` and `promflux backfill` → hot, warm and cold retention policies of a real
 * InfluxDB 1.6.7, read back with InfluxQL. Every warm window must equal what InfluxQL computes
 * from the raw tier, so the rollups are checked against the server's own aggregates, not against
 * promflux's code.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { renderOpenMetrics, type FixtureFamily } from '../../scripts/lib/openmetrics-fixture.js';
import {
  startInfluxV1,
  startPrometheus,
  type InfluxV1Server,
  type StartedServer,
} from '../../scripts/lib/servers.js';
import { runPromflux } from '../support/promflux-cli.js';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
const NOW = Date.now();
/** The recent backfill: three whole hours, ending over an hour ago. */
const RECENT = Math.floor((NOW - 5 * HOUR) / HOUR) * HOUR;
/** The old backfill: two hours ten days ago, beyond hot's 7 days, inside warm's 90. */
const OLD = Math.floor((NOW - 10 * DAY) / HOUR) * HOUR;

/** A seeded generator (mulberry32): the fixture is the same on every run. */
function random(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * A gauge with outages longer than Prometheus' 5m lookback (so windows hold fewer grid points) and
 * a counter with resets, scraped every minute, around both ranges.
 */
function fixture(): string {
  const next = random(1313);
  const spans = [
    [RECENT - 30 * MINUTE, RECENT + 3 * HOUR + 30 * MINUTE],
    [OLD - 30 * MINUTE, OLD + 2 * HOUR + 30 * MINUTE],
  ] as const;
  const gauge: FixtureFamily = { name: 'cpu_temp', type: 'gauge', help: 'temperature', series: [] };
  const counter: FixtureFamily = {
    name: 'jobs_total',
    type: 'counter',
    help: 'jobs done',
    series: [],
  };
  for (const instance of ['a:1', 'b:2']) {
    const temps: { timestampMs: number; value: number }[] = [];
    const jobs: { timestampMs: number; value: number }[] = [];
    let total = 1000;
    let downUntil = -Infinity;
    for (const [from, to] of spans) {
      for (let t = from; t < to; t += MINUTE) {
        const r = next();
        if (r > 0.97) downUntil = t + 9 * MINUTE;
        if (t >= downUntil)
          temps.push({ timestampMs: t, value: Math.round((40 + 30 * next()) * 8) / 8 });
        total = r < 0.02 ? Math.floor(next() * 5) : total + Math.floor(next() * 20);
        jobs.push({ timestampMs: t, value: total });
      }
    }
    const labels = { job: 'worker', instance };
    gauge.series.push({ name: 'cpu_temp', labels, samples: temps });
    counter.series.push({ name: 'jobs_total', labels, samples: jobs });
  }
  return renderOpenMetrics([gauge, counter]);
}

type Row = Record<string, unknown>;

describe('tiers on a real InfluxDB 1.6.7, backfilled through the CLI', () => {
  let prometheus: StartedServer;
  let influx: InfluxV1Server;
  let dir: string;
  let config: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'promflux-tiers-'));
    [prometheus, influx] = await Promise.all([
      startPrometheus({ openMetrics: fixture() }),
      startInfluxV1(),
    ]);
    config = join(dir, 'promflux.yaml');
    await writeFile(
      config,
      `extract:
  prometheus_url: "${prometheus.url}"
  max_points_per_series: 47
  queries:
    - { name: cpu, query: "cpu_temp", step: 1m }
    - { name: jobs, query: "jobs_total", step: 1m }
load:
  influxdb:
    url: "${influx.url}"
    api: v1
    batch_size: 100
  tiers:
    - { name: hot, bucket: metrics/hot, retention: 7d }
    - { name: warm, bucket: metrics/warm, retention: 90d, resolution: 5m }
    - { name: cold, bucket: metrics/cold, retention: 730d, resolution: 1h }
pipeline:
  state_dir: "${join(dir, 'state')}"
  log_level: warn
`,
    );
  }, 180_000);
  afterAll(async () => {
    await Promise.allSettled([prometheus?.stop(), influx?.stop()]);
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  function cli(...args: string[]) {
    return runPromflux(args, { cwd: dir });
  }

  function backfill(from: number, hours: number, ...extra: string[]) {
    const to = from + hours * HOUR - MINUTE;
    return cli(
      'backfill',
      '-c',
      config,
      '--from',
      new Date(from).toISOString(),
      '--to',
      new Date(to).toISOString(),
      '--no-progress',
      '--json',
      ...extra,
    );
  }

  /** Rows of an InfluxQL query (epoch ms), each with its series' tags. */
  async function rows(q: string): Promise<Row[]> {
    const res = await influx.query(q, 'metrics', { epoch: 'ms' });
    return (res.results[0]?.series ?? []).flatMap((s) =>
      (s.values ?? []).map((v) => ({
        ...s.tags,
        ...Object.fromEntries(s.columns.map((c, i) => [c, v[i]])),
      })),
    );
  }

  const window = (from: number, to: number): string => `time >= ${from}ms AND time < ${to}ms`;

  it('provisions the database and a retention policy per tier', async () => {
    const run = await cli('provision', '-c', config);
    expect(run.code, run.stderr).toBe(0);
    const res = await influx.query('SHOW RETENTION POLICIES ON "metrics"');
    const policies = Object.fromEntries(
      (res.results[0]?.series?.[0]?.values ?? []).map((row) => [String(row[0]), row[1]]),
    );
    expect(policies).toMatchObject({ hot: '168h0m0s', warm: '2160h0m0s', cold: '17520h0m0s' });
  });

  /** Range queries Prometheus answered so far, by its own counter. */
  async function rangeQueries(): Promise<number> {
    const text = await (await fetch(`${prometheus.url}/metrics`)).text();
    const line = text
      .split('\n')
      .find((l) =>
        l.startsWith('prometheus_http_requests_total{code="200",handler="/api/v1/query_range"}'),
      );
    return line === undefined ? 0 : Number(line.split(' ')[1]);
  }

  it('backfills hot, warm and cold into their retention policies from one extraction', async () => {
    const before = await rangeQueries();
    const run = await backfill(RECENT, 3);
    expect(run.code, run.stderr).toBe(0);
    // One extraction per query for the three tiers: 181 grid points (from one step before the
    // first window) in chunks of 47 points are 4 requests a query.
    expect((await rangeQueries()) - before).toBe(2 * 4);
    const summaries = run.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { query: string; tiers: Record<string, Row> });
    const inRange = window(RECENT, RECENT + 3 * HOUR);
    expect(summaries.map((s) => s.query)).toEqual(['cpu', 'jobs']);
    for (const s of summaries) {
      expect(Object.keys(s.tiers)).toEqual(['hot', 'warm', 'cold']);
      for (const [tier, field] of [
        ['hot', 'value'],
        ['warm', 'value_count'],
        ['cold', 'value_count'],
      ] as const) {
        const [stored] = await rows(
          `SELECT count("${field}") FROM "metrics"."${tier}"."health_metrics" WHERE metric_type = '${s.query}' AND ${inRange}`,
        );
        expect(s.tiers[tier]).toMatchObject({
          written: stored!['count'],
          skipped_beyond_retention: 0,
          rejected: 0,
        });
      }
    }
    // The counter has a point at every step: 2 series × 12 windows an hour × 3 hours.
    expect(summaries[1]!.tiers['warm']!['written']).toBe(72);
    expect(summaries[1]!.tiers['cold']!['written']).toBe(6);
    expect(summaries[1]!.tiers['hot']!['written']).toBe(2 * 180);
    // Nothing went to the database's default policy.
    expect(await rows('SELECT count(*) FROM "metrics"."autogen"."health_metrics"')).toEqual([]);
  });

  it('every warm window equals InfluxQL count, sum, min and max over the raw tier', async () => {
    const inRange = window(RECENT, RECENT + 3 * HOUR);
    const raw = await rows(
      `SELECT count("value"), sum("value"), min("value"), max("value") FROM "metrics"."hot"."health_metrics" WHERE metric_type = 'cpu' AND ${inRange} GROUP BY time(5m), "instance" fill(none)`,
    );
    const warm = await rows(
      `SELECT "value_count", "value_sum", "value_min", "value_max", "value_mean" FROM "metrics"."warm"."health_metrics" WHERE metric_type = 'cpu' AND ${inRange} GROUP BY "instance"`,
    );
    // The gauge's outages leave some windows without a point (nothing is written for them).
    expect(raw.length).toBeGreaterThan(60);
    const byKey = new Map(warm.map((w) => [`${String(w['instance'])}@${String(w['time'])}`, w]));
    expect(byKey.size).toBe(raw.length);
    for (const r of raw) {
      const w = byKey.get(`${String(r['instance'])}@${String(r['time'])}`);
      expect(w, `warm window ${String(r['instance'])} ${String(r['time'])}`).toBeDefined();
      expect([w!['value_count'], w!['value_min'], w!['value_max']]).toEqual([
        r['count'],
        r['min'],
        r['max'],
      ]);
      // Quarter-degree values: every partial sum is exact, whatever the order of addition.
      expect(w!['value_sum']).toBe(r['sum']);
      expect(w!['value_mean']).toBe(Number(r['sum']) / Number(r['count']));
    }

    // README: a day's (here three hours') mean from value_sum / value_count equals the raw mean.
    const [fromRollup] = await rows(
      `SELECT sum("value_sum") / sum("value_count") AS "mean" FROM "metrics"."warm"."health_metrics" WHERE metric_type = 'cpu' AND ${inRange}`,
    );
    const [fromRaw] = await rows(
      `SELECT mean("value") FROM "metrics"."hot"."health_metrics" WHERE metric_type = 'cpu' AND ${inRange}`,
    );
    expect(Number(fromRollup!['mean'])).toBeCloseTo(Number(fromRaw!['mean']), 9);
  });

  it("a cold window's counter increase is the sum of its twelve warm windows'", async () => {
    const inRange = window(RECENT, RECENT + 3 * HOUR);
    const warm = await rows(
      `SELECT sum("value_increase"), count("value_increase") FROM "metrics"."warm"."health_metrics" WHERE metric_type = 'jobs' AND ${inRange} GROUP BY time(1h), "instance"`,
    );
    const cold = await rows(
      `SELECT "value_increase", "value_resets" FROM "metrics"."cold"."health_metrics" WHERE metric_type = 'jobs' AND ${inRange} GROUP BY "instance"`,
    );
    expect(cold).toHaveLength(6);
    const byKey = new Map(warm.map((w) => [`${String(w['instance'])}@${String(w['time'])}`, w]));
    for (const c of cold) {
      const w = byKey.get(`${String(c['instance'])}@${String(c['time'])}`)!;
      expect(w['count']).toBe(12);
      expect(w['sum']).toBe(c['value_increase']);
    }
    expect(cold.some((c) => Number(c['value_resets']) > 0)).toBe(true);
  });

  it('a rerun of the same backfill changes nothing', async () => {
    const dump = async (): Promise<Row[]> => [
      ...(await rows('SELECT * FROM "metrics"."hot"."health_metrics" GROUP BY *')),
      ...(await rows('SELECT * FROM "metrics"."warm"."health_metrics" GROUP BY *')),
      ...(await rows('SELECT * FROM "metrics"."cold"."health_metrics" GROUP BY *')),
    ];
    const before = await dump();
    const resumed = await backfill(RECENT, 3);
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(resumed.stderr).toContain('done   cpu: already backfilled over this range');
    const again = await backfill(RECENT, 3, '--fresh');
    expect(again.code, again.stderr).toBe(0);
    expect(await dump()).toEqual(before);
  });

  it('a backfill older than the hot retention skips hot, counts it, and exits 0', async () => {
    const run = await backfill(OLD, 2);
    expect(run.code, run.stderr).toBe(0);
    const summaries = run.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { query: string; tiers: Record<string, Row> });
    const inRange = window(OLD, OLD + 2 * HOUR);
    for (const s of summaries) {
      // Every raw point the rollups were made of was skipped in hot.
      const [points] = await rows(
        `SELECT sum("value_count") FROM "metrics"."cold"."health_metrics" WHERE metric_type = '${s.query}' AND ${inRange}`,
      );
      expect(s.tiers['hot']).toMatchObject({
        written: 0,
        skipped_beyond_retention: points!['sum'],
      });
      const [windows] = await rows(
        `SELECT count("value_count") FROM "metrics"."warm"."health_metrics" WHERE metric_type = '${s.query}' AND ${inRange}`,
      );
      expect(s.tiers['warm']).toMatchObject({
        written: windows!['count'],
        skipped_beyond_retention: 0,
      });
      expect(s.tiers['cold']).toMatchObject({ written: 4, skipped_beyond_retention: 0 });
    }
    expect(summaries.find((s) => s.query === 'jobs')!.tiers['warm']!['written']).toBe(48);
    expect(
      await rows(`SELECT count("value") FROM "metrics"."hot"."health_metrics" WHERE ${inRange}`),
    ).toEqual([]);
  });
});
