/**
 * `promflux verify` against a real Prometheus 2.42 and InfluxDB 1.6.7 (and the 2.x fake, read
 * with Flux): after a real backfill of the raw tier and rollup windows written the way the
 * pipeline writes them, every tier agrees; a window deleted by hand, or a value changed, is found
 * and listed.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateHealthFixture } from '../../scripts/lib/openmetrics-fixture.js';
import {
  freePort,
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
import { InfluxDbV2Fake } from '../fakes/influxdb-v2-fake.js';
import { mountQueryEndpoint } from '../fakes/influxdb-v2-query.js';

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
/** verify's report when both tiers of both queries hold what they should over [FROM, TO). */
const ALL_AGREE = [
  ['hot', 'availability', '3 raw windows of 1h'],
  ['hot', 'requests', '3 raw windows of 1h'],
  ['warm', 'availability', '36 gauge windows of 5m'],
  ['warm', 'requests', '36 counter windows of 5m'],
].map(
  ([tier, query, windows]) =>
    `ok   tier ${tier}, query ${query}: ${windows} agree (${iso(FROM)} .. ${iso(TO)})`,
);
const seriesKeyOf = (labels: Record<string, string>, query: string): string =>
  encodeSeriesKey(MEASUREMENT, Object.entries(expectedTags(labels, query)));

describe('promflux verify → real Prometheus, InfluxDB 1.x and the 2.x fake', () => {
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
   * A rollup tier as the pipeline writes it: windows of the Prometheus series (read by the test's
   * own decoder) rolled up by RollupAccumulator and encoded by RollupLineWriter; line protocol
   * with second timestamps, one line per series and window.
   */
  async function warmLines(): Promise<string[]> {
    const lines: string[] = [];
    for (const [name, q] of Object.entries(QUERIES)) {
      const series = await prometheusRange(prometheus.url, q.expr, {
        startMs: FROM - STEP,
        endMs: TO - STEP,
        stepMs: STEP,
      });
      expect(blockTimestamps(series[0]!)[0]).toBe(FROM - STEP);
      const writer = new RollupLineWriter(q.kind, 'value');
      const batcher = new LineBatcher({
        batchSize: 5000,
        query: name,
        emit: (b) => lines.push(...b.body.toString().trim().split('\n')),
      });
      const keys = series.map((s) => new Uint8Array(Buffer.from(seriesKeyOf(s.labels, name))));
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
    }
    expect(lines.length).toBeGreaterThan(0);
    return lines;
  }

  /** The raw tier as a backfill writes it: every grid point of `[FROM, TO)`, millisecond stamps. */
  async function hotLines(): Promise<string[]> {
    const lines: string[] = [];
    for (const [name, q] of Object.entries(QUERIES)) {
      const series = await prometheusRange(prometheus.url, q.expr, {
        startMs: FROM,
        endMs: TO - STEP,
        stepMs: STEP,
      });
      for (const s of series) {
        const key = seriesKeyOf(s.labels, name);
        const [ts, vs] = [blockTimestamps(s), blockValues(s)];
        for (let i = 0; i < s.length; i++) lines.push(`${key} value=${vs[i]} ${ts[i]}`);
      }
    }
    return lines;
  }

  it('agrees after a backfill, and lists a deleted window and a changed value', async () => {
    const backfill = await cli('backfill', '--from', iso(FROM), '--to', iso(TO), '--no-progress');
    expect(backfill.code, backfill.stderr).toBe(0);
    await influx.write((await warmLines()).join('\n'), {
      db: 'vwarm',
      rp: 'warm',
      precision: 's',
    });

    const agreed = await verify();
    expect(agreed.code, agreed.stdout + agreed.stderr).toBe(0);
    expect(agreed.stdout.trim().split('\n').sort()).toEqual(ALL_AGREE);

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

  it('refuses bad options, exits 1 when InfluxDB cannot be read, and says why a tier is skipped', async () => {
    const unknown = await verify('--tier', 'cold');
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('Unknown --tier "cold"; configured: hot, warm.');
    // A check that cannot be made fails the run (exit 1), Prometheus' or InfluxDB's fault alike.
    const deadPort = await freePort();
    const deadInflux = join(dir, 'dead-influx.yaml');
    await writeFile(
      deadInflux,
      (await readFile(config, 'utf8')).replace(influx.url, `http://127.0.0.1:${deadPort}`),
    );
    const noInflux = await runPromflux(
      ['verify', '--from', iso(FROM), '--to', iso(TO), '--query', 'availability', '-c', deadInflux],
      { cwd: dir },
    );
    expect(noInflux.code).toBe(1);
    expect(noInflux.stdout.split('\n').filter(Boolean)).toEqual([
      expect.stringMatching(
        new RegExp(
          `^FAIL tier hot, query availability: .*127\\.0\\.0\\.1:${deadPort}.*ECONNREFUSED`,
        ),
      ),
      expect.stringMatching(/^FAIL tier warm, query availability: .*ECONNREFUSED/),
    ]);
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
  it('agrees after a real backfill of every tier, and finds a rollup window deleted by hand', async () => {
    await influx.createDatabase('bhot', { name: 'hot', duration: '7d' });
    await influx.createDatabase('bwarm', { name: 'warm', duration: '90d' });
    const config3 = join(dir, 'promflux-backfill.yaml');
    await writeFile(
      config3,
      (await readFile(config, 'utf8'))
        .replace('"vhot/hot"', '"bhot/hot"')
        .replace('"vwarm/warm"', '"bwarm/warm"')
        .replace(`state_dir: "${join(dir, 'state')}"`, `state_dir: "${join(dir, 'state3')}"`),
    );
    const run = (...args: string[]) => runPromflux([...args, '-c', config3], { cwd: dir });
    const range = ['--from', iso(FROM), '--to', iso(TO)];
    const backfill = await run('backfill', ...range, '--no-progress');
    expect(backfill.code, backfill.stderr).toBe(0);

    const agreed = await run('verify', ...range);
    expect(agreed.code, agreed.stdout + agreed.stderr).toBe(0);
    expect(agreed.stdout.trim().split('\n').sort()).toEqual(ALL_AGREE);

    const lostWindow = FROM + 20 * RESOLUTION;
    await influx.query(
      `DELETE FROM "${MEASUREMENT}" WHERE "metric_type" = 'availability' AND time = ${lostWindow}ms`,
      'bwarm',
    );
    const found = await run('verify', ...range, '--tier', 'warm', '--json');
    expect(found.code).toBe(5);
    const reports = found.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { query: string; status: string; differences?: unknown[] });
    expect(reports.map((r) => [r.query, r.status])).toEqual([
      ['availability', 'differs'],
      ['requests', 'ok'],
    ]);
    expect(reports[0]!.differences).toEqual(
      [0, 1].map((i) => ({
        start: iso(lostWindow),
        end: iso(lostWindow + RESOLUTION),
        tags: {
          instance: `app-${i}:8080`,
          metric_name: 'up',
          metric_type: 'availability',
          service: 'test-app',
        },
        fields: ['count', 'sum', 'min', 'max', 'last', 'mean'].map((a) => ({
          field: `value_${a}`,
          expected: expect.any(Number),
          found: null,
        })),
      })),
    );

    // The backfill the text report names puts it back.
    const rewrite = await run(
      'backfill',
      '--fresh',
      '--from',
      iso(lostWindow),
      '--to',
      iso(lostWindow + RESOLUTION),
      '--query',
      'availability',
      '--no-progress',
    );
    expect(rewrite.code, rewrite.stderr).toBe(0);
    expect((await run('verify', ...range)).code).toBe(0);
  });

  it('reads InfluxDB 2.x with Flux: agrees, then lists the raw hour and the window it lacks', async () => {
    const fake = await InfluxDbV2Fake.start();
    try {
      mountQueryEndpoint(fake);
      fake.createBucket(fake.org, 'warm', 0);
      const config2 = join(dir, 'promflux-v2.yaml');
      await writeFile(
        config2,
        (await readFile(config, 'utf8'))
          .replace(
            `    url: "${influx.url}"\n    api: v1`,
            `    url: "${fake.url}"\n    token: "${fake.token}"\n    org: "${fake.org}"`,
          )
          .replace('"vhot/hot", retention: 7d', `"${fake.bucket}", retention: 0`)
          .replace('"vwarm/warm", retention: 90d', '"warm", retention: 0'),
      );
      const write = async (bucket: string, lines: string[], precision: string) => {
        const res = await fetch(
          `${fake.url}/api/v2/write?org=${fake.org}&bucket=${bucket}&precision=${precision}`,
          {
            method: 'POST',
            headers: { Authorization: `Token ${fake.token}` },
            body: lines.join('\n'),
          },
        );
        expect(res.status).toBe(204);
      };
      const verify2 = (...args: string[]) =>
        runPromflux(['verify', '--from', iso(FROM), '--to', iso(TO), ...args, '-c', config2], {
          cwd: dir,
        });
      // All but one hour of one availability series, and all but one warm window of requests.
      const lostHour = FROM + HOUR;
      const lostSeries = 'instance=app-1:8080';
      const lostWindow = `${(FROM + 3 * RESOLUTION) / 1000}`;
      const isLostPoint = (line: string): boolean => {
        const t = Number(line.slice(line.lastIndexOf(' ') + 1));
        return (
          line.includes('metric_type=availability') &&
          line.includes(lostSeries) &&
          t >= lostHour &&
          t < lostHour + HOUR
        );
      };
      const isLostWindow = (line: string): boolean =>
        line.includes('metric_type=requests') && line.endsWith(` ${lostWindow}`);
      const hot = await hotLines();
      const warm = await warmLines();
      await write(
        fake.bucket,
        hot.filter((l) => !isLostPoint(l)),
        'ms',
      );
      await write(
        'warm',
        warm.filter((l) => !isLostWindow(l)),
        's',
      );

      const found = await verify2();
      expect(found.code, found.stderr).toBe(5);
      const differing = found.stdout.split('\n').filter((l) => l.startsWith('       2'));
      expect(differing).toHaveLength(1 + 16);
      expect(differing[0]).toMatch(
        new RegExp(
          `^ {7}${iso(lostHour)}/${iso(lostHour + HOUR)} \\{instance="app-1:8080", metric_name="up", metric_type="availability", service="test-app"\\}: count expected 240, found nothing; sum expected \\d+, found nothing$`,
        ),
      );
      for (const line of differing.slice(1)) {
        expect(line).toMatch(
          new RegExp(
            `^ {7}${iso(FROM + 3 * RESOLUTION)}/.* metric_type="requests".*found nothing$`,
          ),
        );
      }
      expect(found.stdout).toContain('ok   tier hot, query requests: 3 raw windows of 1h agree');
      expect(found.stdout).toContain(
        'ok   tier warm, query availability: 36 gauge windows of 5m agree',
      );

      await write(fake.bucket, hot.filter(isLostPoint), 'ms');
      await write('warm', warm.filter(isLostWindow), 's');
      const agreed = await verify2();
      expect(agreed.code, agreed.stdout).toBe(0);
      expect(agreed.stdout.trim().split('\n').sort()).toEqual(ALL_AGREE);
    } finally {
      await fake.stop();
    }
  });
});
