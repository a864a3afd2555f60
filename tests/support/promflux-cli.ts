import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { readFile, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';

const REPO_ROOT = resolve(import.meta.dirname, '../..');

/** The built CLI (`bin/promflux.js`) as a child process; a non-zero exit is a result, not a throw. */
export async function runPromflux(
  args: string[],
  opts: { cwd: string; env?: Record<string, string>; timeoutMs?: number; nodeArgs?: string[] },
): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await promisify(execFile)(
      process.execPath,
      [...(opts.nodeArgs ?? []), join(REPO_ROOT, 'bin/promflux.js'), ...args],
      {
        cwd: opts.cwd,
        env: { ...process.env, PROMFLUX_CONFIG: '', ...opts.env },
        timeout: opts.timeoutMs ?? 120_000,
        maxBuffer: 64 * 1024 * 1024,
      },
    );
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    if (typeof e.code !== 'number') throw err;
    return { code: e.code, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

/** A running `promflux` child process (the daemon) and what it printed so far. */
export interface PromfluxProcess {
  child: ChildProcess;
  stdout(): string;
  stderr(): string;
  /** Resolves with the exit code (null when killed by a signal). */
  exited: Promise<number | null>;
}

/** Starts the built CLI without waiting for it; PROMFLUX_CONFIG is unset unless `env` sets it. */
export function spawnPromflux(
  args: string[],
  opts: { cwd: string; env?: Record<string, string> },
): PromfluxProcess {
  const child = spawn(process.execPath, [join(REPO_ROOT, 'bin/promflux.js'), ...args], {
    cwd: opts.cwd,
    env: { ...process.env, PROMFLUX_CONFIG: '', ...opts.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const exited = once(child, 'exit').then(([code]) => code as number | null);
  return { child, stdout: () => stdout, stderr: () => stderr, exited };
}

/**
 * The tags of one Prometheus series per README's data model, spelled independently of promflux's
 * mapping code: `metric_type` the query name, `__name__` → `metric_name`, `job` → `service`,
 * InfluxDB's reserved names prefixed `prom_`, empty values dropped.
 */
export function expectedTags(
  labels: Record<string, string>,
  queryName: string,
): Record<string, string> {
  const tags: Record<string, string> = { metric_type: queryName };
  for (const [name, value] of Object.entries(labels)) {
    if (value === '') continue;
    if (name === '__name__') tags.metric_name = value;
    else if (name === 'job') tags.service = value;
    else if (name === 'time' || name === '_field' || name === '_measurement')
      tags[`prom_${name}`] = value;
    else tags[name] = value;
  }
  return tags;
}

/**
 * The npm packages (`apache-arrow`, `@influxdata/influxdb-client`, ...) the built CLI loaded while
 * running `args`, as listed by ./loaded-modules-hook.mjs, with the run's result.
 */
export async function loadedPackages(
  args: string[],
  opts: { cwd: string; env?: Record<string, string> },
): Promise<{ packages: Set<string>; code: number; stderr: string }> {
  const list = join(opts.cwd, `loaded-modules-${process.hrtime.bigint()}.txt`);
  await writeFile(list, '');
  const hook = pathToFileURL(join(REPO_ROOT, 'tests/support/loaded-modules-hook.mjs')).href;
  const { code, stderr } = await runPromflux(args, {
    ...opts,
    env: { ...opts.env, PROMFLUX_LOADED_MODULES: list },
    nodeArgs: ['--import', hook],
  });
  const packages = new Set<string>();
  for (const line of (await readFile(list, 'utf8')).split('\n')) {
    const m = /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(line);
    if (m) packages.add(m[1]!);
  }
  return { packages, code, stderr };
}
