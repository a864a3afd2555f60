/**
 * What a user reads from the CLI (exit codes, hints, `check` lines, usage errors), through the
 * built bin as a child process against a real Prometheus 2.42 and InfluxDB 1.6.7, a dead port, and
 * (for a graceful stop) a Prometheus stand-in that holds its first request.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateHealthFixture } from '../../scripts/lib/openmetrics-fixture.js';
import {
  freePort,
  startInfluxV1,
  startPrometheus,
  type InfluxV1Server,
  type StartedServer,
} from '../../scripts/lib/servers.js';
import { runChild, type ChildRun } from '../support/child-process.js';

const BIN = resolve(import.meta.dirname, '../../bin/promflux.js');
const STEP_MS = 15_000;
const NOW = Math.floor(Date.now() / STEP_MS) * STEP_MS;
// Data from 30 to 2 minutes ago: a range that ends 40 minutes ago finds none of it.
const FIXTURE = { startMs: NOW - 30 * 60_000, endMs: NOW - 2 * 60_000 };
const rfc3339 = (ms: number): string => new Date(ms).toISOString();

describe('CLI messages and exit codes', () => {
  let prometheus: StartedServer;
  let influx: InfluxV1Server;
  let dir: string;
  let deadPort: number;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'promflux-cli-messages-'));
    deadPort = await freePort();
    [prometheus, influx] = await Promise.all([
      startPrometheus({
        openMetrics: generateHealthFixture({ ...FIXTURE, intervalMs: STEP_MS, instances: 2 }),
      }),
      startInfluxV1(),
    ]);
    await influx.createDatabase('good');
    // A string `value` in the current shard: InfluxDB refuses every float `value` after it.
    await influx.createDatabase('conflict');
    await influx.write(`health_metrics value="text" ${Math.floor(FIXTURE.startMs / 1000)}`, {
      db: 'conflict',
      precision: 's',
    });
  });
  afterAll(async () => {
    await Promise.allSettled([prometheus?.stop(), influx?.stop()]);
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  interface ConfigOptions {
    prometheusUrl?: string;
    db?: string;
    extract?: string;
    pipeline?: string;
  }

  async function config(name: string, o: ConfigOptions = {}): Promise<string> {
    const path = join(dir, `${name}.yaml`);
    await writeFile(
      path,
      `extract:
  prometheus_url: "${o.prometheusUrl ?? prometheus.url}"
  queries:
    - { name: availability, query: up }
${o.extract ?? ''}
load:
  influxdb: { url: "${influx.url}", api: v1, bucket: "${o.db ?? 'good'}/autogen" }
pipeline:
  state_dir: "${join(dir, `${name}-state`)}"
  log_level: warn
${o.pipeline ?? '  delay: 0s'}
`,
    );
    return path;
  }

  const cli = (...args: string[]): Promise<ChildRun> =>
    runChild(process.execPath, [BIN, ...args], {
      cwd: dir,
      env: { ...process.env, PROMFLUX_CONFIG: '' },
    });

  it('exits 3 and names the dead-letter file when the sink rejected points', async () => {
    const path = await config('conflict', { db: 'conflict' });
    const range = ['--from', rfc3339(FIXTURE.startMs), '--to', rfc3339(FIXTURE.startMs + 600_000)];
    const backfill = await cli('backfill', '-c', path, ...range, '--no-progress');
    const deadLetter = join(dir, 'conflict-state', 'dead-letter.jsonl');
    expect(backfill.status, backfill.stderr).toBe(3);
    expect(backfill.stdout).toMatch(
      /^ok\* +availability: .*\(82 rejected, saved to the dead-letter/m,
    );
    expect(backfill.stdout).toContain(`82 points were rejected by the sink as malformed`);
    expect(backfill.stdout).toContain(`dead-letter file ${deadLetter}.\n`);
    expect((await readFile(deadLetter, 'utf8')).trim().split('\n')).toHaveLength(82);

    const json = await cli('backfill', '-c', path, ...range, '--fresh', '--no-progress', '--json');
    expect(json.status).toBe(3);
    expect(JSON.parse(json.stdout)).toMatchObject({ ok: true, dead_letter_file: deadLetter });

    const onceRun = await cli('--once', '-c', path);
    expect(onceRun.status).toBe(3);
    expect(onceRun.stdout).toContain(`dead-letter file ${deadLetter}`);
  });

  it('check marks each step that passed ok, and says a down Prometheus once', async () => {
    const missing = await cli('check', '-c', await config('check-missing', { db: 'absent' }));
    expect(missing.status).toBe(1);
    const influxLines = missing.stdout.split('\n').filter((l) => l.includes(' influxdb '));
    expect(influxLines[0]).toMatch(/^ok {3}influxdb .*: reachable: InfluxDB 1\.6\.7/);
    expect(influxLines.slice(1)).toEqual([expect.stringMatching(/^FAIL influxdb .*"absent"/)]);
    expect(missing.stdout).toMatch(/^ok {3}prometheus .*version 2\.42/m);

    const down = await cli(
      'check',
      '-c',
      await config('check-down', { prometheusUrl: `http://127.0.0.1:${deadPort}` }),
    );
    expect(down.status).toBe(1);
    expect(down.stdout.split('\n').filter((l) => l.includes(' prometheus '))).toEqual([
      expect.stringMatching(/^FAIL prometheus .*unreachable/),
    ]);
  });

  it('--once: a failed query says how to redo its range, and each retry is logged', async () => {
    const path = await config('once-down', {
      prometheusUrl: `http://127.0.0.1:${deadPort}`,
      extract: '  retry: { max_attempts: 3, initial_delay: 10ms, max_delay: 20ms }',
      pipeline: '  delay: 0s\n  interval_seconds: 600',
    });
    const run = await cli('--once', '-c', path);
    expect(run.status).toBe(1);
    const logs = run.stderr
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    const retries = logs.filter((l) => /retrying in \d+ ms/.test(String(l.msg)));
    expect(retries.map((l) => l.attempt)).toEqual([1, 2]);
    for (const r of retries) {
      expect(r).toMatchObject({ level: 'warn', query: 'availability' });
      expect(r.delayMs).toEqual(expect.any(Number));
      expect(String(r.reason)).toContain('ECONNREFUSED');
    }
    const failed = logs.find((l) => String(l.msg).startsWith('Query run failed'));
    expect(failed?.msg).not.toMatch(/next run/);
    expect(failed?.msg).toMatch(
      /--once keeps no watermark.*`promflux backfill --query availability --from \S+Z --to \S+Z`.*`promflux run`/,
    );
  });

  it('--once explains a run that found no samples', async () => {
    // The range is [now - 60m, now - 40m]; the data starts 30 minutes ago.
    const path = await config('once-early', { pipeline: '  delay: 40m\n  interval_seconds: 3600' });
    const run = await cli('--once', '-c', path);
    expect(run.status, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/^ok +availability: 0 samples/m);
    expect(run.stdout).toMatch(
      /note: availability has 2 series now, but no sample before the range ended .*pipeline\.delay 40m ago/,
    );

    const none = await cli(
      '--once',
      '-c',
      await config('once-nothing', {
        extract: '',
        pipeline: '  delay: 0s',
      }).then(async (p) => {
        await writeFile(p, (await readFile(p, 'utf8')).replace('query: up', 'query: no_such'));
        return p;
      }),
    );
    expect(none.stdout).toMatch(/note: availability selects no series, in the range or now/);
  });

  it('fails a query whose response has more series than extract.max_series_per_response', async () => {
    const path = await config('max-series', { extract: '  max_series_per_response: 1' });
    const run = await cli('--once', '-c', path);
    expect(run.status).toBe(1);
    expect(run.stdout).toMatch(/more than 1 series \(extract\.max_series_per_response\)/);
  });

  it('names unknown commands, answers help, and rejects flags that do not go together', async () => {
    const typo = await cli('runn');
    expect(typo.status).toBe(2);
    expect(typo.stderr).toContain("unknown command 'runn', did you mean run?");
    const help = await cli('help');
    expect(help.status).toBe(0);
    expect(help.stdout).toMatch(/^Usage: promflux/);
    expect(help.stdout).toContain('backfill');
    const helpRun = await cli('help', 'backfill');
    expect(helpRun.status).toBe(0);
    expect(helpRun.stdout).toContain('--from <time>');

    const path = await config('flags');
    const summary = await cli('--once', '--summary', '-c', path);
    expect(summary.status).toBe(2);
    expect(summary.stderr).toContain('--summary only applies to --dry-run');
    const plan = await cli('backfill', '--plan', '--fresh', '--from', 'now-1h', '--to', 'now');
    expect(plan.status).toBe(2);
    expect(plan.stderr).toContain("option '--plan' cannot be used with option '--fresh'");
  });

  it('backfill --plan counts "1 request" in the singular', async () => {
    const path = await config('plan');
    const run = await cli('backfill', '-c', path, '--plan', '--from', 'now-5m', '--to', 'now');
    expect(run.status).toBe(0);
    expect(run.stdout).toMatch(/samples in 1 request\n/);
  });

  it('--dry-run ends quietly when its reader stops reading (`| head`)', async () => {
    // A 1s step: ~3,400 lines, far more than a pipe holds, so the writer meets the closed end.
    const path = await config('epipe', { pipeline: '  delay: 0s\n  interval_seconds: 3600' });
    await writeFile(
      path,
      (await readFile(path, 'utf8')).replace('query: up }', 'query: up, step: 1s }'),
    );
    const child = spawn(process.execPath, [BIN, '--once', '--dry-run', '-c', path], {
      cwd: dir,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    // Read until the first point, then close the pipe like `head` does.
    let head = '';
    while (!head.includes('health_metrics,')) {
      head += String(((await once(child.stdout, 'data')) as [Buffer])[0]);
    }
    child.stdout.destroy();
    const [status] = (await once(child, 'close')) as [number | null];
    expect(stderr).not.toMatch(/EPIPE|\n\s+at /);
    expect(status).toBe(0);
  });

  it('on SIGTERM, the daemon finishes the running query and starts no other', async () => {
    const received: string[] = [];
    const held: ServerResponse[] = [];
    let firstQuery!: () => void;
    const firstArrived = new Promise<void>((r) => (firstQuery = r));
    let stopping = false;
    const stall = createServer((req: IncomingMessage, res: ServerResponse) => {
      let body = '';
      req.setEncoding('utf8').on('data', (d: string) => (body += d));
      req.on('end', () => {
        received.push(new URLSearchParams(body).get('query') ?? req.url ?? '');
        if (stopping) unavailable(res);
        else {
          held.push(res);
          firstQuery();
        }
      });
    });
    const unavailable = (res: ServerResponse): void => {
      res.writeHead(503, { 'content-type': 'text/plain' }).end('stalled');
    };
    stall.listen(0, '127.0.0.1');
    await once(stall, 'listening');
    const port = (stall.address() as AddressInfo).port;
    try {
      const path = join(dir, 'stall.yaml');
      await writeFile(
        path,
        `extract:
  prometheus_url: "http://127.0.0.1:${port}"
  retry: { max_attempts: 1 }
  queries:
    - { name: first, query: first_metric }
    - { name: second, query: second_metric }
    - { name: third, query: third_metric }
load:
  influxdb: { url: "${influx.url}", api: v1, bucket: "good/autogen" }
pipeline:
  state_dir: "${join(dir, 'stall-state')}"
  interval_seconds: 1
  delay: 0s
  shutdown_grace: 60s
server: { listen: false }
`,
      );
      const child = spawn(process.execPath, [BIN, 'run', '-c', path], {
        cwd: dir,
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stderr = '';
      child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
      child.stdout.resume();
      await firstArrived;
      const exited = once(child, 'close');
      child.kill('SIGTERM');
      // Wait for the daemon to have seen the signal before the held query ends.
      while (!stderr.includes('Received a stop signal')) await once(child.stderr, 'data');
      stopping = true;
      for (const res of held) unavailable(res);
      const [status] = (await exited) as [number | null];
      expect(status).toBe(0);
      expect(received).toEqual(['first_metric']);
      expect(stderr).not.toContain('ran past the start of the next one');
      expect(stderr).toMatch(/the rest of the cycle was not started/);
    } finally {
      stall.closeAllConnections();
      stall.close();
    }
  });
});
