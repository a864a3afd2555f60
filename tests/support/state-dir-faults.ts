/**
 * Real file-system faults for a state directory: a small tmpfs that can be filled up or remounted
 * read-only. Mounting needs root; without it, tests inject the same errno instead (the issue asks
 * for exactly that split), see `injectedFsFault`.
 */
import { execFile } from 'node:child_process';
import { open, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export const IS_ROOT = process.getuid?.() === 0;

export interface Tmpfs {
  dir: string;
  /** Writes a filler file until the file system is full (ENOSPC). */
  fill(): Promise<void>;
  /** Removes the filler: space again. */
  free(): Promise<void>;
  readOnly(): Promise<void>;
  writable(): Promise<void>;
  unmount(): Promise<void>;
}

/** Mounts a tmpfs of `sizeKb` KiB at the existing directory `dir` (root only). */
export async function mountTmpfs(dir: string, sizeKb = 64): Promise<Tmpfs> {
  if (!IS_ROOT) throw new Error('mountTmpfs needs root; inject the error otherwise');
  await run('mount', ['-t', 'tmpfs', '-o', `size=${sizeKb}k,mode=0700`, 'tmpfs', dir]);
  const filler = join(dir, 'filler');
  return {
    dir,
    async fill() {
      const file = await open(filler, 'a');
      try {
        const chunk = Buffer.alloc(4096, 1);
        for (;;) await file.write(chunk);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOSPC') throw err;
      } finally {
        await file.close();
      }
    },
    free: () => rm(filler, { force: true }),
    readOnly: () => run('mount', ['-o', 'remount,ro', dir]).then(() => undefined),
    writable: () => run('mount', ['-o', 'remount,rw', dir]).then(() => undefined),
    unmount: () => run('umount', [dir]).then(() => undefined),
  };
}

/** An error as node:fs raises it, for injection when the real fault needs root. */
export function fsError(code: 'ENOSPC' | 'EACCES', syscall: string, path: string): Error {
  const text = code === 'ENOSPC' ? 'no space left on device' : 'permission denied';
  return Object.assign(new Error(`${code}: ${text}, ${syscall} '${path}'`), {
    code,
    syscall,
    path,
  });
}
