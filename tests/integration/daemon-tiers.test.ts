/**
 * `promflux run` with a raw tier and two rollup tiers, as a child process on a 1s interval,
 * against real Prometheus and InfluxDB 1.x (one retention policy per tier): rollup windows appear
 * only once complete, equal to what Prometheus' points give, each once and with no window missing,
 * across SIGTERM, SIGKILL and restarts, and after a SIGKILL that left the raw tier ahead of a
 * rollup tier whose writes were held back; and, by Prometheus' own query log, a steady cycle asks
 * only for the grid points after the last cycle's (rollup windows carried between cycles).
 */
import { once } from 'node:events';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import {
  createServer,
  request,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { mulberry32 } from '../../scripts/lib/openmetrics-fixture.js';
import type { InfluxV1Server, StartedServer } from '../../scripts/lib/servers.js';
import { exitOf, startDaemon, startHealthServers } from '../support/health-daemon.js';
import {
  GAUGE_FIELDS,
  influxWindows,
  prometheusWindows,
  type Windows,
} from '../support/rollup-windows.js';

const STEP_MS = 1000;
const QUERIES: Record<string, string> = {
  availability: 'up',
  request_rate: 'rate(http_requests_total[1m])',
};
const ROLLUPS = { warm: 5_000, cold: 15_000 } as const;
type Rollup = keyof typeof ROLLUPS;
const TIERS = ['hot', 'warm', 'cold'] as const;
type Tier = (typeof TIERS)[number];

const keyOf = (query: string, tier: Tier): string =>
  JSON.stringify([query, tier, STEP_MS, tier === 'hot' ? STEP_MS : ROLLUPS[tier]]);

/** Holds back InfluxDB writes to one retention policy while `hold` is set; forwards the rest. */
class WriteGate {
  hold: string | undefined;
  held = 0;
  private readonly server: Server;
  private readonly parked: ServerResponse[] = [];

  constructor(private readonly target: string) {
    this.server = createServer((req, res) => this.handle(req, res));
  }

  async listen(): Promise<string> {
    this.server.listen(0, '127.0.0.1');
    await once(this.server, 'listening');
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  /** Lets nothing through any more: parked writes end with a reset connection. */
  release(): void {
    this.hold = undefined;
    for (const res of this.parked.splice(0)) res.destroy();
  }

  async close(): Promise<void> {
    this.release();
    this.server.closeAllConnections();
    this.server.close();
    await once(this.server, 'close');
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const url = new URL(req.url ?? '/', 'http://x');
    if (this.hold !== undefined && url.searchParams.get('rp') === this.hold) {
      this.held++;
      this.parked.push(res);
      req.resume();
      return;
    }
    const upstream = request(
      `${this.target}${req.url}`,
      { method: req.method, headers: req.headers },
      (r) => {
        res.writeHead(r.statusCode ?? 502, r.headers);
        r.pipe(res);
      },
    );
    upstream.on('error', () => res.destroy());
    req.pipe(upstream);
  }
}

interface Watermarks {
  queries: Record<string, { watermarkMs: number }>;
}

describe('promflux run with rollup tiers → real Prometheus and InfluxDB 1.x', () => {
  let prometheus: StartedServer;
  let influx: InfluxV1Server;
  let gate: WriteGate;
  let gateUrl: string;
  let dir: string;
  let db: string;
  let databases = 0;
  let config: string;
  let logDir: string;
  let queryLog: string;

  beforeAll(async () => {
    logDir = await mkdtemp(join(tmpdir(), 'promflux-tiers-log-'));
    queryLog = join(logDir, 'queries.log');
    [prometheus, influx] = await startHealthServers({ queryLogFile: queryLog });
    gate = new WriteGate(influx.url);
    gateUrl = await gate.listen();
  });
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'promflux-tiers-'));
    db = `tiers${++databases}`;
    await influx.createDatabase(db);
    for (const tier of TIERS) {
      await influx.query(`CREATE RETENTION POLICY "${tier}" ON "${db}" DURATION 2h REPLICATION 1`);
    }
    config = join(dir, 'promflux.yaml');
    const queries = Object.entries(QUERIES)
      .map(([name, query]) => `    - { name: ${name}, query: "${query}", step: 1s, kind: gauge }`)
      .join('\n');
    await writeFile(
      config,
      `extract:
  prometheus_url: "${prometheus.url}"
  timeout: 2s
  retry: { max_attempts: 2, initial_delay: 100ms, max_delay: 200ms }
  queries:
${queries}
load:
  influxdb:
    url: "${gateUrl}"
    api: v1
    timeout: 2s
    retry: { max_attempts: 2, initial_delay: 100ms, max_delay: 200ms }
  tiers:
    - { name: hot, bucket: "${db}/hot", retention: 2h }
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
  listen: false
`,
    );
  });
  afterEach(async () => {
    gate.release();
    if (dir) await rm(dir, { recursive: true, force: true });
  });
  afterAll(async () => {
    await gate?.close();
    await Promise.allSettled([prometheus?.stop(), influx?.stop()]);
    if (logDir) await rm(logDir, { recursive: true, force: true });
  });

  const start = () => startDaemon(dir, config);

  async function watermarks(): Promise<Watermarks> {
    return JSON.parse(await readFile(join(dir, 'state', 'watermarks.json'), 'utf8')) as Watermarks;
  }

  async function watermarkOf(query: string, tier: Tier): Promise<number | undefined> {
    const w = await watermarks().catch(() => undefined);
    return w?.queries[keyOf(query, tier)]?.watermarkMs;
  }

  /** Polls the state file (the daemon sends no event) until every query's `tier` passes `afterMs`. */
  async function waitForTier(tier: Tier, afterMs: number): Promise<void> {
    const deadline = Date.now() + 60_000;
    for (;;) {
      const marks = await Promise.all(Object.keys(QUERIES).map((q) => watermarkOf(q, tier)));
      if (marks.every((m) => m !== undefined && m > afterMs)) return;
      if (Date.now() > deadline) throw new Error(`${tier} watermarks did not pass ${afterMs}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }

  /** Every window InfluxDB holds for a query in a rollup tier. */
  const influxWindowsOf = (query: string, tier: Rollup): Promise<Windows> =>
    influxWindows(influx, db, tier, query);

  /** Every window of every query and rollup tier, as `query|tier|series@start`. */
  async function allWindows(): Promise<Windows> {
    const all: Windows = new Map();
    for (const query of Object.keys(QUERIES)) {
      for (const tier of Object.keys(ROLLUPS) as Rollup[]) {
        for (const [key, fields] of await influxWindowsOf(query, tier)) {
          all.set(`${query}|${tier}|${key}`, fields);
        }
      }
    }
    return all;
  }

  /**
   * Each rollup tier holds, per series, exactly the windows from its first to its watermark, each
   * equal to Prometheus' points over it; nothing after the watermark.
   */
  async function expectRollupsExact(): Promise<void> {
    const final = await watermarks();
    for (const query of Object.keys(QUERIES)) {
      for (const tier of Object.keys(ROLLUPS) as Rollup[]) {
        const r = ROLLUPS[tier];
        const landed = await influxWindowsOf(query, tier);
        const starts = [...landed.keys()].map((k) => Number(k.split('@')[1]));
        const firstMs = Math.min(...starts);
        const endMs = final.queries[keyOf(query, tier)]!.watermarkMs;
        expect(Math.max(...starts) + r, `${query} ${tier}: nothing after the watermark`).toBe(
          endMs,
        );
        expect((endMs - firstMs) / r, `${query} ${tier}: several windows`).toBeGreaterThanOrEqual(
          3,
        );
        const expected = await prometheusWindows(
          prometheus.url,
          QUERIES[query]!,
          STEP_MS,
          r,
          firstMs,
          endMs,
        );
        expect([...landed.keys()].sort(), `${query} ${tier}`).toEqual([...expected.keys()].sort());
        for (const [key, fields] of expected) {
          const got = landed.get(key)!;
          for (const f of GAUGE_FIELDS)
            expect(got[f], `${query} ${tier} ${key} ${f}`).toBeCloseTo(fields[f]!, 9);
        }
      }
    }
  }

  it('writes each window once complete, never changed later, across SIGTERM, SIGKILL and restarts', async () => {
    // What each window looked like when first seen: it must never change afterwards.
    const firstSeen = new Map<string, Record<string, number>>();
    let watching = true;
    const watch = (async () => {
      while (watching) {
        for (const [id, fields] of await allWindows()) {
          if (!firstSeen.has(id)) firstSeen.set(id, fields);
        }
        await new Promise((r) => setTimeout(r, 300));
      }
    })();
    try {
      const first = start();
      await waitForTier('cold', 0);
      await waitForTier('cold', (await watermarkOf('availability', 'cold'))! + 15_000);
      first.child.kill('SIGTERM');
      expect(await exitOf(first.child)).toBe(0);

      const random = mulberry32(20_261_201);
      for (let i = 0; i < 4; i++) {
        const run = start();
        await new Promise((r) => setTimeout(r, 500 + Math.floor(random() * 2500)));
        run.child.kill('SIGKILL');
        await exitOf(run.child);
      }
      const restartedAt = Date.now();
      const last = start();
      await waitForTier('cold', restartedAt);
      await waitForTier('hot', restartedAt);
      last.child.kill('SIGTERM');
      expect(await exitOf(last.child)).toBe(0);
    } finally {
      watching = false;
      await watch;
    }
    await expectRollupsExact();
    const final = await allWindows();
    expect(firstSeen.size).toBeGreaterThan(20);
    for (const [id, fields] of firstSeen) expect(final.get(id), id).toEqual(fields);
  }, 240_000);

  it('asks Prometheus only for new grid points in steady cycles, every window still exact', async () => {
    const run = start();
    // Nothing is carried at start: each rollup tier re-reads its first due window, then carries.
    await waitForTier('cold', 0);
    const steadyFrom = (await readFile(queryLog)).length;
    const coldAt = Math.max(
      ...(await Promise.all(Object.keys(QUERIES).map((q) => watermarkOf(q, 'cold')))).map(Number),
    );
    await waitForTier('cold', coldAt + 2 * ROLLUPS.cold);
    run.child.kill('SIGTERM');
    expect(await exitOf(run.child)).toBe(0);

    const requests = (await readFile(queryLog))
      .subarray(steadyFrom)
      .toString('utf8')
      .split('\n')
      .filter((line) => line.includes('/api/v1/query_range'))
      .map((line) => {
        const { params } = JSON.parse(line) as {
          params: { query: string; start: string; end: string; step: number };
        };
        expect(params.step).toBe(STEP_MS / 1000);
        return {
          query: params.query,
          startMs: Date.parse(params.start),
          endMs: Date.parse(params.end),
        };
      });
    for (const expr of Object.values(QUERIES)) {
      const mine = requests.filter((r) => r.query === expr);
      // Two cold windows and six warm ones became due meanwhile, all without a re-read.
      expect(mine.length, expr).toBeGreaterThan(10);
      for (let i = 1; i < mine.length; i++) {
        expect(mine[i]!.startMs, `${expr} request ${i}`).toBe(mine[i - 1]!.endMs + STEP_MS);
      }
    }
    await expectRollupsExact();
  }, 120_000);

  it('recovers from a SIGKILL between tiers: the held-back tier gets every window once', async () => {
    const run = start();
    await waitForTier('warm', 0);
    // Writes to warm now hang: hot and cold go on, warm's watermark stands still.
    gate.hold = 'warm';
    const heldAt = Date.now();
    await waitForTier('hot', heldAt + 6_000);
    await waitForTier('cold', heldAt);
    const warmBefore = await Promise.all(Object.keys(QUERIES).map((q) => watermarkOf(q, 'warm')));
    expect(gate.held).toBeGreaterThan(0);
    run.child.kill('SIGKILL');
    await exitOf(run.child);
    gate.release();
    const afterKill = await Promise.all(Object.keys(QUERIES).map((q) => watermarkOf(q, 'warm')));
    expect(afterKill).toEqual(warmBefore);
    // The raw tier is ahead of warm by more than a window: the kill fell between tiers.
    for (const [i, query] of Object.keys(QUERIES).entries()) {
      expect((await watermarkOf(query, 'hot'))!).toBeGreaterThan(afterKill[i]! + ROLLUPS.warm);
    }

    const restartedAt = Date.now();
    const again = start();
    await waitForTier('warm', restartedAt);
    await waitForTier('cold', restartedAt);
    again.child.kill('SIGTERM');
    expect(await exitOf(again.child)).toBe(0);
    await expectRollupsExact();
  }, 180_000);
});
