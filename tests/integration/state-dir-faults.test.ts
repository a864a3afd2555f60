/**
 * `promflux backfill` with a faulty state directory, against the real Prometheus and InfluxDB 1.x:
 * a full file system (a filled tmpfs as root, ENOSPC injected into the child otherwise) and a
 * corrupt state file. The run ends with a clear error naming the file; the state on disk never
 * claims more than InfluxDB holds; once the fault is gone, a rerun leaves every sample exactly once.
 */
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { generateHealthFixture } from '../../scripts/lib/openmetrics-fixture.js';
import {
  startInfluxV1,
  startPrometheus,
  type InfluxV1Server,
  type StartedServer,
} from '../../scripts/lib/servers.js';
import { availabilityConfig } from '../support/availability-config.js';
import { runPromflux } from '../support/promflux-cli.js';
import { IS_ROOT, mountTmpfs } from '../support/state-dir-faults.js';

const STEP_MS = 15_000;
const END = Math.floor(Date.now() / STEP_MS) * STEP_MS - 60_000;
const START = END - 3_600_000;
const INSTANCES = 2;
/** `up` of each instance on every grid point of [START, END]. */
const POINTS = INSTANCES * ((END - START) / STEP_MS + 1);

/** Preloaded into the child when the fault cannot be real: every temporary state file is "full". */
const INJECT_ENOSPC = `import fs from 'node:fs/promises';
import { syncBuiltinESMExports } from 'node:module';
const open = fs.open;
fs.open = async (path, ...rest) => {
  if (String(path).endsWith('.tmp')) {
    throw Object.assign(new Error(\`ENOSPC: no space left on device, open '\${path}'\`), { code: 'ENOSPC' });
  }
  return open(path, ...rest);
};
syncBuiltinESMExports();
`;

describe('backfill with a faulty state directory (real Prometheus and InfluxDB 1.x)', () => {
  let prometheus: StartedServer;
  let influx: InfluxV1Server;
  let dir: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'promflux-state-dir-'));
    [prometheus, influx] = await Promise.all([
      startPrometheus({
        openMetrics: generateHealthFixture({
          startMs: START - 600_000,
          endMs: END,
          intervalMs: STEP_MS,
          instances: INSTANCES,
        }),
      }),
      startInfluxV1(),
    ]);
  });
  afterAll(async () => {
    await Promise.allSettled([prometheus?.stop(), influx?.stop()]);
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  async function backfill(db: string, stateDir: string, env: Record<string, string> = {}) {
    const config = join(dir, `${db}.yaml`);
    await writeFile(
      config,
      availabilityConfig({
        prometheusUrl: prometheus.url,
        influxdb: `{ url: "${influx.url}", api: v1, bucket: "${db}" }`,
        dir,
        name: db,
        stateDir,
      }),
    );
    const range = ['--from', new Date(START).toISOString(), '--to', new Date(END).toISOString()];
    return runPromflux(['backfill', '-c', config, '--no-progress', ...range], { cwd: dir, env });
  }

  async function pointsIn(db: string): Promise<unknown> {
    const res = await influx.query('SELECT count("value") FROM "health_metrics"', db);
    return res.results[0]?.series?.[0]?.values?.[0]?.[1] ?? 0;
  }

  it(`full (${IS_ROOT ? 'a filled tmpfs' : 'injected ENOSPC'}): a clear error, no progress recorded, a rerun completes it exactly`, async () => {
    await influx.createDatabase('full');
    const stateDir = join(dir, 'full-state');
    await mkdir(stateDir);
    const tmpfs = IS_ROOT ? await mountTmpfs(stateDir) : undefined;
    try {
      const preload = join(dir, 'enospc.mjs');
      await writeFile(preload, INJECT_ENOSPC);
      await tmpfs?.fill();
      const env: Record<string, string> = tmpfs ? {} : { NODE_OPTIONS: `--import=${preload}` };

      const run = await backfill('full', stateDir, env);
      expect(run.code, run.stderr).toBe(1);
      const statePath = join(stateDir, 'backfill.json');
      expect(run.stderr).toContain(
        `promflux: Cannot write the state file ${statePath}: ENOSPC: no space left on device`,
      );
      expect(run.stderr).toContain(`The file system of ${stateDir} is full: free space there.`);
      // InfluxDB has the points; the state claims nothing (it could not be written at all).
      expect(await pointsIn('full')).toBe(POINTS);
      await expect(readFile(statePath, 'utf8')).rejects.toMatchObject({ code: 'ENOENT' });

      await tmpfs?.free();
      const rerun = await backfill('full', stateDir);
      expect(rerun.code, rerun.stderr).toBe(0);
      expect(await pointsIn('full')).toBe(POINTS);
      const state = JSON.parse(await readFile(statePath, 'utf8')) as {
        queries: Record<string, { watermarkMs: number }>;
      };
      expect(Object.values(state.queries).map((q) => q.watermarkMs)).toEqual([END]);
    } finally {
      await tmpfs?.unmount();
    }
  });

  it('a corrupt state file: a clear error naming it, nothing extracted or written', async () => {
    await influx.createDatabase('corrupt');
    const stateDir = join(dir, 'corrupt-state');
    await mkdir(stateDir);
    const statePath = join(stateDir, 'backfill.json');
    await writeFile(statePath, '{"version":1,"queries":{"availability');
    const run = await backfill('corrupt', stateDir);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(`The state file ${statePath} is corrupt (not JSON:`);
    expect(run.stderr).toContain('restore it from a backup, or move it away');
    expect(await readFile(statePath, 'utf8')).toBe('{"version":1,"queries":{"availability');
    expect(await pointsIn('corrupt')).toBe(0);
  });
});
