import { chmod, mkdir, open, type FileHandle } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';

/**
 * The one rule for files promflux writes that hold data or state (watermarks, backfill resume
 * state, dead letters, exports): only the owner may read them, whatever the umask. Files are 0600
 * and directories promflux creates are 0700. The umask can only narrow a creation mode, so the
 * mode is set explicitly after creating as well.
 */
export const PRIVATE_FILE_MODE = 0o600;
export const PRIVATE_DIR_MODE = 0o700;

/**
 * Creates `dir` and its missing parents 0700. A directory that already exists keeps its mode and
 * owner: it may be shared (`.`, `/tmp`, a volume mount), which is the operator's to decide.
 */
export async function ensurePrivateDir(dir: string): Promise<void> {
  const first = await mkdir(dir, { recursive: true, mode: PRIVATE_DIR_MODE });
  if (first === undefined) return;
  const top = resolve(first);
  for (let d = resolve(dir); ; d = dirname(d)) {
    await chmod(d, PRIVATE_DIR_MODE);
    if (d === top || d === dirname(d)) return;
  }
}

/**
 * Opens `path` (`'w'` truncate, `'a'` append), creating it 0600. A file that already exists with
 * another mode is set to 0600 before anything is written to it, so data written from now on is
 * never readable by others (an older file's wider mode is fixed, not kept).
 */
export async function openPrivateFile(path: string, flags: 'w' | 'a'): Promise<FileHandle> {
  const file = await open(path, flags, PRIVATE_FILE_MODE);
  try {
    if (((await file.stat()).mode & 0o777) !== PRIVATE_FILE_MODE) {
      await file.chmod(PRIVATE_FILE_MODE);
    }
    return file;
  } catch (err) {
    await file.close();
    throw err;
  }
}
