import { readFile, readdir, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { UsageError } from '../core/errors.js';
import { ensurePrivateDir, openPrivateFile } from '../core/private-file.js';
import {
  MANIFEST_NAME,
  identityDifference,
  manifestIdentity,
  serializeManifest,
  type ExportIdentity,
  type ExportManifest,
} from './manifest.js';

/**
 * Checks that `dir` may take this export: it is missing or empty (hidden names aside), or its
 * manifest describes the same export (which this run then replaces). Returns the paths of the
 * files the earlier run wrote, to remove those this run does not write again.
 */
export async function claimExportDir(dir: string, identity: ExportIdentity): Promise<string[]> {
  let entries: string[];
  try {
    entries = (await readdir(dir)).filter((name) => !name.startsWith('.'));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  if (entries.length === 0) return [];
  let text: string;
  try {
    text = await readFile(join(dir, MANIFEST_NAME), 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    throw new UsageError(
      `--out ${dir} is not empty and holds no ${MANIFEST_NAME}: export into a new or empty directory.`,
    );
  }
  const previous = manifestIdentity(text);
  const differs = previous === undefined ? 'manifest' : identityDifference(previous, identity);
  if (differs !== undefined) {
    throw new UsageError(
      `--out ${dir} holds a different export (its ${differs} differs); ` +
        `export into a new or empty directory, or remove that one first.`,
    );
  }
  const old = JSON.parse(text) as ExportManifest;
  return old.queries.flatMap((q) => q.files.map((f) => f.path));
}

/**
 * Writes the manifest (temporary name, then rename), then removes `stale` files not in it. The
 * export writes an incomplete manifest first, so that a failed run's directory is still its own.
 */
export async function writeManifest(
  dir: string,
  manifest: ExportManifest,
  stale: readonly string[] = [],
  name = MANIFEST_NAME,
): Promise<void> {
  await ensurePrivateDir(dir);
  const tmp = join(dir, `.promflux-${name}.tmp`);
  const file = await openPrivateFile(tmp, 'w');
  try {
    await file.writeFile(serializeManifest(manifest));
    await file.sync();
  } finally {
    await file.close();
  }
  await rename(tmp, join(dir, name));
  const kept = new Set(manifest.queries.flatMap((q) => q.files.map((f) => f.path)));
  for (const path of stale) if (!kept.has(path)) await rm(join(dir, path), { force: true });
}
