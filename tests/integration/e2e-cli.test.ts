/**
 * End to end on real servers, through the CLI as a child process:
 * fixture → Prometheus (promtool backfill) → `promflux backfill` / `--once` → InfluxDB 1.x and
 * VictoriaMetrics (/api/v2/write), read back with InfluxQL and /api/v1/export.
 *
 * The expectation is what Prometheus itself answers for the same grid (one unchunked request,
 * decoded with the JSON.parse reference), mapped to tags by an independent spelling of the
 * documented data model below, never by promflux's own mapping code.
 */
import { execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  generateHealthFixture,
  RESERVED_NAME_LABELS,
  SPECIAL_LABEL_CASES,
} from '../../scripts/lib/openmetrics-fixture.js';
import {
  freePort,
  startInfluxV1,
  startPrometheus,
  startVictoriaMetrics,
  type InfluxV1Server,
  type StartedServer,
  type VictoriaMetricsServer,
} from '../../scripts/lib/servers.js';
import { prometheusRange } from '../support/prometheus-range.js';
import { expectedTags, runPromflux } from '../support/promflux-cli.js';
import { blockTimestamps, blockValues } from '../../src/core/series.js';

const REPO_ROOT = resolve(import.meta.dirname, '../..');
const STEP_MS = 15_000;
// The fixture ends shortly before "now" so that `--once` (the last interval) finds data too.
const FIXTURE_END = Math.floor(Date.now() / STEP_MS) * STEP_MS - 60_000;
const FIXTURE_START = FIXTURE_END - 6 * 3_600_000;
const BACKFILL = { startMs: FIXTURE_START + 10 * 60_000, endMs: FIXTURE_END - 7_000 };

/** name → PromQL. Chosen to cover a plain gauge with NaNs, a rate() without __name__, special labels. */
const QUERIES: Record<string, string> = {
  availability: 'up',
  request_rate: 'rate(http_requests_total[5m])',
  special: 'test_special_labels',
};

interface Point {
  tags: Record<string, string>;
  timeMs: number;
  value: number;
}

/**
 * The documented sanitising of tag values: newline, carriage return and tab become the two
 * characters `\n`, `\r`, `\t`; backslashes before a comma, `=`, space or the end of the value
 * become U+FF3C. The fixture has no run of two backslashes elsewhere, so InfluxDB and
 * VictoriaMetrics (which halves such runs) store the same text.
 */
function sanitisedTagValue(value: string): string {
  return value
    .replace(/\n/g, '\\n')
    .replace(/\r/g, '\\r')
    .replace(/\t/g, '\\t')
    .replace(/\\+(?=[, =]|$)/g, (run) => '\uff3c'.repeat(run.length));
}

function closeTo(a: number, b: number): boolean {
  return a === b || Math.abs(a - b) <= 1e-11 * Math.max(Math.abs(a), Math.abs(b));
}

function pointKey(tags: Record<string, string>, timeMs: number): string {
  const sorted = Object.keys(tags)
    .sort()
    .map((k) => [k, tags[k]]);
  return `${JSON.stringify(sorted)}@${timeMs}`;
}

function indexPoints(points: Point[]): Map<string, number[]> {
  const out = new Map<string, number[]>();
  for (const p of points) {
    const key = pointKey(p.tags, p.timeMs);
    const values = out.get(key) ?? [];
    values.push(p.value);
    out.set(key, values);
  }
  return out;
}

describe('promflux CLI end to end → real Prometheus, InfluxDB 1.x and VictoriaMetrics', () => {
  let prometheus: StartedServer;
  let influx: InfluxV1Server;
  let vm: VictoriaMetricsServer;
  let dir: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'promflux-e2e-'));
    [prometheus, influx, vm] = await Promise.all([
      startPrometheus({
        openMetrics: generateHealthFixture({
          startMs: FIXTURE_START,
          endMs: FIXTURE_END,
          intervalMs: STEP_MS,
          instances: 2,
          specialLabels: true,
          nanEvery: 7,
        }),
      }),
      startInfluxV1(),
      startVictoriaMetrics(),
    ]);
    await influx.createDatabase('health');
    await influx.createDatabase('once');
  });
  afterAll(async () => {
    await Promise.allSettled([prometheus?.stop(), influx?.stop(), vm?.stop()]);
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  function configYaml(load: string, extra = ''): string {
    const queries = Object.entries(QUERIES)
      .map(([name, query]) => `    - { name: ${name}, query: ${JSON.stringify(query)} }`)
      .join('\n');
    return `extract:
  prometheus_url: "${prometheus.url}"
  # Small chunks so that chunk edges are crossed many times.
  max_points_per_series: 97
  concurrency: 2
  queries:
${queries}
transform:
  valid_metrics: ["up", "http_requests_total", "test_special_labels"]
load:
  influxdb:
${load}
    batch_size: 500
pipeline:
  interval_seconds: 900
  delay: 0s
  log_level: warn
${extra}`;
  }

  async function writeConfig(name: string, yaml: string): Promise<string> {
    const path = join(dir, name);
    await writeFile(path, yaml);
    return path;
  }

  const influxConfig = (db: string): string =>
    `    url: "${influx.url}"\n    api: v1\n    bucket: "${db}/autogen"`;
  const vmConfig = (): string =>
    `    url: "${vm.url}"\n    api: v2\n    token: "vm-ignores-it"\n    org: "monitoring"\n    bucket: "health"`;

  function cli(args: string[], env: Record<string, string> = {}) {
    return runPromflux(args, { cwd: dir, env });
  }

  /** `promflux backfill -c config --from from --to to ...extra`. */
  function backfill(config: string, from: string, to: string, ...extra: string[]) {
    return cli(['backfill', '-c', config, '--from', from, '--to', to, ...extra]);
  }

  /** Every non-NaN sample Prometheus answers for `[startMs, endMs]` on the 15s grid. */
  async function expectedPoints(range: { startMs: number; endMs: number }): Promise<Point[]> {
    const start = Math.ceil(range.startMs / STEP_MS) * STEP_MS;
    const end = Math.floor(range.endMs / STEP_MS) * STEP_MS;
    const points: Point[] = [];
    for (const [name, query] of Object.entries(QUERIES)) {
      const range = { startMs: start, endMs: end, stepMs: STEP_MS };
      for (const series of await prometheusRange(prometheus.url, query, range)) {
        const raw = expectedTags(series.labels, name);
        const tags = Object.fromEntries(
          Object.entries(raw).map(([k, v]) => [k, sanitisedTagValue(v)]),
        );
        const [ts, values] = [blockTimestamps(series), blockValues(series)];
        for (let i = 0; i < series.length; i++) {
          const value = values[i]!;
          if (!Number.isFinite(value)) continue;
          points.push({ tags, timeMs: ts[i]!, value });
        }
      }
    }
    return points;
  }

  async function influxPoints(db: string): Promise<Point[]> {
    const res = await influx.query('SELECT * FROM health_metrics', db, { epoch: 'ms' });
    const series = res.results[0]?.series?.[0];
    if (!series) return [];
    const timeCol = series.columns.indexOf('time');
    const valueCol = series.columns.indexOf('value');
    return (series.values ?? []).map((row) => {
      const tags: Record<string, string> = {};
      series.columns.forEach((col, i) => {
        if (i !== timeCol && i !== valueCol && row[i] !== null) tags[col] = row[i] as string;
      });
      return { tags, timeMs: row[timeCol] as number, value: row[valueCol] as number };
    });
  }

  async function vmPoints(): Promise<Point[]> {
    await vm.flush();
    const points: Point[] = [];
    for (const s of await vm.exportSeries('{__name__="health_metrics_value"}')) {
      const tags = { ...s.metric };
      delete tags.__name__;
      s.timestamps.forEach((t, i) => points.push({ tags, timeMs: t, value: s.values[i]! }));
    }
    return points;
  }

  /**
   * `exact`: values must be the same doubles. VictoriaMetrics keeps 12 significant decimal digits
   * (its documented storage precision: 1.9633333333333334 comes back as 1.963333333333), so for it
   * values are compared to 1e-11 relative.
   */
  function expectExactlyOnce(actual: Point[], expected: Point[], exact = true): void {
    const want = indexPoints(expected);
    const got = indexPoints(actual);
    const missing = [...want.keys()].filter((k) => !got.has(k));
    const extra = [...got.keys()].filter((k) => !want.has(k));
    expect(missing.slice(0, 5), `${missing.length} points missing`).toEqual([]);
    expect(extra.slice(0, 5), `${extra.length} unexpected points`).toEqual([]);
    for (const [key, values] of got) {
      const wanted = want.get(key)!;
      expect(values.length, key).toBe(wanted.length);
      if (exact) expect(values, key).toEqual(wanted);
      else
        values.forEach((v, i) =>
          expect(closeTo(v, wanted[i]!), `${key}: ${v} vs ${wanted[i]}`).toBe(true),
        );
    }
    expect(actual.length).toBe(expected.length);
  }

  const rfc3339 = (ms: number): string => new Date(ms).toISOString();

  it('backfills into InfluxDB 1.x: every sample exactly once, same value and time, nothing else', async () => {
    const config = await writeConfig('influx.yaml', configYaml(influxConfig('health')));
    const run = await backfill(
      config,
      rfc3339(BACKFILL.startMs),
      String(BACKFILL.endMs / 1000),
      '--json',
    );
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const records = run.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(records.map((r) => [r.query, r.ok])).toEqual(
      Object.keys(QUERIES).map((name) => [name, true]),
    );

    const expected = await expectedPoints(BACKFILL);
    expect(expected.length).toBeGreaterThan(5000);
    const landed = await influxPoints('health');
    expectExactlyOnce(landed, expected);

    // The summary accounts for every sample: written + dropped = extracted.
    for (const r of records) {
      const drops = r.drops as Record<string, number>;
      const dropped = Object.values(drops).reduce((a, b) => a + b, 0);
      expect(r.points).toBe((r.samples as number) - dropped);
      expect((r.sinks as Record<string, { written: number }>).influxdb?.written).toBe(r.points);
      expect(r.chunks as number).toBeGreaterThan(10);
    }
    const nanDrops = records.reduce((a, r) => a + (r.drops as Record<string, number>).nan!, 0);
    expect(nanDrops).toBeGreaterThan(0);

    // Rerunning the same range (different chunking) changes nothing.
    const rerunConfig = await writeConfig(
      'influx-rerun.yaml',
      configYaml(influxConfig('health')).replace(
        'max_points_per_series: 97',
        'max_points_per_series: 1000',
      ),
    );
    const rerun = await backfill(
      rerunConfig,
      rfc3339(BACKFILL.startMs),
      rfc3339(BACKFILL.endMs),
      '--fresh',
    );
    expect(rerun.code).toBe(0);
    expectExactlyOnce(await influxPoints('health'), expected);
  });

  it('lands a label set full of special characters intact in InfluxDB 1.x', async () => {
    // Its own database and a short backfill: it must not depend on what another test wrote.
    await influx.createDatabase('special');
    const config = await writeConfig('special.yaml', configYaml(influxConfig('special')));
    const run = await backfill(
      config,
      rfc3339(BACKFILL.endMs - 1_800_000),
      rfc3339(BACKFILL.endMs),
    );
    expect(run.code).toBe(0);
    const landed = (await influxPoints('special')).filter((p) => p.tags.metric_type === 'special');
    const byCase = new Map(landed.map((p) => [p.tags.case, p.tags]));
    for (const c of SPECIAL_LABEL_CASES) {
      const tags = byCase.get(c.case);
      expect(tags, c.case).toBeDefined();
      if (c.text === '') expect(tags!.text, c.case).toBeUndefined();
      else expect(tags!.text, c.case).toBe(sanitisedTagValue(c.text));
    }
    // Spelled out, so the rule above cannot drift into agreeing with a bug.
    expect(byCase.get('comma')!.text).toBe('a,b');
    expect(byCase.get('trailing_backslash')!.text).toBe('ends with\uff3c');
    expect(byCase.get('backslash')!.text).toBe('C:\\path\\to');
    expect(byCase.get('newline')!.text).toBe('line1\\nline2');
    expect(byCase.get('unicode')!.text).toBe('Zürich 東京 🚀');
    expect(byCase.get('reserved')).toMatchObject({
      prom_time: RESERVED_NAME_LABELS.time,
      prom__field: RESERVED_NAME_LABELS._field,
      prom__measurement: RESERVED_NAME_LABELS._measurement,
    });
  });

  it('backfills into VictoriaMetrics over /api/v2/write: exactly once, reruns add nothing new', async () => {
    const config = await writeConfig('vm.yaml', configYaml(vmConfig()));
    const args = [
      'backfill',
      '--config',
      config,
      '--from',
      rfc3339(BACKFILL.startMs),
      '--to',
      rfc3339(BACKFILL.endMs),
    ];
    const run = await cli(args);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^ok +availability: /m);

    const expected = await expectedPoints(BACKFILL);
    expectExactlyOnce(await vmPoints(), expected, false);

    // A plain rerun resumes after what the first run wrote: nothing is left to do.
    const again = await cli(args);
    expect(again.code).toBe(0);
    expect(again.stderr).toMatch(/^done +availability: already backfilled/m);
    // --fresh writes every point again. VictoriaMetrics stores the second copy of an identical
    // sample, but its background merges may drop it again at any moment: one or two copies of
    // the same value are both right; a new key or another value is not.
    const fresh = await cli([...args, '--fresh']);
    expect(fresh.code).toBe(0);
    expect(fresh.stdout).toMatch(/^ok +availability: .*; [1-9]\d* written/m);
    const after = indexPoints(await vmPoints());
    const want = indexPoints(expected);
    expect([...after.keys()].sort()).toEqual([...want.keys()].sort());
    for (const [key, values] of after) {
      expect(values.length, key).toBeGreaterThanOrEqual(1);
      expect(values.length, key).toBeLessThanOrEqual(2);
      for (const v of values) expect(closeTo(v, want.get(key)![0]!), key).toBe(true);
    }
    const special = (await vmPoints()).find((p) => p.tags.case === 'trailing_backslash');
    expect(special?.tags.text).toBe('ends with\uff3c');
  });

  it('--once writes the last interval, and the summary names what it did', async () => {
    const config = await writeConfig('once.yaml', configYaml(influxConfig('once')));
    const run = await cli(['--once', '--json'], { PROMFLUX_CONFIG: config });
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const records = run.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { start: string; end: string; points: number });
    expect(records).toHaveLength(3);
    const range = { startMs: Date.parse(records[0]!.start), endMs: Date.parse(records[0]!.end) };
    expect(range.endMs - range.startMs).toBe(900_000);
    const expected = await expectedPoints(range);
    expect(expected.length).toBeGreaterThan(0);
    expectExactlyOnce(await influxPoints('once'), expected);

    const human = await cli(['run', '--once', '--config', config]);
    expect(human.code).toBe(0);
    expect(human.stdout.trim().split('\n')).toHaveLength(3);
    expect(human.stdout).toMatch(
      /^ok +request_rate: \d+ samples, \d+ series → \d+ points; \d+ written to influxdb; dropped \d+/m,
    );
  });

  it('--dry-run prints line protocol and writes nothing', async () => {
    const deadPort = await freePort();
    const config = await writeConfig(
      'dry.yaml',
      configYaml(`    url: "http://127.0.0.1:${deadPort}"\n    api: v1\n    bucket: "x/autogen"`),
    );
    const run = await backfill(
      config,
      rfc3339(BACKFILL.startMs),
      rfc3339(BACKFILL.startMs + 300_000),
      '--query',
      'availability',
      '--dry-run',
    );
    expect(run.code).toBe(0);
    const lines = run.stdout.split('\n').filter((l) => l.startsWith('health_metrics,'));
    const expected = await expectedPoints({
      startMs: BACKFILL.startMs,
      endMs: BACKFILL.startMs + 300_000,
    });
    expect(lines).toHaveLength(
      expected.filter((p) => p.tags.metric_type === 'availability').length,
    );
    expect(run.stderr).toMatch(/^ok +availability: .* written to stdout/m);

    const summary = await backfill(
      config,
      rfc3339(BACKFILL.startMs),
      rfc3339(BACKFILL.startMs + 300_000),
      '--dry-run',
      '--summary',
    );
    expect(summary.code).toBe(0);
    expect(summary.stdout).not.toMatch(/^health_metrics,/m);
    expect(summary.stdout.trim().split('\n')).toHaveLength(3);
  });

  it('backfill --plan shows the requests a backfill makes, and makes none of them', async () => {
    const config = await writeConfig('plan.yaml', configYaml(influxConfig('plan')));
    const from = rfc3339(BACKFILL.startMs);
    const to = rfc3339(BACKFILL.startMs + 3_600_000);
    const plan = await backfill(config, from, to, '--plan', '--query', 'availability');
    expect(plan.code).toBe(0);
    const line =
      /availability: (\d+) points a series, (\d+) series → (\d+) samples in (\d+) requests/.exec(
        plan.stdout,
      );
    expect(line, plan.stdout).not.toBeNull();
    const [, points, series, samples, requests] = line!.map(Number);
    expect(series).toBe(2); // up{instance} of the two fixture targets
    expect(samples).toBe(points! * series!);
    // Nothing was written: the database does not even exist.
    await expect(influx.query('SELECT count(value) FROM health_metrics', 'plan')).rejects.toThrow(
      /database not found/,
    );

    // The real run makes exactly the planned requests and finds the planned samples.
    await influx.createDatabase('plan');
    const run = await backfill(config, from, to, '--json', '--query', 'availability');
    const record = JSON.parse(run.stdout.trim()) as { chunks: number; samples: number };
    expect(record.chunks).toBe(requests);
    expect(record.samples).toBe(samples);
  });

  it('an interrupted backfill, run again, resumes and leaves every sample exactly once', async () => {
    await influx.createDatabase('resume');
    // Tiny requests so that the run is still going when it is interrupted.
    const config = await writeConfig(
      'resume.yaml',
      configYaml(influxConfig('resume'))
        .replace('max_points_per_series: 97', 'max_points_per_series: 3')
        .replace('log_level: warn', `log_level: warn\n  state_dir: "${join(dir, 'resume-state')}"`),
    );
    const args = [
      join(REPO_ROOT, 'bin/promflux.js'),
      'backfill',
      '-c',
      config,
      '--from',
      rfc3339(BACKFILL.startMs),
      '--to',
      rfc3339(BACKFILL.endMs),
    ];
    const child = spawn(process.execPath, args, { cwd: dir, stdio: 'ignore' });
    const statePath = join(dir, 'resume-state', 'backfill.json');
    for (const deadline = Date.now() + 30_000; ;) {
      const progress = await readFile(statePath, 'utf8').catch(() => '');
      if (progress.includes('availability')) break;
      if (Date.now() > deadline) throw new Error('the backfill made no progress');
      await new Promise((r) => setTimeout(r, 50));
    }
    child.kill('SIGINT');
    const [code] = (await once(child, 'exit')) as [number | null];
    expect(code).toBe(130);

    const resumed = await backfill(config, rfc3339(BACKFILL.startMs), rfc3339(BACKFILL.endMs));
    expect(resumed.code).toBe(0);
    expect(resumed.stderr).toMatch(/^resume +availability: from /m);
    expectExactlyOnce(await influxPoints('resume'), await expectedPoints(BACKFILL));
  });

  it('backfill shows progress: periodic log lines, or a bar on a terminal', async () => {
    await influx.createDatabase('progress');
    const config = await writeConfig(
      'progress.yaml',
      configYaml(influxConfig('progress'))
        .replace('max_points_per_series: 97', 'max_points_per_series: 5')
        .replace(
          'log_level: warn',
          `log_level: info\n  state_dir: "${join(dir, 'progress-state')}"`,
        ),
    );
    const range = [rfc3339(BACKFILL.startMs), rfc3339(BACKFILL.endMs)] as const;
    const logged = await backfill(config, ...range, '--progress-interval', '100ms');
    expect(logged.code).toBe(0);
    const progress = logged.stderr
      .split('\n')
      .filter((l) => l.includes('"Backfill progress."'))
      .map((l) => JSON.parse(l) as { progress: string; samples: number; queries: number });
    expect(progress.length).toBeGreaterThan(1);
    const percents = progress.map((p) => Number.parseFloat(p.progress));
    expect(percents).toEqual([...percents].sort((a, b) => a - b));
    expect(percents.at(-1)!).toBeLessThanOrEqual(100);
    expect(progress.at(-1)!.samples).toBeGreaterThan(progress[0]!.samples);
    expect(progress[0]!.queries).toBe(Object.keys(QUERIES).length);

    // On a terminal (script(1) gives the child a pseudo-terminal): one redrawn line, no log lines.
    const command = [process.execPath, join(REPO_ROOT, 'bin/promflux.js'), 'backfill', '-c']
      .concat([config, '--from', range[0], '--to', range[1], '--fresh'])
      .map((arg) => `'${arg}'`)
      .join(' ');
    const onTty = await promisify(execFile)('script', ['-qefc', command, '/dev/null'], {
      cwd: dir,
      env: { ...process.env, PROMFLUX_CONFIG: '', NO_COLOR: '1' },
      timeout: 120_000,
    });
    expect(onTty.stdout).toMatch(
      /\r\x1b\[K\[[#.]{24}\] +\d+\.\d%  [\d.]+[kMG]? samples  [\d.]+[kMG]? samples\/s  ETA /,
    );
    expect(onTty.stdout).not.toContain('Backfill progress');
    expect(onTty.stdout).toMatch(/\r\x1b\[Kok +availability: /);
    const unchanged = await backfill(config, ...range, '--no-progress', '--fresh');
    expect(unchanged.stderr).not.toContain('Backfill progress');
    expectExactlyOnce(await influxPoints('progress'), await expectedPoints(BACKFILL));
  });

  it('exits 1 when a query or the sink fails, still running the rest', async () => {
    const broken = configYaml(influxConfig('health')).replace(
      '    - { name: special,',
      '    - { name: broken, query: "rate(up[5m]" }\n    - { name: special,',
    );
    const config = await writeConfig('broken-query.yaml', broken);
    const run = await backfill(
      config,
      rfc3339(BACKFILL.startMs),
      rfc3339(BACKFILL.startMs + 600_000),
    );
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(/^FAILED broken: /m);
    expect(run.stdout).toMatch(/bad_data/);
    expect(run.stdout).toMatch(/^ok +special: /m);
    expect(run.stdout).toMatch(/^ok +availability: /m);

    const deadPort = await freePort();
    const unreachable = await writeConfig(
      'unreachable.yaml',
      configYaml(
        `    url: "http://127.0.0.1:${deadPort}"\n    api: v1\n    bucket: "x/autogen"\n    retry: { max_attempts: 1 }`,
      ),
    );
    const down = await backfill(
      unreachable,
      rfc3339(BACKFILL.startMs),
      rfc3339(BACKFILL.startMs + 60_000),
    );
    expect(down.code).toBe(1);
    expect(`${down.stdout}${down.stderr}`).toMatch(new RegExp(`127\\.0\\.0\\.1:${deadPort}`));
  });

  it('exits 2 with every config error named by key path, and on usage errors', async () => {
    const bad = await writeConfig(
      'bad.yaml',
      `extract: { prometheus_url: "ftp://nope", concurrency: 0 }\nload: { influxdb: { url: "not a url", bucket: "b" } }\n`,
    );
    const run = await cli(['--once', '--config', bad]);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/extract\.prometheus_url/);
    expect(run.stderr).toMatch(/extract\.concurrency/);
    expect(run.stderr).toMatch(/load\.influxdb\.url: must be an http\(s\) URL/);
    expect(run.stderr).not.toMatch(/\n\s+at /); // no stack trace

    const good = await writeConfig('good.yaml', configYaml(influxConfig('health')));
    const checked = await cli(['check-config', '-c', good]);
    expect(checked.code).toBe(0);
    expect(checked.stdout).toMatch(/valid\. 3 queries: availability, request_rate, special/);
    expect((await cli(['check-config', '-c', bad])).code).toBe(2);

    const unknownQuery = await backfill(good, 'now-1h', 'now', '--query', 'nope');
    expect(unknownQuery.code).toBe(2);
    expect(unknownQuery.stderr).toMatch(/Unknown --query "nope"/);
    const reversed = await backfill(good, 'now', 'now-1h');
    expect(reversed.code).toBe(2);
    expect((await cli(['--no-such-flag'])).code).toBe(2);
    expect((await cli(['--once', '--config', join(dir, 'missing.yaml')])).code).toBe(2);
  });

  it('check reports both ends, and fails when InfluxDB lacks the database', async () => {
    const good = await writeConfig('check.yaml', configYaml(influxConfig('health')));
    const ok = await cli(['check', '-c', good]);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toMatch(/Prometheus/);
    expect(ok.stdout).toMatch(/2\.42/);
    // The fixture is backfilled with promtool: Prometheus holds no metadata for it.
    expect(ok.stdout.split('\n').filter((l) => l.includes(' query '))).toEqual([
      'ok   query availability: kind gauge (no counter metadata or suffix; no metadata for up)',
      'ok   query request_rate: kind gauge (not a bare selector)',
      'ok   query special: kind gauge (no counter metadata or suffix; no metadata for test_special_labels)',
    ]);
    const missing = await writeConfig('check-missing.yaml', configYaml(influxConfig('absent')));
    const bad = await cli(['check', '-c', missing]);
    expect(bad.code).toBe(1);
    expect(bad.stdout).toMatch(/absent/);
  });

  it('never prints secrets from the config', async () => {
    const secret = 's3cr3t-t0ken-value';
    const deadPort = await freePort();
    const config = await writeConfig(
      'secret.yaml',
      configYaml(
        `    url: "http://127.0.0.1:${deadPort}"\n    api: v2\n    token: "${secret}"\n    org: o\n    bucket: b\n    retry: { max_attempts: 1 }`,
      ).replace('log_level: warn', 'log_level: debug'),
    );
    const run = await backfill(
      config,
      rfc3339(BACKFILL.startMs),
      rfc3339(BACKFILL.startMs + 60_000),
    );
    expect(run.code).toBe(1);
    expect(run.stdout + run.stderr).not.toContain(secret);
    const checked = await cli(['check', '-c', config]);
    expect(checked.stdout + checked.stderr).not.toContain(secret);
    expect(await readFile(config, 'utf8')).toContain(secret);
  });
});
