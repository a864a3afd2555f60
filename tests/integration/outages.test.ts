/**
 * `promflux run` while the real InfluxDB 1.x or the real Prometheus is down (stopped, then started
 * again on the same data dir and port) or hung (SIGSTOP, then SIGCONT) for several cycles: the
 * daemon never exits, its peak RSS stays bounded, `/readyz` and `/metrics` say which server failed
 * and how, and afterwards InfluxDB holds exactly the samples Prometheus returns for the covered
 * range.
 */
import { readFileSync } from 'node:fs';
import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type InfluxV1Server, type StartedServer } from '../../scripts/lib/servers.js';
import {
  exitOf,
  prepareHealthDaemonRun,
  HEALTH_QUERIES,
  influxHealthPoints,
  prometheusHealthPoints,
  rawTierWatermarks,
  startDaemon,
  startHealthServers,
} from '../support/health-daemon.js';

/** Failed runs of each query during the outage: "several cycles" at one cycle a second. */
const OUTAGE_RUNS = 4;
/**
 * Peak RSS (VmHWM) the daemon may reach over its whole life, outage and catch-up included. Node 20
 * with promflux loaded sits near 80 MiB here; what an outage could add is buffered data, and the
 * daemon buffers none (a failed range is re-read from Prometheus, not queued), so the catch-up of a
 * few seconds of two small queries needs a few MiB. 192 MiB leaves room for GC slack on any
 * machine while catching a daemon that queues every failed cycle's batch or leaks per retry.
 */
const PEAK_RSS_BOUND_BYTES = 192 * 1024 * 1024;

type Fault = 'stopped' | 'stalled';
interface Case {
  server: 'InfluxDB' | 'Prometheus';
  fault: Fault;
  /** What `/readyz` must say while the fault lasts. */
  reason: RegExp;
  /** A `/metrics` line that must count the failures (by the reason `/readyz` names). */
  metric: RegExp;
}

const CASES: Case[] = [
  {
    server: 'InfluxDB',
    fault: 'stopped',
    reason:
      /^the sink is unreachable \(the last cycle failed for .*\): Could not write .* to influxdb: .*ECONNREFUSED 127\.0\.0\.1:\d+/,
    metric:
      /^promflux_sink_write_failures_total\{sink="influxdb",status_class="network",reason="unreachable"\} [1-9]/m,
  },
  {
    server: 'InfluxDB',
    fault: 'stalled',
    reason:
      /^the sink did not answer within the timeout \(the last cycle failed for .*\): Could not write .* to influxdb: .*No response from http:\/\/127\.0\.0\.1:\d+\/write within 1000 ms/,
    metric:
      /^promflux_sink_write_failures_total\{sink="influxdb",status_class="network",reason="timeout"\} [1-9]/m,
  },
  {
    server: 'Prometheus',
    fault: 'stopped',
    reason:
      /^Prometheus is unreachable \(the last cycle failed for .*\): .*ECONNREFUSED 127\.0\.0\.1:\d+/,
    metric:
      /^promflux_prometheus_query_errors_total\{query="availability",error_type="network"\} [1-9]/m,
  },
  {
    server: 'Prometheus',
    fault: 'stalled',
    reason:
      /^Prometheus did not answer within the timeout \(the last cycle failed for .*\): .*no complete response from http:\/\/127\.0\.0\.1:\d+ within 1000 ms/,
    metric:
      /^promflux_prometheus_query_errors_total\{query="availability",error_type="timeout"\} [1-9]/m,
  },
];

interface Watermarks {
  queries: Record<string, { watermarkMs: number }>;
}

describe('promflux run through outages of the real InfluxDB 1.x and Prometheus', () => {
  let prometheus: StartedServer;
  let influx: InfluxV1Server;
  let dir: string;
  let db: string;
  let databases = 0;
  let config: string;
  let statusUrl: string;

  beforeAll(async () => {
    [prometheus, influx] = await startHealthServers();
  });
  beforeEach(async () => {
    ({ dir, db, config, statusUrl } = await prepareHealthDaemonRun({
      prometheus,
      influx,
      db: `outage${++databases}`,
      dirPrefix: 'promflux-outage-',
    }));
  });
  afterEach(async () => {
    // A failed test must not leave a server down or frozen for the next one.
    for (const server of [influx, prometheus]) server.resume();
    if (dir) await rm(dir, { recursive: true, force: true });
  });
  afterAll(async () => {
    await Promise.allSettled([prometheus?.stop(), influx?.stop()]);
  });

  it.each(CASES)(
    '$server $fault for several cycles: still running, bounded, says why, then catches up',
    async ({ server, fault, reason, metric }) => {
      const target = server === 'InfluxDB' ? influx : prometheus;
      const daemon = startDaemon(dir, config);
      await waitFor('first watermarks', async () => minWatermark(await watermarks()) > 0);
      await waitFor('ready', async () => (await readyz()).status === 200);

      if (fault === 'stopped') await target.halt();
      else target.pause();
      let during: Watermarks;
      try {
        await waitFor(`/readyz to report the ${server} outage`, async () => {
          const r = await readyz();
          return r.status === 503 && reason.test(r.text);
        });
        during = await watermarks();
        const failed = await failedRuns();
        await waitFor(
          `${OUTAGE_RUNS} failed runs`,
          async () => (await failedRuns()) >= failed + OUTAGE_RUNS,
        );
        expect(await metricsText()).toMatch(metric);
        expect(reason.test((await readyz()).text)).toBe(true);
        // Nothing is acknowledged while one end is down: no watermark moved.
        expect(await watermarks()).toEqual(during);
        expect(daemon.child.exitCode).toBeNull();
      } finally {
        if (fault === 'stopped') await target.restart();
        else target.resume();
      }

      const backAt = Date.now();
      await waitFor('catch-up', async () => minWatermark(await watermarks()) > backAt);
      expect((await readyz()).status).toBe(200);
      const peakRss = peakRssBytes(daemon.child.pid!);
      console.log(`outage test (${server} ${fault}): daemon peak RSS ${peakRss} bytes`);
      expect(peakRss).toBeLessThan(PEAK_RSS_BOUND_BYTES);

      daemon.child.kill('SIGTERM');
      expect(await exitOf(daemon.child)).toBe(0);
      await expectExactlyPrometheus(firstStarts(daemon.stdout()), await watermarks());
    },
    120_000,
  );

  async function watermarks(): Promise<Watermarks> {
    return rawTierWatermarks(await readFile(join(dir, 'state', 'watermarks.json'), 'utf8'));
  }

  function minWatermark(w: Watermarks): number {
    return Math.min(...Object.keys(HEALTH_QUERIES).map((q) => w.queries[q]?.watermarkMs ?? 0));
  }

  async function readyz(): Promise<{ status: number; text: string }> {
    const res = await fetch(`${statusUrl}/readyz`).catch(() => undefined);
    return res ? { status: res.status, text: await res.text() } : { status: 0, text: '' };
  }

  async function metricsText(): Promise<string> {
    return (await fetch(`${statusUrl}/metrics`)).text();
  }

  async function failedRuns(): Promise<number> {
    const line = /^promflux_query_runs_total\{query="availability",result="error"\} (\d+)$/m;
    return Number(line.exec(await metricsText())?.[1] ?? 0);
  }

  /** Polls a condition (server or file state, which sends no event) until it holds. */
  async function waitFor(what: string, condition: () => Promise<boolean>): Promise<void> {
    const deadline = Date.now() + 40_000;
    while (!(await condition().catch(() => false))) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }

  /** Where each query's first run started, from the daemon's `--json` run records. */
  function firstStarts(stdout: string): Map<string, number> {
    const starts = new Map<string, number>();
    for (const line of stdout.trim().split('\n')) {
      if (!line.startsWith('{')) continue;
      const r = JSON.parse(line) as { query: string; start: string };
      if (!starts.has(r.query)) starts.set(r.query, Date.parse(r.start));
    }
    return starts;
  }

  /** Zero missing, zero extra: InfluxDB's points equal Prometheus' answer for the covered range. */
  async function expectExactlyPrometheus(
    starts: Map<string, number>,
    final: Watermarks,
  ): Promise<void> {
    for (const [name, query] of Object.entries(HEALTH_QUERIES)) {
      const startMs = starts.get(name)!;
      const endMs = final.queries[name]!.watermarkMs;
      const expected = await prometheusHealthPoints(prometheus.url, query, startMs, endMs);
      expect(expected.length).toBeGreaterThan(20);
      // Unbounded in time: a point outside the covered range would be extra.
      expect(await influxHealthPoints(influx, db, name)).toEqual(expected);
    }
  }
});

/** Peak resident set size of a live process (Linux `VmHWM`), in bytes. */
function peakRssBytes(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = /^VmHWM:\s+(\d+) kB$/m.exec(status);
  if (!kb) throw new Error(`no VmHWM in /proc/${pid}/status`);
  return Number(kb[1]) * 1024;
}
