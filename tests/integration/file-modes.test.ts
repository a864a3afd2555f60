/**
 * Through the built CLI under `umask 000`: a backfill against the real Prometheus and InfluxDB
 * 1.x creates its state directory 0700, and the resume state and dead-letter files 0600; an
 * export creates its directories 0700 and its data files and manifest 0600.
 */
import { mkdtemp, readFile, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { writeFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  startInfluxV1,
  startPrometheus,
  type InfluxV1Server,
  type StartedServer,
} from '../../scripts/lib/servers.js';
import { runChild } from '../support/child-process.js';

const REPO_ROOT = resolve(import.meta.dirname, '../..');
const STEP_MS = 15_000;
const START = Date.UTC(2026, 0, 1);
const SAMPLES = 12;

const modeOf = async (path: string): Promise<number> => (await stat(path)).mode & 0o777;

/** A config for the `modes_probe` gauge: `load` is the YAML of `load.influxdb`, indented. */
function probeConfig(prometheusUrl: string, load: string, pipeline: string): string {
  return `extract:
  prometheus_url: "${prometheusUrl}"
  queries:
    - { name: probe, query: "modes_probe", step: 15s }
load:
  influxdb:
${load}
pipeline:
${pipeline}
`;
}

/** The built CLI with `args`, in a shell that set `umask 000` first. */
const promfluxUnderUmask000 = (cwd: string, args: string[]) =>
  runChild(
    'sh',
    [
      '-c',
      'umask 000 && exec "$@"',
      'sh',
      process.execPath,
      join(REPO_ROOT, 'bin/promflux.js'),
      ...args,
    ],
    { cwd, env: { ...process.env, PROMFLUX_CONFIG: '' } },
  );

describe('files a backfill or an export creates under umask 000', () => {
  let dir: string;
  let prometheus: StartedServer;
  let influx: InfluxV1Server;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'promflux-modes-cli-'));
    const samples = Array.from(
      { length: SAMPLES },
      (_, i) => `modes_probe ${i} ${(START + i * STEP_MS) / 1000}`,
    );
    [prometheus, influx] = await Promise.all([
      startPrometheus({ openMetrics: `# TYPE modes_probe gauge\n${samples.join('\n')}\n# EOF\n` }),
      startInfluxV1(),
    ]);
    await influx.createDatabase('modes');
    // A string `value` in the same shard: InfluxDB refuses every float point promflux writes
    // (field type conflict), so they go to the dead-letter file.
    await influx.write(`health_metrics value="text" ${START * 1_000_000}`, { db: 'modes' });
  });
  afterAll(async () => {
    await Promise.allSettled([prometheus?.stop(), influx?.stop()]);
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('creates the state directory 0700 and backfill.json and dead-letter.jsonl 0600', async () => {
    const stateDir = join(dir, 'var', 'lib', 'promflux');
    const config = join(dir, 'promflux.yaml');
    await writeFile(
      config,
      probeConfig(
        prometheus.url,
        `    url: "${influx.url}"\n    api: v1\n    bucket: "modes/autogen"`,
        `  state_dir: "${stateDir}"\n  log_level: warn`,
      ),
    );
    const run = await promfluxUnderUmask000(dir, [
      'backfill',
      '-c',
      config,
      '--from',
      new Date(START).toISOString(),
      '--to',
      new Date(START + (SAMPLES - 1) * STEP_MS).toISOString(),
    ]);
    const deadLetters = (await readFile(join(stateDir, 'dead-letter.jsonl'), 'utf8'))
      .trim()
      .split('\n');
    expect(deadLetters, run.stderr).toHaveLength(SAMPLES);
    expect(await modeOf(join(dir, 'var'))).toBe(0o700);
    expect(await modeOf(stateDir)).toBe(0o700);
    expect(await modeOf(join(stateDir, 'backfill.json'))).toBe(0o600);
    expect(await modeOf(join(stateDir, 'dead-letter.jsonl'))).toBe(0o600);
  });

  it.each(['parquet', 'csv'])(
    'export (%s): directories 0700, data files and manifest 0600',
    async (format) => {
      const config = join(dir, `export-${format}.yaml`);
      // The sink is never opened by an export, but the config needs one.
      const unusedSink = `    url: "http://127.0.0.1:9"\n    api: v1\n    bucket: "unused/autogen"`;
      await writeFile(config, probeConfig(prometheus.url, unusedSink, '  log_level: warn'));
      const out = join(dir, `exports-${format}`, 'dataset');
      const run = await promfluxUnderUmask000(dir, [
        'export',
        '-c',
        config,
        '--from',
        new Date(START).toISOString(),
        '--to',
        new Date(START + SAMPLES * STEP_MS).toISOString(),
        '--out',
        out,
        '--format',
        format,
        '--split',
        'train=0.5,test=0.5',
      ]);
      expect(run.status, run.stderr).toBe(0);
      const entries = await readdir(out, { recursive: true, withFileTypes: true });
      const files = entries.filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name));
      const dirs = entries.filter((e) => e.isDirectory()).map((e) => join(e.parentPath, e.name));
      // manifest.json, and one file per split.
      expect(files.map((f) => f.split('.').at(-1)).sort()).toEqual(['json', format, format].sort());
      // split=train, split=test, each with query=probe/date=2026-01-01.
      expect(dirs).toHaveLength(6);
      const modes = async (paths: string[]): Promise<Record<string, number>> =>
        Object.fromEntries(
          await Promise.all(
            paths.map(async (p): Promise<[string, number]> => [p, await modeOf(p)]),
          ),
        );
      const want = (paths: string[], mode: number): Record<string, number> =>
        Object.fromEntries(paths.map((p) => [p, mode]));
      expect(await modes(files)).toEqual(want(files, 0o600));
      const created = [join(dir, `exports-${format}`), out, ...dirs];
      expect(await modes(created)).toEqual(want(created, 0o700));
    },
  );
});
