/**
 * `promflux run` as a child process on a 1s interval, against real Prometheus and InfluxDB 1.x:
 * stopped with SIGTERM, killed with SIGKILL, restarted, it leaves every grid point from its first
 * cycle to its final watermark in InfluxDB exactly once.
 */
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { mulberry32 } from '../../scripts/lib/openmetrics-fixture.js';
import { execFile } from 'node:child_process';
import { findBinary, type InfluxV1Server, type StartedServer } from '../../scripts/lib/servers.js';
import { queryFingerprint } from '../../src/state/watermark-store.js';
import {
  exitOf,
  prepareHealthDaemonRun,
  HEALTH_QUERIES,
  influxHealthPoints,
  prometheusHealthPoints,
  startDaemon,
  rawTierWatermarks,
  startHealthServers,
  type DaemonChild,
} from '../support/health-daemon.js';

const QUERIES = HEALTH_QUERIES;

interface Watermarks {
  queries: Record<string, { watermarkMs: number }>;
}

describe('promflux run (daemon) → real Prometheus and InfluxDB 1.x', () => {
  let prometheus: StartedServer;
  let influx: InfluxV1Server;
  // Each test has its own state directory, database and status port (beforeEach): none reads
  // what another wrote, so any one of them can run alone.
  let dir: string;
  let db: string;
  let databases = 0;
  let config: string;
  let statusUrl: string;
  /** Where each query's first cycle started: everything from there on must be in InfluxDB. */
  const firstStarts = new Map<string, number>();

  beforeAll(async () => {
    [prometheus, influx] = await startHealthServers();
  });
  beforeEach(async () => {
    ({ dir, db, config, statusUrl } = await prepareHealthDaemonRun({
      prometheus,
      influx,
      db: `daemon${++databases}`,
      dirPrefix: 'promflux-daemon-',
    }));
    firstStarts.clear();
  });
  afterEach(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });
  afterAll(async () => {
    await Promise.allSettled([prometheus?.stop(), influx?.stop()]);
  });

  function start() {
    return startDaemon(dir, config);
  }

  /** The state file's raw-tier watermarks (`bucket` alone is one raw tier), by query name. */
  async function watermarks(): Promise<Watermarks> {
    return rawTierWatermarks(await readFile(join(dir, 'state', 'watermarks.json'), 'utf8'));
  }

  /** Waits until every query's watermark has moved past `afterMs`. */
  async function waitForWatermarks(afterMs: number): Promise<void> {
    const deadline = Date.now() + 60_000;
    for (;;) {
      const w = await watermarks().catch(() => undefined);
      if (w && Object.keys(QUERIES).every((q) => (w.queries[q]?.watermarkMs ?? 0) > afterMs))
        return;
      if (Date.now() > deadline) throw new Error(`watermarks did not pass ${afterMs}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }

  /** Notes where each query's first run of `run` started, unless an earlier run did. */
  function recordFirstStarts(run: DaemonChild): void {
    for (const line of run.stdout().trim().split('\n')) {
      if (!line.startsWith('{')) continue;
      const r = JSON.parse(line) as { query: string; start: string };
      if (r.query in QUERIES && !firstStarts.has(r.query)) {
        firstStarts.set(r.query, Date.parse(r.start));
      }
    }
  }

  it('survives SIGTERM and SIGKILL with every sample exactly once and no gap', async () => {
    // First run: stopped with SIGTERM once it made progress.
    const first = start();
    await waitForWatermarks(0);
    const progressed = (await watermarks()).queries.availability!.watermarkMs;
    await waitForWatermarks(progressed + 2000);
    first.child.kill('SIGTERM');
    expect(await exitOf(first.child)).toBe(0);
    recordFirstStarts(first);
    expect([...firstStarts.keys()].sort()).toEqual(Object.keys(QUERIES).sort());
    const afterTerm = await watermarks();

    // Down for a few seconds (the outage under test, not a wait for an event), then a run killed
    // without warning mid-work, then three more killed at seeded pseudo-random moments.
    await new Promise((r) => setTimeout(r, 3000));
    const random = mulberry32(20_240_501);
    const second = start();
    await waitForWatermarks(afterTerm.queries.availability!.watermarkMs + 3000);
    second.child.kill('SIGKILL');
    await exitOf(second.child);
    for (let i = 0; i < 3; i++) {
      const killAfterMs = 300 + Math.floor(random() * 2000);
      console.log(`daemon test: SIGKILL ${i + 1} after ${killAfterMs} ms`);
      const run = start();
      await new Promise((r) => setTimeout(r, killAfterMs));
      run.child.kill('SIGKILL');
      await exitOf(run.child);
    }

    // And a last run that catches up, reports itself over HTTP and stops cleanly.
    const killedAt = Date.now();
    const third = start();
    await waitForWatermarks(killedAt);
    await checkStatusEndpoints();
    third.child.kill('SIGTERM');
    expect(await exitOf(third.child)).toBe(0);
    expect(third.stderr()).toMatch(/"msg":"Stopped\."/);

    await expectEverySampleOnce();
  });

  it('carries on from a watermark saved before tiers, under the raw tier', async () => {
    // A state file as the daemon wrote it before tiers: keyed by query name.
    const legacyMs = Math.floor((Date.now() - 10_000) / 1000) * 1000;
    const legacy = {
      version: 1,
      queries: Object.fromEntries(
        Object.entries(QUERIES).map(([name, query]) => [
          name,
          {
            watermarkMs: legacyMs,
            fingerprint: queryFingerprint({ expr: query, stepMs: 1000 }),
            updatedAt: '',
          },
        ]),
      ),
    };
    await mkdir(join(dir, 'state'), { recursive: true });
    await writeFile(join(dir, 'state', 'watermarks.json'), JSON.stringify(legacy));
    const daemon = start();
    // Long enough for expectEverySampleOnce's floor of 20 points, whatever the load.
    await waitForWatermarks(legacyMs + 12_000);
    daemon.child.kill('SIGTERM');
    expect(await exitOf(daemon.child)).toBe(0);
    // Each query's first run started right after the legacy watermark: no gap, no overlap.
    recordFirstStarts(daemon);
    for (const name of Object.keys(QUERIES)) expect(firstStarts.get(name)).toBe(legacyMs + 1000);
    // The legacy entries are gone (watermarks() accepts only raw-tier keys).
    expect(Object.keys((await watermarks()).queries).sort()).toEqual(Object.keys(QUERIES).sort());
    await expectEverySampleOnce();
  });

  it('rides out an InfluxDB that stops answering: failures visible, then full catch-up', async () => {
    const daemon = start();
    await waitForWatermarks(Date.now() - 1000);
    influx.pause();
    try {
      // Writes time out after 1s (twice): the first failing cycle ends a few seconds in.
      await waitUntilNotReady('the sink did not answer within the timeout (');
      const metrics = await (await fetch(`${statusUrl}/metrics`)).text();
      expect(metrics).toMatch(
        /^promflux_query_runs_total\{query="availability",result="error"\} [1-9]/m,
      );
      expect(metrics).toMatch(
        /^promflux_sink_write_failures_total\{sink="influxdb",status_class="network",reason="timeout"\} [1-9]/m,
      );
      // Nothing is acknowledged while InfluxDB does not answer: the watermarks stand still over
      // two more failed runs.
      const during = (await watermarks()).queries;
      const failedRuns = await failedRunsOf('availability');
      await waitFor(async () => (await failedRunsOf('availability')) >= failedRuns + 2);
      const later = (await watermarks()).queries;
      for (const q of Object.keys(QUERIES)) {
        expect(later[q]!.watermarkMs).toBe(during[q]!.watermarkMs);
      }
    } finally {
      influx.resume();
    }
    const resumedAt = Date.now();
    await waitForWatermarks(resumedAt);
    const ready = await fetch(`${statusUrl}/readyz`);
    expect(ready.status).toBe(200);
    daemon.child.kill('SIGTERM');
    expect(await exitOf(daemon.child)).toBe(0);
    recordFirstStarts(daemon);
    await expectEverySampleOnce();
  });

  it('rides out a Prometheus that stops answering, then catches up', async () => {
    const daemon = start();
    await waitForWatermarks(Date.now() - 1000);
    prometheus.pause();
    try {
      await waitUntilNotReady('Prometheus did not answer within the timeout (');
      const metrics = await (await fetch(`${statusUrl}/metrics`)).text();
      expect(metrics).toMatch(
        /^promflux_prometheus_query_errors_total\{query="availability",error_type="timeout"\} [1-9]/m,
      );
    } finally {
      prometheus.resume();
    }
    await waitForWatermarks(Date.now());
    expect((await fetch(`${statusUrl}/readyz`)).status).toBe(200);
    daemon.child.kill('SIGTERM');
    expect(await exitOf(daemon.child)).toBe(0);
    recordFirstStarts(daemon);
    await expectEverySampleOnce();
  });

  it('reloads a valid config on SIGHUP (a removed query keeps its state), keeps running on an invalid one', async () => {
    const original = await readFile(config, 'utf8');
    const daemon = start();
    try {
      // Signals before node installed its handlers would kill it: wait until it serves.
      for (const deadline = Date.now() + 20_000; ;) {
        const res = await fetch(`${statusUrl}/healthz`).catch(() => undefined);
        if (res?.status === 200) break;
        if (Date.now() > deadline) throw new Error('the daemon did not come up');
        await new Promise((r) => setTimeout(r, 100));
      }
      // Every query has state of its own before one is removed.
      await waitForWatermarks(0);
      // Adds a query, removes request_rate, and switches to a cron schedule (every second):
      // cycles must go on under it.
      const withoutRequestRate = original
        .replace('  interval_seconds: 1\n', '  interval_seconds: 60\n  schedule: "* * * * * *"\n')
        .replace(/^ {4}- \{ name: request_rate,.*\n/m, '')
        .replace(
          '  queries:\n',
          '  queries:\n    - { name: server_errors, query: "rate(http_requests_total{status=~\\"5..\\"}[1m])", step: 1s }\n',
        );
      expect(withoutRequestRate).not.toContain('request_rate');
      await writeFile(config, withoutRequestRate);
      daemon.child.kill('SIGHUP');
      const deadline = Date.now() + 20_000;
      while (!(await watermarks()).queries.server_errors) {
        if (Date.now() > deadline) throw new Error(`no reload: ${daemon.stderr().slice(-2000)}`);
        await new Promise((r) => setTimeout(r, 200));
      }
      // The removed query's state is kept, and left alone while the others go on.
      const removedAt = (await watermarks()).queries.request_rate!.watermarkMs;
      const othersAt = (await watermarks()).queries.server_errors!.watermarkMs;
      for (const until = Date.now() + 20_000; ;) {
        const w = await watermarks();
        if (w.queries.server_errors!.watermarkMs > othersAt + 2000) break;
        if (Date.now() > until) throw new Error('server_errors made no progress');
        await new Promise((r) => setTimeout(r, 200));
      }
      expect((await watermarks()).queries.request_rate!.watermarkMs).toBe(removedAt);

      await writeFile(
        config,
        original.replace(/url: "http:\/\/127[^"]*"\n    api: v1/, 'url: "not a url"\n    api: v1'),
      );
      daemon.child.kill('SIGHUP');
      const rejectedBy = Date.now() + 10_000;
      while (!daemon.stderr().includes('the new configuration is invalid and was rejected')) {
        if (Date.now() > rejectedBy)
          throw new Error(`not rejected: ${daemon.stderr().slice(-2000)}`);
        await new Promise((r) => setTimeout(r, 100));
      }
      expect(daemon.stderr()).toContain('load.influxdb.url: must be an http(s) URL');
      // Still running on the previous config, new query included, request_rate still left alone.
      const runningAt = Date.now();
      for (const until = runningAt + 20_000; ;) {
        const w = await watermarks();
        if (w.queries.server_errors!.watermarkMs > runningAt) break;
        if (Date.now() > until) throw new Error('server_errors made no progress');
        await new Promise((r) => setTimeout(r, 200));
      }
      expect((await watermarks()).queries.request_rate!.watermarkMs).toBe(removedAt);

      // Back in the config, request_rate resumes right after its kept watermark: no gap.
      await writeFile(config, original);
      daemon.child.kill('SIGHUP');
      await waitForWatermarks(Date.now());
      const resumed = daemon
        .stdout()
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as { query: string; start: string })
        .find((r) => r.query === 'request_rate' && Date.parse(r.start) > removedAt);
      expect(resumed && Date.parse(resumed.start)).toBe(removedAt + 1000);
    } finally {
      await writeFile(config, original);
    }
    daemon.child.kill('SIGTERM');
    expect(await exitOf(daemon.child)).toBe(0);
    recordFirstStarts(daemon);
    await expectEverySampleOnce();
  });

  async function failedRunsOf(query: string): Promise<number> {
    const metrics = await (await fetch(`${statusUrl}/metrics`)).text();
    const line = new RegExp(
      `^promflux_query_runs_total\\{query="${query}",result="error"\\} (\\d+)$`,
      'm',
    );
    return Number(line.exec(metrics)?.[1] ?? 0);
  }

  /** Polls `condition` (a server's state, which sends no event) until it holds. */
  async function waitFor(condition: () => Promise<boolean>): Promise<void> {
    const deadline = Date.now() + 30_000;
    while (!(await condition())) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${condition.toString()}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }

  /** Waits for /readyz to answer 503 with a reason that starts with `outage`. */
  async function waitUntilNotReady(outage: string): Promise<void> {
    const deadline = Date.now() + 20_000;
    for (;;) {
      // The daemon may still be starting its server.
      const res = await fetch(`${statusUrl}/readyz`).catch(() => undefined);
      const reason = res ? await res.text() : 'not listening yet';
      if (res?.status === 503 && reason.startsWith(outage)) return;
      if (Date.now() > deadline) throw new Error(`still ready after the outage began: ${reason}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }

  /** Every grid point from the first cycle's start to the final watermark, exactly once. */
  async function expectEverySampleOnce(): Promise<void> {
    const final = await watermarks();
    for (const [name, query] of Object.entries(QUERIES)) {
      const startMs = firstStarts.get(name)!;
      const endMs = final.queries[name]!.watermarkMs;
      const expected = await prometheusHealthPoints(prometheus.url, query, startMs, endMs);
      const landed = await influxHealthPoints(influx, db, name, { startMs, endMs });
      expect(expected.length).toBeGreaterThan(20);
      expect(landed).toEqual(expected);
      const outside = await influx.query(
        `SELECT count(value) FROM health_metrics WHERE metric_type = '${name}' AND time < ${startMs}ms`,
        db,
      );
      expect(outside.results[0]?.series).toBeUndefined();
    }
  }

  async function checkStatusEndpoints(): Promise<void> {
    expect((await fetch(`${statusUrl}/healthz`)).status).toBe(200);
    const ready = await fetch(`${statusUrl}/readyz`);
    expect(`${ready.status} ${await ready.text()}`).toMatch(/^200 /);

    type Status = {
      ready: boolean;
      queries: Array<{
        query: string;
        watermark: string | null;
        pointsWritten: number;
        tiers: Array<{ name: string; resolutionSeconds: number | null; watermark: string | null }>;
      }>;
    };
    // A run's points are counted when it ends, a moment after its watermark was saved.
    let status: Status;
    for (let tries = 0; ; tries++) {
      status = (await (await fetch(`${statusUrl}/status`)).json()) as Status;
      if (status.queries.every((q) => q.pointsWritten > 0) || tries > 50) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(status.ready).toBe(true);
    expect(status.queries.map((q) => q.query).sort()).toEqual(Object.keys(QUERIES).sort());
    for (const q of status.queries) {
      expect(q.watermark).not.toBeNull();
      expect(q.pointsWritten).toBeGreaterThan(0);
      // `bucket` alone is one raw tier.
      expect(q.tiers).toMatchObject([{ name: 'raw', resolutionSeconds: null }]);
      expect(q.tiers[0]!.watermark).not.toBeNull();
    }
    const page = await (await fetch(`${statusUrl}/`)).text();
    for (const name of Object.keys(QUERIES)) expect(page).toContain(`<td>${name}</td>`);

    const metrics = await (await fetch(`${statusUrl}/metrics`)).text();
    // Prometheus' own linter must accept the exposition.
    const lint = await new Promise<{ code: number; output: string }>((resolveLint) => {
      const child = execFile(findBinary('promtool')!, ['check', 'metrics'], (err, stdout, stderr) =>
        resolveLint({
          code: err ? ((err as { code?: number }).code ?? 1) : 0,
          output: stdout + stderr,
        }),
      );
      child.stdin!.end(metrics);
    });
    expect(lint.output).toBe('');
    expect(lint.code).toBe(0);
    for (const family of [
      'promflux_build_info',
      'promflux_samples_extracted_total',
      'promflux_points_written_total',
      'promflux_lines_dead_lettered_total',
      'promflux_sink_write_requests_total',
      'promflux_sink_write_retries_total',
      'promflux_sink_write_request_duration_seconds',
      'promflux_prometheus_request_duration_seconds',
      'promflux_query_runs_total',
      'promflux_cycle_duration_seconds',
      'promflux_last_success_timestamp_seconds',
      'promflux_watermark_timestamp_seconds',
      'promflux_watermark_lag_seconds',
      'promflux_catchup_backlog_seconds',
      'promflux_tier_points_total',
      'promflux_tier_watermark_seconds',
      'promflux_tier_lag_seconds',
      'process_cpu_seconds_total',
    ]) {
      expect(metrics, family).toMatch(new RegExp(`^# TYPE ${family} `, 'm'));
    }
    const written =
      /^promflux_points_written_total\{query="availability",sink="influxdb"\} (\d+)$/m.exec(
        metrics,
      );
    expect(Number(written?.[1])).toBeGreaterThan(0);
    const tierWritten =
      /^promflux_tier_points_total\{query="availability",tier="raw",outcome="written"\} (\d+)$/m.exec(
        metrics,
      );
    expect(Number(tierWritten?.[1])).toBeGreaterThan(0);
  }
});
