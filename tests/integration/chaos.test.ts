/**
 * Seeded chaos (issue 16): `promflux run` with its InfluxDB tiers and the continuous export, fed
 * by a live Prometheus (a promtool fixture for the past hours the export writes, a scrape of a
 * live target every second for the present the daemon follows), SIGKILLed over and over at seeded
 * moments: mid-write (as a write reaches InfluxDB), right after InfluxDB acknowledged a write
 * (before the watermark is saved), right after a log line, at a random time; then a `backfill`
 * and an `export` SIGKILLed the same way and run again. After a last clean run, InfluxDB holds
 * exactly Prometheus' samples over the whole covered range, and the export dataset holds exactly
 * the rows of a clean `promflux export` of the same hours.
 *
 * The seed is printed on failure; PROMFLUX_CHAOS_SEED=<n> replays or explores.
 *
 * The export clock is that of export-continuous.test.ts: hours of the fixture lie in the past, and
 * the cutoff `now - delay - lateness` is moved an hour on by restarting with a smaller lateness.
 */
import { once } from 'node:events';
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, onTestFailed } from 'vitest';
import { generateHealthFixture } from '../../scripts/lib/openmetrics-fixture.js';
import {
  startInfluxV1,
  startPrometheus,
  type InfluxV1Server,
  type StartedServer,
} from '../../scripts/lib/servers.js';
import {
  chaosRounds,
  chaosSeed,
  describeTrigger,
  oneShotKills,
  type KillTrigger,
} from '../support/chaos-plan.js';
import { duckdbQuery, sqlString } from '../support/duckdb-reader.js';
import { finiteSamples, prometheusRange } from '../support/prometheus-range.js';
import {
  expectedTags,
  runPromflux,
  spawnPromflux,
  type PromfluxProcess,
} from '../support/promflux-cli.js';
import { addToWindow } from '../support/rollup-reference.js';
import { startWriteTap, type WriteTap } from '../support/write-tap.js';

const SEED = chaosSeed();
const SECOND = 1000;
const HOUR_MS = 3_600_000;
const STEP_MS = SECOND;
const DELAY_MS = 3 * SECOND;
const FIXTURE_STEP_MS = 15_000;
const NOW = Date.now();
const floorHour = (ms: number): number => Math.floor(ms / HOUR_MS) * HOUR_MS;
const floorTo = (ms: number, unit: number): number => Math.floor(ms / unit) * unit;
/**
 * The fixture ends half an hour before the current hour: Prometheus refuses scraped samples older
 * than its newest block, so the fixture must lie wholly before the live scrapes.
 */
const FIXTURE_START = floorHour(NOW) - 5 * HOUR_MS;
const FIXTURE_END = floorHour(NOW) - HOUR_MS / 2;
/** The first export cutoff, half an hour into an hour (the wall clock never crosses an hour). */
const CUTOFF = floorHour(NOW) - 3 * HOUR_MS + HOUR_MS / 2;
/** A new export starts with the last complete hour (initial_lookback is shorter than an hour). */
const FIRST_HOUR = floorHour(CUTOFF) - HOUR_MS;
const CUTOFF_MOVES = 2;
const LAST_HOUR_END = floorHour(CUTOFF) + CUTOFF_MOVES * HOUR_MS;
/**
 * The backfill starts where the rollup tier ends (it follows the export cutoff, which ends at the
 * fixture's end) and ends where the first run's raw tier started: it rewrites next to nothing a
 * killed run wrote, so it cannot hide a gap the kills made.
 */
const BACKFILL_FROM = FIXTURE_END;
const QUERIES: Record<string, string> = {
  availability: 'up',
  request_rate: 'rate(http_requests_total[1m])',
};
const ROUNDS = 22;
const RP = 'raw';
const ROLLUP_RP = 'rollup';
const ROLLUP_MS = 10 * SECOND;
const ROLLUP_FIELDS = ['count', 'sum', 'min', 'max', 'last', 'mean'] as const;
type Window = Record<(typeof ROLLUP_FIELDS)[number], number>;
const LOG_MESSAGES = ['Query run finished.'];
const EXPORT_MESSAGE = 'Exported a complete hour.';
/** A trigger that has not fired by then (a log line in a run with nothing to export) kills anyway. */
const FALLBACK_KILL_MS = 4000;

/** A series' identity: its tags (empty ones are absent in InfluxDB), sorted by name. */
function tagsKey(tags: Record<string, string>): string {
  const present = Object.entries(tags).filter(([, v]) => v !== '');
  return JSON.stringify(present.sort(([a], [b]) => (a < b ? -1 : 1)));
}

/** `got` has exactly the keys of `want`, each value `same` as wanted; a failure shows a few. */
function expectExactly<T>(
  what: string,
  got: ReadonlyMap<string, T>,
  want: ReadonlyMap<string, T>,
  same: (got: T, want: T) => boolean,
): void {
  const missing = [...want.keys()].filter((k) => !got.has(k));
  const extra = [...got.keys()].filter((k) => !want.has(k));
  const differing = [...want].filter(([k, w]) => got.has(k) && !same(got.get(k)!, w));
  expect(
    { missing: missing.length, extra: extra.length, differing: differing.length },
    `${what}: ${JSON.stringify({ missing: missing.slice(0, 3), extra: extra.slice(0, 3), differing: differing.slice(0, 2).map(([k, w]) => [k, got.get(k), w]) })}`,
  ).toEqual({ missing: 0, extra: 0, differing: 0 });
}

/** A scrape target whose counters move every scrape: the live data Prometheus stores. */
async function startLiveTarget(): Promise<{ address: string; stop(): Promise<void> }> {
  let scrapes = 0;
  const server: Server = createServer((_req, res) => {
    scrapes++;
    res.writeHead(200, { 'Content-Type': 'text/plain; version=0.0.4' });
    res.end(
      `# TYPE http_requests_total counter\n` +
        `http_requests_total{method="GET",status="200"} ${scrapes * 7 + (scrapes % 5)}\n` +
        `http_requests_total{method="POST",status="500"} ${Math.floor(scrapes / 3)}\n`,
    );
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    address: `127.0.0.1:${(server.address() as AddressInfo).port}`,
    stop: async () => {
      server.closeAllConnections();
      server.close();
      await once(server, 'close');
    },
  };
}

describe(`chaos: SIGKILLed daemon, backfill and export (seed ${SEED})`, () => {
  let prometheus: StartedServer;
  let influx: InfluxV1Server;
  let target: Awaited<ReturnType<typeof startLiveTarget>>;
  let tap: WriteTap;
  let dir: string;
  const db = 'chaos';

  beforeAll(async () => {
    target = await startLiveTarget();
    [prometheus, influx] = await Promise.all([
      startPrometheus({
        openMetrics: generateHealthFixture({
          startMs: FIXTURE_START,
          endMs: FIXTURE_END,
          intervalMs: FIXTURE_STEP_MS,
          instances: 2,
        }),
        scrapeTargets: [{ job: 'live', target: target.address, intervalSeconds: 1 }],
      }),
      startInfluxV1(),
    ]);
    await influx.createDatabase(db, { name: RP, duration: '24h' });
    await influx.query(
      `CREATE RETENTION POLICY "${ROLLUP_RP}" ON "${db}" DURATION 24h REPLICATION 1`,
    );
    tap = await startWriteTap(influx.url);
    dir = await mkdtemp(join(tmpdir(), 'promflux-chaos-'));
  }, 180_000);
  afterAll(async () => {
    await Promise.allSettled([prometheus?.stop(), influx?.stop(), target?.stop(), tap?.close()]);
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const config = () => join(dir, 'promflux.yaml');

  async function writeConfig(cutoffMs: number): Promise<void> {
    const queries = Object.entries(QUERIES)
      .map(([n, q]) => `    - { name: ${n}, query: "${q}", step: 1s, kind: gauge }`)
      .join('\n');
    await writeFile(
      config(),
      `extract:
  prometheus_url: "${prometheus.url}"
  timeout: 5s
  retry: { max_attempts: 3, initial_delay: 100ms, max_delay: 300ms }
  queries:
${queries}
load:
  influxdb:
    url: "${tap.url}"
    api: v1
    timeout: 5s
    batch_size: 2000
    retry: { max_attempts: 3, initial_delay: 100ms, max_delay: 300ms }
  tiers:
    - { name: raw, bucket: "${db}/${RP}", retention: 24h }
    - { name: rollup, bucket: "${db}/${ROLLUP_RP}", retention: 24h, resolution: ${ROLLUP_MS / SECOND}s }
  export:
    dir: dataset
    format: csv
pipeline:
  interval_seconds: 1
  delay: ${DELAY_MS}ms
  lateness: ${Date.now() - DELAY_MS - cutoffMs}ms
  initial_lookback: 20s
  shutdown_grace: 20s
  log_level: info
  state_dir: state
server:
  listen: false
`,
    );
  }

  /**
   * Arms `trigger` on a started process: SIGKILL when it fires, or after FALLBACK_KILL_MS.
   * Resolves with what killed it once it is dead (an exit of its own is a failure of the test).
   */
  async function killOn(run: PromfluxProcess, trigger: KillTrigger): Promise<string> {
    let cause: string | undefined;
    const kill = (why: string): void => {
      if (cause !== undefined) return;
      cause = why;
      run.child.kill('SIGKILL');
    };
    let seen = 0;
    if (trigger.kind === 'write') {
      tap.onWrite = (w) => {
        if (w.phase !== trigger.phase || (trigger.rp !== undefined && w.rp !== trigger.rp)) return;
        if (++seen === trigger.n) kill('trigger');
      };
    } else if (trigger.kind === 'log') {
      const needle = `"msg":"${trigger.msg}"`;
      let text = '';
      run.child.stderr!.on('data', (d: string) => {
        text += d;
        for (let at = text.indexOf(needle); at >= 0; at = text.indexOf(needle)) {
          text = text.slice(at + needle.length);
          if (++seen === trigger.n) kill('trigger');
        }
      });
    }
    const timer = setTimeout(
      () => kill(trigger.kind === 'timer' ? 'trigger' : 'fallback'),
      trigger.kind === 'timer' ? trigger.ms : FALLBACK_KILL_MS,
    );
    const code = await run.exited;
    clearTimeout(timer);
    tap.onWrite = undefined;
    if (cause === undefined) {
      throw new Error(`exited by itself with ${code}:\n${run.stderr().slice(-3000)}`);
    }
    return cause;
  }

  interface StateDoc {
    queries: Record<string, { watermarkMs: number }>;
  }

  /** A watermark the daemon saved under `key` (it sends no event: the test reads its file). */
  async function savedWatermark(...keys: string[]): Promise<number | undefined> {
    const text = await readFile(join(dir, 'state', 'watermarks.json'), 'utf8').catch(() => '');
    if (text === '') return undefined;
    const doc = JSON.parse(text) as StateDoc;
    return keys.map((k) => doc.queries[k]?.watermarkMs).find((w) => w !== undefined);
  }

  /** The raw tier's watermark of `query`: the per-tier key of issue 13, or the legacy one. */
  const rawWatermark = (query: string) =>
    savedWatermark(JSON.stringify([query, 'raw', STEP_MS, STEP_MS]), query);
  const rollupWatermark = (query: string) =>
    savedWatermark(JSON.stringify([query, 'rollup', STEP_MS, ROLLUP_MS]));
  const exportWatermark = (query: string) =>
    savedWatermark(JSON.stringify([query, 'export', STEP_MS, HOUR_MS]));

  /** Every row of an InfluxQL `... GROUP BY *` answer, its series named by {@link tagsKey}. */
  async function influxRows(sql: string): Promise<Map<string, number[]>> {
    const rows = new Map<string, number[]>();
    const res = await influx.query(sql, db, { epoch: 'ms' });
    for (const series of res.results[0]?.series ?? []) {
      const id = tagsKey(series.tags ?? {});
      for (const [time, ...values] of series.values as number[][]) {
        const key = `${id}@${time}`;
        if (rows.has(key)) throw new Error(`${key} read twice`);
        rows.set(key, values);
      }
    }
    return rows;
  }

  /** `tags@start` → fields of every window InfluxDB holds for `query` in the rollup tier. */
  async function influxWindows(query: string): Promise<Map<string, Window>> {
    const fields = ROLLUP_FIELDS.map((f) => `"value_${f}"`).join(', ');
    const rows = await influxRows(
      `SELECT ${fields} FROM "${db}"."${ROLLUP_RP}"./.*/ WHERE metric_type = '${query}' GROUP BY *`,
    );
    return new Map(
      [...rows].map(([key, values]) => [
        key,
        Object.fromEntries(ROLLUP_FIELDS.map((f, i) => [f, values[i]!])) as Window,
      ]),
    );
  }

  /**
   * The windows [fromMs, toMs) of a gauge query, straight from Prometheus' 1s points (the reference:
   * count, sum, min, max, last and mean of the finite points in each window).
   */
  async function referenceWindows(
    name: string,
    fromMs: number,
    toMs: number,
  ): Promise<Map<string, Window>> {
    const points = await prometheusRaw(name, fromMs, toMs - STEP_MS);
    const windows = new Map<string, Window>();
    const ordered = [...points].map(([k, v]) => {
      const at = k.lastIndexOf('@');
      return { id: k.slice(0, at), ms: Number(k.slice(at + 1)), v };
    });
    ordered.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : a.ms - b.ms));
    for (const { id, ms, v } of ordered) {
      addToWindow(windows, `${id}@${ms - (ms % ROLLUP_MS)}`, v);
    }
    return windows;
  }

  /** Equal windows: counts, extremes and last exactly; sum and mean to 1e-9 (summation order). */
  function sameWindow(got: Window, want: Window): boolean {
    const close = (a: number, b: number) => Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(b));
    return (
      got.count === want.count &&
      Object.is(got.min, want.min) &&
      Object.is(got.max, want.max) &&
      Object.is(got.last, want.last) &&
      close(got.sum, want.sum) &&
      close(got.mean, want.mean)
    );
  }

  /** Polls the state file (the daemon sends no event) until `done` holds. */
  async function waitFor(what: string, done: () => Promise<boolean>, run: PromfluxProcess) {
    const deadline = Date.now() + 90_000;
    while (!(await done())) {
      if (Date.now() > deadline)
        throw new Error(`${what}: timed out\n${run.stderr().slice(-3000)}`);
      if (run.child.exitCode !== null) throw new Error(`${what}: exited\n${run.stderr()}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }

  /** `tags@ms` → value for every point InfluxDB holds in the raw tier. */
  async function influxRaw(): Promise<Map<string, number>> {
    const rows = await influxRows(`SELECT "value" FROM "${db}"."${RP}"./.*/ GROUP BY *`);
    return new Map([...rows].map(([key, [value]]) => [key, value!]));
  }

  /** What Prometheus answers for one query on the 1s grid of [fromMs, toMs], keyed like influxRaw. */
  async function prometheusRaw(
    name: string,
    fromMs: number,
    toMs: number,
  ): Promise<Map<string, number>> {
    const points = new Map<string, number>();
    // Prometheus answers at most 11,000 points per series.
    for (let start = fromMs; start <= toMs; start += 10_000 * STEP_MS) {
      const end = Math.min(toMs, start + 9_999 * STEP_MS);
      for (const block of await prometheusRange(prometheus.url, QUERIES[name]!, {
        startMs: start,
        endMs: end,
        stepMs: STEP_MS,
      })) {
        const id = tagsKey(expectedTags(block.labels, name));
        for (const s of finiteSamples(block)) points.set(`${id}@${s.timestampMs}`, s.value);
      }
    }
    return points;
  }

  /** Every CSV row under `root` as `query|tags|ms|value`, sorted, read by DuckDB. */
  async function csvRows(root: string): Promise<string[]> {
    const glob = sqlString(join(root, '**/*.csv'));
    const records = await duckdbQuery(
      `SELECT epoch_ms(timestamp) AS ms, * EXCLUDE (timestamp) FROM read_csv(${glob}, hive_partitioning = false, union_by_name = true, all_varchar = false, types = {'timestamp': 'TIMESTAMPTZ', 'value': 'DOUBLE'})`,
    );
    return records
      .map((rec) => {
        const tags = Object.entries(rec as Record<string, string | number | null>)
          .filter(([k, v]) => !['ms', 'query', 'value'].includes(k) && v !== null)
          .map(([k, v]) => `${k}=${String(v)}`)
          .sort();
        return `${String(rec.query)}|${tags.join(',')}|${Number(rec.ms)}|${Number(rec.value)}`;
      })
      .sort();
  }

  /** Equal sorted rows; on a difference, the first rows that differ (not a diff of 10^5 rows). */
  function expectSameRows(got: string[], want: string[]): void {
    let i = 0;
    while (i < Math.min(got.length, want.length) && got[i] === want[i]) i++;
    expect(
      { rows: got.length, firstDifference: got.slice(i, i + 3) },
      `first differing rows of the clean export: ${JSON.stringify(want.slice(i, i + 3))}`,
    ).toEqual({ rows: want.length, firstDifference: want.slice(i, i + 3) });
  }

  async function filesUnder(root: string): Promise<string[]> {
    const out: string[] = [];
    for (const e of await readdir(root, { withFileTypes: true, recursive: true })) {
      if (!e.isDirectory()) out.push(relative(root, join(e.parentPath, e.name)));
    }
    return out.sort();
  }

  it('leaves every tier and the export exactly as Prometheus has them', async () => {
    onTestFailed(() => {
      console.error(`chaos test failed with seed ${SEED}: replay with PROMFLUX_CHAOS_SEED=${SEED}`);
    });
    const rounds = chaosRounds(SEED, {
      rounds: ROUNDS,
      logMessages: LOG_MESSAGES,
      exportMessage: EXPORT_MESSAGE,
      rps: [RP, ROLLUP_RP],
      cutoffMoves: CUTOFF_MOVES,
    });
    const began = Date.now();
    const phase = (what: string) =>
      console.log(`chaos seed ${SEED}: ${what} at ${((Date.now() - began) / 1000).toFixed(1)} s`);
    let cutoff = CUTOFF;
    // A clean first run gives every query a raw watermark: the backfill (below) ends there, so
    // that it fills nothing a killed run should have written and hides no gap the kills made.
    await writeConfig(cutoff);
    const first = spawnPromflux(['run', '-c', config()], { cwd: dir });
    await waitFor(
      'first watermarks',
      async () => {
        for (const q of Object.keys(QUERIES)) {
          if ((await rawWatermark(q)) === undefined) return false;
          if ((await rollupWatermark(q)) === undefined) return false;
        }
        return true;
      },
      first,
    );
    first.child.kill('SIGTERM');
    expect(await first.exited, first.stderr().slice(-3000)).toBe(0);
    const firstWatermarks = await Promise.all(Object.keys(QUERIES).map((q) => rawWatermark(q)));
    const backfillTo = floorTo(Math.min(...firstWatermarks.map((w) => w!)), ROLLUP_MS);
    const firstRollupWm = new Map<string, number>();
    for (const q of Object.keys(QUERIES)) firstRollupWm.set(q, (await rollupWatermark(q))!);
    const causes: Record<string, number> = {};
    for (const [i, round] of rounds.entries()) {
      if (round.moveCutoff) cutoff += HOUR_MS;
      await writeConfig(cutoff);
      const run = spawnPromflux(['run', '-c', config()], { cwd: dir });
      const cause = await killOn(run, round.trigger);
      const label = `${round.trigger.kind}:${cause}`;
      causes[label] = (causes[label] ?? 0) + 1;
      console.log(
        `chaos seed ${SEED} round ${i + 1}: SIGKILL at ${describeTrigger(round.trigger)} (${cause})`,
      );
    }
    // Most kills hit what they aimed at: writes in flight or just acknowledged, log lines.
    expect(causes['write:trigger'] ?? 0, JSON.stringify(causes)).toBeGreaterThanOrEqual(5);
    expect(causes['log:trigger'] ?? 0, JSON.stringify(causes)).toBeGreaterThanOrEqual(2);

    phase('daemon rounds done');
    // A backfill from the fixture's end to the first run's watermark, killed at a seeded write,
    // and run again to its end.
    const backfillArgs = [
      'backfill',
      '--from',
      new Date(BACKFILL_FROM).toISOString(),
      '--to',
      new Date(backfillTo).toISOString(),
      '-c',
      config(),
    ];
    const oneShot = oneShotKills(SEED, 'Export progress.');
    const killedBackfill = spawnPromflux(backfillArgs, { cwd: dir });
    const backfillCause = await killOn(killedBackfill, oneShot.backfill);
    console.log(`chaos seed ${SEED}: backfill SIGKILL at ${describeTrigger(oneShot.backfill)}`);
    expect(backfillCause).toBe('trigger');
    const backfill = await runPromflux(backfillArgs, { cwd: dir, timeoutMs: 120_000 });
    expect(backfill.code, backfill.stderr).toBe(0);

    phase('backfill done');
    // An ad hoc export of the continuous export's hours, killed mid-run and run again, and a
    // clean one of the same hours into another directory: the reference.
    const exportArgs = (out: string) => [
      'export',
      '--from',
      new Date(FIRST_HOUR).toISOString(),
      '--to',
      new Date(LAST_HOUR_END).toISOString(),
      '--out',
      out,
      '--format',
      'csv',
      '--progress-interval',
      '100ms',
      '-c',
      config(),
    ];
    // Killed after its nth progress line (one every 100 ms): in the middle of writing.
    const killedExport = spawnPromflux(exportArgs('killed-export'), { cwd: dir });
    expect(await killOn(killedExport, oneShot.export)).toBe('trigger');
    console.log(`chaos seed ${SEED}: export SIGKILL at ${describeTrigger(oneShot.export)}`);
    const killedManifest = JSON.parse(
      await readFile(join(dir, 'killed-export', 'manifest.json'), 'utf8'),
    ) as { complete: boolean };
    expect(killedManifest.complete).toBe(false);
    const rerun = await runPromflux(exportArgs('killed-export'), { cwd: dir });
    expect(rerun.code, rerun.stderr).toBe(0);
    const clean = await runPromflux(exportArgs('clean-export'), { cwd: dir });
    expect(clean.code, clean.stderr).toBe(0);

    phase('exports done');
    // The last run: the cutoff where the rounds left it plus any moves left, then a clean stop
    // once every tier and the export caught up past the last kill.
    await writeConfig(floorHour(CUTOFF) + CUTOFF_MOVES * HOUR_MS + HOUR_MS / 2);
    const caughtUpFrom = Date.now() - DELAY_MS;
    const last = spawnPromflux(['run', '-c', config()], { cwd: dir });
    await waitFor(
      'final catch-up',
      async () => {
        for (const q of Object.keys(QUERIES)) {
          if (((await rawWatermark(q)) ?? 0) < caughtUpFrom) return false;
          if (((await rollupWatermark(q)) ?? 0) < BACKFILL_FROM) return false;
          if (((await exportWatermark(q)) ?? 0) < LAST_HOUR_END) return false;
        }
        return true;
      },
      last,
    );
    last.child.kill('SIGTERM');
    expect(await last.exited, last.stderr().slice(-3000)).toBe(0);

    // InfluxDB: exactly Prometheus' points from the backfill's start to each query's watermark,
    // and nothing else (no point beyond a watermark either).
    phase('final run done');
    const stored = await influxRaw();
    let compared = 0;
    for (const name of Object.keys(QUERIES)) {
      const coveredTo = (await rawWatermark(name))!;
      const want = await prometheusRaw(name, BACKFILL_FROM, coveredTo);
      const got = new Map([...stored].filter(([k]) => k.includes(`["metric_type","${name}"]`)));
      expectExactly(`${name} raw`, got, want, Object.is);
      compared += want.size;
    }
    expect(compared).toBeGreaterThan(1000);

    // The rollup tier: every window from the first run's first to the backfill's end (the daemon's
    // windows follow the export cutoff through the fixture, the backfill's start at its end), each
    // equal to what Prometheus' points give; none outside.
    for (const name of Object.keys(QUERIES)) {
      const landed = await influxWindows(name);
      const starts = [...landed.keys()].map((k) => Number(k.slice(k.lastIndexOf('@') + 1)));
      const fromMs = Math.min(...starts);
      const rollupTo = (await rollupWatermark(name))!;
      expect(fromMs, `${name}: the first run's first window`).toBeLessThan(
        firstRollupWm.get(name)!,
      );
      expect(rollupTo, `${name}: the daemon's windows meet the backfill's`).toBeGreaterThanOrEqual(
        BACKFILL_FROM,
      );
      const toMs = Math.max(rollupTo, backfillTo);
      const want = await referenceWindows(name, fromMs, toMs);
      expect(want.size, name).toBeGreaterThan(1000);
      expectExactly(`${name} rollup`, landed, want, sameWindow);
    }

    // The export: every hour written once, the rows of the clean export, nothing half-written.
    const dataset = join(dir, 'dataset');
    const datasetFiles = await filesUnder(dataset);
    expect(datasetFiles.filter((f) => f.split('/').some((part) => part.startsWith('.')))).toEqual(
      [],
    );
    const cleanRows = await csvRows(join(dir, 'clean-export'));
    expect(cleanRows.length).toBeGreaterThan(3 * 3600);
    expectSameRows(await csvRows(dataset), cleanRows);
    // The killed-and-rerun export is the clean one, byte for byte.
    const killedDir = join(dir, 'killed-export');
    const cleanDir = join(dir, 'clean-export');
    const cleanFiles = await filesUnder(cleanDir);
    expect(await filesUnder(killedDir)).toEqual(cleanFiles);
    for (const f of cleanFiles.filter((name) => name !== 'manifest.json')) {
      const [a, b] = await Promise.all([readFile(join(killedDir, f)), readFile(join(cleanDir, f))]);
      expect(a.equals(b), `${f} differs from the clean export's`).toBe(true);
    }
    const manifestOf = async (d: string) => {
      const m = JSON.parse(await readFile(join(d, 'manifest.json'), 'utf8')) as Record<
        string,
        unknown
      >;
      delete m['created_at'];
      return m;
    };
    expect(await manifestOf(killedDir)).toEqual(await manifestOf(cleanDir));
  }, 600_000);
});
