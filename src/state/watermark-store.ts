import { createHash } from 'node:crypto';
import { open, readdir, readFile, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

import { PromfluxError } from '../core/errors.js';
import { ensurePrivateDir, openPrivateFile } from '../core/private-file.js';

/**
 * One tier's progress (keyed by tierStateKey): a raw tier's watermark is the last grid point it
 * acknowledged, a rollup tier's the end of its last acknowledged window. Entries keyed by a bare
 * query name are from before tiers: the query's progress in its one raw bucket.
 */
export interface QueryState {
  watermarkMs: number;
  /** Identity of what was extracted (expression and step): a change starts the query afresh. */
  fingerprint: string;
  updatedAt: string;
}

interface StateDocument {
  version: 1;
  queries: Record<string, QueryState>;
}

const VERSION = 1;

/** The fingerprint of a query's extraction: what, if changed, makes old progress meaningless. */
export function queryFingerprint(query: { expr: string; stepMs: number }): string {
  return createHash('sha256').update(`${query.stepMs}\n${query.expr}`).digest('hex').slice(0, 16);
}

/**
 * Per-query watermarks in one JSON file, replaced atomically on every change: written to a
 * temporary file, fsynced, renamed over the old one, and the directory fsynced, so a crash leaves
 * the old or the new state, never a mix. A file that cannot be read or parsed is an error, never
 * silently treated as empty: that would re-extract or skip data without anyone deciding to.
 * Queries no longer configured keep their entries (ignored until they come back); the daemon
 * deletes those of tiers a configured query no longer feeds. Temporary files a crash left behind
 * are removed when the store is opened.
 */
export class WatermarkStore {
  private writing: Promise<void> = Promise.resolve();
  private writeError: unknown;

  private constructor(
    readonly path: string,
    private readonly doc: StateDocument,
  ) {}

  static async open(path: string): Promise<WatermarkStore> {
    await removeCrashLeftovers(path);
    let text: string;
    try {
      text = await readFile(path, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
        return new WatermarkStore(path, { version: VERSION, queries: {} });
      }
      throw new PromfluxError(
        'STATE_CORRUPT',
        `Cannot read the state file ${path}: ${(err as Error).message}`,
        { cause: err },
      );
    }
    return new WatermarkStore(path, parseState(path, text));
  }

  get(query: string): QueryState | undefined {
    return this.doc.queries[query];
  }

  /** Every entry, by key: query names (state from before tiers) and tier state keys. */
  entries(): ReadonlyMap<string, QueryState> {
    return new Map(Object.entries(this.doc.queries));
  }

  /** Records a watermark; persisted in order, in the background. Await {@link flush} to know. */
  set(query: string, state: Omit<QueryState, 'updatedAt'>): void {
    this.doc.queries[query] = { ...state, updatedAt: new Date().toISOString() };
    this.persist();
  }

  /** Forgets an entry (a tier no longer configured); persisted like {@link set}. */
  delete(key: string): void {
    if (!(key in this.doc.queries)) return;
    delete this.doc.queries[key];
    this.persist();
  }

  private persist(): void {
    const snapshot = JSON.stringify(this.doc, null, 2) + '\n';
    this.writing = this.writing.then(() =>
      writeAtomically(this.path, snapshot).catch((err: unknown) => {
        this.writeError ??= err;
      }),
    );
  }

  /** Waits for pending writes; rejects if any failed (the state on disk is then older). */
  async flush(): Promise<void> {
    await this.writing;
    if (this.writeError !== undefined) {
      const err = this.writeError;
      this.writeError = undefined;
      throw new PromfluxError(
        'STATE_WRITE_FAILED',
        `Cannot write the state file ${this.path}: ${(err as Error).message}. ` +
          `${stateWriteHint(err, dirname(this.path))}It still holds the progress saved last, ` +
          'whole: a restart resumes from there and writes what came after it again (harmless: ' +
          'points are idempotent).',
        { cause: err },
      );
    }
  }
}

/** What an operator can do about a failed state write, by its errno. */
function stateWriteHint(err: unknown, dir: string): string {
  switch ((err as NodeJS.ErrnoException).code) {
    case 'ENOSPC':
    case 'EDQUOT':
      return `The file system of ${dir} is full: free space there. `;
    case 'EACCES':
    case 'EPERM':
      return `promflux may not write to ${dir}: give its user write access. `;
    case 'EROFS':
      return `${dir} is on a read-only file system: make pipeline.state_dir writable. `;
    default:
      return '';
  }
}

function parseState(path: string, text: string): StateDocument {
  const corrupt = (why: string): PromfluxError =>
    new PromfluxError(
      'STATE_CORRUPT',
      `The state file ${path} is corrupt (${why}). promflux will not guess where each query stopped: ` +
        'restore it from a backup, or move it away to start every query afresh from initial_lookback.',
    );
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    throw corrupt(`not JSON: ${(err as Error).message}`);
  }
  if (typeof doc !== 'object' || doc === null) throw corrupt('not a JSON object');
  const { version, queries } = doc as { version?: unknown; queries?: unknown };
  if (version !== VERSION) throw corrupt(`unknown version ${JSON.stringify(version)}`);
  if (typeof queries !== 'object' || queries === null || Array.isArray(queries)) {
    throw corrupt('"queries" is not an object');
  }
  for (const [name, state] of Object.entries(queries)) {
    const s = state as Partial<QueryState> | null;
    if (
      typeof s !== 'object' ||
      s === null ||
      !Number.isSafeInteger(s.watermarkMs) ||
      typeof s.fingerprint !== 'string'
    ) {
      throw corrupt(`entry for query "${name}" is not {watermarkMs, fingerprint}`);
    }
  }
  return doc as StateDocument;
}

/** Temporary files of writes that a crash interrupted before their rename: never the state. */
async function removeCrashLeftovers(path: string): Promise<void> {
  const prefix = `${basename(path)}.`;
  let names: string[];
  try {
    names = await readdir(dirname(path));
  } catch {
    return; // no directory yet, or unreadable: open() reports what matters
  }
  const leftovers = names.filter(
    (n) => n.startsWith(prefix) && /^\d+\.tmp$/.test(n.slice(prefix.length)),
  );
  // Best effort: a leftover is never read as state, and a directory that cannot be written to
  // (read-only, full) is reported clearly by the first write, not as a raw unlink error here.
  await Promise.all(
    leftovers.map((n) => rm(join(dirname(path), n), { force: true }).catch(() => undefined)),
  );
}

async function writeAtomically(path: string, text: string): Promise<void> {
  const dir = dirname(path);
  await ensurePrivateDir(dir);
  const tmp = `${path}.${process.pid}.tmp`;
  try {
    // The rename then replaces an older state file of any mode with this 0600 one.
    const file = await openPrivateFile(tmp, 'w');
    try {
      await file.writeFile(text);
      await file.sync();
    } finally {
      await file.close();
    }
    await rename(tmp, path);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
  const dirHandle = await open(dir, 'r');
  try {
    await dirHandle.sync();
  } finally {
    await dirHandle.close();
  }
}
