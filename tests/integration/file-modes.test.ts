/**
 * Through the built CLI under `umask 000`: a backfill against the real Prometheus and InfluxDB
 * 1.x creates its state directory 0700, and the resume state and dead-letter files 0600.
 */
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
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

describe('files a backfill creates under umask 000', () => {
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
      `extract:
  prometheus_url: "${prometheus.url}"
  queries:
    - { name: probe, query: "modes_probe", step: 15s }
load:
  influxdb:
    url: "${influx.url}"
    api: v1
    bucket: "modes/autogen"
pipeline:
  state_dir: "${stateDir}"
  log_level: warn
`,
    );
    const run = await runChild(
      'sh',
      [
        '-c',
        'umask 000 && exec "$@"',
        'sh',
        process.execPath,
        join(REPO_ROOT, 'bin/promflux.js'),
        'backfill',
        '-c',
        config,
        '--from',
        new Date(START).toISOString(),
        '--to',
        new Date(START + (SAMPLES - 1) * STEP_MS).toISOString(),
      ],
      { cwd: dir, env: { ...process.env, PROMFLUX_CONFIG: '' } },
    );
    const deadLetters = (await readFile(join(stateDir, 'dead-letter.jsonl'), 'utf8'))
      .trim()
      .split('\n');
    expect(deadLetters, run.stderr).toHaveLength(SAMPLES);
    expect(await modeOf(join(dir, 'var'))).toBe(0o700);
    expect(await modeOf(stateDir)).toBe(0o700);
    expect(await modeOf(join(stateDir, 'backfill.json'))).toBe(0o600);
    expect(await modeOf(join(stateDir, 'dead-letter.jsonl'))).toBe(0o600);
  });
});
