/**
 * A deployment that keeps only rollups (no raw tier), through the built CLI against real
 * Prometheus and InfluxDB 1.6.7: `--once`, `backfill` (resumed, and `--tier`) and the daemon across
 * SIGKILLs write each whole window once, equal to the reference rollup of Prometheus' own grid
 * points, and `check`, `/status` and `export --source influxdb` work without a raw tier.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { mulberry32 } from '../../scripts/lib/openmetrics-fixture.js';
import { freePort, type InfluxV1Server, type StartedServer } from '../../scripts/lib/servers.js';
import { tierStateKey } from '../../src/pipeline/windows.js';
import {
  exitOf,
  HEALTH_QUERIES,
  startDaemon,
  startHealthServers,
} from '../support/health-daemon.js';
import { runPromflux, spawnPromflux } from '../support/promflux-cli.js';
import {
  GAUGE_FIELDS,
  influxWindows,
  prometheusWindows,
  type Windows,
} from '../support/rollup-windows.js';

const STEP_MS = 1000;
const QUERIES = HEALTH_QUERIES;
const ROLLUPS = { warm: 5_000, cold: 15_000 } as const;
type Rollup = keyof typeof ROLLUPS;

const keyOf = (query: string, tier: Rollup): string =>
  tierStateKey({ query, tier, stepMs: STEP_MS, resolutionMs: ROLLUPS[tier] });

describe('rollup tiers only (no raw tier) → real Prometheus and InfluxDB 1.x', () => {
  let prometheus: StartedServer;
  let influx: InfluxV1Server;
  let dir: string;
  let db: string;
  let databases = 0;
  let config: string;
  let statusPort: number;

  beforeAll(async () => {
    [prometheus, influx] = await startHealthServers();
  });
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'promflux-rollup-only-'));
    db = `rollups${++databases}`;
    await influx.createDatabase(db);
    for (const rp of Object.keys(ROLLUPS)) {
      await influx.query(`CREATE RETENTION POLICY "${rp}" ON "${db}" DURATION 2h REPLICATION 1`);
    }
    statusPort = await freePort();
    config = join(dir, 'promflux.yaml');
    const queries = Object.entries(QUERIES)
      .map(([name, query]) => `    - { name: ${name}, query: "${query}", step: 1s, kind: gauge }`)
      .join('\n');
    await writeFile(
      config,
      `extract:
  prometheus_url: "${prometheus.url}"
  timeout: 2s
  max_points_per_series: 7
  retry: { max_attempts: 2, initial_delay: 100ms, max_delay: 200ms }
  queries:
${queries}
load:
  influxdb:
    url: "${influx.url}"
    api: v1
    timeout: 2s
    batch_size: 7
    retry: { max_attempts: 2, initial_delay: 100ms, max_delay: 200ms }
  tiers:
    - { name: warm, bucket: "${db}/warm", retention: 2h, resolution: 5s }
    - { name: cold, bucket: "${db}/cold", retention: 2h, resolution: 15s }
pipeline:
  interval_seconds: 1
  delay: 0s
  initial_lookback: 20s
  shutdown_grace: 10s
  log_level: info
  state_dir: "${join(dir, 'state')}"
server:
  listen: "127.0.0.1:${statusPort}"
`,
    );
  });
  afterEach(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });
  afterAll(async () => {
    await Promise.allSettled([prometheus?.stop(), influx?.stop()]);
  });

  const cli = (...args: string[]) => runPromflux(args, { cwd: dir });

  const windowsOf = (query: string, tier: Rollup): Promise<Windows> =>
    influxWindows(influx, db, tier, query);

  /** InfluxDB holds exactly the reference windows of [fromMs, toMs) of every query in `tier`. */
  async function expectExactly(tier: Rollup, fromMs: number, toMs: number): Promise<void> {
    const r = ROLLUPS[tier];
    expect(fromMs % r).toBe(0);
    expect(toMs % r).toBe(0);
    expect((toMs - fromMs) / r, `${tier}: several windows`).toBeGreaterThanOrEqual(2);
    for (const query of Object.keys(QUERIES)) {
      const landed = await windowsOf(query, tier);
      const expected = await prometheusWindows(
        prometheus.url,
        QUERIES[query]!,
        STEP_MS,
        r,
        fromMs,
        toMs,
      );
      expect(expected.size, `${query} ${tier}: reference windows`).toBeGreaterThan(0);
      expect([...landed.keys()].sort(), `${query} ${tier}`).toEqual([...expected.keys()].sort());
      for (const [key, fields] of expected) {
        const got = landed.get(key)!;
        for (const f of GAUGE_FIELDS)
          expect(got[f], `${query} ${tier} ${key} ${f}`).toBeCloseTo(fields[f]!, 9);
      }
    }
  }

  /** The window starts InfluxDB holds in a tier, over every query and series. */
  async function starts(tier: Rollup): Promise<number[]> {
    const all: number[] = [];
    for (const query of Object.keys(QUERIES)) {
      for (const key of (await windowsOf(query, tier)).keys()) all.push(Number(key.split('@')[1]));
    }
    return all;
  }

  it('--once writes the whole windows of its range in every rollup tier', async () => {
    const rewritten = (await readFile(config, 'utf8')).replace(
      'interval_seconds: 1',
      'interval_seconds: 47',
    );
    await writeFile(config, rewritten);
    const before = Date.now();
    const run = await cli('--once', '-c', config, '--json');
    const after = Date.now();
    expect(run.code, run.stderr).toBe(0);
    for (const tier of Object.keys(ROLLUPS) as Rollup[]) {
      const r = ROLLUPS[tier];
      const found = await starts(tier);
      const first = Math.min(...found);
      const end = Math.max(...found) + r;
      // Only whole windows inside [now - 47s, now]: wherever `now` fell between before and after.
      expect(first).toBeGreaterThanOrEqual(before - 47_000);
      expect(end).toBeLessThanOrEqual(after + STEP_MS);
      expect(end - first).toBeGreaterThanOrEqual(47_000 - 2 * r - STEP_MS);
      await expectExactly(tier, first, end);
    }
  }, 120_000);

  it('backfill writes every window once, resumes, and --tier fills one tier', async () => {
    const toMs = Math.floor((Date.now() - 60_000) / 15_000) * 15_000;
    const fromMs = toMs - 120_000;
    const args = (file: string, ...extra: string[]) => [
      'backfill',
      '-c',
      file,
      '--from',
      new Date(fromMs).toISOString(),
      '--to',
      new Date(toMs - STEP_MS).toISOString(),
      '--no-progress',
      '--json',
      ...extra,
    ];
    const backfill = (...extra: string[]) => cli(...args(config, ...extra));
    const warmOnly = await backfill('--tier', 'warm');
    expect(warmOnly.code, warmOnly.stderr).toBe(0);
    await expectExactly('warm', fromMs, toMs);
    expect(await starts('cold')).toEqual([]);

    // Every tier, throttled to a few windows a second and SIGKILLed once progress is saved.
    const slow = join(dir, 'slow.yaml');
    await writeFile(
      slow,
      (await readFile(config, 'utf8')).replace(
        '  tiers:\n',
        '  max_points_per_second: 20\n  tiers:\n',
      ),
    );
    const killed = spawnPromflux(args(slow), { cwd: dir });
    const progress = join(dir, 'state', 'backfill.json');
    const deadline = Date.now() + 60_000;
    while (!(await readFile(progress, 'utf8').catch(() => '')).includes('/cold')) {
      expect(Date.now() < deadline, 'backfill progress saved').toBe(true);
      expect(killed.child.exitCode, killed.stderr()).toBeNull();
      await new Promise((r) => setTimeout(r, 50));
    }
    killed.child.kill('SIGKILL');
    await killed.exited;

    const all = await backfill();
    expect(all.code, all.stderr).toBe(0);
    expect(all.stderr).toMatch(/^resume (availability|request_rate): from /m);
    await expectExactly('warm', fromMs, toMs);
    await expectExactly('cold', fromMs, toMs);
    const again = await backfill();
    expect(again.code, again.stderr).toBe(0);
    expect(again.stderr).toContain('done   availability: already backfilled');
    expect(again.stderr).toContain('done   request_rate: already backfilled');

    const range = ['--from', new Date(fromMs).toISOString(), '--to', new Date(toMs).toISOString()];
    const verify = await cli('verify', '-c', config, ...range);
    expect(verify.code, verify.stdout + verify.stderr).toBe(0);
    expect(verify.stdout).toMatch(/warm/);
    expect(verify.stdout).toMatch(/cold/);
    const provision = await cli('provision', '-c', config, '--dry-run');
    expect(provision.code, provision.stdout + provision.stderr).toBe(0);
    expect(provision.stdout).toMatch(/warm/);
  }, 120_000);

  it('the daemon writes each window once across SIGKILLs, and shows its tiers', async () => {
    const check = await cli('check', '-c', config);
    expect(check.code, check.stdout + check.stderr).toBe(0);
    expect(check.stdout).toContain('warm');
    expect(check.stdout).toContain('cold');

    const first = startDaemon(dir, config);
    await waitForTier('cold', 0);
    const status = (await (await fetch(`http://127.0.0.1:${statusPort}/status`)).json()) as {
      queries: {
        query: string;
        watermark: string | null;
        tiers: { name: string; watermark: string | null }[];
      }[];
    };
    for (const q of status.queries) {
      expect(q.tiers.map((t) => t.name)).toEqual(['warm', 'cold']);
      expect(q.tiers.every((t) => t.watermark !== null)).toBe(true);
      // The query's watermark is the last grid point every tier acknowledged, as a restart would
      // show it: a rollup tier's watermark is its last window's end, one step after that point.
      const lowest = Math.min(...q.tiers.map((t) => Date.parse(t.watermark!)));
      expect(q.watermark, q.query).toBe(new Date(lowest - STEP_MS).toISOString());
    }
    const metrics = await (await fetch(`http://127.0.0.1:${statusPort}/metrics`)).text();
    expect(metrics).toMatch(/tier="cold"/);
    first.child.kill('SIGKILL');
    await exitOf(first.child);

    const random = mulberry32(20_261_213);
    for (let i = 0; i < 3; i++) {
      const run = startDaemon(dir, config);
      await new Promise((r) => setTimeout(r, 700 + Math.floor(random() * 2500)));
      run.child.kill('SIGKILL');
      await exitOf(run.child);
    }
    const restartedAt = Date.now();
    const last = startDaemon(dir, config);
    await waitForTier('cold', restartedAt);
    last.child.kill('SIGTERM');
    expect(await exitOf(last.child)).toBe(0);

    const saved = JSON.parse(await readFile(join(dir, 'state', 'watermarks.json'), 'utf8')) as {
      queries: Record<string, { watermarkMs: number }>;
    };
    for (const tier of Object.keys(ROLLUPS) as Rollup[]) {
      const found = await starts(tier);
      const marks = Object.keys(QUERIES).map((q) => saved.queries[keyOf(q, tier)]!.watermarkMs);
      // Both queries started in the same first cycle and are written up to their watermark.
      expect(new Set(marks).size, `${tier} watermarks`).toBe(1);
      expect(Math.max(...found) + ROLLUPS[tier]).toBe(marks[0]);
      await expectExactly(tier, Math.min(...found), marks[0]!);
    }

    async function waitForTier(tier: Rollup, afterMs: number): Promise<void> {
      const deadline = Date.now() + 60_000;
      for (;;) {
        const doc = await readFile(join(dir, 'state', 'watermarks.json'), 'utf8').catch(() => '');
        const queries = doc
          ? (JSON.parse(doc) as { queries: Record<string, { watermarkMs: number }> }).queries
          : {};
        const marks = Object.keys(QUERIES).map((q) => queries[keyOf(q, tier)]?.watermarkMs);
        if (marks.every((m) => m !== undefined && m > afterMs)) return;
        if (Date.now() > deadline) throw new Error(`${tier} watermarks did not pass ${afterMs}`);
        await new Promise((r) => setTimeout(r, 200));
      }
    }
  }, 180_000);

  it('export --source influxdb needs --tier without a raw tier, and reads a rollup tier', async () => {
    const toMs = Math.floor((Date.now() - 60_000) / 15_000) * 15_000;
    const fromMs = toMs - 30_000;
    const range = ['--from', new Date(fromMs).toISOString(), '--to', new Date(toMs).toISOString()];
    const out = join(dir, 'out');
    const noTier = await cli(
      'export',
      '-c',
      config,
      '--source',
      'influxdb',
      '--out',
      out,
      ...range,
    );
    expect(noTier.code).toBe(2);
    expect(noTier.stderr).toContain(
      'No raw tier is configured, so there is no default tier to read; name one with --tier (warm, cold).',
    );
    const fill = await cli(
      'backfill',
      '-c',
      config,
      '--from',
      range[1]!,
      '--to',
      new Date(toMs - STEP_MS).toISOString(),
      '--no-progress',
      '--tier',
      'warm',
    );
    expect(fill.code, fill.stderr).toBe(0);
    const warm = await cli(
      'export',
      '-c',
      config,
      '--source',
      'influxdb',
      '--tier',
      'warm',
      '--out',
      out,
      '--format',
      'csv',
      '--no-progress',
      '--json',
      ...range,
    );
    expect(warm.code, warm.stderr).toBe(0);
    const landed = await windowsOf('availability', 'warm');
    expect(landed.size).toBeGreaterThan(0);
    expect(warm.stdout).toContain('availability');
  }, 60_000);
});
