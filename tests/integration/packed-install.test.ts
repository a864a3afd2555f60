/**
 * promflux as users install it: `npm pack` of this checkout, extracted with the checkout's
 * package-lock.json and installed with `npm ci --omit=dev` (production dependencies only, as in
 * the image and the systemd install), then run from a terminal (script(1) gives the child a
 * pseudo-terminal) and without one, against a real Prometheus and InfluxDB 1.x.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  startInfluxV1,
  startPrometheus,
  type InfluxV1Server,
  type StartedServer,
} from '../../scripts/lib/servers.js';
import { runChild, type ChildRun } from '../support/child-process.js';
import { duckdbQuery, sqlString } from '../support/duckdb-reader.js';

const REPO_ROOT = resolve(import.meta.dirname, '../..');
const VERSION = (
  JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string }
).version;
const STEP_MS = 15_000;
// Ends shortly before "now", so that `--once` (the last interval) finds samples.
const FIXTURE_END = Math.floor(Date.now() / STEP_MS) * STEP_MS - 60_000;

/** Two `up` series over the 20 minutes before FIXTURE_END, as OpenMetrics text. */
function fixture(): string {
  const lines = ['# TYPE up gauge'];
  for (const instance of ['a:9100', 'b:9100']) {
    for (let t = FIXTURE_END - 20 * 60_000; t <= FIXTURE_END; t += STEP_MS) {
      lines.push(`up{job="node",instance="${instance}"} 1 ${t / 1000}`);
    }
  }
  return `${lines.join('\n')}\n# EOF\n`;
}

type Mode = 'terminal' | 'pipe';

describe('the packed tarball, installed with production dependencies only', () => {
  let work: string;
  let app: string;
  let config: string;
  let prometheus: StartedServer;
  let influx: InfluxV1Server;

  beforeAll(async () => {
    if (!existsSync(join(REPO_ROOT, 'dist/cli/main.js'))) {
      execFileSync('npm', ['run', 'build'], { cwd: REPO_ROOT, stdio: 'ignore' });
    }
    work = await mkdtemp(join(tmpdir(), 'promflux-packed-'));
    app = join(work, 'app');
    await mkdir(app);
    // --ignore-scripts: no prepack hooks; the checkout is built. The npm cache is filled by
    // scripts/test.sh's `npm ci`, so the install normally needs no network.
    const tarball = execFileSync(
      'npm',
      ['pack', '--ignore-scripts', '--silent', '--pack-destination', work],
      { cwd: REPO_ROOT, encoding: 'utf8' },
    )
      .trim()
      .split('\n')
      .at(-1)!;
    execFileSync('tar', ['-xzf', join(work, tarball), '-C', app, '--strip-components=1']);
    execFileSync('cp', [join(REPO_ROOT, 'package-lock.json'), app]);
    execFileSync(
      'npm',
      ['ci', '--omit=dev', '--ignore-scripts', '--no-audit', '--no-fund', '--prefer-offline'],
      { cwd: app, stdio: 'ignore' },
    );

    [prometheus, influx] = await Promise.all([
      startPrometheus({ openMetrics: fixture() }),
      startInfluxV1(),
    ]);
    await influx.createDatabase('health');
    config = join(work, 'promflux.yaml');
    await writeFile(
      config,
      `extract:
  prometheus_url: "${prometheus.url}"
  queries:
    - { name: availability, query: "up" }
load:
  influxdb:
    url: "${influx.url}"
    # auto: the detection logs a line at info.
    api: auto
    bucket: "health/autogen"
pipeline:
  interval_seconds: 900
  delay: 0s
  log_level: info
  state_dir: "${join(work, 'state')}"
`,
    );
  }, 180_000);

  afterAll(async () => {
    await Promise.allSettled([prometheus?.stop(), influx?.stop()]);
    if (work) await rm(work, { recursive: true, force: true });
  });

  /**
   * `promflux ...args` from the installed tree. On a terminal stdout and stderr are both the
   * terminal, so `stdout` holds both (with \r\n turned into \n).
   */
  async function promflux(mode: Mode, ...args: string[]): Promise<ChildRun> {
    const argv = [process.execPath, join(app, 'bin/promflux.js'), ...args];
    const env = { ...process.env, PROMFLUX_CONFIG: '', NO_COLOR: '1', SHELL: '/bin/sh' };
    if (mode === 'pipe') return runChild(argv[0]!, argv.slice(1), { cwd: work, env });
    const command = argv.map((a) => `'${a}'`).join(' ');
    // -e: script exits with the child's status.
    const run = await runChild('script', ['-qec', command, '/dev/null'], { cwd: work, env });
    return { ...run, stdout: run.stdout.replaceAll('\r\n', '\n') };
  }

  it('has no devDependencies installed, pino-pretty included', () => {
    expect(existsSync(join(app, 'node_modules/pino'))).toBe(true);
    for (const dev of ['pino-pretty', 'vitest', 'typescript']) {
      expect(existsSync(join(app, 'node_modules', dev))).toBe(false);
    }
  });

  it.each<Mode>(['terminal', 'pipe'])('--version and check-config work (%s)', async (mode) => {
    const version = await promflux(mode, '--version');
    expect(version.status, version.stdout + version.stderr).toBe(0);
    expect(version.stdout.trim()).toBe(VERSION);

    const valid = await promflux(mode, 'check-config', '--config', config);
    expect(valid.status, valid.stdout + valid.stderr).toBe(0);
    expect(valid.stdout.trim()).toBe(`${config}: valid. 1 queries: availability.`);
  });

  it.each<Mode>(['terminal', 'pipe'])(
    'check and run --once reach both servers, logging JSON lines (%s)',
    async (mode) => {
      const check = await promflux(mode, 'check', '--config', config);
      expect(check.status, check.stdout + check.stderr).toBe(0);
      expect(check.stdout + check.stderr).not.toContain('pino-pretty');

      const once = await promflux(mode, 'run', '--once', '--config', config);
      const output = once.stdout + once.stderr;
      expect(once.status, output).toBe(0);
      expect(output).toMatch(/^ok +availability: \d+ samples, 2 series → \d+ points; \d+ written/m);
      // Without pino-pretty the log lines are pino's JSON, on a terminal too.
      const logs = output.split('\n').filter((l) => l.startsWith('{'));
      expect(logs.length).toBeGreaterThan(0);
      for (const line of logs) {
        expect(JSON.parse(line)).toMatchObject({ service: 'promflux', level: expect.any(String) });
      }
      const series = await influx.query('SHOW SERIES', 'health');
      expect(series.results[0]?.series?.[0]?.values?.length).toBe(2);
    },
    60_000,
  );

  // The Parquet encoder thread's module is loaded from the installed tree, next to the module
  // that starts it, whatever the working directory (here the directory above the install).
  it('exports Parquet through the encoder thread, every sample read back by DuckDB', async () => {
    const out = join(work, 'dataset');
    const exported = await promflux(
      'pipe',
      'export',
      '--config',
      config,
      '--from',
      new Date(FIXTURE_END - 20 * 60_000).toISOString(),
      '--to',
      new Date(FIXTURE_END + 1).toISOString(),
      '--out',
      out,
      '--no-progress',
    );
    expect(exported.status, exported.stdout + exported.stderr).toBe(0);
    const manifest = JSON.parse(await readFile(join(out, 'manifest.json'), 'utf8')) as {
      queries: { files: { path: string; rows: number }[] }[];
    };
    const files = manifest.queries[0]!.files;
    // Two series, a sample every 15 s over 20 minutes, both ends included.
    expect(files.reduce((n, f) => n + f.rows, 0)).toBe(2 * 81);
    for (const f of files) {
      const [{ n }] = (await duckdbQuery(
        `select count(*)::int as n from ${sqlString(join(out, f.path))}`,
      )) as [{ n: number }];
      expect(n).toBe(f.rows);
    }
  }, 60_000);
});
