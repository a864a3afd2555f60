/**
 * `load.export` end to end: `promflux run` as a child process against real Prometheus and
 * InfluxDB 1.x writes one file per query per complete hour, read back with DuckDB and compared
 * with what Prometheus answers; a SIGKILL in the middle of writing an hour leaves no partial file,
 * and a rerun writes the same bytes.
 *
 * The clock: hours are real UTC hours of the fixture, which lies in the past. Which hours are
 * complete is decided by the cutoff `now - delay - lateness`, so the test sets the cutoff with
 * `pipeline.lateness` (delay 0) and moves it an hour on with a new lateness, instead of waiting
 * an hour of wall time; the daemon runs on its real clock, a cycle a second. The cutoff is set
 * half an hour into an hour, so the wall clock moving on during the test never crosses an hour.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { mkdir, mkdtemp, open, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { promisify } from 'node:util';
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
import { duckdbQuery, sqlString } from '../support/duckdb-reader.js';
import { prometheusRange } from '../support/prometheus-range.js';
import { expectedTags } from '../support/promflux-cli.js';

const REPO_ROOT = resolve(import.meta.dirname, '../..');
const HOUR_MS = 3_600_000;
const STEP_MS = 1000;
const FIXTURE_STEP_MS = 15_000;
const NOW = Date.now();
const FIXTURE_END = Math.floor(NOW / FIXTURE_STEP_MS) * FIXTURE_STEP_MS + 600_000;
const FIXTURE_START = Math.floor(NOW / HOUR_MS) * HOUR_MS - 7 * HOUR_MS;
const QUERIES: Record<string, string> = {
  availability: 'up',
  request_rate: 'rate(http_requests_total[1m])',
};

const floorHour = (ms: number): number => Math.floor(ms / HOUR_MS) * HOUR_MS;
/** Where the first cutoff sits: half an hour into the hour that began 3h before the last one. */
const CUTOFF = floorHour(NOW) - 3 * HOUR_MS + HOUR_MS / 2;
/** The hour the first cutoff falls in: not complete, so never exported before the cutoff moves. */
const CUT_HOUR = floorHour(CUTOFF);
/** initial_lookback 2h: a fresh export starts with the two hours before the cutoff's hour. */
const FIRST_HOUR = CUT_HOUR - 2 * HOUR_MS;
const compact = (ms: number): string => new Date(ms).toISOString().replace(/[-:]/g, '');
const stateKey = (query: string): string => JSON.stringify([query, 'export', STEP_MS, HOUR_MS]);

/** A file's path in the dataset: the Hive layout, named by the hour. */
function hourPath(query: string, hourMs: number, ext: string): string {
  const date = new Date(hourMs).toISOString().slice(0, 10);
  return `query=${query}/date=${date}/${compact(hourMs)}_${compact(hourMs + HOUR_MS)}.${ext}`;
}

async function filesUnder(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (!e.isDirectory()) out.push(relative(dir, join(e.parentPath, e.name)));
  }
  return out.sort();
}

async function sha256(path: string): Promise<string> {
  return createHash('sha256')
    .update(await readFile(path))
    .digest('hex');
}

interface Manifest {
  mode: string;
  format: string;
  layout: string;
  queries: {
    name: string;
    expr: string;
    step_ms: number;
    files: { path: string; sha256: string; rows: number }[];
  }[];
}

describe('promflux run with load.export → real Prometheus, files read with DuckDB', () => {
  let prometheus: StartedServer;
  let influx: InfluxV1Server;
  let dir: string;
  let databases = 0;
  /** Per query: `tags|ms` → value, what Prometheus answers over the fixture's recent hours. */
  const expected = new Map<string, Map<string, number>>();

  beforeAll(async () => {
    [prometheus, influx] = await Promise.all([
      startPrometheus({
        openMetrics: generateHealthFixture({
          startMs: FIXTURE_START,
          endMs: FIXTURE_END,
          intervalMs: FIXTURE_STEP_MS,
          instances: 2,
        }),
      }),
      startInfluxV1(),
    ]);
    dir = await mkdtemp(join(tmpdir(), 'promflux-export-continuous-'));
    // One request per hour: Prometheus answers at most 11,000 points per series.
    for (const [name, query] of Object.entries(QUERIES)) {
      const rows = new Map<string, number>();
      for (let h = FIRST_HOUR; h < CUT_HOUR + HOUR_MS; h += HOUR_MS) {
        const range = { startMs: h, endMs: h + HOUR_MS - STEP_MS, stepMs: STEP_MS };
        for (const series of await prometheusRange(prometheus.url, query, range)) {
          const tags = JSON.stringify(Object.entries(expectedTags(series.labels, name)).sort());
          const [ts, vs] = [blockTimestamps(series), blockValues(series)];
          for (let i = 0; i < series.length; i++) {
            if (Number.isFinite(vs[i]!)) rows.set(`${tags}|${ts[i]}`, vs[i]!);
          }
        }
      }
      expected.set(name, rows);
    }
  }, 240_000);
  afterAll(async () => {
    await Promise.allSettled([prometheus?.stop(), influx?.stop()]);
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  interface Setup {
    root: string;
    dataset: string;
    config: string;
    statusUrl: string;
    format: 'parquet' | 'csv';
    db: string;
  }

  async function setup(name: string, format: 'parquet' | 'csv'): Promise<Setup> {
    const root = join(dir, name);
    const db = `export${++databases}`;
    await influx.createDatabase(db);
    const port = await freePort();
    const s: Setup = {
      root,
      dataset: join(root, 'dataset'),
      config: join(root, 'promflux.yaml'),
      statusUrl: `http://127.0.0.1:${port}`,
      format,
      db,
    };
    await writeConfig(s, { cutoffMs: CUTOFF, stateDir: 'state' });
    return s;
  }

  async function writeConfig(
    s: Setup,
    opts: { cutoffMs: number; stateDir: string },
  ): Promise<void> {
    const queries = Object.entries(QUERIES)
      .map(([n, q]) => `    - { name: ${n}, query: "${q}", step: 1s }`)
      .join('\n');
    await mkdir(s.root, { recursive: true });
    await writeFile(
      s.config,
      `extract:
  prometheus_url: "${prometheus.url}"
  queries:
${queries}
load:
  influxdb:
    url: "${influx.url}"
    api: v1
    bucket: "${s.db}/autogen"
  export:
    dir: dataset
    format: ${s.format}
pipeline:
  interval_seconds: 1
  delay: 0s
  lateness: ${Date.now() - opts.cutoffMs}ms
  initial_lookback: 2h
  log_level: info
  state_dir: "${opts.stateDir}"
server:
  listen: "${new URL(s.statusUrl).host}"
`,
    );
  }

  function start(s: Setup) {
    const child = spawn(process.execPath, [join(REPO_ROOT, 'bin/promflux.js'), 'run'], {
      cwd: s.root,
      env: { ...process.env, PROMFLUX_CONFIG: s.config },
    });
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.stdout.resume();
    return { child, stderr: () => err };
  }

  async function exitOf(child: ChildProcess): Promise<number | null> {
    if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
    const [code] = (await once(child, 'exit')) as [number | null];
    return code;
  }

  async function exportWatermarks(s: Setup, stateDir = 'state'): Promise<Record<string, number>> {
    const path = join(s.root, stateDir, 'watermarks.json');
    const doc = JSON.parse(await readFile(path, 'utf8').catch(() => '{"queries":{}}')) as {
      queries: Record<string, { watermarkMs: number }>;
    };
    return Object.fromEntries(
      Object.keys(QUERIES).map((q) => [q, doc.queries[stateKey(q)]?.watermarkMs ?? 0]),
    );
  }

  /** Polls the state file (written by the daemon, which sends no event) until `done` holds. */
  async function waitForExport(
    s: Setup,
    done: (w: Record<string, number>) => boolean,
    run: { stderr: () => string },
    stateDir = 'state',
  ): Promise<Record<string, number>> {
    const deadline = Date.now() + 120_000;
    for (;;) {
      const w = await exportWatermarks(s, stateDir);
      if (done(w)) return w;
      if (Date.now() > deadline) {
        throw new Error(
          `export did not advance: ${JSON.stringify(w)}\n${run.stderr().slice(-3000)}`,
        );
      }
      await new Promise((r) => setTimeout(r, 200));
    }
  }

  async function manifest(s: Setup): Promise<Manifest> {
    return JSON.parse(await readFile(join(s.dataset, 'manifest.json'), 'utf8')) as Manifest;
  }

  /** Exactly one file per query per hour in `[fromMs, toMs)`, all listed with their SHA-256. */
  async function expectHourFiles(s: Setup, fromMs: number, toMs: number): Promise<void> {
    const want: string[] = ['manifest.json'];
    for (const q of Object.keys(QUERIES)) {
      for (let h = fromMs; h < toMs; h += HOUR_MS) want.push(hourPath(q, h, s.format));
    }
    expect(await filesUnder(s.dataset)).toEqual(want.sort());
    const m = await manifest(s);
    expect(m).toMatchObject({ mode: 'continuous', layout: 'long', format: s.format });
    const listed = m.queries.flatMap((q) => q.files);
    expect(listed.map((f) => f.path).sort()).toEqual(want.filter((p) => p !== 'manifest.json'));
    for (const f of listed) {
      expect(await sha256(join(s.dataset, f.path)), f.path).toBe(f.sha256);
      expect((await stat(join(s.dataset, f.path))).mode & 0o777, f.path).toBe(0o600);
    }
  }

  /** The dataset's rows, read by DuckDB, equal Prometheus' for `[fromMs, toMs)`, per query. */
  async function expectRowsEqualPrometheus(s: Setup, fromMs: number, toMs: number): Promise<void> {
    const glob = sqlString(join(s.dataset, `**/*.${s.format}`));
    const source =
      s.format === 'parquet'
        ? `read_parquet(${glob}, hive_partitioning = true, union_by_name = true)`
        : `read_csv(${glob}, hive_partitioning = true, union_by_name = true, types = {'timestamp': 'TIMESTAMPTZ', 'value': 'DOUBLE'})`;
    if (s.format === 'parquet') {
      const [types] = await duckdbQuery(
        `SELECT typeof(timestamp) AS ts, typeof(value) AS v FROM ${source} LIMIT 1`,
      );
      expect(types).toEqual({ ts: 'TIMESTAMP WITH TIME ZONE', v: 'DOUBLE' });
    }
    const records = await duckdbQuery(
      `SELECT epoch_ms(timestamp) AS ms, * EXCLUDE (timestamp, date) FROM ${source}`,
    );
    for (const name of Object.keys(QUERIES)) {
      const got = new Map<string, number>();
      let duplicates = 0;
      for (const rec of records.filter((r) => r.query === name)) {
        const tags: [string, string][] = [];
        for (const [k, v] of Object.entries(rec as Record<string, string | number | null>)) {
          if (!['ms', 'query', 'value'].includes(k) && v !== null) tags.push([k, String(v)]);
        }
        const key = `${JSON.stringify(tags.sort())}|${Number(rec.ms)}`;
        if (got.has(key)) duplicates++;
        got.set(key, Number(rec.value));
      }
      const want = [...expected.get(name)!].filter(([k]) => {
        const ms = Number(k.slice(k.lastIndexOf('|') + 1));
        return ms >= fromMs && ms < toMs;
      });
      expect(want.length, name).toBeGreaterThan(3000);
      expect(duplicates, `${name}: duplicate rows`).toBe(0);
      expect(got.size, name).toBe(want.length);
      const wrong = want.filter(([k, v]) => !Object.is(got.get(k), v));
      expect(wrong.slice(0, 3), `${name}: rows missing or differing`).toEqual([]);
    }
  }

  const reaches = (ms: number) => (w: Record<string, number>) =>
    Object.values(w).every((at) => at >= ms);

  it('writes one Parquet file per query per complete hour, as Prometheus has it', async () => {
    const s = await setup('parquet', 'parquet');
    const run = start(s);
    const first = await waitForExport(s, reaches(CUT_HOUR), run);
    expect(first).toEqual({ availability: CUT_HOUR, request_rate: CUT_HOUR });
    // Complete hours only: nothing for the hour the cutoff falls in.
    await expectHourFiles(s, FIRST_HOUR, CUT_HOUR);

    const metrics = await (await fetch(`${s.statusUrl}/metrics`)).text();
    expect(metrics).toMatch(
      new RegExp(
        `^promflux_export_watermark_timestamp_seconds\\{query="availability"\\} ${CUT_HOUR / 1000}$`,
        'm',
      ),
    );
    expect(metrics).toMatch(/^promflux_export_files_written_total\{query="request_rate"\} 2$/m);

    // The cutoff moves an hour on, as an hour of wall time would: the next hour appears.
    await writeConfig(s, { cutoffMs: CUTOFF + HOUR_MS, stateDir: 'state' });
    run.child.kill('SIGHUP');
    const second = await waitForExport(s, reaches(CUT_HOUR + HOUR_MS), run);
    run.child.kill('SIGTERM');
    expect(await exitOf(run.child)).toBe(0);
    expect(second).toEqual({
      availability: CUT_HOUR + HOUR_MS,
      request_rate: CUT_HOUR + HOUR_MS,
    });
    await expectHourFiles(s, FIRST_HOUR, CUT_HOUR + HOUR_MS);
    await expectRowsEqualPrometheus(s, FIRST_HOUR, CUT_HOUR + HOUR_MS);
  }, 300_000);

  it('SIGKILL in the middle of an hour leaves no partial file; reruns write the same bytes', async () => {
    const s = await setup('killed', 'csv');
    const a = start(s);
    await waitForExport(s, reaches(CUT_HOUR), a);
    a.child.kill('SIGTERM');
    expect(await exitOf(a.child)).toBe(0);
    await expectHourFiles(s, FIRST_HOUR, CUT_HOUR);
    const before = new Map<string, { sha: string; ino: number }>();
    for (const f of (await manifest(s)).queries.flatMap((q) => q.files)) {
      const path = join(s.dataset, f.path);
      before.set(f.path, { sha: await sha256(path), ino: (await stat(path)).ino });
    }

    // A rerun of the same hours from scratch (state lost): every file written again, same bytes.
    await writeConfig(s, { cutoffMs: CUTOFF, stateDir: 'state-b' });
    const b = start(s);
    await waitForExport(s, reaches(CUT_HOUR), b, 'state-b');
    b.child.kill('SIGTERM');
    expect(await exitOf(b.child)).toBe(0);
    for (const [path, was] of before) {
      const now = join(s.dataset, path);
      expect(await sha256(now), path).toBe(was.sha);
      expect((await stat(now)).ino, `${path} was written again`).not.toBe(was.ino);
    }
    await expectHourFiles(s, FIRST_HOUR, CUT_HOUR);

    // The next hour of `availability` is written into a FIFO at the file's temporary name: the
    // test reads its first bytes and stops reading, so the daemon is blocked in the middle of
    // the hour's file (half a megabyte of CSV, far more than a pipe holds) when it is killed.
    const killedHour = hourPath('availability', CUT_HOUR, 'csv');
    const partition = join(s.dataset, killedHour, '..');
    const tmp = join(partition, `.promflux-${CUT_HOUR}-0.csv.tmp`);
    await mkdir(partition, { recursive: true });
    await promisify(execFile)('mkfifo', ['-m', '600', tmp]);
    await writeConfig(s, { cutoffMs: CUTOFF + HOUR_MS, stateDir: 'state-b' });
    const c = start(s);
    const reader = await open(tmp, 'r');
    const head = Buffer.alloc(4096);
    const { bytesRead } = await reader.read(head, 0, head.length, null);
    expect(head.subarray(0, bytesRead).toString()).toMatch(/^timestamp,query,/);
    c.child.kill('SIGKILL');
    await exitOf(c.child);
    await reader.close();
    expect(await filesUnder(s.dataset)).not.toContain(killedHour);
    const listed = (await manifest(s)).queries.flatMap((q) => q.files.map((f) => f.path));
    expect(listed).not.toContain(killedHour);
    expect((await exportWatermarks(s, 'state-b')).availability).toBe(CUT_HOUR);
    // What a kill leaves is a partial temporary file: the FIFO stood in for it.
    await rm(tmp);
    await writeFile(tmp, head.subarray(0, bytesRead));

    const d = start(s);
    const after = await waitForExport(s, reaches(CUT_HOUR + HOUR_MS), d, 'state-b');
    d.child.kill('SIGTERM');
    expect(await exitOf(d.child)).toBe(0);
    expect(after).toEqual({ availability: CUT_HOUR + HOUR_MS, request_rate: CUT_HOUR + HOUR_MS });
    // The temporary file is gone, the hour is whole, and no hour has a second file.
    await expectHourFiles(s, FIRST_HOUR, CUT_HOUR + HOUR_MS);
    await expectRowsEqualPrometheus(s, FIRST_HOUR, CUT_HOUR + HOUR_MS);
  }, 300_000);
});
