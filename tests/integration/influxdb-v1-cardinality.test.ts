/**
 * InfluxDB 1.x cardinality limits on the real 1.6.7, set low in its config
 * (`max-series-per-database`, `max-values-per-tag`): one clear error naming the limit (and the
 * tag), no bisect-and-dead-letter storm, nothing acknowledged that was not written, and
 * `backfill --plan` comparing the series count with the limits 1.x shows.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { generateHealthFixture } from '../../scripts/lib/openmetrics-fixture.js';
import {
  startInfluxV1,
  startPrometheus,
  type InfluxV1Server,
  type StartedServer,
} from '../../scripts/lib/servers.js';
import type { InfluxSinkConfig } from '../../src/config/types.js';
import type { LineBatch } from '../../src/core/line-batch.js';
import { DeadLetterFile } from '../../src/load/dead-letter.js';
import { InfluxDbV1Sink } from '../../src/load/influxdb-v1.js';
import type { RequestEvent } from '../../src/load/sink.js';
import { InfluxDbV2Fake } from '../fakes/influxdb-v2-fake.js';
import { plainEndpoint } from '../support/plain-endpoint.js';
import { availabilityConfig } from '../support/availability-config.js';
import { runPromflux } from '../support/promflux-cli.js';

const MAX_SERIES = 4;
const MAX_VALUES = 3;
const STEP_MS = 15_000;
const FIXTURE_END = Math.floor(Date.now() / STEP_MS) * STEP_MS - 60_000;
const FIXTURE_START = FIXTURE_END - 3_600_000;
/** `up` has one series per instance: more than MAX_SERIES and MAX_VALUES. */
const INSTANCES = 6;
const NOW_S = Math.floor(Date.now() / 1000) - 600;

describe('InfluxDB 1.6.7 cardinality limits (max-series-per-database, max-values-per-tag)', () => {
  let influx: InfluxV1Server;
  let prometheus: StartedServer;
  let dir: string;
  const sinks: InfluxDbV1Sink[] = [];

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'promflux-cardinality-'));
    [influx, prometheus] = await Promise.all([
      startInfluxV1({
        data: { 'max-series-per-database': MAX_SERIES, 'max-values-per-tag': MAX_VALUES },
      }),
      startPrometheus({
        openMetrics: generateHealthFixture({
          startMs: FIXTURE_START,
          endMs: FIXTURE_END,
          intervalMs: STEP_MS,
          instances: INSTANCES,
        }),
      }),
    ]);
  });
  afterAll(async () => {
    for (const sink of sinks) await sink.close();
    await Promise.allSettled([influx?.stop(), prometheus?.stop()]);
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  function makeSink(db: string, requests: RequestEvent[]): InfluxDbV1Sink {
    const config: InfluxSinkConfig = {
      endpoint: plainEndpoint(influx.url),
      api: 'v1',
      bucket: db,
      batchSize: 5000,
      gzip: false,
      retry: { maxAttempts: 3, initialDelayMs: 1, maxDelayMs: 1, multiplier: 1, jitter: 0 },
    };
    const sink = new InfluxDbV1Sink(config, {
      deadLetter: new DeadLetterFile(join(dir, `${db}.dead-letter.jsonl`)),
      logger: pino({ level: 'silent' }),
      onRequest: (e) => requests.push(e),
    });
    sinks.push(sink);
    return sink;
  }

  function batch(lines: string[]): LineBatch {
    return {
      body: Buffer.from(lines.join('\n') + '\n'),
      lines: lines.length,
      precision: 's',
      query: 'q',
    };
  }

  async function count(q: string, db: string): Promise<unknown> {
    const res = await influx.query(q, db);
    return res.results[0]?.series?.[0]?.values?.[0]?.[1] ?? 0;
  }

  const noDeadLetters = (db: string): Promise<unknown> =>
    expect(readFile(join(dir, `${db}.dead-letter.jsonl`), 'utf8')).rejects.toMatchObject({
      code: 'ENOENT',
    });

  it('max-values-per-tag: one request, an error naming the limit, the tag and the measurement', async () => {
    await influx.createDatabase('tags');
    const requests: RequestEvent[] = [];
    const sink = makeSink('tags', requests);
    const first = Array.from({ length: MAX_VALUES }, (_, i) => `m,host=h${i} v=1 ${NOW_S}`);
    expect((await sink.write(batch(first))).written).toBe(MAX_VALUES);

    // 20 points of a series that exists, one point with a fourth host.
    const existing = Array.from({ length: 20 }, (_, i) => `m,host=h0 v=2 ${NOW_S + 1 + i}`);
    const err = await sink
      .write(batch([...existing, `m,host=h9 v=2 ${NOW_S + 1}`]))
      .catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'SINK_CARDINALITY_LIMIT', status: 400 });
    expect((err as Error).message).toContain(
      `tag "host" of measurement "m" has ${MAX_VALUES} values, over the max-values-per-tag limit (${MAX_VALUES})`,
    );
    expect(requests).toHaveLength(2); // the first write and one refused request: no bisection
    await noDeadLetters('tags');
    // A partial write, but not the one it reports: 1.6.7 says dropped=1, does not store h9, and
    // also loses the first line of the request (h0 at NOW_S + 1). Failing the batch, not trusting
    // the report, is what keeps that point: it is written again once the limit is raised.
    expect(await count("SELECT count(v) FROM m WHERE host = 'h9'", 'tags')).toBe(0);
    expect(await count("SELECT count(v) FROM m WHERE host = 'h0'", 'tags')).toBe(20);
  });

  it('max-series-per-database: one request for a 50-line batch, a clear error, no dead letters', async () => {
    await influx.createDatabase('series');
    const requests: RequestEvent[] = [];
    const sink = makeSink('series', requests);
    const full = ['a', 'b', 'c', 'd'].slice(0, MAX_SERIES).map((k) => `s,${k}=1 v=1 ${NOW_S}`);
    expect((await sink.write(batch(full))).written).toBe(MAX_SERIES);

    const lines = Array.from({ length: 50 }, (_, i) => `s,e=1 v=${i} ${NOW_S + i}`);
    const err = await sink.write(batch(lines)).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'SINK_CARDINALITY_LIMIT', status: 400 });
    expect((err as Error).message).toMatch(
      new RegExp(
        `^Could not write 50 line\\(s\\) of query "q" to influxdb: InfluxDB refused new series: the database reached its max-series-per-database limit \\(${MAX_SERIES}\\)\\. Raise max-series-per-database`,
      ),
    );
    expect(requests).toHaveLength(2);
    await noDeadLetters('series');
  });

  async function cli(name: string, load: string, ...args: string[]) {
    const path = join(dir, `${name}.yaml`);
    await writeFile(
      path,
      availabilityConfig({ prometheusUrl: prometheus.url, influxdb: load, dir, name }),
    );
    return runPromflux(['backfill', '-c', path, ...args], { cwd: dir });
  }

  const v1Load = (db: string): string => `{ url: "${influx.url}", api: v1, bucket: "${db}" }`;
  const range = [
    '--from',
    new Date(FIXTURE_START).toISOString(),
    '--to',
    new Date(FIXTURE_END).toISOString(),
  ];

  it('a backfill over the limit fails once, clearly, dead-letters nothing and records no progress', async () => {
    await influx.createDatabase('cli');
    const run = await cli('cli', v1Load('cli'), ...range);
    expect(run.code, run.stderr).toBe(1);
    expect(run.stderr).toContain(
      `the database reached its max-series-per-database limit (${MAX_SERIES})`,
    );
    await noDeadLetters('cli');
    // Nothing was acknowledged: a rerun (after raising the limit) starts from the beginning.
    const state = await readFile(join(dir, 'cli-state', 'backfill.json'), 'utf8').catch(() => '{}');
    expect(state).not.toContain('availability');
  });

  it('backfill --plan shows the series now and planned against the limits 1.x shows', async () => {
    await influx.createDatabase('planned');
    await influx.write(`x,k=1 v=1 ${NOW_S}\nx,k=2 v=1 ${NOW_S}`, { db: 'planned', precision: 's' });
    const plan = await cli('planned', v1Load('planned'), '--plan', ...range);
    expect(plan.code, plan.stderr).toBe(0);
    const lines = plan.stdout.split('\n');
    const from = lines.indexOf('InfluxDB series limits (as the server shows them):');
    expect(from, plan.stdout).toBeGreaterThan(0);
    expect(lines.slice(from + 1).filter(Boolean)).toEqual([
      `  series limits: max-series-per-database ${MAX_SERIES}, max-values-per-tag ${MAX_VALUES}`,
      `  database "planned": about 2 series now, this plan writes at most ${INSTANCES} series: may exceed max-series-per-database ${MAX_SERIES} (2 + ${INSTANCES}); writes of new series would fail`,
      `  database "planned": a label can take up to ${INSTANCES} values in this plan, over max-values-per-tag ${MAX_VALUES} if they all differ`,
    ]);
  });

  it('backfill --plan against InfluxDB 2.x says that it shows no series limits', async () => {
    const fake = await InfluxDbV2Fake.start({ token: 'plan-token' });
    try {
      const load = `{ url: "${fake.url}", api: v2, token: "plan-token", org: "${fake.org}", bucket: "${fake.bucket}" }`;
      const plan = await cli('planned-v2', load, '--plan', ...range);
      expect(plan.code, plan.stderr).toBe(0);
      expect(plan.stdout).toContain(
        'InfluxDB series limits (as the server shows them):\n  series limits: not visible (InfluxDB 2.x exposes no series limits or series counts through its API)\n',
      );
      expect(fake.writes()).toEqual([]);
    } finally {
      await fake.stop();
    }
  });
});
