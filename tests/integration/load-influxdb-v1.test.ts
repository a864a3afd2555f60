import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { startInfluxV1, type InfluxV1Server } from '../../scripts/lib/servers.js';
import type { InfluxSinkConfig } from '../../src/config/types.js';
import { SinkError } from '../../src/core/errors.js';
import { createSink } from '../../src/load/create-sink.js';
import { DeadLetterFile } from '../../src/load/dead-letter.js';
import { InfluxDbV1Sink } from '../../src/load/influxdb-v1.js';
import { readSeriesLimits } from '../../src/load/series-limits.js';
import type { Sink } from '../../src/load/sink.js';
import type { LineBatch, Precision } from '../../src/core/line-batch.js';
import { plainEndpoint } from '../support/plain-endpoint.js';

const ADMIN = { username: 'promflux-admin', password: 'adm1n-pa55word' };
const NOW_S = Math.floor(Date.now() / 1000) - 3600;

describe('load stage → real InfluxDB 1.6.7 (/write)', () => {
  let influx: InfluxV1Server;
  let dir: string;
  const sinks: Sink[] = [];

  beforeAll(async () => {
    influx = await startInfluxV1({ auth: ADMIN });
    dir = await mkdtemp(join(tmpdir(), 'promflux-load-v1-'));
    await influx.createDatabase('health');
    await influx.createDatabase('tiered', { name: 'weekly', duration: '7d' });
    await influx.query(`CREATE RETENTION POLICY "hourly" ON "tiered" DURATION 1h REPLICATION 1`);
    await influx.query(`CREATE USER "reader" WITH PASSWORD 'r3ader'`);
    await influx.query(`GRANT READ ON "health" TO "reader"`);
  });
  afterAll(async () => {
    for (const sink of sinks) await sink.close();
    await influx?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  function sinkConfig(overrides: Partial<InfluxSinkConfig> = {}): InfluxSinkConfig {
    return {
      endpoint: plainEndpoint(influx.url),
      api: 'v1',
      bucket: 'health',
      username: ADMIN.username,
      password: ADMIN.password,
      batchSize: 5000,
      gzip: false,
      retry: { maxAttempts: 2, initialDelayMs: 10, maxDelayMs: 10, multiplier: 1, jitter: 0 },
      ...overrides,
    };
  }

  function makeSink(
    overrides: Partial<InfluxSinkConfig> = {},
    deadLetterName = 'dl.jsonl',
  ): InfluxDbV1Sink {
    const sink = new InfluxDbV1Sink(sinkConfig(overrides), {
      deadLetter: new DeadLetterFile(join(dir, deadLetterName)),
      logger: pino({ level: 'silent' }),
      name: 'influxdb',
    });
    sinks.push(sink);
    return sink;
  }

  function batch(lines: string[], precision: Precision = 's', query = 'health'): LineBatch {
    return { body: Buffer.from(lines.join('\n') + '\n'), lines: lines.length, precision, query };
  }

  async function rows(q: string, db: string): Promise<unknown[][]> {
    const res = await influx.query(q, db, { epoch: 'ms' });
    return res.results[0]?.series?.[0]?.values ?? [];
  }

  it('auto-detects the v1 API from /ping', async () => {
    const sink = await createSink(sinkConfig({ api: 'auto' }), {
      deadLetter: new DeadLetterFile(join(dir, 'auto.jsonl')),
      logger: pino({ level: 'silent' }),
    });
    sinks.push(sink);
    expect(sink).toBeInstanceOf(InfluxDbV1Sink);
  });

  it('writes to a database (db form) with Basic auth; points read back exactly', async () => {
    const sink = makeSink();
    const report = await sink.write(
      batch(
        [
          `up,instance=a,job=node value=1 ${NOW_S}`,
          `up,instance=b,job=node value=0.25 ${NOW_S}`,
          `up,instance=a,job=node value=1.5e-7 ${NOW_S + 15}`,
        ],
        's',
      ),
    );
    expect(report).toEqual({
      written: 3,
      rejected: 0,
      skippedBeyondRetention: 0,
      requests: 1,
      retries: 0,
    });
    expect(
      await rows('SELECT "instance", "job", "value" FROM "up" ORDER BY time', 'health'),
    ).toEqual([
      [NOW_S * 1000, 'a', 'node', 1],
      [NOW_S * 1000, 'b', 'node', 0.25],
      [(NOW_S + 15) * 1000, 'a', 'node', 1.5e-7],
    ]);
  });

  it('writes ms precision and gzip, and re-writing the same points is idempotent', async () => {
    const sink = makeSink({ gzip: true });
    const ms = NOW_S * 1000 + 123;
    const lines = [`lat,instance=c value=12.5 ${ms}`, `lat,instance=c value=13 ${ms + 1}`];
    await sink.write(batch(lines, 'ms'));
    await sink.write(batch(lines, 'ms'));
    expect(await rows('SELECT "value" FROM "lat" ORDER BY time', 'health')).toEqual([
      [ms, 12.5],
      [ms + 1, 13],
    ]);
  });

  it('writes to a retention policy you created (db/rp form), not to the default one', async () => {
    const sink = makeSink({ bucket: 'tiered/weekly' });
    const report = await sink.write(
      batch([`cpu,host=h1 usage=42 ${NOW_S}`, `cpu,host=h2 usage=7 ${NOW_S}`]),
    );
    expect(report.written).toBe(2);
    expect(
      await rows('SELECT "host", "usage" FROM "tiered"."weekly"."cpu" ORDER BY time', 'tiered'),
    ).toEqual([
      [NOW_S * 1000, 'h1', 42],
      [NOW_S * 1000, 'h2', 7],
    ]);
    expect(await rows('SELECT * FROM "tiered"."autogen"."cpu"', 'tiered')).toEqual([]);
  });

  it('points beyond the retention policy (400 partial write): skipped and counted, not dead-lettered', async () => {
    const sink = makeSink({ bucket: 'tiered/hourly' }, 'retention.jsonl');
    const nowS = Math.floor(Date.now() / 1000);
    const fresh = [`rp,instance=a value=1 ${nowS - 60}`, `rp,instance=b value=2 ${nowS - 30}`];
    const expired = [
      `rp,instance=a value=0 ${nowS - 3 * 3600}`,
      `rp,instance=b value=0 ${nowS - 4 * 3600}`,
    ];
    const report = await sink.write(batch([expired[0]!, ...fresh, expired[1]!], 's', 'rp'));
    expect(report).toEqual({
      written: 2,
      rejected: 0,
      skippedBeyondRetention: 2,
      requests: 1,
      retries: 0,
    });
    expect(
      await rows('SELECT "instance", "value" FROM "tiered"."hourly"."rp" ORDER BY time', 'tiered'),
    ).toEqual([
      [(nowS - 60) * 1000, 'a', 1],
      [(nowS - 30) * 1000, 'b', 2],
    ]);
    // A batch that is entirely too old is acknowledged too: nothing to retry, nothing to bisect.
    expect(await sink.write(batch(expired, 's', 'rp'))).toEqual({
      written: 0,
      rejected: 0,
      skippedBeyondRetention: 2,
      requests: 1,
      retries: 0,
    });
    await expect(readFile(join(dir, 'retention.jsonl'), 'utf8')).rejects.toMatchObject({
      code: 'ENOENT',
    });
  });

  it('beyond retention next to a field type conflict: 1.x names the conflict; bisection sorts them out', async () => {
    const sink = makeSink({ bucket: 'tiered/hourly' }, 'retention-conflict.jsonl');
    const nowS = Math.floor(Date.now() / 1000);
    await sink.write(batch([`rpmix value=1 ${nowS - 60}`], 's', 'rpmix'));
    const conflict = `rpmix value="text" ${nowS - 50}`;
    const report = await sink.write(
      batch(
        [`rpmix value=0 ${nowS - 3 * 3600}`, conflict, `rpmix value=2 ${nowS - 40}`],
        's',
        'rpmix',
      ),
    );
    expect(report).toMatchObject({ written: 1, rejected: 1, skippedBeyondRetention: 1 });
    const rows = (await readFile(join(dir, 'retention-conflict.jsonl'), 'utf8'))
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l) as { line: string });
    expect(rows.map((r) => r.line)).toEqual([conflict]);
  });

  it('a batch with one invalid line: the rest lands, the one is dead-lettered with the server error', async () => {
    const sink = makeSink({}, 'invalid.jsonl');
    const lines = Array.from({ length: 50 }, (_, i) => `mixed,instance=i${i} value=${i} ${NOW_S}`);
    const bad = `mixed,instance=bad value=NaN ${NOW_S}`;
    lines[17] = bad;
    const report = await sink.write(batch(lines, 's', 'mixed'));
    expect(report.written).toBe(49);
    expect(report.rejected).toBe(1);
    expect(await rows('SELECT count("value") FROM "mixed"', 'health')).toEqual([[0, 49]]);
    const deadLetters = (await readFile(join(dir, 'invalid.jsonl'), 'utf8'))
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(deadLetters).toEqual([
      {
        time: expect.any(String),
        sink: 'influxdb',
        query: 'mixed',
        line: bad,
        error: `unable to parse '${bad}': invalid number`,
        status: 400,
      },
    ]);
  });

  it('a field type conflict is dead-lettered, not retried', async () => {
    const sink = makeSink({}, 'conflict.jsonl');
    await sink.write(batch([`typed value=1 ${NOW_S}`]));
    const report = await sink.write(
      batch([`typed value="text" ${NOW_S + 1}`, `typed value=2 ${NOW_S + 2}`]),
    );
    expect(report).toMatchObject({ written: 1, rejected: 1, retries: 0 });
    const [row] = (await readFile(join(dir, 'conflict.jsonl'), 'utf8')).trimEnd().split('\n');
    expect(JSON.parse(row!)).toMatchObject({
      status: 400,
      error: expect.stringContaining('field type conflict'),
    });
  });

  it('wrong database → SINK_NOT_FOUND; missing retention policy → SINK_NOT_FOUND without retrying', async () => {
    const noDb = await makeSink({ bucket: 'nope' })
      .write(batch([`m f=1 ${NOW_S}`]))
      .catch((e: unknown) => e);
    expect(noDb).toBeInstanceOf(SinkError);
    expect(noDb).toMatchObject({ code: 'SINK_NOT_FOUND', status: 404 });
    expect((noDb as Error).message).toContain('database not found: "nope"');

    const noRp = await makeSink({ bucket: 'health/nope' })
      .write(batch([`m f=1 ${NOW_S}`]))
      .catch((e: unknown) => e);
    expect(noRp).toMatchObject({ code: 'SINK_NOT_FOUND', status: 500 });
    expect((noRp as Error).message).toContain('retention policy not found: nope');
  });

  it('wrong password → SINK_AUTH (password never in the message); read-only user → SINK_AUTH 403', async () => {
    const wrong = await makeSink({ password: 'Wr0ng-secret' })
      .write(batch([`m f=1 ${NOW_S}`]))
      .catch((e: unknown) => e);
    expect(wrong).toMatchObject({ code: 'SINK_AUTH', status: 401 });
    expect((wrong as Error).message).not.toContain('Wr0ng-secret');
    const reader = await makeSink({ username: 'reader', password: 'r3ader' })
      .write(batch([`m f=1 ${NOW_S}`]))
      .catch((e: unknown) => e);
    expect(reader).toMatchObject({ code: 'SINK_AUTH', status: 403 });
  });

  it('series limits: the defaults for an admin; a reader sees the series count but not the limits', async () => {
    await makeSink().write(batch([`lim,instance=a value=1 ${NOW_S}`]));
    const admin = await readSeriesLimits(sinkConfig(), ['health']);
    expect(admin).toMatchObject({ maxSeriesPerDatabase: 1_000_000, maxValuesPerTag: 100_000 });
    expect(admin.limitsHidden).toBeUndefined();
    expect(admin.databases).toEqual([{ db: 'health', series: expect.any(Number) }]);
    expect(admin.databases[0]!.series).toBeGreaterThan(0);

    const reader = await readSeriesLimits(sinkConfig({ username: 'reader', password: 'r3ader' }), [
      'health',
    ]);
    expect(reader.maxSeriesPerDatabase).toBeUndefined();
    expect(reader.limitsHidden).toMatch(/^SHOW DIAGNOSTICS, which shows them, failed: .*admin/);
    expect(reader.databases).toEqual(admin.databases);
  });

  describe('check()', () => {
    it('reports version, database, retention policy and write access', async () => {
      expect(await makeSink().check()).toEqual({
        ok: true,
        details: [
          'reachable: InfluxDB 1.6.7~rc0 OSS (v1 API, /write)',
          'database "health" found',
          'retention policy "autogen" (default) found (duration infinite)',
          'write access: ok',
        ],
      });
      expect((await makeSink({ bucket: 'tiered/weekly' }).check()).details.slice(2)).toEqual([
        'retention policy "weekly" found (duration 168h0m0s)',
        'write access: ok',
      ]);
    });

    it('names what is wrong: database, retention policy, credentials, permission', async () => {
      const noDb = await makeSink({ bucket: 'nope' }).check();
      expect(noDb.ok).toBe(false);
      expect(noDb.details.at(-1)).toMatch(/^database "nope" not found \(visible: .*health.*\)$/);

      const noRp = await makeSink({ bucket: 'health/nope' }).check();
      expect(noRp.ok).toBe(false);
      expect(noRp.details.at(-1)).toBe('retention policy "nope" not found on database "health"');

      const wrong = await makeSink({ password: 'Wr0ng-secret' }).check();
      expect(wrong.ok).toBe(false);
      expect(wrong.details.at(-1)).toBe(
        'InfluxDB rejected the username/password (401 authorization failed)',
      );
      expect(JSON.stringify(wrong)).not.toContain('Wr0ng-secret');

      const anonymous = await makeSink({ username: undefined, password: undefined }).check();
      expect(anonymous.details.at(-1)).toMatch(
        /requires a username and password and none is configured/,
      );

      const reader = await makeSink({ username: 'reader', password: 'r3ader' }).check();
      expect(reader.ok).toBe(false);
      expect(reader.details.at(-1)).toBe(
        'not permitted to write (403): "reader" user is not authorized to write to database "health"',
      );
    });
  });
});
