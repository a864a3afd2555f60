import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ConfigError } from '../../../src/core/errors.js';
import { issuesOf, parse, tempDir, yamlWith, type Doc } from './helpers.js';

let tmp: Awaited<ReturnType<typeof tempDir>>;
beforeEach(async () => {
  tmp = await tempDir();
});
afterEach(async () => {
  await tmp.cleanup();
});

const influxWith = (influxdb: Doc) => yamlWith({ load: { influxdb } });

describe('secret files', () => {
  it.each([
    ['tok\n', 'tok'],
    ['tok', 'tok'],
    ['tok\r\n', 'tok'],
    ['tok\n\n', 'tok\n'],
    ['  tok  \n', '  tok  '],
  ])('token_file %j gives %j (one trailing newline removed)', async (content, expected) => {
    await tmp.file('token', content);
    const { config } = await parse(influxWith({ token_file: 'token' }), { baseDir: tmp.dir });
    expect(config.load.influxdb.token).toBe(expected);
  });

  it('reads every kind of secret file, relative to the config directory', async () => {
    await mkdir(join(tmp.dir, 'secrets'));
    await tmp.file('secrets/influx-password', 'influx-pw\n');
    await tmp.file('secrets/prom-password', 'prom-pw\n');
    await tmp.file('secrets/prom-token', 'prom-token\n');
    const basic = await parse(
      yamlWith({
        extract: { basic_auth: { username: 'reader', password_file: 'secrets/prom-password' } },
        load: { influxdb: { username: 'writer', password_file: './secrets/influx-password' } },
      }),
      { baseDir: tmp.dir },
    );
    expect(basic.config.extract.endpoint.auth).toEqual({
      type: 'basic',
      username: 'reader',
      password: 'prom-pw',
    });
    expect(basic.config.load.influxdb.username).toBe('writer');
    expect(basic.config.load.influxdb.password).toBe('influx-pw');
    expect(basic.config.load.influxdb.endpoint.auth).toEqual({ type: 'none' });
    const bearer = await parse(
      yamlWith({ extract: { bearer_token_file: join(tmp.dir, 'secrets/prom-token') } }),
    );
    expect(bearer.config.extract.endpoint.auth).toEqual({ type: 'bearer', token: 'prom-token' });
    expect(bearer.warnings).toEqual([]);
  });

  it('warns when a secret file is readable by group or others', async () => {
    const file = await tmp.file('token', 'tok\n', 0o644);
    const loaded = await parse(influxWith({ token_file: 'token' }), { baseDir: tmp.dir });
    expect(loaded.config.load.influxdb.token).toBe('tok');
    expect(loaded.warnings).toEqual([
      `load.influxdb.token_file: "${file}" is readable by group or others (mode 0644); restrict it with chmod 600`,
    ]);
  });

  it('reports a missing, empty or directory secret file by key and path', async () => {
    await tmp.file('empty', '\n');
    await mkdir(join(tmp.dir, 'dir'));
    const issues = await issuesOf(
      yamlWith({
        extract: { bearer_token_file: 'missing' },
        load: { influxdb: { token_file: 'empty', username: 'u', password_file: 'dir' } },
      }),
      { baseDir: tmp.dir },
    );
    expect(issues).toEqual([
      {
        path: 'extract.bearer_token_file',
        message: `cannot read "${join(tmp.dir, 'missing')}": no such file (ENOENT)`,
      },
      {
        path: 'load.influxdb.token_file',
        message: `"${join(tmp.dir, 'empty')}" is empty (expected the token)`,
      },
      {
        path: 'load.influxdb.password_file',
        message: `cannot read "${join(tmp.dir, 'dir')}": is a directory, not a file (EISDIR)`,
      },
    ]);
  });

  it('rejects a value and its _file together', async () => {
    await tmp.file('pw', 'pw\n');
    expect(
      await issuesOf(
        yamlWith({
          extract: { basic_auth: { username: 'u', password: 'inline', password_file: 'pw' } },
        }),
        {
          baseDir: tmp.dir,
        },
      ),
    ).toEqual([
      {
        path: 'extract.basic_auth.password_file',
        message: 'set either password or password_file, not both',
      },
    ]);
    expect(
      await issuesOf(yamlWith({ extract: { bearer_token: 'inline', bearer_token_file: 'pw' } }), {
        baseDir: tmp.dir,
      }),
    ).toEqual([
      {
        path: 'extract.bearer_token_file',
        message: 'set either bearer_token or bearer_token_file, not both',
      },
    ]);
  });
});

describe('TLS files', () => {
  it('resolves existing files against the config directory', async () => {
    await tmp.file('ca.pem', 'ca');
    await tmp.file('client.crt', 'crt');
    await tmp.file('client.key', 'key');
    const { config } = await parse(
      yamlWith({
        extract: {
          prometheus_url: 'https://prom:9090',
          tls: {
            ca_file: 'ca.pem',
            cert_file: 'client.crt',
            key_file: 'client.key',
            server_name: 'prom.internal',
          },
        },
        load: {
          influxdb: { url: 'https://influx:8086', tls: { ca_file: join(tmp.dir, 'ca.pem') } },
        },
      }),
      { baseDir: tmp.dir },
    );
    expect(config.extract.endpoint.tls).toEqual({
      caFile: join(tmp.dir, 'ca.pem'),
      certFile: join(tmp.dir, 'client.crt'),
      keyFile: join(tmp.dir, 'client.key'),
      insecureSkipVerify: false,
      serverName: 'prom.internal',
    });
    expect(config.load.influxdb.endpoint.tls).toEqual({
      caFile: join(tmp.dir, 'ca.pem'),
      insecureSkipVerify: false,
    });
  });

  it('reports files that do not exist, and a certificate without its key', async () => {
    await tmp.file('client.crt', 'crt');
    const issues = await issuesOf(
      yamlWith({
        extract: { prometheus_url: 'https://prom', tls: { ca_file: 'nope.pem' } },
        load: { influxdb: { url: 'https://influx', tls: { cert_file: 'client.crt' } } },
      }),
      { baseDir: tmp.dir },
    );
    expect(issues).toEqual([
      {
        path: 'extract.tls.ca_file',
        message: `cannot read "${join(tmp.dir, 'nope.pem')}": no such file (ENOENT)`,
      },
      { path: 'load.influxdb.tls.key_file', message: 'required when cert_file is set' },
    ]);
    const keyOnly = await issuesOf(yamlWith({ extract: { tls: { key_file: 'client.crt' } } }), {
      baseDir: tmp.dir,
    });
    expect(keyOnly).toEqual([
      { path: 'extract.tls.cert_file', message: 'required when key_file is set' },
    ]);
  });
});

describe('secrets never appear in errors or warnings', () => {
  const SECRETS = {
    token: 'tok-SECRET-1234567',
    header: 'hdr-SECRET-7654321',
    bearer: 'brr-SECRET-1111111',
    file: 'file-SECRET-2222222',
    url: 'url-SECRET-3333333',
    env: 'env-SECRET-4444444',
  };

  it('keeps them out of ConfigError messages and issues', async () => {
    await tmp.file('pw', `${SECRETS.file}\n`, 0o644);
    const yaml = yamlWith({
      extract: {
        prometheus_url: `http://user:${SECRETS.url}@prom:9090`,
        headers: { 'X-Api-Key': SECRETS.header, 'Bad Header': SECRETS.header },
        basic_auth: { username: 'u', password_file: 'pw' },
        bearer_token: SECRETS.bearer,
        timeout: SECRETS.token,
      },
      transform: { measurement: '${SECRET_ENV}', valid_metrics: [`/(${SECRETS.env}/`] },
      load: {
        influxdb: {
          api: 'v2',
          token: SECRETS.token,
          token_file: 'pw',
          bucket: 12,
          tokn: SECRETS.token,
        },
      },
      pipeline: {
        log_level: SECRETS.token,
        state_dir: '${SECRET_ENV:?}',
        interval_seconds: SECRETS.token,
      },
    });
    const err = await parse(yaml, { baseDir: tmp.dir, env: { SECRET_ENV: SECRETS.env } }).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(ConfigError);
    const text = `${(err as ConfigError).message}\n${JSON.stringify((err as ConfigError).issues)}`;
    expect((err as ConfigError).issues.length).toBeGreaterThanOrEqual(8);
    for (const secret of Object.values(SECRETS)) expect(text).not.toContain(secret);
  });

  it('keeps them out of YAML syntax errors', async () => {
    const err = await parse(`load:\n  influxdb:\n    token: "${SECRETS.token}\n`).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).message).not.toContain(SECRETS.token);
  });

  it('offers a redactor for any text', async () => {
    await tmp.file('pw', `${SECRETS.file}\n`, 0o600);
    const loaded = await parse(
      yamlWith({
        extract: { headers: { 'X-Api-Key': SECRETS.header }, bearer_token: SECRETS.bearer },
        load: { influxdb: { token: SECRETS.token, username: 'u', password_file: 'pw' } },
      }),
      { baseDir: tmp.dir },
    );
    const text = Object.values(SECRETS).join(' | ');
    expect(loaded.redactor.redact(text)).toBe(
      `[REDACTED] | [REDACTED] | [REDACTED] | [REDACTED] | ${SECRETS.url} | ${SECRETS.env}`,
    );
    expect(loaded.redactor.redact('nothing secret')).toBe('nothing secret');
  });

  it('redacts Basic auth pairs, URL userinfo and scheme credentials in headers', async () => {
    const basic = (user: string, pw: string) => Buffer.from(`${user}:${pw}`).toString('base64');
    const loaded = await parse(
      yamlWith({
        extract: {
          prometheus_url: 'http://prom-user:url%40pass-1@prom:9090',
          headers: { Authorization: 'Bearer hdr-cred-42' },
        },
        load: { influxdb: { username: 'writer', password: 'influx-pw-7' } },
      }),
      { baseDir: tmp.dir },
    );
    const r = loaded.redactor;
    expect(r.redact(`Basic ${basic('writer', 'influx-pw-7')}`)).toBe('Basic [REDACTED]');
    expect(r.redact(`Basic ${basic('prom-user', 'url@pass-1')}`)).toBe('Basic [REDACTED]');
    expect(r.redact('http://prom-user:url%40pass-1@prom:9090 url@pass-1')).toBe(
      'http://prom-user:[REDACTED]@prom:9090 [REDACTED]',
    );
    expect(r.redact('echo: Bearer hdr-cred-42; hdr-cred-42')).toBe('echo: [REDACTED]; [REDACTED]');
  });
});
