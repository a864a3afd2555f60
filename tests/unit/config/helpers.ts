import { mkdtemp, rm, writeFile, chmod } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dump } from 'js-yaml';
import { ConfigError, type ConfigIssue } from '../../../src/core/errors.js';
import { parseConfig, type LoadedConfig } from '../../../src/config/index.js';

/** A YAML document (or a patch of one) as plain data. */
export type Doc = Record<string, unknown>;

/** The smallest valid document; tests patch it. */
export function baseDoc(): Doc {
  return {
    extract: { prometheus_url: 'http://localhost:9090' },
    load: { influxdb: { url: 'http://localhost:8086', bucket: 'health_metrics' } },
  };
}

/** Deep-merges `patch` into `target`; `undefined` in the patch deletes the key. */
export function merge(target: Doc, patch: Doc): Doc {
  const out: Doc = { ...target };
  for (const [key, value] of Object.entries(patch)) {
    if (value === undefined) delete out[key];
    else if (isPlain(value) && isPlain(out[key])) out[key] = merge(out[key], value);
    else out[key] = value;
  }
  return out;
}

function isPlain(v: unknown): v is Doc {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function yamlWith(patch: Doc = {}): string {
  return dump(merge(baseDoc(), patch));
}

export interface TestOptions {
  env?: NodeJS.ProcessEnv;
  baseDir?: string;
}

export function parse(yamlText: string, opts: TestOptions = {}): Promise<LoadedConfig> {
  return parseConfig(yamlText, { env: opts.env ?? {}, baseDir: opts.baseDir ?? '/etc/promflux' });
}

/** The issues parseConfig reports for `yamlText`; fails the test when it does not throw. */
export async function issuesOf(yamlText: string, opts: TestOptions = {}): Promise<ConfigIssue[]> {
  const err = await parse(yamlText, opts).then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(err instanceof ConfigError)) {
    throw new Error(
      `expected a ConfigError, got ${err instanceof Error ? err.message : 'success'}`,
    );
  }
  return [...err.issues];
}

/** A temporary directory, removed by the returned cleanup. */
export async function tempDir(): Promise<{
  dir: string;
  file: (name: string, content: string, mode?: number) => Promise<string>;
  cleanup: () => Promise<void>;
}> {
  const dir = await mkdtemp(join(tmpdir(), 'promflux-config-'));
  return {
    dir,
    file: async (name, content, mode = 0o600) => {
      const path = join(dir, name);
      await writeFile(path, content, { mode });
      await chmod(path, mode);
      return path;
    },
    cleanup: () => rm(dir, { recursive: true, force: true }),
  };
}
