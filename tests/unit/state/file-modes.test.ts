/**
 * Files that hold state or data are 0600 and the directories promflux creates 0700, whatever the
 * umask: each case runs in a child process with a permissive umask (it is process-wide).
 */
import { chmod, mkdir, mkdtemp, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runWithUmask } from '../../support/umask-child.js';

const modeOf = async (path: string): Promise<number> => (await stat(path)).mode & 0o777;

describe('private files and directories, whatever the umask', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'promflux-modes-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('creates the state directory (and missing parents) 0700 and the state file 0600', async () => {
    const stateDir = join(dir, 'var', 'promflux');
    for (const umask of [0o000, 0o022]) {
      await rm(join(dir, 'var'), { recursive: true, force: true });
      await runWithUmask(
        umask,
        `const { WatermarkStore } = await import(src + '/state/watermark-store.ts');
         const store = await WatermarkStore.open(${JSON.stringify(join(stateDir, 'watermarks.json'))});
         store.set('up', { watermarkMs: 1, fingerprint: 'f' });
         await store.flush();`,
      );
      expect(await modeOf(join(dir, 'var')), `umask ${umask.toString(8)}`).toBe(0o700);
      expect(await modeOf(stateDir)).toBe(0o700);
      expect(await modeOf(join(stateDir, 'watermarks.json'))).toBe(0o600);
      expect(await readdir(stateDir)).toEqual(['watermarks.json']);
    }
  });

  it('replaces an older, world-readable state file with a 0600 one', async () => {
    const path = join(dir, 'watermarks.json');
    await writeFile(path, JSON.stringify({ version: 1, queries: {} }));
    await chmod(path, 0o644);
    await runWithUmask(
      0,
      `const { WatermarkStore } = await import(src + '/state/watermark-store.ts');
       const store = await WatermarkStore.open(${JSON.stringify(path)});
       store.set('up', { watermarkMs: 1, fingerprint: 'f' });
       await store.flush();`,
    );
    expect(await modeOf(path)).toBe(0o600);
    expect(JSON.parse(await readFile(path, 'utf8')).queries.up.watermarkMs).toBe(1);
  });

  it('creates the dead-letter file 0600 in a new 0700 directory, and narrows an existing one', async () => {
    const fresh = join(dir, 'dl', 'dead-letter.jsonl');
    const existing = join(dir, 'old.jsonl');
    await writeFile(existing, '{"earlier":true}\n');
    await chmod(existing, 0o666);
    await runWithUmask(
      0,
      `const { DeadLetterFile } = await import(src + '/load/dead-letter.ts');
       for (const path of ${JSON.stringify([fresh, existing])}) {
         await new DeadLetterFile(path).append({ sink: 's', query: 'q', lines: ['m v=1 1'], error: 'bad' });
       }`,
    );
    expect(await modeOf(join(dir, 'dl'))).toBe(0o700);
    expect(await modeOf(fresh)).toBe(0o600);
    expect(await modeOf(existing)).toBe(0o600);
    const lines = (await readFile(existing, 'utf8')).trim().split('\n');
    expect(lines).toHaveLength(2);
    expect(lines[0]).toBe('{"earlier":true}');
  });

  it('leaves an existing directory as it is: it may be shared', async () => {
    const shared = join(dir, 'shared');
    await mkdir(shared);
    await chmod(shared, 0o755);
    await runWithUmask(
      0,
      `const { ensurePrivateDir, openPrivateFile } = await import(src + '/core/private-file.ts');
       await ensurePrivateDir(${JSON.stringify(shared)});
       const file = await openPrivateFile(${JSON.stringify(join(shared, 'export.lp'))}, 'w');
       await file.close();`,
    );
    expect(await modeOf(shared)).toBe(0o755);
    expect(await modeOf(join(shared, 'export.lp'))).toBe(0o600);
  });
});
