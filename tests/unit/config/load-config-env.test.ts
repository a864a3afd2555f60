/**
 * loadConfigFile and the PROMFLUX__* variables: a container runs from the environment alone when
 * there is no file at the default path; a file the operator named must exist.
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  DEFAULT_CONFIG_PATH,
  ENV_ONLY_SOURCE,
  loadConfigFile,
  resolveConfigPath,
} from '../../../src/config/index.js';
import { main } from '../../../src/cli/main.js';
import { ConfigError } from '../../../src/core/errors.js';
import { tempDir, yamlWith } from './helpers.js';

const ENV = {
  PROMFLUX__EXTRACT__PROMETHEUS_URL: 'http://localhost:9090',
  PROMFLUX__LOAD__INFLUXDB__URL: 'http://localhost:8086',
  PROMFLUX__LOAD__INFLUXDB__BUCKET: 'health_metrics',
  PROMFLUX__PIPELINE__STATE_DIR: 'state',
  PROMFLUX__SERVER__LISTEN: '0.0.0.0:9469',
};

let tmp: Awaited<ReturnType<typeof tempDir>>;
let cwd: string;
beforeEach(async () => {
  tmp = await tempDir();
  cwd = process.cwd();
  // The default path is relative to the working directory: work where there is none.
  process.chdir(tmp.dir);
});
afterEach(async () => {
  process.chdir(cwd);
  await tmp.cleanup();
});

async function configErrorOf(promise: Promise<unknown>): Promise<ConfigError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ConfigError);
  return err as ConfigError;
}

describe('loadConfigFile without a file at the default path', () => {
  it('runs from the PROMFLUX__* variables alone, relative paths from the working directory', async () => {
    const path = resolveConfigPath(undefined, ENV);
    expect(path).toBe(DEFAULT_CONFIG_PATH);
    const { config, warnings } = await loadConfigFile(path, ENV);
    expect(warnings).toEqual([]);
    expect(config.extract.endpoint.url).toBe('http://localhost:9090');
    expect(config.extract.queries.map((q) => q.name)).toEqual([
      'availability',
      'request_rate',
      'latency_p95',
      'error_rate',
    ]);
    expect(config.load.influxdb.bucket).toBe('health_metrics');
    expect(config.pipeline.stateDir).toBe(join(process.cwd(), 'state'));
    expect(config.pipeline.intervalSeconds).toBe(300);
    expect(config.server.listen).toBe('0.0.0.0:9469');
  });

  it('names the variables that would set the required keys', async () => {
    const err = await configErrorOf(
      loadConfigFile(DEFAULT_CONFIG_PATH, { PROMFLUX__SERVER__LISTEN: ':9469' }),
    );
    expect(err.message).toBe(
      `Invalid configuration in ${ENV_ONLY_SOURCE}:\n` +
        '  extract.prometheus_url: is required (an http(s) URL, e.g. http://localhost:9090); set PROMFLUX__EXTRACT__PROMETHEUS_URL\n' +
        '  load.influxdb.url: is required (an http(s) URL, e.g. http://localhost:8086); set PROMFLUX__LOAD__INFLUXDB__URL\n' +
        '  load.influxdb.bucket: is required (a bucket name; for InfluxDB 1.x "database" or "database/retention_policy"), unless load.tiers lists the tiers; set PROMFLUX__LOAD__INFLUXDB__BUCKET',
    );
  });

  it('still reports the missing file when no PROMFLUX__* variable is set', async () => {
    const err = await configErrorOf(
      loadConfigFile(DEFAULT_CONFIG_PATH, { PROMFLUX__SERVER__LISTEN: '', PROMFLUX_SHARD: '0/2' }),
    );
    expect(err.issues).toEqual([
      {
        path: '',
        message: `cannot read config file "${join(process.cwd(), DEFAULT_CONFIG_PATH)}": no such file (ENOENT) (pass --config <file>, set PROMFLUX_CONFIG, or configure with PROMFLUX__* variables alone)`,
      },
    ]);
  });

  it('uses the file when there is one, the variables over it', async () => {
    await mkdir(join(tmp.dir, 'config'));
    await tmp.file(
      DEFAULT_CONFIG_PATH,
      yamlWith({ pipeline: { interval_seconds: 120 }, server: { listen: '127.0.0.1:1234' } }),
    );
    const { config } = await loadConfigFile(DEFAULT_CONFIG_PATH, ENV);
    expect(config.pipeline.intervalSeconds).toBe(120);
    expect(config.server.listen).toBe('0.0.0.0:9469');
    // Relative paths from a variable resolve against the file's directory, like the file's own.
    expect(config.pipeline.stateDir).toBe(join(process.cwd(), 'config', 'state'));
  });
});

describe('loadConfigFile with a file the operator named', () => {
  it.each([
    ['--config', 'named.yaml', ENV],
    ['$PROMFLUX_CONFIG', 'named.yaml', { ...ENV, PROMFLUX_CONFIG: 'named.yaml' }],
    [
      '$PROMFLUX_CONFIG set to the default path',
      DEFAULT_CONFIG_PATH,
      { ...ENV, PROMFLUX_CONFIG: DEFAULT_CONFIG_PATH },
    ],
  ])('reports it missing even with PROMFLUX__* variables (%s)', async (_how, path, env) => {
    const err = await configErrorOf(loadConfigFile(path, env));
    expect(err.issues).toEqual([
      {
        path: '',
        message: `cannot read config file "${join(process.cwd(), path)}": no such file (ENOENT) (pass --config <file> or set PROMFLUX_CONFIG)`,
      },
    ]);
  });

  it('can be declared optional by the caller', async () => {
    const { config } = await loadConfigFile('named.yaml', ENV, { fileOptional: true });
    expect(config.load.influxdb.endpoint.url).toBe('http://localhost:8086');
    await configErrorOf(loadConfigFile(DEFAULT_CONFIG_PATH, ENV, { fileOptional: false }));
  });
});

describe('promflux check-config from the environment', () => {
  async function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
    const out: string[] = [];
    const err: string[] = [];
    const sink = (into: string[]) =>
      new Writable({
        write(chunk: Buffer, _enc, cb) {
          into.push(chunk.toString());
          cb();
        },
      });
    const code = await main(['node', 'promflux', ...args], {
      stdout: sink(out),
      stderr: sink(err),
      env: ENV,
    });
    return { code, stdout: out.join(''), stderr: err.join('') };
  }

  it('validates the PROMFLUX__* variables alone and says so', async () => {
    const run = await cli(['check-config']);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(new RegExp(`^${escapeRegExp(ENV_ONLY_SOURCE)}: valid\\.`));
  });

  it('refuses a --config file that is missing, even one at the default path', async () => {
    const run = await cli(['check-config', '--config', DEFAULT_CONFIG_PATH]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(
      'no such file (ENOENT) (pass --config <file> or set PROMFLUX_CONFIG)',
    );
  });
});

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
