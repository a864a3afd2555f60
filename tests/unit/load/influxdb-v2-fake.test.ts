import { gzipSync } from 'node:zlib';

import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import {
  FAKE_V3_VERSION,
  FAKE_VERSION,
  InfluxDbV2Fake,
  parseLineProtocol,
} from '../../fakes/influxdb-v2-fake.js';

const NOW = 1_700_000_000_000_000_000n;

describe('parseLineProtocol (the fake parser)', () => {
  it('parses escapes, tags and every field type', () => {
    const { points, errors } = parseLineProtocol(
      'my\\ m\\,x,b\\=k=v\\ 1,a=x\\,y f=1.5,i=-3i,u=7u,t=true,s="q\\"uote\\\\" 1700000000\n',
      's',
      NOW,
    );
    expect(errors).toEqual([]);
    expect(points).toHaveLength(1);
    const [p] = points;
    expect(p!.measurement).toBe('my m,x');
    expect(p!.tags).toEqual({ 'b=k': 'v 1', a: 'x,y' });
    expect(p!.fields).toEqual({
      f: { type: 'float', value: 1.5 },
      i: { type: 'integer', value: -3n },
      u: { type: 'unsigned', value: 7n },
      t: { type: 'boolean', value: true },
      s: { type: 'string', value: 'q"uote\\' },
    });
    expect(p!.timestamp).toBe(1_700_000_000_000_000_000n);
  });

  it('uses the precision and the server time when the timestamp is absent', () => {
    const { points } = parseLineProtocol('m f=1 1700000000123\nm f=2\n', 'ms', NOW);
    expect(points.map((p) => p.timestamp)).toEqual([1_700_000_000_123_000_000n, NOW]);
  });

  it.each([
    ['m f=NaN 1', 'invalid number'],
    ['m f=-Inf 1', 'invalid number'],
    ['m f=+Inf 1', 'invalid boolean'],
    ['m', 'missing fields'],
    ['m,t=1', 'missing fields'],
    ['bad line', 'invalid field format'],
    ['m,t= f=1', 'missing tag value'],
    ['m,=v f=1', 'missing tag key'],
    ['m,a=1,a=2 f=1', 'duplicate tags'],
    ['m f= 1', 'missing field value'],
    ['m f="x 1', 'unbalanced quotes'],
    ['m f=1 12x', 'bad timestamp'],
    ['m f=1.2i', 'invalid number'],
    ['m f=tru', 'invalid boolean'],
    [',t=1 f=1', 'missing measurement'],
  ])('rejects %j with "%s"', (line, reason) => {
    const { points, errors } = parseLineProtocol(`${line}\n`, 'ns', NOW);
    expect(points).toEqual([]);
    expect(errors).toEqual([`unable to parse '${line}': ${reason}`]);
  });

  it('skips blank lines and comments', () => {
    const { points, errors } = parseLineProtocol('\n# comment\n  \nm f=1 1\n', 'ns', NOW);
    expect(errors).toEqual([]);
    expect(points).toHaveLength(1);
  });
});

describe('InfluxDbV2Fake', () => {
  let fake: InfluxDbV2Fake;
  beforeEach(async () => {
    fake = await InfluxDbV2Fake.start({ maxBodyBytes: 1000, readOnlyToken: 'reader' });
  });
  afterEach(async () => {
    await fake.stop();
  });

  const write = (
    body: string | Buffer,
    opts: { query?: string; token?: string; headers?: Record<string, string> } = {},
  ): Promise<Response> =>
    fetch(
      `${fake.url}/api/v2/write?${opts.query ?? `org=${fake.org}&bucket=${fake.bucket}&precision=s`}`,
      {
        method: 'POST',
        headers: { Authorization: `Token ${opts.token ?? fake.token}`, ...opts.headers },
        body,
      },
    );

  it('stores points and merges fields of identical series and time (new value wins)', async () => {
    expect(
      (await write('m,h=a f=1 100\nm,h=a g=2 100\nm,h=a f=3 100\nm,h=b f=1 100\n')).status,
    ).toBe(204);
    const points = fake.points();
    expect(points).toHaveLength(2);
    expect(points[0]).toEqual({
      bucket: fake.bucket,
      measurement: 'm',
      tags: { h: 'a' },
      fields: { f: 3, g: 2 },
      timestamp: 100_000_000_000n,
    });
  });

  it('rejects the whole batch when one line is malformed', async () => {
    const res = await write('m f=1 1\nm\nm f=3 3\n');
    expect(res.status).toBe(400);
    expect(res.headers.get('x-platform-error-code')).toBe('invalid');
    expect(await res.json()).toEqual({
      code: 'invalid',
      message: "unable to parse 'm': missing fields",
    });
    expect(fake.points()).toEqual([]);
  });

  it('answers auth, org, bucket, precision, size and gzip errors like 2.x', async () => {
    const cases: [Promise<Response>, number, string][] = [
      [write('m f=1', { token: 'wrong' }), 401, 'unauthorized access'],
      [
        write('m f=1', { query: `org=${fake.org}&bucket=b&precision=h` }),
        400,
        'invalid precision; valid precision units are ns, us, ms, and s',
      ],
      [write('m f=1', { query: `org=${fake.org}` }), 404, 'bucket not found'],
      [
        write('m f=1', { query: `bucket=${fake.bucket}` }),
        400,
        'Please provide either orgID or org',
      ],
      [
        write('m f=1', { query: `org=nope&bucket=${fake.bucket}` }),
        404,
        'organization name "nope" not found',
      ],
      [write('m f=1', { query: `org=${fake.org}&bucket=nope` }), 404, 'bucket "nope" not found'],
      [write('m f=1', { token: 'reader' }), 403, 'insufficient permissions for write'],
      [write(`m f=1 1\n`.repeat(200)), 413, 'unable to read data: points batch is too large'],
      [write('', {}), 400, 'writing requires points'],
      [
        write('not gzip', { headers: { 'Content-Encoding': 'gzip' } }),
        400,
        'gzipped HTTP body contains an invalid header',
      ],
    ];
    for (const [pending, status, message] of cases) {
      const res = await pending;
      expect({ status: res.status, body: await res.json() }).toMatchObject({
        status,
        body: { message },
      });
    }
    expect(fake.points()).toEqual([]);
  });

  it('accepts gzip bodies and records the request without the Authorization header', async () => {
    expect(
      (await write(gzipSync('m f=1 1\n'), { headers: { 'Content-Encoding': 'gzip' } })).status,
    ).toBe(204);
    expect(fake.points()).toHaveLength(1);
    const [req] = fake.writes();
    expect(req).toMatchObject({
      method: 'POST',
      gzip: true,
      status: 204,
      query: { precision: 's' },
    });
    expect(req!.headers.authorization).toBeUndefined();
    expect(JSON.stringify(fake.requests)).not.toContain(fake.token);
  });

  it('answers 422 for a field type conflict and keeps the valid points', async () => {
    await write('m f=1 1\n');
    const res = await write('m f="s" 2\nm f=2 3\n');
    expect(res.status).toBe(422);
    expect(((await res.json()) as { message: string }).message).toBe(
      'failure writing points to database: partial write: field type conflict: input field "f" on measurement "m" is type string, already exists as type float dropped=1',
    );
    expect(fake.points().map((p) => p.fields.f)).toEqual([1, 2]);
  });

  it('partial-write mode stores the other lines and answers 422 dropped=N', async () => {
    fake.setPartialWrite((line) => line.includes('bad'));
    const res = await write('m,k=ok f=1 1\nm,k=bad f=1 1\n');
    expect(res.status).toBe(422);
    expect(((await res.json()) as { message: string }).message).toMatch(
      /partial write: .* dropped=1$/,
    );
    expect(fake.points().map((p) => p.tags.k)).toEqual(['ok']);
  });

  it('failNext injects answers, with Retry-After, then serves normally', async () => {
    fake.failNext(1, { status: 429, retryAfter: 2 });
    const first = await write('m f=1 1\n');
    expect(first.status).toBe(429);
    expect(first.headers.get('retry-after')).toBe('2');
    expect((await write('m f=1 1\n')).status).toBe(204);
  });

  it('failNext with reset: the connection is reset mid-request and nothing is stored', async () => {
    fake.failNext(1, { status: 0, reset: true });
    await expect(write('m f=1 1\n')).rejects.toThrow();
    expect(fake.points()).toEqual([]);
    expect(fake.writes()[0]).toMatchObject({ status: 0, bodySha256: '' });
    expect((await write('m f=1 1\n')).status).toBe(204);
  });

  it('records when each request arrived and its body hash; clearFailures ends injections', async () => {
    fake.failNext(1e9, { status: 503 });
    expect((await write('m f=1 1\n')).status).toBe(503);
    fake.clearFailures();
    expect((await write('m f=1 1\n')).status).toBe(204);
    expect((await write('m f=2 1\n')).status).toBe(204);
    const [a, b, c] = fake.writes();
    expect(a!.bodySha256).toBe(b!.bodySha256);
    expect(c!.bodySha256).not.toBe(a!.bodySha256);
    expect(a!.bodySha256).toMatch(/^[0-9a-f]{64}$/);
    expect(a!.atMs).toBeLessThanOrEqual(b!.atMs);
    expect(b!.atMs).toBeLessThanOrEqual(c!.atMs);
  });

  it('serves ping, health, orgs and buckets (GET/POST, 422 on duplicates)', async () => {
    const auth = { Authorization: `Bearer ${fake.token}` };
    const ping = await fetch(`${fake.url}/ping`);
    expect(ping.status).toBe(204);
    expect(ping.headers.get('x-influxdb-version')).toBe(FAKE_VERSION);
    expect(ping.headers.get('x-influxdb-build')).toBe('OSS');
    expect(await (await fetch(`${fake.url}/health`)).json()).toMatchObject({ status: 'pass' });

    const orgs = (await (
      await fetch(`${fake.url}/api/v2/orgs?org=${fake.org}`, { headers: auth })
    ).json()) as {
      orgs: { id: string; name: string }[];
    };
    expect(orgs.orgs.map((o) => o.name)).toEqual([fake.org]);
    expect((await fetch(`${fake.url}/api/v2/orgs?org=nope`, { headers: auth })).status).toBe(404);
    expect((await fetch(`${fake.url}/api/v2/orgs?org=${fake.org}`)).status).toBe(401);

    const orgID = orgs.orgs[0]!.id;
    const post = (body: unknown): Promise<Response> =>
      fetch(`${fake.url}/api/v2/buckets`, {
        method: 'POST',
        headers: auth,
        body: JSON.stringify(body),
      });
    const created = await post({
      orgID,
      name: 'warm',
      retentionRules: [
        { type: 'expire', everySeconds: 86400 * 30, shardGroupDurationSeconds: 86400 },
      ],
    });
    expect(created.status).toBe(201);
    expect(await created.json()).toMatchObject({
      name: 'warm',
      retentionRules: [{ everySeconds: 2592000, shardGroupDurationSeconds: 86400 }],
    });
    const duplicate = await post({ orgID, name: 'warm' });
    expect(duplicate.status).toBe(422);
    expect(await duplicate.json()).toMatchObject({
      message: 'bucket with name warm already exists',
    });
    const short = await post({
      orgID,
      name: 'short',
      retentionRules: [{ type: 'expire', everySeconds: 60 }],
    });
    expect(await short.json()).toMatchObject({
      message: 'retention policy duration must be at least 1h0m0s',
    });

    const found = await fetch(`${fake.url}/api/v2/buckets?org=${fake.org}&name=warm`, {
      headers: auth,
    });
    expect(((await found.json()) as { buckets: unknown[] }).buckets).toHaveLength(1);
    const missing = await fetch(`${fake.url}/api/v2/buckets?org=${fake.org}&name=nope`, {
      headers: auth,
    });
    expect(missing.status).toBe(404);
    expect(await missing.json()).toEqual({ code: 'not found', message: 'bucket "nope" not found' });
  });

  it('drops points beyond a bucket retention with 422', async () => {
    fake.createBucket(fake.org, 'short', 3600);
    const res = await write('m f=1 1\n', { query: `org=${fake.org}&bucket=short&precision=s` });
    expect(res.status).toBe(422);
    expect(await res.json()).toMatchObject({
      message: expect.stringContaining('points beyond retention policy dropped=1'),
    });
  });

  it('counts concurrent requests under latency', async () => {
    fake.latencyMs = 50;
    await Promise.all([write('m f=1 1\n'), write('m f=2 2\n'), write('m f=3 3\n')]);
    expect(fake.maxConcurrent).toBe(3);
  });

  it('patches a bucket retention (PATCH /api/v2/buckets/:id)', async () => {
    const bucket = fake.createBucket(fake.org, 'warm', 86400 * 30);
    const patch = (body: unknown, token = fake.token): Promise<Response> =>
      fetch(`${fake.url}/api/v2/buckets/${bucket.id}`, {
        method: 'PATCH',
        headers: { Authorization: `Token ${token}` },
        body: JSON.stringify(body),
      });
    const res = await patch({ retentionRules: [{ type: 'expire', everySeconds: 86400 * 90 }] });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({
      name: 'warm',
      retentionRules: [{ everySeconds: 86400 * 90, shardGroupDurationSeconds: 86400 }],
    });
    expect(fake.findBucket('warm')!.retentionSeconds).toBe(86400 * 90);
    expect((await patch({ retentionRules: [{ everySeconds: 60 }] })).status).toBe(422);
    expect((await patch({ description: 'no rules, no retention change' })).status).toBe(200);
    expect(fake.findBucket('warm')!.retentionSeconds).toBe(86400 * 90);
    const denied = await patch({ retentionRules: [{ everySeconds: 0 }] }, 'reader');
    expect(denied.status).toBe(401);
    expect(await denied.json()).toEqual({
      code: 'unauthorized',
      message: `write:orgs/${bucket.orgID}/buckets/${bucket.id} is unauthorized`,
    });
    const gone = await fetch(`${fake.url}/api/v2/buckets/0000000000000000`, {
      method: 'PATCH',
      headers: { Authorization: `Token ${fake.token}` },
      body: '{}',
    });
    expect(gone.status).toBe(404);
  });
});

describe('InfluxDbV2Fake with a write-only token', () => {
  let fake: InfluxDbV2Fake;
  beforeEach(async () => {
    fake = await InfluxDbV2Fake.start({ writeOnlyToken: 'writer' });
  });
  afterEach(async () => {
    await fake.stop();
  });
  const get = (path: string): Promise<Response> =>
    fetch(`${fake.url}${path}`, { headers: { Authorization: 'Token writer' } });

  it('writes, but sees no org or bucket and may not create one (as the 2.x authorizer)', async () => {
    const written = await fetch(
      `${fake.url}/api/v2/write?org=${fake.org}&bucket=${fake.bucket}&precision=s`,
      { method: 'POST', headers: { Authorization: 'Token writer' }, body: 'm f=1 1\n' },
    );
    expect(written.status).toBe(204);
    const orgs = await get(`/api/v2/orgs?org=${fake.org}`);
    expect(orgs.status).toBe(200);
    expect(((await orgs.json()) as { orgs: unknown[] }).orgs).toEqual([]);
    expect((await get('/api/v2/orgs?org=nope')).status).toBe(404);

    const orgID = fake.findBucket(fake.bucket)!.orgID;
    const buckets = await get(`/api/v2/buckets?orgID=${orgID}&name=${fake.bucket}`);
    expect(buckets.status).toBe(200);
    expect(((await buckets.json()) as { buckets: unknown[] }).buckets).toEqual([]);
    expect((await get(`/api/v2/buckets?orgID=${orgID}&name=nope`)).status).toBe(404);

    const created = await fetch(`${fake.url}/api/v2/buckets`, {
      method: 'POST',
      headers: { Authorization: 'Token writer' },
      body: JSON.stringify({ orgID, name: 'cold' }),
    });
    expect(created.status).toBe(401);
    expect(await created.json()).toEqual({
      code: 'unauthorized',
      message: `write:orgs/${orgID}/buckets is unauthorized`,
    });
  });
});

describe('InfluxDbV2Fake in v3 mode', () => {
  let fake: InfluxDbV2Fake;
  beforeEach(async () => {
    fake = await InfluxDbV2Fake.start({ generation: 'v3', readOnlyToken: 'reader' });
  });
  afterEach(async () => {
    await fake.stop();
  });
  const call = (method: string, path: string, body?: unknown, token = fake.token) =>
    fetch(`${fake.url}${path}`, {
      method,
      headers: { Authorization: `Bearer ${token}` },
      body: body === undefined ? undefined : JSON.stringify(body),
    });

  it('lists and creates databases with a retention period; v2 management is gone', async () => {
    const ping = await fetch(`${fake.url}/ping`);
    expect(ping.headers.get('x-influxdb-version')).toBe(FAKE_V3_VERSION);
    expect((await call('GET', `/api/v2/buckets?org=${fake.org}`)).status).toBe(404);

    expect(
      (await call('POST', '/api/v3/configure/database', { db: 'hot', retention_period: '7d' }))
        .status,
    ).toBe(200);
    expect((await call('POST', '/api/v3/configure/database', { db: 'forever' })).status).toBe(200);
    const list = await call('GET', '/api/v3/configure/database?format=json');
    expect(await list.json()).toEqual([
      { 'iox::database': fake.bucket },
      { 'iox::database': 'hot' },
      { 'iox::database': 'forever' },
    ]);
    expect(fake.findBucket('hot')!.retentionSeconds).toBe(7 * 86400);
    expect(fake.findBucket('forever')!.retentionSeconds).toBe(0);

    const again = await call('POST', '/api/v3/configure/database', { db: 'hot' });
    expect(again.status).toBe(409);
    expect(await again.json()).toEqual({
      error: 'attempted to create a resource that already exists',
    });
    expect(
      (await call('POST', '/api/v3/configure/database', { db: 'x', retention_period: 'soon' }))
        .status,
    ).toBe(400);
    expect((await call('POST', '/api/v3/configure/database', { db: 'y' }, 'reader')).status).toBe(
      403,
    );
    expect(
      (await call('GET', '/api/v3/configure/database?format=json', undefined, 'bad')).status,
    ).toBe(401);

    const written = await fetch(`${fake.url}/api/v2/write?bucket=hot&org=${fake.org}&precision=s`, {
      method: 'POST',
      headers: { Authorization: `Token ${fake.token}` },
      body: `m f=1 ${Math.floor(Date.now() / 1000)}\n`,
    });
    expect(written.status).toBe(204);
    expect(fake.points('hot')).toHaveLength(1);
  });
});
