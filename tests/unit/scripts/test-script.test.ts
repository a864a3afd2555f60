/**
 * scripts/test.sh's own logic, in a copy of it with stand-ins for npm and install-deps.sh that
 * record their calls: `npm ci` only when node_modules is missing or older than the lock file, and a
 * failed run when the suite changed a tracked file or package-lock.json.
 */
import { execFileSync } from 'node:child_process';
import { appendFileSync, cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { runChild } from '../../support/child-process.js';

const REPO = resolve(import.meta.dirname, '../../..');

// Records `npm ARGS`; `npm ci` creates node_modules as npm does; FAKE_NPM_WRITE=<file> makes
// `npm test` append to that file, FAKE_NPM_TEST_EXIT its exit status.
const FAKE_NPM = `#!/bin/sh
echo "npm $*" >>"$CALLS"
case "$1" in
  ci) mkdir -p node_modules && echo '{}' >node_modules/.package-lock.json ;;
  test)
    [ -z "$FAKE_NPM_WRITE" ] || echo changed >>"$FAKE_NPM_WRITE"
    exit "\${FAKE_NPM_TEST_EXIT:-0}" ;;
esac
`;

let dirs: string[] = [];
afterEach(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
  dirs = [];
});

/** A checkout with test.sh, a lock file and a README; a git repository with `git: true`. */
function checkout(opts: { git: boolean; installed?: boolean }): { root: string; calls: string } {
  const base = mkdtempSync(join(tmpdir(), 'promflux-test-sh-'));
  dirs.push(base);
  const root = join(base, 'repo');
  mkdirSync(join(root, 'scripts'), { recursive: true });
  mkdirSync(join(base, 'bin'));
  cpSync(join(REPO, 'scripts/test.sh'), join(root, 'scripts/test.sh'));
  writeFileSync(join(root, 'scripts/install-deps.sh'), 'echo "install-deps $*" >>"$CALLS"\n');
  writeFileSync(join(root, 'package-lock.json'), '{"lockfileVersion": 3}\n');
  writeFileSync(join(root, 'README.md'), 'readme\n');
  writeFileSync(join(base, 'bin/npm'), FAKE_NPM, { mode: 0o755 });
  if (opts.installed) {
    mkdirSync(join(root, 'node_modules'));
    writeFileSync(join(root, 'node_modules/.package-lock.json'), '{}\n');
    const later = new Date(Date.now() + 60_000);
    utimesSync(join(root, 'node_modules/.package-lock.json'), later, later);
  }
  if (opts.git) {
    writeFileSync(join(root, '.gitignore'), 'node_modules/\n');
    const git = (...args: string[]): void => {
      execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@example.invalid', ...args], {
        cwd: root,
        stdio: 'ignore',
      });
    };
    git('init', '-q');
    git('add', '.');
    git('commit', '-q', '-m', 'fixture');
  }
  return { root, calls: join(base, 'calls.log') };
}

async function testSh(
  at: { root: string; calls: string },
  env: Record<string, string> = {},
): Promise<{ status: number | null; stderr: string; calls: string[] }> {
  const run = await runChild('bash', [join(at.root, 'scripts/test.sh')], {
    env: {
      ...process.env,
      PATH: `${join(at.root, '../bin')}:${process.env.PATH ?? '/usr/bin:/bin'}`,
      CALLS: at.calls,
      ...env,
    },
  });
  let calls: string[] = [];
  try {
    calls = readFileSync(at.calls, 'utf8').trim().split('\n');
  } catch {
    // no call recorded
  }
  return { status: run.status, stderr: run.stderr, calls };
}

describe('scripts/test.sh', () => {
  it('installs the test dependencies and runs npm ci, check and test in a fresh clone', async () => {
    const run = await testSh(checkout({ git: true }));
    expect(run.status, run.stderr).toBe(0);
    expect(run.calls).toEqual([
      'install-deps --test',
      'npm ci --no-audit --no-fund',
      'npm run check',
      'npm test',
    ]);
  });

  it('skips npm ci when node_modules is newer than the lock file', async () => {
    const run = await testSh(checkout({ git: true, installed: true }));
    expect(run.status, run.stderr).toBe(0);
    expect(run.calls).toEqual(['install-deps --test', 'npm run check', 'npm test']);
  });

  it.each(['package-lock.json', 'README.md'])(
    'fails when the run changes the tracked %s, even though the tests passed',
    async (file) => {
      const at = checkout({ git: true, installed: true });
      const run = await testSh(at, { FAKE_NPM_WRITE: join(at.root, file) });
      expect(run.status).toBe(1);
      expect(run.stderr).toContain('test.sh: the run changed tracked files');
      expect(run.stderr).toMatch(new RegExp(`^> +M ${file.replace('.', '\\.')}$`, 'm'));
    },
  );

  it('compares with the state before the run: an edit made before it is no failure', async () => {
    const at = checkout({ git: true, installed: true });
    appendFileSync(join(at.root, 'README.md'), 'local edit\n');
    const run = await testSh(at);
    expect(run.status, run.stderr).toBe(0);
  });

  it('fails on a changed lock file outside git too', async () => {
    const at = checkout({ git: false, installed: true });
    const run = await testSh(at, { FAKE_NPM_WRITE: join(at.root, 'package-lock.json') });
    expect(run.status).toBe(1);
    expect(run.stderr).toContain('package-lock.json');
  });

  it("keeps the tests' own exit status when nothing changed", async () => {
    const run = await testSh(checkout({ git: true, installed: true }), { FAKE_NPM_TEST_EXIT: '3' });
    expect(run.status).toBe(3);
    expect(run.stderr).not.toContain('changed tracked files');
  });
});
