/**
 * scripts/install-systemd.sh, run for real: its checks and --dry-run as any user; as root (as in
 * CI) installs into temporary `--root`s, and once with real paths under a temporary directory and
 * a real (uniquely named, removed afterwards) system user. The script runs from a snapshot of this checkout (its built files, the script, a
 * link to node_modules), so a rebuild of dist/ while the suite runs cannot change what it installs.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  chmodSync,
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findBinary } from '../../scripts/lib/servers.js';
import { PROMFLUX_NODE_FLAGS } from '../../scripts/lib/node-flags.js';
import { runChild, type ChildRun } from '../support/child-process.js';
import { SYSTEMD_ANALYZE_MISSING } from '../support/systemd-analyze.js';

const REPO_ROOT = resolve(import.meta.dirname, '../..');
const IS_ROOT = process.getuid?.() === 0;
const ANALYZE = findBinary('systemd-analyze');
const PACKAGE = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as {
  version: string;
};
const EXAMPLE = readFileSync(join(REPO_ROOT, 'config/promflux.example.yaml'), 'utf8');
const REPO_UNIT = readFileSync(join(REPO_ROOT, 'systemd/promflux.service'), 'utf8');

function runScript(src: string, args: string[], env: NodeJS.ProcessEnv = {}): Promise<ChildRun> {
  return runChild('bash', [join(src, 'scripts/install-systemd.sh'), ...args], {
    env: { ...process.env, ...env },
  });
}

/** Every path under `dir` with type, mode, owner, size, mtime and content hash. */
function snapshot(dir: string): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (rel: string): void => {
    const path = join(dir, rel);
    const st = lstatSync(path);
    let entry = `${(st.mode & 0o7777).toString(8)} ${st.uid}:${st.gid} ${st.size} ${st.mtimeMs}`;
    if (st.isFile()) entry += ` ${createHash('sha256').update(readFileSync(path)).digest('hex')}`;
    out.set(rel || '.', entry);
    if (st.isDirectory()) for (const name of readdirSync(path)) walk(join(rel, name));
  };
  walk('');
  return out;
}

function modeOf(path: string): { mode: string; uid: number; gid: number } {
  const st = statSync(path);
  return { mode: (st.mode & 0o7777).toString(8), uid: st.uid, gid: st.gid };
}

/** The part of the checkout the script reads, copied; node_modules linked. */
function snapshotSource(dest: string, parts: string[]): void {
  mkdirSync(join(dest, 'scripts'), { recursive: true });
  execFileSync('cp', ['-R', ...parts.map((p) => join(REPO_ROOT, p)), dest]);
  execFileSync('cp', [join(REPO_ROOT, 'scripts/install-systemd.sh'), join(dest, 'scripts')]);
  symlinkSync(join(REPO_ROOT, 'node_modules'), join(dest, 'node_modules'));
}

describe('scripts/install-systemd.sh', () => {
  let work: string;
  let src: string;
  let nodePath: string;
  let testUser: string | undefined;

  beforeAll(() => {
    if (!existsSync(join(REPO_ROOT, 'dist/cli/main.js'))) {
      execFileSync('npm', ['run', 'build'], { cwd: REPO_ROOT, stdio: 'ignore' });
    }
    work = mkdtempSync(join(tmpdir(), 'promflux-install-'));
    chmodSync(work, 0o755); // the service user must reach the files of the real-user test
    src = join(work, 'src');
    snapshotSource(src, [
      'package.json',
      'package-lock.json',
      'README.md',
      'bin',
      'config',
      'dist',
      'systemd',
    ]);
    nodePath = execFileSync('bash', ['-c', 'command -v node'], { encoding: 'utf8' }).trim();
  });

  afterAll(() => {
    if (testUser && spawnSync('getent', ['passwd', testUser]).status === 0) {
      execFileSync('userdel', [testUser]);
    }
    if (testUser && spawnSync('getent', ['group', testUser]).status === 0) {
      execFileSync('groupdel', [testUser]);
    }
    if (work) rmSync(work, { recursive: true, force: true });
  });

  describe('checks that need no root', () => {
    it('--dry-run into an empty root changes nothing and says what it would do', async () => {
      const empty = mkdtempSync(join(work, 'empty-'));
      const fresh = await runScript(src, ['--root', empty, '--dry-run']);
      expect(fresh.status, fresh.stdout + fresh.stderr).toBe(0);
      expect(readdirSync(empty)).toEqual([]);
      expect(fresh.stdout).toContain('[dry-run] would install promflux');
      expect(fresh.stdout).toContain('[dry-run] would install config/promflux.example.yaml');
      expect(fresh.stdout).toContain('nothing was changed');
    });

    it('refuses to install without root, with exit 1, after the checks that need none', async () => {
      const target = mkdtempSync(join(work, 'not-root-'));
      chmodSync(target, 0o777);
      const script = join(src, 'scripts/install-systemd.sh');
      // As root (CI), the script runs as nobody; otherwise as this user.
      const run = IS_ROOT
        ? await runChild('setpriv', [
            ...['--reuid=65534', '--regid=65534', '--clear-groups', '--'],
            ...['bash', script, '--root', target],
          ])
        : await runScript(src, ['--root', target]);
      expect(run.status).toBe(1);
      expect(run.stdout).toContain(`Node ${process.version} at `);
      expect(run.stderr).toContain('must run as root');
      expect(readdirSync(target)).toEqual([]);
    });

    it.each(['v18.0.0', 'v20.8.1'])(
      'refuses Node %s with exit 1, naming the version and where it is',
      async (version) => {
        const bin = mkdtempSync(join(work, 'fake-node-'));
        writeFileSync(join(bin, 'node'), `#!/bin/sh\necho ${version}\n`, { mode: 0o755 });
        const target = mkdtempSync(join(work, 'old-node-'));
        const run = await runScript(src, ['--root', target], {
          PATH: `${bin}:${process.env.PATH ?? '/usr/bin:/bin'}`,
        });
        expect(run.status).toBe(1);
        expect(run.stderr).toContain(`Node ${version} at ${join(bin, 'node')} is too old`);
        expect(run.stderr).toContain('>= 20.9 (package.json engines)');
        expect(readdirSync(target)).toEqual([]);
      },
    );

    it('refuses an unbuilt checkout with exit 1', async () => {
      const unbuilt = join(work, 'unbuilt');
      snapshotSource(unbuilt, ['package.json', 'bin', 'config', 'systemd']);
      const target = mkdtempSync(join(work, 'unbuilt-root-'));
      const run = await runScript(unbuilt, ['--root', target]);
      expect(run.status).toBe(1);
      expect(run.stderr).toContain('dist/cli/main.js is missing');
      expect(run.stderr).toContain('npm run build');
      expect(readdirSync(target)).toEqual([]);
    });

    it.each([[['--prefix', 'relative/dir']], [['--user', 'Not A User']], [['--frobnicate']]])(
      'rejects bad usage %j with exit 2',
      async (args) => {
        const run = await runScript(src, args);
        expect(run.status).toBe(2);
        expect(run.stderr).toMatch(/^install-systemd: .*\(see --help\)$/m);
      },
    );
  });

  describe('as root (as in CI)', () => {
    // The installs create a user and write under /opt and /etc: they need root, which CI has. As
    // any other user they fail here, saying so, rather than vanishing from the count.
    beforeAll(() => {
      if (!IS_ROOT)
        throw new Error('these install tests need root: run the suite as root, as CI does');
    });
    describe('into --root', () => {
      let root: string;
      beforeAll(() => {
        root = join(work, 'root');
        mkdirSync(join(root, 'etc'), { recursive: true });
        // The target's group database: the config files get this gid, not a host group.
        writeFileSync(join(root, 'etc/group'), 'root:x:0:\npromflux:x:4242:\n');
      });
      const at = (p: string): string => join(root, p);

      it('installs the app, the config dir, config, env file and unit with their modes', async () => {
        // A variable of this shell must not count: the service only gets the EnvironmentFile.
        const run = await runScript(src, ['--root', root], { INFLUX_TOKEN: 'from-the-shell' });
        expect(run.status, run.stdout + run.stderr).toBe(0);

        expect(modeOf(at('opt/promflux'))).toEqual({ mode: '755', uid: 0, gid: 0 });
        expect(modeOf(at('opt/promflux/bin/promflux.js'))).toEqual({ mode: '755', uid: 0, gid: 0 });
        expect(modeOf(at('opt/promflux/dist/cli/main.js')).mode).toBe('644');
        const modules = readdirSync(at('opt/promflux/node_modules'));
        expect(modules).toEqual(expect.arrayContaining(['pino', 'zod', 'commander', 'js-yaml']));
        for (const dev of ['vitest', 'typescript', 'eslint', 'prettier']) {
          expect(modules).not.toContain(dev);
        }
        // Self-contained: runs from the prefix with only the production dependencies.
        const version = spawnSync(nodePath, [at('opt/promflux/bin/promflux.js'), '--version'], {
          encoding: 'utf8',
        });
        expect(version.stdout.trim()).toBe(PACKAGE.version);

        expect(modeOf(at('etc/promflux'))).toEqual({ mode: '750', uid: 0, gid: 4242 });
        expect(modeOf(at('etc/promflux/promflux.yaml'))).toEqual({
          mode: '640',
          uid: 0,
          gid: 4242,
        });
        expect(modeOf(at('etc/promflux/promflux.env'))).toEqual({ mode: '640', uid: 0, gid: 4242 });
        const serviceConfig = EXAMPLE.replace(
          /^( {2}state_dir:) \.\/promflux-state$/m,
          '$1 /var/lib/promflux',
        );
        expect(serviceConfig).not.toBe(EXAMPLE);
        expect(readFileSync(at('etc/promflux/promflux.yaml'), 'utf8')).toBe(serviceConfig);
        expect(readFileSync(at('etc/promflux/promflux.env'), 'utf8')).toMatch(/^#INFLUX_TOKEN=$/m);

        // Default prefix and config dir: the unit is the repository's, with the node found.
        const unit = at('etc/systemd/system/promflux.service');
        expect(modeOf(unit)).toEqual({ mode: '644', uid: 0, gid: 0 });
        expect(readFileSync(unit, 'utf8')).toBe(
          REPO_UNIT.replace('ExecStart=/usr/bin/node ', `ExecStart=${nodePath} `),
        );

        expect(run.stderr).toContain(
          `INFLUX_TOKEN is not set in ${at('etc/promflux/promflux.env')} but the config requires it`,
        );
        expect(run.stdout).toContain('not creating user promflux');
        expect(run.stdout).toContain('no systemctl daemon-reload');
        expect(run.stdout).toContain('valid. 4 queries');
        for (const step of [
          'INFLUX_TOKEN=...',
          'systemctl enable --now promflux',
          'journalctl -u promflux -f',
          'curl http://127.0.0.1:9469/readyz',
        ]) {
          expect(run.stdout).toContain(step);
        }
      });

      it('the installed unit passes systemd-analyze verify', () => {
        expect(ANALYZE, SYSTEMD_ANALYZE_MISSING).toBeDefined();
        const verify = spawnSync(
          ANALYZE!,
          ['verify', '--man=no', at('etc/systemd/system/promflux.service')],
          { encoding: 'utf8' },
        );
        expect(verify.stderr.trim()).toBe('');
        expect(verify.status).toBe(0);
      });

      it('a second run changes nothing', async () => {
        const before = snapshot(root);
        const run = await runScript(src, ['--root', root]);
        expect(run.status, run.stdout + run.stderr).toBe(0);
        expect(snapshot(root)).toEqual(before);
        expect(run.stdout).toContain('with the same files: unchanged');
        expect(run.stdout).toContain('promflux.yaml exists: kept');
        expect(run.stdout).toContain('promflux.service is up to date');
      });

      it('--dry-run changes nothing in an installed root', async () => {
        const before = snapshot(root);
        const run = await runScript(src, ['--root', root, '--dry-run']);
        expect(run.status, run.stdout + run.stderr).toBe(0);
        expect(snapshot(root)).toEqual(before);
      });

      it("keeps an operator's config and env file, checking them with the env file's values", async () => {
        const config = at('etc/promflux/promflux.yaml');
        const envFile = at('etc/promflux/promflux.env');
        const operatorConfig = `extract:
  prometheus_url: "http://prometheus.internal:9090"
  queries:
    - { name: operator_query, query: "up" }
load:
  influxdb:
    url: "http://influx.internal:8086"
    token: "\${INFLUX_TOKEN:?set INFLUX_TOKEN}"
    org: "ops"
    bucket: "health"
pipeline:
  state_dir: /var/lib/promflux
`;
        writeFileSync(config, operatorConfig, { mode: 0o600 });
        chmodSync(config, 0o600);
        writeFileSync(envFile, 'INFLUX_TOKEN="secret-token-123"\n');

        const run = await runScript(src, ['--root', root]);
        expect(run.status, run.stdout + run.stderr).toBe(0);
        expect(readFileSync(config, 'utf8')).toBe(operatorConfig);
        expect(modeOf(config).mode).toBe('600'); // not re-permissioned either
        expect(readFileSync(envFile, 'utf8')).toBe('INFLUX_TOKEN="secret-token-123"\n');
        expect(run.stdout).toContain('valid. 1 queries: operator_query.');
        expect(run.stdout + run.stderr).not.toContain('placeholder');
        expect(run.stdout + run.stderr).not.toContain('secret-token-123');
      });

      it('stops with exit 2 naming the problems of an invalid config, before the unit', async () => {
        const badRoot = mkdtempSync(join(work, 'bad-'));
        const bad = `extract:
  prometheus_url: "http://localhost:9090"
  timout: 3s
load:
  influxdb: { url: "ftp://influx", token: t, org: o, bucket: b }
`;
        mkdirSync(join(badRoot, 'etc/promflux'), { recursive: true });
        writeFileSync(join(badRoot, 'etc/promflux/promflux.yaml'), bad);

        const run = await runScript(src, ['--root', badRoot]);
        expect(run.status).toBe(2);
        expect(run.stderr).toContain('extract.timout: unknown key (did you mean "timeout"?)');
        expect(run.stderr).toContain('load.influxdb.url: must be an http(s) URL');
        expect(run.stderr).toContain('promflux.yaml is invalid');
        expect(readFileSync(join(badRoot, 'etc/promflux/promflux.yaml'), 'utf8')).toBe(bad);
        expect(existsSync(join(badRoot, 'etc/systemd'))).toBe(false);
      });

      it('refuses to replace a prefix that holds something else, with exit 1', async () => {
        const other = mkdtempSync(join(work, 'other-'));
        mkdirSync(join(other, 'opt/promflux'), { recursive: true });
        writeFileSync(join(other, 'opt/promflux/keep.txt'), 'not promflux\n');
        const run = await runScript(src, ['--root', other]);
        expect(run.status).toBe(1);
        expect(run.stderr).toContain('refusing to replace it');
        expect(readdirSync(join(other, 'opt/promflux'))).toEqual(['keep.txt']);
      });
    });

    it('creates the system user, checks the config as it, and names it in the unit', async () => {
      testUser = `pfx-t${process.pid.toString(36)}${Date.now().toString(36).slice(-4)}`;
      expect(spawnSync('getent', ['passwd', testUser]).status).not.toBe(0);
      const base = join(work, 'real');
      const args = [
        ...['--prefix', join(base, 'opt/promflux')],
        ...['--config-dir', join(base, 'etc/promflux')],
        ...['--unit-dir', join(base, 'units')],
        ...['--user', testUser],
      ];
      const run = await runScript(src, args);
      expect(run.status, run.stdout + run.stderr).toBe(0);

      const passwd = execFileSync('getent', ['passwd', testUser], { encoding: 'utf8' }).trim();
      const [, , uid, gid, , home, shell] = passwd.split(':');
      expect(Number(uid)).toBeLessThan(1000); // --system
      expect(home).toBe('/nonexistent');
      expect(shell).toMatch(/\/nologin$/);
      const group = execFileSync('getent', ['group', testUser], { encoding: 'utf8' }).split(':');
      expect(group[2]).toBe(gid);

      const configDir = join(base, 'etc/promflux');
      expect(modeOf(configDir)).toEqual({ mode: '750', uid: 0, gid: Number(gid) });
      expect(modeOf(join(configDir, 'promflux.yaml'))).toEqual({
        mode: '640',
        uid: 0,
        gid: Number(gid),
      });
      // Readable by the user only through the group: the check proves the ownership works.
      expect(run.stdout).toContain(
        `validating ${join(configDir, 'promflux.yaml')} as user ${testUser}`,
      );

      const unitPath = join(base, 'units/promflux.service');
      const unit = readFileSync(unitPath, 'utf8');
      expect(unit).toContain(`DynamicUser=yes\nUser=${testUser}\nGroup=${testUser}\n`);
      expect(unit).toContain(
        `ExecStart=${[nodePath, ...PROMFLUX_NODE_FLAGS].join(' ')} ${join(base, 'opt/promflux')}/bin/promflux.js run`,
      );
      expect(unit).toContain(`EnvironmentFile=-${configDir}/promflux.env`);
      expect(unit).toContain(`Environment=PROMFLUX_CONFIG=${configDir}/promflux.yaml`);
      expect(unit).toContain(`WorkingDirectory=${join(base, 'opt/promflux')}`);
      expect(unit).not.toMatch(/[=:\s]\/opt\/promflux/); // every default path replaced
      expect(ANALYZE, SYSTEMD_ANALYZE_MISSING).toBeDefined();
      const verify = spawnSync(ANALYZE!, ['verify', '--man=no', unitPath], { encoding: 'utf8' });
      expect(verify.stderr.trim()).toBe('');
      expect(verify.status).toBe(0);
      // Paths under /tmp are invisible to the service (PrivateTmp=yes): the script says so.
      expect(run.stderr).toContain('is hidden from the service by PrivateTmp=yes');

      const again = await runScript(src, args);
      expect(again.status, again.stdout + again.stderr).toBe(0);
      expect(again.stdout).toContain(`user ${testUser} exists`);
    });
  });
});
