import { spawnSync } from 'node:child_process';
import { chmod, mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { queryFingerprint, WatermarkStore } from '../../../src/state/watermark-store.js';

const STORE_MODULE = resolve(import.meta.dirname, '../../../src/state/watermark-store.ts');

describe('WatermarkStore', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'promflux-state-'));
  });
  afterEach(async () => {
    await chmod(dir, 0o700).catch(() => undefined);
    await rm(dir, { recursive: true, force: true });
  });

  it('starts empty, persists every change, and reads it back', async () => {
    const path = join(dir, 'sub', 'watermarks.json');
    const store = await WatermarkStore.open(path);
    expect(store.get('a')).toBeUndefined();
    store.set('a', { watermarkMs: 1000, fingerprint: 'f1' });
    store.set('a', { watermarkMs: 2000, fingerprint: 'f1' });
    store.set('b', { watermarkMs: 5000, fingerprint: 'f2' });
    await store.flush();
    const again = await WatermarkStore.open(path);
    expect(again.get('a')).toMatchObject({ watermarkMs: 2000, fingerprint: 'f1' });
    expect(again.get('b')).toMatchObject({ watermarkMs: 5000, fingerprint: 'f2' });
    expect(await readdir(join(dir, 'sub'))).toEqual(['watermarks.json']); // no temp file left
  });

  it('lists its entries and forgets one durably, in order with the writes', async () => {
    const path = join(dir, 'watermarks.json');
    const store = await WatermarkStore.open(path);
    store.set('a', { watermarkMs: 1000, fingerprint: 'f' });
    store.set('b', { watermarkMs: 2000, fingerprint: 'f' });
    store.delete('a');
    store.delete('never-there');
    expect([...store.entries().keys()]).toEqual(['b']);
    await store.flush();
    const again = await WatermarkStore.open(path);
    expect(again.get('a')).toBeUndefined();
    expect([...again.entries()].map(([k, s]) => [k, s.watermarkMs])).toEqual([['b', 2000]]);
  });

  it('ignores a temporary file left by a crash between write and rename', async () => {
    const path = join(dir, 'watermarks.json');
    const store = await WatermarkStore.open(path);
    store.set('a', { watermarkMs: 1000, fingerprint: 'f' });
    await store.flush();
    await writeFile(`${path}.999.tmp`, '{"version":1,"queries":{"a":{"watermarkMs":9');
    expect((await WatermarkStore.open(path)).get('a')?.watermarkMs).toBe(1000);
  });

  it('survives a real crash between writing the temporary file and renaming it', async () => {
    const path = join(dir, 'watermarks.json');
    const store = await WatermarkStore.open(path);
    store.set('a', { watermarkMs: 1000, fingerprint: 'f' });
    await store.flush();
    // A child process whose rename() kills it: the new state is fsynced to the temporary file,
    // then the process dies before the rename.
    const child = join(dir, 'crash.mts');
    await writeFile(
      child,
      `import fs from 'node:fs/promises';
import { syncBuiltinESMExports } from 'node:module';
fs.rename = () => process.kill(process.pid, 'SIGKILL');
syncBuiltinESMExports();
const { WatermarkStore } = await import(${JSON.stringify(STORE_MODULE)});
const store = await WatermarkStore.open(${JSON.stringify(path)});
store.set('a', { watermarkMs: 2000, fingerprint: 'f' });
await store.flush();
console.log('not killed');
`,
    );
    const result = spawnSync(process.execPath, ['--import', 'tsx', child], { encoding: 'utf8' });
    expect(result.stderr + result.stdout).toBe('');
    expect(result.signal).toBe('SIGKILL');
    expect(result.stdout).toBe('');
    const leftovers = (await readdir(dir)).filter((f) => f.endsWith('.tmp'));
    expect(leftovers).toHaveLength(1);
    expect(await readFile(join(dir, leftovers[0]!), 'utf8')).toContain('"watermarkMs": 2000');

    const reopened = await WatermarkStore.open(path);
    expect(reopened.get('a')?.watermarkMs).toBe(1000); // the old state, whole
    reopened.set('a', { watermarkMs: 3000, fingerprint: 'f' });
    await reopened.flush();
    expect((await WatermarkStore.open(path)).get('a')?.watermarkMs).toBe(3000);
    expect((await readdir(dir)).filter((f) => f.endsWith('.tmp'))).toEqual([]); // cleaned up
  });

  it.each([
    ['not JSON', '{"version":1,'],
    ['wrong version', '{"version":7,"queries":{}}'],
    ['bad entry', '{"version":1,"queries":{"a":{"watermarkMs":"soon"}}}'],
    ['empty file', ''],
  ])(
    'refuses a corrupt file (%s) with a clear error instead of starting afresh',
    async (_, text) => {
      const path = join(dir, 'watermarks.json');
      await writeFile(path, text);
      await expect(WatermarkStore.open(path)).rejects.toMatchObject({
        code: 'STATE_CORRUPT',
        message: expect.stringContaining(path) as unknown,
      });
    },
  );

  it('reports a state path it cannot create (even as root), naming the file', async () => {
    const path = join(dir, 'not-a-dir', 'watermarks.json');
    const store = await WatermarkStore.open(path);
    await writeFile(join(dir, 'not-a-dir'), ''); // the state directory's place is taken by a file
    store.set('a', { watermarkMs: 1000, fingerprint: 'f' });
    await expect(store.flush()).rejects.toMatchObject({
      code: 'STATE_WRITE_FAILED',
      message: expect.stringContaining(path) as unknown,
    });
  });

  it('reports an unreadable state file instead of starting afresh', async () => {
    const path = join(dir, 'watermarks.json');
    await mkdir(path); // reading a directory fails for root too
    await expect(WatermarkStore.open(path)).rejects.toMatchObject({
      code: 'STATE_CORRUPT',
      message: expect.stringContaining(`Cannot read the state file ${path}`) as unknown,
    });
  });

  it('reports an unwritable directory on flush, keeping the old file', async () => {
    const path = join(dir, 'watermarks.json');
    const store = await WatermarkStore.open(path);
    store.set('a', { watermarkMs: 1000, fingerprint: 'f' });
    await store.flush();
    await chmod(dir, 0o500);
    store.set('a', { watermarkMs: 2000, fingerprint: 'f' });
    const isRoot = process.getuid?.() === 0; // root ignores directory permissions
    if (isRoot) await store.flush();
    else await expect(store.flush()).rejects.toMatchObject({ code: 'STATE_WRITE_FAILED' });
    const onDisk = JSON.parse(await readFile(path, 'utf8')) as {
      queries: Record<string, { watermarkMs: number }>;
    };
    expect(onDisk.queries.a!.watermarkMs).toBe(isRoot ? 2000 : 1000);
  });

  it('fingerprints expression and step', () => {
    const q = { expr: 'up', stepMs: 15_000 };
    expect(queryFingerprint(q)).toBe(queryFingerprint({ ...q }));
    expect(queryFingerprint(q)).not.toBe(queryFingerprint({ ...q, stepMs: 30_000 }));
    expect(queryFingerprint(q)).not.toBe(queryFingerprint({ ...q, expr: 'up == 1' }));
  });
});
