import { chmod, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { queryFingerprint, WatermarkStore } from '../../../src/state/watermark-store.js';

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

  it('ignores a temporary file left by a crash between write and rename', async () => {
    const path = join(dir, 'watermarks.json');
    const store = await WatermarkStore.open(path);
    store.set('a', { watermarkMs: 1000, fingerprint: 'f' });
    await store.flush();
    await writeFile(`${path}.999.tmp`, '{"version":1,"queries":{"a":{"watermarkMs":9');
    expect((await WatermarkStore.open(path)).get('a')?.watermarkMs).toBe(1000);
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
