/**
 * The state directory full or unwritable: the store reports a clear error, the state file on disk
 * stays whole and never holds more than was saved, no temporary file is left, and the next write
 * after the fault is fixed saves everything. As root the faults are real (a small tmpfs, filled or
 * remounted read-only); otherwise ENOSPC is injected into the temporary file's write and the
 * directory is made read-only with chmod.
 */
import { chmod, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';

import { WatermarkStore } from '../../../src/state/watermark-store.js';
import { fsError, IS_ROOT, mountTmpfs, type Tmpfs } from '../../support/state-dir-faults.js';

const injected = vi.hoisted(() => ({ writeError: undefined as Error | undefined }));

vi.mock('node:fs/promises', async (importOriginal) => {
  const fs = await importOriginal<typeof import('node:fs/promises')>();
  const open: typeof fs.open = async (path, flags, mode) => {
    const handle = await fs.open(path, flags, mode);
    const error = injected.writeError;
    if (error === undefined || !String(path).endsWith('.tmp')) return handle;
    // A disk that fills up mid-write: part of the text lands, then ENOSPC.
    const writeFile = async (data: string | Uint8Array): Promise<void> => {
      await handle.write(Buffer.from(data).subarray(0, 10));
      throw error;
    };
    return new Proxy(handle, {
      get: (target, key) => {
        if (key === 'writeFile') return writeFile;
        const value = Reflect.get(target, key) as unknown;
        return typeof value === 'function' ? (value as () => unknown).bind(target) : value;
      },
    });
  };
  return { ...fs, open, default: { ...fs, open } };
});

describe('WatermarkStore: state directory faults', () => {
  let dir: string;
  let stateDir: string;
  let path: string;
  let tmpfs: Tmpfs | undefined;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'promflux-state-faults-'));
    stateDir = join(dir, 'state');
    await mkdir(stateDir);
    tmpfs = IS_ROOT ? await mountTmpfs(stateDir) : undefined;
    path = join(stateDir, 'watermarks.json');
  });
  afterEach(async () => {
    injected.writeError = undefined;
    await chmod(stateDir, 0o700).catch(() => undefined);
    await tmpfs?.unmount();
    await rm(dir, { recursive: true, force: true });
  });

  async function onDisk(): Promise<Record<string, number>> {
    const doc = JSON.parse(await readFile(path, 'utf8')) as {
      queries: Record<string, { watermarkMs: number }>;
    };
    return Object.fromEntries(Object.entries(doc.queries).map(([q, s]) => [q, s.watermarkMs]));
  }

  async function saved(store: WatermarkStore, a: number, b: number): Promise<void> {
    store.set('a', { watermarkMs: a, fingerprint: 'f' });
    store.set('b', { watermarkMs: b, fingerprint: 'f' });
    await store.flush();
  }

  async function expectOldStateWhole(): Promise<void> {
    expect(await onDisk()).toEqual({ a: 1000, b: 5000 });
    expect((await readdir(stateDir)).filter((f) => f.endsWith('.tmp'))).toEqual([]);
    const reopened = await WatermarkStore.open(path);
    expect(reopened.get('a')?.watermarkMs).toBe(1000);
  }

  it(`full (${IS_ROOT ? 'a filled 64 KiB tmpfs' : 'injected ENOSPC'}): a clear error, the saved state whole, then saved once there is space`, async () => {
    const store = await WatermarkStore.open(path);
    await saved(store, 1000, 5000);
    if (tmpfs) await tmpfs.fill();
    else injected.writeError = fsError('ENOSPC', 'write', `${path}.${process.pid}.tmp`);

    const err = await saved(store, 2000, 6000).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'STATE_WRITE_FAILED' });
    const message = (err as Error).message;
    expect(message).toContain(
      `Cannot write the state file ${path}: ENOSPC: no space left on device`,
    );
    expect(message).toContain(`The file system of ${stateDir} is full: free space there.`);
    await expectOldStateWhole();

    if (tmpfs) await tmpfs.free();
    else injected.writeError = undefined;
    await saved(store, 3000, 7000);
    expect(await onDisk()).toEqual({ a: 3000, b: 7000 });
  });

  it(`unwritable (${IS_ROOT ? 'a tmpfs remounted read-only' : 'chmod 0500'}): a clear error, the saved state whole, then saved once writable`, async () => {
    const store = await WatermarkStore.open(path);
    await saved(store, 1000, 5000);
    if (tmpfs) await tmpfs.readOnly();
    else await chmod(stateDir, 0o500);

    const err = await saved(store, 2000, 6000).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'STATE_WRITE_FAILED' });
    expect((err as Error).message).toContain(
      tmpfs
        ? `${stateDir} is on a read-only file system: make pipeline.state_dir writable.`
        : `promflux may not write to ${stateDir}: give its user write access.`,
    );
    await expectOldStateWhole();

    if (tmpfs) await tmpfs.writable();
    else await chmod(stateDir, 0o700);
    await saved(store, 3000, 7000);
    expect(await onDisk()).toEqual({ a: 3000, b: 7000 });
  });

  it('opens a read-only directory holding a crash leftover: the saved state, no raw unlink error', async () => {
    const store = await WatermarkStore.open(path);
    await saved(store, 1000, 5000);
    await writeFile(`${path}.4242.tmp`, '{"version":1,"queries":{"a":{"watermarkMs":9');
    if (tmpfs) await tmpfs.readOnly();
    else await chmod(stateDir, 0o500);

    const reopened = await WatermarkStore.open(path);
    expect(reopened.get('a')?.watermarkMs).toBe(1000);
    reopened.set('a', { watermarkMs: 2000, fingerprint: 'f' });
    await expect(reopened.flush()).rejects.toMatchObject({ code: 'STATE_WRITE_FAILED' });
    expect(await onDisk()).toEqual({ a: 1000, b: 5000 });

    if (tmpfs) await tmpfs.writable();
    else await chmod(stateDir, 0o700);
    expect((await WatermarkStore.open(path)).get('a')?.watermarkMs).toBe(1000);
    expect((await readdir(stateDir)).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });
});
