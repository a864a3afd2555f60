/**
 * `promflux verify` against a real Prometheus 2.42 and InfluxDB 1.6.7: after a real backfill of
 * the raw tier and rollup windows written the way the pipeline writes them, every tier agrees;
 * a window deleted by hand, or a value changed, is found and listed.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateHealthFixture } from '../../scripts/lib/openmetrics-fixture.js';
import {
  startInfluxV1,
  startPrometheus,
  type InfluxV1Server,
  type StartedServer,
} from '../../scripts/lib/servers.js';
import { blockTimestamps, blockValues } from '../../src/core/series.js';
import { LineBatcher } from '../../src/transform/line-batcher.js';
import { encodeSeriesKey } from '../../src/transform/line-protocol.js';
import { RollupAccumulator, type MetricKind } from '../../src/transform/rollup.js';
import { RollupLineWriter } from '../../src/transform/rollup-lines.js';
import { prometheusRange } from '../support/prometheus-range.js';
import { expectedTags, runPromflux } from '../support/promflux-cli.js';

const HOUR = 3_600_000;
const STEP = 15_000;
const RESOLUTION = 300_000;
const FIXTURE_END = Math.floor(Date.now() / HOUR) * HOUR - HOUR;
const FIXTURE_START = FIXTURE_END - 5 * HOUR;
/** The verified range `[FROM, TO)`: three whole hours inside the fixture. */
const FROM = FIXTURE_END - 4 * HOUR;
const TO = FIXTURE_END - HOUR;
const MEASUREMENT = 'health_metrics';
const QUERIES: Record<string, { expr: string; kind: MetricKind }> = {
  availability: { expr: 'up', kind: 'gauge' },
  requests: { expr: 'http_requests_total', kind: 'counter' },
};

const iso = (ms: number): string => new Date(ms).toISOString();

describe('promflux verify → real Prometheus and InfluxDB 1.x', () => {
  let prometheus: StartedServer;
  let influx: InfluxV1Server;
  let dir: string;
  let config: string;

  beforeAll(async () => {
    [prometheus, influx] = await Promise.all([
      startPrometheus({
        openMetrics: generateHealthFixture({
          startMs: FIXTURE_START,
          endMs: FIXTURE_END,
          intervalMs: STEP,
          instances: 2,
        }),
      }),
      startInfluxV1(),
    ]);
    // One database per tier: InfluxQL's DELETE reaches every retention policy of a database.
    await influx.createDatabase('vhot', { name: 'hot', duration: '7d' });
    await influx.createDatabase('vwarm', { name: 'warm', duration: '90d' });
    dir = await mkdtemp(join(tmpdir(), 'promflux-verify-'));
    config = join(dir, 'promflux.yaml');
    const queries = Object.entries(QUERIES)
      .map(([name, q]) => `    - { name: ${name}, query: "${q.expr}", step: 15s }`)
      .join('\n');
    await writeFile(
      config,
      `extract:
  prometheus_url: "${prometheus.url}"
  max_points_per_series: 500
  queries:
${queries}
load:
  influxdb:
    url: "${influx.url}"
    api: v1
  tiers:
    - { name: hot, bucket: "vhot/hot", retention: 7d }
    - { name: warm, bucket: "vwarm/warm", retention: 90d, resolution: 5m }
pipeline:
  log_level: warn
  state_dir: "${join(dir, 'state')}"
`,
    );
  });
  afterAll(async () => {
    await Promise.allSettled([prometheus?.stop(), influx?.stop()]);
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const cli = (...args: string[]) => runPromflux([...args, '-c', config], { cwd: dir });
  const verify = (...args: string[]) =>
    cli('verify', '--from', iso(FROM), '--to', iso(TO), ...args);

  /**
   * The warm tier as the pipeline writes it: windows of the Prometheus series (read by the
   * test's own decoder) rolled up by RollupAccumulator and encoded by RollupLineWriter.
   */
  async function writeWarmWindows(): Promise<void> {
    for (const [name, q] of Object.entries(QUERIES)) {
      const series = await prometheusRange(prometheus.url, q.expr, {
        startMs: FROM - STEP,
        endMs: TO - STEP,
        stepMs: STEP,
      });
      const writer = new RollupLineWriter(q.kind, 'value');
      const bodies: string[] = [];
      const batcher = new LineBatcher({
        batchSize: 5000,
        query: name,
        emit: (b) => bodies.push(b.body.toString()),
      });
      const keys = series.map(
        (s) =>
          new Uint8Array(
            Buffer.from(encodeSeriesKey(MEASUREMENT, Object.entries(expectedTags(s.labels, name)))),
          ),
      );
      const acc = new RollupAccumulator<number>(
        { kind: q.kind, stepMs: STEP, resolutionMs: RESOLUTION, fromMs: FROM },
        (w) => writer.append(batcher, keys[w.key]!, w),
      );
      series.forEach((s, i) => {
        expect(Array.from(blockValues(s)).every(Number.isFinite)).toBe(true);
        acc.add(acc.series(i), s);
      });
      acc.closeThrough(TO);
      batcher.flush();
      expect(bodies.length).toBeGreaterThan(0);
      for (const body of bodies)
        await influx.write(body, { db: 'vwarm', rp: 'warm', precision: 's' });
      expect(blockTimestamps(series[0]!)[0]).toBe(FROM - STEP);
    }
  }

  it('agrees after a backfill, and lists a deleted window and a changed value', async () => {
    const backfill = await cli('backfill', '--from', iso(FROM), '--to', iso(TO), '--no-progress');
    expect(backfill.code, backfill.stderr).toBe(0);
    await writeWarmWindows();

    const agreed = await verify();
    expect(agreed.code, agreed.stdout + agreed.stderr).toBe(0);
    expect(agreed.stdout.trim().split('\n').sort()).toEqual([
      `ok   tier hot, query availability: 3 raw windows of 1h agree (${iso(FROM)} .. ${iso(TO)})`,
      `ok   tier hot, query requests: 3 raw windows of 1h agree (${iso(FROM)} .. ${iso(TO)})`,
      `ok   tier warm, query availability: 36 gauge windows of 5m agree (${iso(FROM)} .. ${iso(TO)})`,
      `ok   tier warm, query requests: 36 counter windows of 5m agree (${iso(FROM)} .. ${iso(TO)})`,
    ]);

    // By hand: the second hour of availability gone from hot, one warm window of requests gone,
    // and one hot point of requests overwritten with another value.
    const lostHour = FROM + HOUR;
    await influx.query(
      `DELETE FROM "${MEASUREMENT}" WHERE "metric_type" = 'availability' AND time >= ${lostHour}ms AND time < ${lostHour + HOUR}ms`,
      'vhot',
    );
    const lostWindow = FROM + 7 * RESOLUTION;
    await influx.query(
      `DELETE FROM "${MEASUREMENT}" WHERE "metric_type" = 'requests' AND time = ${lostWindow}ms`,
      'vwarm',
    );
    const changed = await influx.query(
      `SELECT * FROM "hot"."${MEASUREMENT}" WHERE "metric_type" = 'requests' AND time = ${TO - STEP}ms GROUP BY * LIMIT 1`,
      'vhot',
      { epoch: 'ms' },
    );
    const point = changed.results[0]!.series![0]!;
    const tags = Object.entries(point.tags!).filter(([, v]) => v !== '');
    const value = point.values![0]![point.columns.indexOf('value')] as number;
    await influx.write(
      `${encodeSeriesKey(MEASUREMENT, tags)} value=${value + 1} ${(TO - STEP) / 1000}`,
      { db: 'vhot', rp: 'hot', precision: 's' },
    );

    const found = await verify();
    expect(found.code).toBe(5);
    const lines = found.stdout.split('\n');
    const section = (head: string): string[] => {
      const start = lines.findIndex((l) => l.startsWith(head));
      expect(start, found.stdout).toBeGreaterThanOrEqual(0);
      const end = lines.findIndex((l, i) => i > start && !l.startsWith('       '));
      return lines.slice(start, end);
    };
    const lostHourSpan = `${iso(lostHour)}/${iso(lostHour + HOUR)}`;
    const lostUp = await prometheusRange(prometheus.url, 'up', {
      startMs: lostHour,
      endMs: lostHour + HOUR - STEP,
      stepMs: STEP,
    });
    expect(section('DIFF tier hot, query availability')).toEqual([
      `DIFF tier hot, query availability: 1 of 3 raw windows of 1h differ (${iso(FROM)} .. ${iso(TO)}):`,
      ...[0, 1].map((i) => {
        const values = blockValues(lostUp.find((b) => b.labels.instance === `app-${i}:8080`)!);
        const sum = Array.from(values).reduce((a, b) => a + b, 0);
        return (
          `       ${lostHourSpan} {instance="app-${i}:8080", metric_name="up", metric_type="availability", service="test-app"}: ` +
          `count expected ${values.length}, found nothing; sum expected ${sum}, found nothing`
        );
      }),
      `       to rewrite them: promflux backfill --fresh --from ${iso(lostHour)} --to ${iso(lostHour + HOUR)} --query availability`,
    ]);
    const warm = section('DIFF tier warm, query requests');
    expect(warm[0]).toBe(
      `DIFF tier warm, query requests: 1 of 36 counter windows of 5m differ (${iso(FROM)} .. ${iso(TO)}):`,
    );
    for (const line of warm.slice(1, -1)) {
      expect(line).toMatch(
        new RegExp(
          `^ {7}${iso(lostWindow)}/${iso(lostWindow + RESOLUTION)} \\{.*metric_type="requests".*\\}: ` +
            'value_increase expected [0-9.e+]+, found nothing; value_resets expected \\d+, found nothing; ' +
            'value_first expected [0-9.e+]+, found nothing; value_last expected [0-9.e+]+, found nothing; ' +
            'value_count expected 20, found nothing$',
        ),
      );
    }
    const changedSeries = `{${tags
      .sort(([a], [b]) => (a < b ? -1 : 1))
      .map(([k, v]) => `${k}=${JSON.stringify(v)}`)
      .join(', ')}}`;
    const lastHour = TO - HOUR;
    expect(section('DIFF tier hot, query requests').slice(0, 2)).toEqual([
      `DIFF tier hot, query requests: 1 of 3 raw windows of 1h differ (${iso(FROM)} .. ${iso(TO)}):`,
      expect.stringMatching(
        new RegExp(
          `^ {7}${iso(lastHour)}/${iso(TO)} ${changedSeries.replace(/[{}.]/g, '\\$&')}: sum expected [0-9.e+]+, found [0-9.e+]+$`,
        ),
      ),
    ]);
    expect(found.stdout).toContain(
      `ok   tier warm, query availability: 36 gauge windows of 5m agree`,
    );

    // --tier and --query narrow it; --json lists every difference.
    const json = await verify('--tier', 'warm', '--query', 'requests', '--json');
    expect(json.code).toBe(5);
    const reports = json.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(reports).toHaveLength(1);
    expect(reports[0]).toMatchObject({
      tier: 'warm',
      query: 'requests',
      kind: 'counter',
      status: 'differs',
      windows: 36,
      differing_windows: 1,
      window_seconds: 300,
    });
    const differences = reports[0]!.differences as {
      start: string;
      fields: { found: unknown }[];
    }[];
    expect(differences.length).toBe(warm.length - 2);
    for (const d of differences) {
      expect(d.start).toBe(iso(lostWindow));
      expect(d.fields.map((f) => f.found)).toEqual([null, null, null, null, null]);
    }

    // The fix the report names makes it agree again.
    const rewrite = await cli(
      'backfill',
      '--fresh',
      '--from',
      iso(lostHour),
      '--to',
      iso(lostHour + HOUR),
      '--query',
      'availability',
      '--no-progress',
    );
    expect(rewrite.code).toBe(0);
    const again = await verify('--tier', 'hot', '--query', 'availability');
    expect(again.code).toBe(0);
  });

  it('refuses an unknown tier, and says why a tier has nothing to compare', async () => {
    const unknown = await verify('--tier', 'cold');
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('Unknown --tier "cold"; configured: hot, warm.');
    const empty = await cli('verify', '--from', iso(FROM), '--to', iso(FROM));
    expect(empty.code).toBe(2);
    expect(empty.stderr).toContain(`--to (${iso(FROM)}) must be after --from (${iso(FROM)})`);
    // Older than the hot tier's 7 days, and no whole 5-minute window.
    const old = await cli(
      'verify',
      '--from',
      iso(FROM - 30 * 24 * HOUR),
      '--to',
      iso(FROM - 30 * 24 * HOUR + 60_000),
      '--query',
      'availability',
    );
    expect(old.code, old.stderr).toBe(0);
    expect(old.stdout.split('\n').filter(Boolean)).toEqual([
      "skip tier hot, query availability: the range is beyond the tier's retention, or too recent",
      'skip tier warm, query availability: no whole 5m window in the range',
    ]);
  });
});
