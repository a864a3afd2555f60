/**
 * Faults between the servers: a seeded fault-injecting proxy (tests/support/fault-proxy.ts) in
 * front of the real Prometheus and another in front of the real InfluxDB 1.x, and a `promflux
 * backfill` (the built CLI) through both. Latency, bandwidth limits, resets and clean closes at
 * random offsets of a body, stalls past the timeout, answers lost after the write, 503 bursts:
 * every fault ends in a retry and InfluxDB holds exactly what Prometheus answers (counted with
 * InfluxQL, compared point by point), or, for the two queries whose every attempt is refused, a
 * clear per-query error while the other queries keep going.
 *
 * The faults follow from the seed (PROMFLUX_FAULT_SEED replays another), the order in which
 * distinct requests first arrive and the attempt number; a failure prints the seed.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, onTestFailed } from 'vitest';
import { generateHealthFixture, mulberry32 } from '../../scripts/lib/openmetrics-fixture.js';
import {
  startInfluxV1,
  startPrometheus,
  type InfluxV1Server,
  type StartedServer,
} from '../../scripts/lib/servers.js';
import {
  startFaultProxy,
  type Fault,
  type FaultKind,
  type FaultProxy,
  type ProxiedRequest,
} from '../support/fault-proxy.js';
import { finiteSamples, prometheusRange } from '../support/prometheus-range.js';
import { expectedTags, runPromflux } from '../support/promflux-cli.js';

const SEED = Number(process.env.PROMFLUX_FAULT_SEED ?? 20261201);
const STEP_MS = 15_000;
const FIXTURE_START = Date.UTC(2026, 0, 1);
const FIXTURE_END = FIXTURE_START + 3 * 3_600_000;
const RANGE = { startMs: FIXTURE_START + 600_000, endMs: FIXTURE_START + 600_000 + 7_200_000 };
/** Request timeout at both ends: a stall costs this much. */
const TIMEOUT_MS = 1500;
/** Attempts of one request that may be faulty; later attempts pass (max_attempts is higher). */
const MAX_FAULTY_ATTEMPTS = 3;
/** Requests answered 503 in a row once a burst starts. */
const BURST = 3;

const HEALTHY: Record<string, string> = {
  availability: 'up',
  request_rate: 'rate(http_requests_total[5m])',
  in_flight: 'sum by (instance) (rate(http_requests_total[1m]))',
};
/** Prometheus answers this one 503 to every attempt (through the proxy). */
const DOOMED_QUERY = 'doomed_query';
/** Every write of this one is reset before InfluxDB has its body. */
const DOOMED_WRITE = 'doomed_write';
const QUERIES: Record<string, string> = {
  ...HEALTHY,
  [DOOMED_QUERY]: 'up * 3',
  [DOOMED_WRITE]: 'up * 5',
};

const PROM_KINDS: readonly FaultKind[] = [
  'pass',
  'latency',
  'bandwidth',
  'reset',
  'cut',
  'stall',
  'status',
];
const WRITE_KINDS: readonly FaultKind[] = [
  'pass',
  'latency',
  'bandwidth',
  'reset-request',
  'cut-request',
  'lost',
  'stall',
  'status',
];

/**
 * The fault plan of one proxy: the first attempt of the n-th distinct request gets kind
 * n + offset (so every kind occurs), a repeat gets a random kind half of the time, attempts past
 * {@link MAX_FAULTY_ATTEMPTS} pass; a `status` starts a burst of 503s for whatever comes next.
 */
function faultPlan(kinds: readonly FaultKind[], salt: number) {
  const offset = Math.floor(mulberry32(SEED ^ salt)() * kinds.length);
  let burstLeft = 0;
  return (req: ProxiedRequest): Fault => {
    if (req.attempt > MAX_FAULTY_ATTEMPTS) return { kind: 'pass' };
    if (burstLeft > 0) {
      burstLeft--;
      return { kind: 'status', status: 503 };
    }
    const random = mulberry32((SEED ^ salt) + req.distinct * 7919 + req.attempt * 104_729);
    const kind =
      req.attempt === 1
        ? kinds[(req.distinct + offset) % kinds.length]!
        : random() < 0.5
          ? kinds[Math.floor(random() * kinds.length)]!
          : 'pass';
    const at = random();
    switch (kind) {
      case 'latency':
        return { kind, ms: 50 + Math.floor(random() * 250) };
      case 'bandwidth':
        return { kind, bytesPerSecond: 65_536 + Math.floor(random() * 65_536) };
      case 'reset':
      case 'cut':
      case 'reset-request':
      case 'cut-request':
        return { kind, at };
      case 'stall':
        // A write answers 204 without a body: the head itself is held.
        return { kind, at, headless: kinds === WRITE_KINDS };
      case 'status':
        burstLeft = BURST - 1;
        return { kind, status: 503 };
      default:
        return { kind };
    }
  };
}

function queryOf(req: ProxiedRequest): string | undefined {
  return req.url.startsWith('/api/v1/query_range')
    ? (new URLSearchParams(req.body.toString('utf8')).get('query') ?? undefined)
    : undefined;
}

describe('faults between the servers: a seeded fault proxy before real Prometheus and InfluxDB 1.x', () => {
  let dir: string;
  let prometheus: StartedServer;
  let influx: InfluxV1Server;
  let promProxy: FaultProxy;
  let influxProxy: FaultProxy;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'promflux-faults-'));
    [prometheus, influx] = await Promise.all([
      startPrometheus({
        openMetrics: generateHealthFixture({
          startMs: FIXTURE_START,
          endMs: FIXTURE_END,
          intervalMs: STEP_MS,
          instances: 2,
        }),
      }),
      startInfluxV1(),
    ]);
    await influx.createDatabase('faults');
    const promPlan = faultPlan(PROM_KINDS, 0x51);
    promProxy = await startFaultProxy({
      targetPort: prometheus.port,
      decide: (req) => {
        if (queryOf(req) === QUERIES[DOOMED_QUERY]) return { kind: 'status', status: 503 };
        // Only range queries are damaged: the rest is the CLI's own start-up.
        return queryOf(req) === undefined ? { kind: 'pass' } : promPlan(req);
      },
    });
    const writePlan = faultPlan(WRITE_KINDS, 0x1f);
    influxProxy = await startFaultProxy({
      targetPort: influx.port,
      decide: (req) => {
        if (!req.url.startsWith('/write')) return { kind: 'pass' };
        if (req.body.includes(`metric_type=${DOOMED_WRITE}`)) {
          return { kind: 'reset-request', at: 0.5 };
        }
        return writePlan(req);
      },
    });
  });
  afterAll(async () => {
    await Promise.allSettled([
      promProxy?.stop(),
      influxProxy?.stop(),
      prometheus?.stop(),
      influx?.stop(),
    ]);
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  /** `tags|value@time` rows for one query: what Prometheus answers directly, in promflux's tags. */
  async function expectedRows(name: string): Promise<string[]> {
    const series = await prometheusRange(prometheus.url, QUERIES[name]!, {
      ...RANGE,
      stepMs: STEP_MS,
    });
    return series
      .flatMap((s) => {
        const tags = JSON.stringify(Object.entries(expectedTags(s.labels, name)).sort());
        return finiteSamples(s).map(({ timestampMs, value }) => `${tags}|${value}@${timestampMs}`);
      })
      .sort();
  }

  async function landedRows(name: string): Promise<string[]> {
    const res = await influx.query(
      `SELECT * FROM health_metrics WHERE metric_type = '${name}'`,
      'faults',
      { epoch: 'ms' },
    );
    const series = res.results[0]?.series?.[0];
    if (!series) return [];
    return (series.values ?? [])
      .map((row) => {
        const tags: [string, string][] = [];
        let time = 0;
        let value = 0;
        series.columns.forEach((col, i) => {
          if (col === 'time') time = row[i] as number;
          else if (col === 'value') value = row[i] as number;
          else if (row[i] !== null) tags.push([col, row[i] as string]);
        });
        return `${JSON.stringify(tags.sort())}|${value}@${time}`;
      })
      .sort();
  }

  it('retries every fault until the data lands exactly once; refused queries fail alone, clearly', async () => {
    onTestFailed(() => {
      console.error(
        `fault proxy seed ${SEED} (replay: PROMFLUX_FAULT_SEED=${SEED}); ` +
          `Prometheus faults ${JSON.stringify(promProxy.counts())}, ` +
          `InfluxDB faults ${JSON.stringify(influxProxy.counts())}`,
      );
    });
    const config = join(dir, 'faults.yaml');
    const retry = '{ max_attempts: 6, initial_delay: 10ms, max_delay: 100ms }';
    await writeFile(
      config,
      `extract:
  prometheus_url: "${promProxy.url}"
  timeout: ${TIMEOUT_MS}ms
  concurrency: 2
  max_points_per_series: 60
  retry: ${retry}
  queries:
${Object.entries(QUERIES)
  .map(([name, query]) => `    - { name: ${name}, query: ${JSON.stringify(query)} }`)
  .join('\n')}
load:
  influxdb:
    url: "${influxProxy.url}"
    api: v1
    bucket: "faults/autogen"
    batch_size: 200
    timeout: ${TIMEOUT_MS}ms
    retry: ${retry}
pipeline:
  delay: 0s
  log_level: warn
  state_dir: "${join(dir, 'state')}"
`,
    );
    const run = await runPromflux(
      [
        'backfill',
        '-c',
        config,
        '--from',
        new Date(RANGE.startMs).toISOString(),
        '--to',
        new Date(RANGE.endMs).toISOString(),
        '--no-progress',
      ],
      { cwd: dir },
    );

    // Every kind of fault happened, at both ends, and was retried.
    const promCounts = promProxy.counts();
    const writeCounts = influxProxy.counts();
    for (const kind of PROM_KINDS)
      expect(promCounts[kind], `Prometheus ${kind}`).toBeGreaterThan(0);
    for (const kind of WRITE_KINDS)
      expect(writeCounts[kind], `InfluxDB ${kind}`).toBeGreaterThan(0);
    expect(run.stderr).toMatch(/Range query attempt failed; retrying/);

    // The two refused queries fail, each with its reason; the others succeed.
    expect(run.code, run.stdout + run.stderr).toBe(1);
    const lines = run.stdout.split('\n');
    const errorOf = (name: string): string | undefined => {
      const at = lines.findIndex((l) => l.startsWith(`FAILED ${name}: `));
      return at < 0 ? undefined : lines[at + 1]?.trim();
    };
    const escape = (text: string): string => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    expect(errorOf(DOOMED_QUERY)).toBe(
      `error: Query "${DOOMED_QUERY}" failed (http_503): HTTP 503 from ${promProxy.url}: fault proxy: injected 503`,
    );
    expect(errorOf(DOOMED_WRITE)).toMatch(
      new RegExp(
        `^error: ${escape(`Could not write `)}\\d+${escape(` line(s) of query "${DOOMED_WRITE}" to influxdb: failed after 6 attempt(s); last error: `)}.*ECONNRESET$`,
      ),
    );
    for (const name of Object.keys(HEALTHY)) {
      expect(
        lines.find((l) => l.includes(` ${name}:`)),
        name,
      ).toMatch(new RegExp(`^ok +${name}:`));
    }
    const doomedAttempts = promProxy.log.filter(
      (e) => queryOf(e.request) === QUERIES[DOOMED_QUERY],
    );
    // Tried max_attempts times (the chunk prefetched behind it is abandoned), never more.
    expect(Math.max(...doomedAttempts.map((e) => e.request.attempt))).toBe(6);

    // Exactly once: InfluxQL counts per query equal Prometheus' samples, point for point.
    const counts = await influx.query(
      'SELECT count(value) FROM health_metrics GROUP BY metric_type',
      'faults',
    );
    const landed = Object.fromEntries(
      (counts.results[0]?.series ?? []).map((s) => [s.tags!.metric_type, s.values![0]![1]]),
    );
    for (const name of Object.keys(HEALTHY)) {
      const expected = await expectedRows(name);
      expect(expected.length, name).toBeGreaterThan(400);
      expect(landed[name], name).toBe(expected.length);
      expect(await landedRows(name), name).toEqual(expected);
    }
    // Nothing of the refused ones: no request of the doomed write reached InfluxDB whole.
    expect(landed[DOOMED_QUERY]).toBeUndefined();
    expect(landed[DOOMED_WRITE]).toBeUndefined();
  }, 180_000);
});
