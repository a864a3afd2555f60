/**
 * Bad input at volume: thousands of seeded random label sets (unicode, spaces, commas, `=`,
 * quotes, backslashes, newlines, control characters, empty values, names promflux or line protocol
 * reserve) backfilled into a real Prometheus with promtool, then `promflux backfill` (the built CLI)
 * into the real InfluxDB 1.x and VictoriaMetrics. Every point lands, every tag reads back as
 * README's data model says, and no two Prometheus series become one.
 */
import fc from 'fast-check';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { renderOpenMetrics, type FixtureSeries } from '../../scripts/lib/openmetrics-fixture.js';
import {
  startInfluxV1,
  startPrometheus,
  startVictoriaMetrics,
  type InfluxV1Server,
  type StartedServer,
  type VictoriaMetricsServer,
} from '../../scripts/lib/servers.js';
import { runPromflux } from '../support/promflux-cli.js';
import { prometheusRange } from '../support/prometheus-range.js';

const SERIES = 10_000;
const STEP_MS = 15_000;
const T0 = Math.floor((Date.now() - 7_200_000) / STEP_MS) * STEP_MS;
const TIMES = [T0, T0 + STEP_MS];
const METRIC = 'fuzz_metric';
const QUERY = 'fuzz';
const JOB = 'fuzz-job';

/** Label names promflux derives tags from, sets itself, or escapes: README "the escape". */
const RESERVED_NAMES = [
  'service',
  'instance',
  'service_source',
  'metric_name',
  'metric_type',
  'time',
  '_field',
  '_measurement',
  'prom_x',
  'prom_time',
];
const ESCAPED = new Set(RESERVED_NAMES.filter((n) => n !== 'service' && n !== 'instance'));

/**
 * Characters of the random values. Left out on purpose: `n`, `r`, `t` (a backslash before them
 * would read back like an escaped newline or tab), U+FFFD and U+FF3C (what sanitising writes),
 * and all control characters but one: README documents those as merging, so they cannot be
 * asked not to.
 */
const VALUE_CHARS = [
  'a',
  'B',
  '0',
  ' ',
  ',',
  '=',
  '"',
  "'",
  '\\',
  '\n',
  '\t',
  '\u0001',
  'é',
  '日',
  '🙂',
  '{',
  '}',
];

// A small pool of ordinary names: InfluxDB 1.x answers `GROUP BY *` in time over a few tag keys
// (thousands of keys make it quadratic); the values are where the variety is.
const labelName = fc.constantFrom(...RESERVED_NAMES, 'a', 'b_1', 'Zz', 'label_x', 'x9');
const labelValue = fc.oneof(
  { weight: 1, arbitrary: fc.constant('') },
  { weight: 9, arbitrary: fc.string({ unit: fc.constantFrom(...VALUE_CHARS), maxLength: 12 }) },
);
const labelSet = fc.dictionary(labelName, labelValue, { minKeys: 1, maxKeys: 4 });

/** README's sanitising table, for InfluxDB (which stores what it is sent). */
function influxValue(value: string): string {
  return value
    .replace(/\\+(?=[, =]|$)/g, (run) => '\uFF3C'.repeat(run.length))
    .replace(/\n/g, '\\n')
    .replace(/\r/g, '\\r')
    .replace(/\t/g, '\\t')
    .replace(/[\u0000-\u001F\u007F]/g, '\uFFFD');
}

/** What VictoriaMetrics reads back: README's note that it halves runs of backslashes. */
function victoriaValue(value: string): string {
  return influxValue(value).replace(/\\\\/g, '\\');
}

/** The tags README's data model gives one series (job always set), before value sanitising. */
function documentedTags(labels: Record<string, string>): Record<string, string> {
  const tags: Record<string, string> = { metric_type: QUERY, metric_name: METRIC };
  const present = Object.entries(labels).filter(([, v]) => v !== '');
  const service = present.find(([n]) => n === 'service');
  tags.service = service ? service[1] : JOB;
  if (service) tags.job = JOB;
  for (const [name, value] of present) {
    if (name === 'service') continue;
    tags[ESCAPED.has(name) || name.startsWith('prom_') ? `prom_${name}` : name] = value;
  }
  return tags;
}

function mapValues(tags: Record<string, string>, f: (v: string) => string): Record<string, string> {
  return Object.fromEntries(Object.entries(tags).map(([k, v]) => [k, f(v)]));
}

const key = (tags: Record<string, string>): string =>
  JSON.stringify(Object.entries(tags).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));

describe('random label sets at volume: real Prometheus → InfluxDB 1.x and VictoriaMetrics', () => {
  const seed = fc.readConfigureGlobal().seed ?? 0;
  let prometheus: StartedServer;
  let influx: InfluxV1Server;
  let vm: VictoriaMetricsServer;
  let dir: string;
  /** Prometheus' own labels of each series (empty values gone) → the value at T0. */
  let series: Array<{ labels: Record<string, string>; value: number }>;

  beforeAll(async () => {
    // Unique by what Prometheus, InfluxDB and VictoriaMetrics each store, so the documented
    // sanitising cannot merge two of them and any merge is promflux's.
    const sets = fc.sample(
      fc.uniqueArray(labelSet, {
        minLength: SERIES,
        maxLength: SERIES,
        selector: (l) => key(documentedTags(l)),
      }),
      { numRuns: 1, seed },
    )[0]!;
    const seen = new Set<string>();
    series = [];
    for (const labels of sets) {
      const tags = documentedTags(labels);
      const keys = [key(mapValues(tags, influxValue)), 'vm' + key(mapValues(tags, victoriaValue))];
      if (keys.some((k) => seen.has(k))) continue;
      keys.forEach((k) => seen.add(k));
      series.push({ labels, value: series.length });
    }
    const fixture: FixtureSeries[] = series.map((s) => ({
      name: METRIC,
      labels: { ...s.labels, job: JOB },
      samples: TIMES.map((t, i) => ({ timestampMs: t, value: s.value + i / 2 })),
    }));
    dir = await mkdtemp(join(tmpdir(), 'promflux-label-fuzz-'));
    [prometheus, influx, vm] = await Promise.all([
      startPrometheus({
        openMetrics: renderOpenMetrics([
          { name: METRIC, type: 'gauge', help: 'fuzzed labels', series: fixture },
        ]),
      }),
      startInfluxV1(),
      startVictoriaMetrics(),
    ]);
    await influx.createDatabase('fuzz');
  });
  afterAll(async () => {
    await Promise.allSettled([prometheus?.stop(), influx?.stop(), vm?.stop()]);
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it(`keeps ~${SERIES} random series apart and lands every point (seed printed on failure)`, async () => {
    try {
      // Prometheus itself holds every generated series, apart: the reference.
      const stored = await prometheusRange(prometheus.url, METRIC, {
        startMs: T0,
        endMs: T0 + STEP_MS,
        stepMs: STEP_MS,
      });
      expect(stored.length).toBe(series.length);
      console.log(`label fuzz (seed ${seed}): ${series.length} series kept of ${SERIES} generated`);
      expect(series.length).toBeGreaterThan(SERIES * 0.9);

      const expected = series.map((s) => ({ tags: documentedTags(s.labels), value: s.value }));
      await backfill(`    url: "${influx.url}"\n    api: v1\n    bucket: "fuzz/autogen"`, 'influx');
      const inInflux = await influxRows();
      expect(distinctSeries(inInflux)).toBe(stored.length);
      expect(inInflux).toEqual(
        rowsOf(expected.map((e) => ({ ...e, tags: mapValues(e.tags, influxValue) }))),
      );

      await backfill(
        `    url: "${vm.url}"\n    api: v2\n    token: "unused"\n    org: "o"\n    bucket: "b"`,
        'vm',
      );
      const inVictoria = await victoriaRows();
      expect(distinctSeries(inVictoria)).toBe(stored.length);
      expect(inVictoria).toEqual(
        rowsOf(expected.map((e) => ({ ...e, tags: mapValues(e.tags, victoriaValue) }))),
      );
    } catch (err) {
      console.error(`label fuzz failed with FAST_CHECK_SEED=${seed}`);
      throw err;
    }
  });

  async function backfill(sink: string, name: string): Promise<void> {
    const config = join(dir, `${name}.yaml`);
    await writeFile(
      config,
      `extract:
  prometheus_url: "${prometheus.url}"
  queries:
    - { name: ${QUERY}, query: "${METRIC}", step: 15s }
load:
  influxdb:
${sink}
pipeline:
  log_level: warn
  state_dir: "${join(dir, `state-${name}`)}"
`,
    );
    const run = await runPromflux(
      [
        'backfill',
        '-c',
        config,
        '--json',
        '--no-progress',
        '--from',
        new Date(T0).toISOString(),
        '--to',
        new Date(T0 + STEP_MS).toISOString(),
      ],
      { cwd: dir },
    );
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const summary = JSON.parse(run.stdout.trim()) as {
      points: number;
      drops: Record<string, number>;
    };
    expect(summary.points).toBe(series.length * TIMES.length);
    expect(Object.values(summary.drops).every((n) => n === 0)).toBe(true);
  }

  function distinctSeries(rows: string[]): number {
    return new Set(rows.map((r) => r.slice(0, r.lastIndexOf('|')))).size;
  }

  /** One `tags|value@time` row per point, sorted: equal lists mean equal series and points. */
  function rowsOf(points: Array<{ tags: Record<string, string>; value: number }>): string[] {
    return points
      .flatMap((p) => TIMES.map((t, i) => `${key(p.tags)}|${p.value + i / 2}@${t}`))
      .sort();
  }

  async function influxRows(): Promise<string[]> {
    // GROUP BY *: one result series per InfluxDB series, its tags apart from the points.
    const res = await influx.query('SELECT value FROM health_metrics GROUP BY *', 'fuzz', {
      epoch: 'ms',
    });
    return (res.results[0]!.series ?? [])
      .flatMap(({ tags = {}, values = [] }) => {
        const present = Object.fromEntries(Object.entries(tags).filter(([, v]) => v !== ''));
        return values.map(
          ([time, value]) => `${key(present)}|${value as number}@${time as number}`,
        );
      })
      .sort();
  }

  async function victoriaRows(): Promise<string[]> {
    await vm.flush();
    return (await vm.exportSeries('{__name__="health_metrics_value"}'))
      .flatMap(({ metric, values, timestamps }) => {
        const { __name__: _, ...tags } = metric;
        return values.map((v, i) => `${key(tags)}|${v}@${timestamps[i]}`);
      })
      .sort();
  }
});
