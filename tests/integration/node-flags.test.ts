/**
 * promflux started the way the systemd unit and the container start it (their own node flags,
 * read from systemd/promflux.service and the Dockerfile) really runs with the smaller young
 * generation: V8's new space, as its /metrics reports it while a cycle moves real samples from
 * Prometheus into VictoriaMetrics, never exceeds the two semi-spaces the flags allow. The same
 * cycle under `node bin/promflux.js run` (Node's defaults, as the npm bin starts it) goes beyond
 * them, so the workload is large enough to tell the two apart.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { semiSpaceMiB } from '../../scripts/lib/node-flags.js';
import { writeLoadFixture } from '../../scripts/lib/openmetrics-fixture.js';
import {
  freePort,
  startPrometheus,
  startVictoriaMetrics,
  type StartedServer,
} from '../../scripts/lib/servers.js';
import { containerCommand, unitCommand, type NodeCommand } from '../support/deploy-commands.js';

const REPO_ROOT = resolve(import.meta.dirname, '../..');
const STEP_MS = 15_000;
const SERIES = 100;
const POINTS = 1000;
const SAMPLES = SERIES * POINTS;
const MiB = 2 ** 20;

/** The sum of a metric's samples and its value for one label set, from Prometheus text. */
function metricValue(text: string, name: string, labels = ''): number {
  let sum = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}${labels}`)) continue;
    const rest = line.slice(name.length);
    if (rest[0] !== ' ' && rest[0] !== '{') continue;
    sum += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return sum;
}

describe('promflux as the unit and the container start it: the young generation', () => {
  let prometheus: StartedServer;
  let vm: StartedServer;
  let dir: string;
  let run = 0;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'promflux-node-flags-'));
    // Recent data, so that `run` (from initial_lookback, not a backfill) reads all of it.
    const endMs = Math.floor(Date.now() / STEP_MS) * STEP_MS - 10 * STEP_MS;
    const fixture = join(dir, 'fixture.om');
    await writeLoadFixture(fixture, {
      series: SERIES,
      startMs: endMs - (POINTS - 1) * STEP_MS,
      endMs,
      intervalMs: STEP_MS,
    });
    [prometheus, vm] = await Promise.all([
      startPrometheus({ openMetricsFile: fixture }),
      startVictoriaMetrics(),
    ]);
  });
  afterAll(async () => {
    await Promise.allSettled([prometheus?.stop(), vm?.stop()]);
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  /**
   * Runs `command` (node → this node, the script → this checkout's bin) with a fresh state until
   * its first cycle wrote every sample, scraping /metrics meanwhile; returns the largest new-space
   * size seen, in MiB.
   */
  async function peakNewSpaceMiB(command: NodeCommand): Promise<number> {
    const id = ++run;
    const port = await freePort();
    const config = join(dir, `promflux-${id}.yaml`);
    await writeFile(
      config,
      `extract:
  prometheus_url: "${prometheus.url}"
  queries:
    - { name: load, query: "bench_metric" }
transform:
  valid_metrics: []
load:
  influxdb:
    url: "${vm.url}"
    api: v2
    token: "vm-ignores-it"
    org: "test"
    bucket: "test"
pipeline:
  interval_seconds: 3600
  delay: 0s
  initial_lookback: ${Math.ceil((POINTS * STEP_MS) / 60_000) + 20}m
  log_level: warn
  state_dir: "${join(dir, `state-${id}`)}"
server:
  listen: "127.0.0.1:${port}"
`,
    );
    expect(command.script).toMatch(/(^|\/)bin\/promflux\.js$/);
    const child = spawn(
      process.execPath,
      [...command.nodeFlags, join(REPO_ROOT, 'bin/promflux.js'), ...command.args],
      { env: { ...process.env, PROMFLUX_CONFIG: config }, stdio: ['ignore', 'ignore', 'pipe'] },
    );
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const exited = once(child, 'exit');
    try {
      let peak = 0;
      for (;;) {
        if (child.exitCode !== null) throw new Error(`promflux exited early: ${stderr}`);
        const text = await fetch(`http://127.0.0.1:${port}/metrics`).then(
          (r) => r.text(),
          () => '', // not listening yet
        );
        const newSpace = metricValue(text, 'nodejs_heap_space_size_total_bytes', '{space="new"}');
        peak = Math.max(peak, newSpace / MiB);
        if (metricValue(text, 'promflux_points_written_total') >= SAMPLES) return peak;
        await new Promise((r) => setTimeout(r, 50));
      }
    } finally {
      child.kill('SIGTERM');
      await exited;
    }
  }

  it('caps the new space at two semi-spaces of the flag, where Node defaults go beyond', async () => {
    // The cap production's flags promise (scripts/lib/node-flags.ts), not what the files say.
    const semi = semiSpaceMiB();
    expect(semi).toBeDefined();
    const cap = 2 * semi!;

    const unit = await peakNewSpaceMiB(unitCommand());
    const container = await peakNewSpaceMiB(containerCommand());
    const npmBin = await peakNewSpaceMiB({
      node: 'node',
      nodeFlags: [],
      script: 'bin/promflux.js',
      args: ['run'],
    });
    console.log(`new space peak: unit ${unit} MiB, container ${container} MiB, defaults ${npmBin}`);

    expect(npmBin).toBeGreaterThan(cap);
    expect(unit).toBeGreaterThan(0);
    expect(unit).toBeLessThanOrEqual(cap);
    expect(container).toBeGreaterThan(0);
    expect(container).toBeLessThanOrEqual(cap);
  });
});
