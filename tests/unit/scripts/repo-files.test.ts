/**
 * What a checkout and its package hold: the files README tells a user to create stay out of git
 * and out of `npm pack`, and package.json advertises only what the source has.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import {
  cpSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const REPO = resolve(import.meta.dirname, '../../..');
// README's "cp config/promflux.example.yaml config/promflux.yaml", and the example's state_dir
// (./promflux-state, relative to the config file).
const USER_FILES = ['config/promflux.yaml', 'config/promflux-state/watermarks.json'];

describe('repository files', () => {
  it.each(USER_FILES)('git ignores %s', (path) => {
    const run = spawnSync('git', ['check-ignore', '--no-index', '-q', path], { cwd: REPO });
    expect(run.status, `${path} is not ignored`).toBe(0);
  });

  it('npm pack leaves out a local config and state next to the example', () => {
    // A copy of what packing reads, plus the files a user creates: no install or build needed.
    // (npm ignores .gitignore inside a directory listed in package.json's files.)
    const dir = mkdtempSync(join(tmpdir(), 'promflux-pack-'));
    try {
      for (const f of ['package.json', '.gitignore', 'config/promflux.example.yaml']) {
        cpSync(join(REPO, f), join(dir, f));
      }
      for (const f of USER_FILES) {
        mkdirSync(dirname(join(dir, f)), { recursive: true });
        writeFileSync(join(dir, f), 'token: secret\n');
      }
      const packed = JSON.parse(
        execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], {
          cwd: dir,
          encoding: 'utf8',
        }),
      ) as Array<{ files: Array<{ path: string }> }>;
      const config = packed[0]!.files.map((f) => f.path).filter((p) => p.startsWith('config/'));
      expect(config).toEqual(['config/promflux.example.yaml']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('package.json describes no tiered buckets while src/ has none', () => {
    const pkg = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as {
      description: string;
    };
    const sources = readdirSync(join(REPO, 'src'), { recursive: true, encoding: 'utf8' });
    const hasTiers = sources.some((p) => /tier/i.test(p));
    if (!hasTiers) expect(pkg.description).not.toMatch(/tier/i);
  });
});
