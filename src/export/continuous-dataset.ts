import { readFile, readdir, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { PromfluxError } from '../core/errors.js';
import type { DatasetFormat } from './dataset-file.js';
import { datasetFilePath } from './dataset-path.js';
import { writeManifest } from './export-dir.js';
import {
  MANIFEST_NAME,
  unionSchema,
  type ExportManifest,
  type ManifestFile,
  type ManifestQuery,
} from './manifest.js';
import type { ColumnSpec, WrittenFile } from './row-group.js';

export interface ContinuousQuery {
  name: string;
  expr: string;
  step_ms: number;
}

export interface ContinuousSettings {
  dir: string;
  format: DatasetFormat;
  /** Prometheus' URL without credentials. */
  sourceUrl: string;
  /** `manifest.json`, or one per shard when the queries are sharded (each replica keeps its own). */
  manifestName?: string;
}

interface QueryEntry extends ManifestQuery {
  /** Each file's columns, for the query's schema (not saved per file). */
  fileColumns: Map<string, readonly ColumnSpec[]>;
}

/**
 * The dataset the daemon exports into hour by hour (`load.export`): long layout, one file per
 * query per hour, and a manifest in the ad hoc export's format (`"mode": "continuous"`) that lists
 * exactly the files in place. An hour is recorded by {@link putHour} after its files were renamed
 * into place, and the manifest is saved (temporary name, then rename) before the export's
 * watermark moves past the hour: after a crash the hour is written again under the same names.
 */
export class ContinuousDataset {
  private readonly queries = new Map<string, QueryEntry>();
  private range: { fromMs: number; toMs: number } | undefined;

  private constructor(
    private readonly settings: ContinuousSettings,
    previous: ExportManifest | undefined,
  ) {
    if (!previous) return;
    for (const q of previous.queries) {
      const fileColumns = new Map(q.files.map((f) => [f.path, q.schema] as const));
      this.queries.set(q.name, { ...q, fileColumns });
    }
    this.range = {
      fromMs: Date.parse(previous.range.from),
      toMs: Date.parse(previous.range.to),
    };
  }

  get dir(): string {
    return this.settings.dir;
  }

  /**
   * Opens the dataset in `settings.dir`, refusing a directory whose manifest is not a continuous
   * export in this format (an ad hoc export, or the other format: mixing them would make the
   * dataset unreadable as one).
   */
  static async open(settings: ContinuousSettings): Promise<ContinuousDataset> {
    const name = settings.manifestName ?? MANIFEST_NAME;
    let text: string | undefined;
    try {
      text = await readFile(join(settings.dir, name), 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
    if (text === undefined) {
      await refuseAdHocExport(settings.dir);
      return new ContinuousDataset(settings, undefined);
    }
    let manifest: ExportManifest;
    try {
      manifest = JSON.parse(text) as ExportManifest;
    } catch (err) {
      throw new PromfluxError(
        'STATE_CORRUPT',
        `load.export.dir ${settings.dir}: ${name} is not JSON (${(err as Error).message}); move it away to start the manifest afresh.`,
      );
    }
    if (manifest.mode !== 'continuous' || manifest.layout !== 'long') {
      throw refused(settings.dir, 'an ad hoc export (promflux export)');
    }
    if (manifest.format !== settings.format) {
      throw refused(settings.dir, `a continuous export in ${manifest.format}`);
    }
    return new ContinuousDataset(settings, manifest);
  }

  /** Why `query` cannot be exported here (its files hold another expression or step), if so. */
  queryProblem(query: ContinuousQuery): string | undefined {
    const entry = this.queries.get(query.name);
    if (!entry || entry.files.length === 0) return undefined;
    if (entry.expr === query.expr && entry.step_ms === query.step_ms) return undefined;
    return (
      `load.export.dir ${this.settings.dir} holds files of query "${query.name}" with another ` +
      `expression or step; move them (and their manifest entry) away, or rename the query.`
    );
  }

  /**
   * Records the files of one hour (none for an hour without samples), in place of any the hour had,
   * and removes from the partition what an earlier, interrupted run of the same hour left: a
   * further part it no longer writes, or a temporary file. Save with {@link save}.
   */
  async putHour(
    query: ContinuousQuery,
    hourMs: number,
    hourMsEnd: number,
    files: readonly WrittenFile[],
    series: number,
  ): Promise<void> {
    const entry = this.entry(query);
    const named = datasetFilePath({
      query: query.name,
      dayMs: hourMs,
      fromMs: hourMs,
      toMs: hourMsEnd,
      extension: this.settings.format,
    });
    const stem = basename(named).slice(0, -`.${this.settings.format}`.length);
    const kept = new Set(files.map((f) => basename(f.path)));
    await removeLeftovers(join(this.settings.dir, dirname(named)), hourMs, (name) => {
      const part = name.startsWith(stem) ? name.slice(stem.length) : undefined;
      return part !== undefined && /^(_\d+)?\.(parquet|csv)$/.test(part) && !kept.has(name);
    });
    const from = new Date(hourMs).toISOString();
    entry.files = entry.files.filter((f) => f.from !== from);
    for (const f of files) {
      entry.files.push({
        path: f.path,
        rows: f.rows,
        bytes: f.bytes,
        sha256: f.sha256,
        from,
        to: new Date(hourMsEnd).toISOString(),
      } satisfies ManifestFile);
      entry.fileColumns.set(f.path, f.columns);
    }
    entry.files.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
    const paths = new Set(entry.files.map((f) => f.path));
    for (const path of entry.fileColumns.keys())
      if (!paths.has(path)) entry.fileColumns.delete(path);
    entry.schema = unionSchema([...entry.fileColumns.values()]);
    // The count of the newest hour: the series the dataset holds now.
    const newest = entry.files.reduce((max, f) => (f.to > max ? f.to : max), '');
    if (files.length > 0 && newest <= new Date(hourMsEnd).toISOString()) entry.series = series;
    this.range = {
      fromMs: Math.min(this.range?.fromMs ?? hourMs, hourMs),
      toMs: Math.max(this.range?.toMs ?? hourMsEnd, hourMsEnd),
    };
  }

  /** Writes the manifest as recorded so far. */
  async save(meta: { configSha256: string; version: string; createdAt: string }): Promise<void> {
    if (!this.range) return;
    const manifest: ExportManifest = {
      manifest_version: 1,
      promflux_version: meta.version,
      created_at: meta.createdAt,
      complete: true,
      mode: 'continuous',
      config_sha256: meta.configSha256,
      source: { kind: 'prometheus', url: this.settings.sourceUrl },
      range: {
        from: new Date(this.range.fromMs).toISOString(),
        to: new Date(this.range.toMs).toISOString(),
      },
      layout: 'long',
      format: this.settings.format,
      queries: [...this.queries.values()]
        .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
        .map(({ fileColumns: _columns, ...q }) => q),
    };
    await writeManifest(this.settings.dir, manifest, [], this.settings.manifestName);
  }

  private entry(query: ContinuousQuery): QueryEntry {
    let entry = this.queries.get(query.name);
    if (!entry) {
      entry = { ...query, series: 0, schema: [], files: [], fileColumns: new Map() };
      this.queries.set(query.name, entry);
    }
    // A query whose files are all gone (or that had none) takes the configured expression.
    if (entry.files.length === 0) Object.assign(entry, query);
    return entry;
  }
}

function refused(dir: string, what: string): PromfluxError {
  return new PromfluxError(
    'USAGE',
    `load.export.dir ${dir} holds ${what}; give load.export another directory, or move that one away.`,
  );
}

/** A directory holding an ad hoc export's manifest is not one to export into continuously. */
async function refuseAdHocExport(dir: string): Promise<void> {
  try {
    await readFile(join(dir, MANIFEST_NAME), 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw err;
  }
  throw refused(dir, `a ${MANIFEST_NAME} of another export`);
}

/** Removes, in `partition`, the hour's temporary files and the names `stale` picks. */
async function removeLeftovers(
  partition: string,
  hourMs: number,
  stale: (name: string) => boolean,
): Promise<void> {
  let names: string[];
  try {
    names = await readdir(partition);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw err;
  }
  const temporary = new RegExp(`^\\.promflux-${hourMs}-\\d+\\.(parquet|csv)\\.tmp$`);
  for (const name of names) {
    if (temporary.test(name) || stale(name)) await rm(join(partition, name), { force: true });
  }
}
