import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { issuesOf, parse, tempDir, yamlWith } from './helpers.js';

let tmp: Awaited<ReturnType<typeof tempDir>>;
beforeEach(async () => {
  tmp = await tempDir();
});
afterEach(async () => {
  await tmp.cleanup();
});

describe('server.auth', () => {
  it('is absent by default: the status server is open', async () => {
    const { config } = await parse(yamlWith());
    expect(config.server.auth).toBeUndefined();
  });

  it('reads the bearer token and Basic password inline or from files; metrics open by default', async () => {
    await tmp.file('status-token', 'file-bearer-1234\n');
    await tmp.file('status-password', 'file-pw-5678\n');
    const inline = await parse(
      yamlWith({
        server: {
          auth: {
            bearer_token: 'inline-bearer-abcd',
            basic_auth: { username: 'ops', password: 'inline-pw-efgh' },
          },
        },
      }),
    );
    expect(inline.config.server.auth).toEqual({
      bearerToken: 'inline-bearer-abcd',
      basic: { username: 'ops', password: 'inline-pw-efgh' },
      protectMetrics: false,
    });
    const files = await parse(
      yamlWith({
        server: {
          auth: {
            bearer_token_file: 'status-token',
            basic_auth: { username: 'ops', password_file: 'status-password' },
            protect_metrics: true,
          },
        },
      }),
      { baseDir: tmp.dir },
    );
    expect(files.config.server.auth).toEqual({
      bearerToken: 'file-bearer-1234',
      basic: { username: 'ops', password: 'file-pw-5678' },
      protectMetrics: true,
    });
  });

  it('redacts the status credentials like every other secret', async () => {
    const loaded = await parse(
      yamlWith({
        server: {
          auth: {
            bearer_token: 'status-bearer-3Kd9',
            basic_auth: { username: 'ops', password: 'status-pw-8Lm2' },
          },
        },
      }),
    );
    const base64 = Buffer.from('ops:status-pw-8Lm2').toString('base64');
    expect(
      loaded.redactor.redact(`Bearer status-bearer-3Kd9 / status-pw-8Lm2 / Basic ${base64}`),
    ).toBe('Bearer [REDACTED] / [REDACTED] / Basic [REDACTED]');
  });

  it('takes the token from the environment, as the container is configured', async () => {
    await tmp.file('token', 'env-file-bearer-77\n');
    const { config } = await parse(yamlWith(), {
      env: { PROMFLUX__SERVER__AUTH__BEARER_TOKEN_FILE: `${tmp.dir}/token` },
    });
    expect(config.server.auth).toEqual({
      bearerToken: 'env-file-bearer-77',
      protectMetrics: false,
    });
  });

  it('names what is missing or contradictory', async () => {
    expect(await issuesOf(yamlWith({ server: { auth: { protect_metrics: true } } }))).toEqual([
      {
        path: 'server.auth',
        message:
          'set bearer_token (or bearer_token_file), basic_auth, or both; without one every request would be refused',
      },
    ]);
    expect(
      await issuesOf(yamlWith({ server: { auth: { basic_auth: { username: 'ops' } } } })),
    ).toEqual([
      { path: 'server.auth.basic_auth.password', message: 'required (or set password_file)' },
    ]);
    const both = await issuesOf(
      yamlWith({ server: { auth: { bearer_token: 'a-token', bearer_token_file: 'f' } } }),
    );
    expect(both).toEqual([
      {
        path: 'server.auth.bearer_token_file',
        message: 'set either bearer_token or bearer_token_file, not both',
      },
    ]);
    const unknown = await issuesOf(yamlWith({ server: { auth: { token: 'x' } } }));
    expect(unknown.map((i) => i.path)).toContain('server.auth.token');
  });
});
