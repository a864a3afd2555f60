import { createHash } from 'node:crypto';
import type { ColumnStats } from './column-stats.js';
import type { DatasetFormat } from './dataset-file.js';
import type { DatasetLayout, QueryExport } from './dataset-export.js';
import type { ColumnSpec } from './row-group.js';

export const MANIFEST_NAME = 'manifest.json';

/**
 * Where the rows came from: Prometheus, or what promflux stored in InfluxDB (a tier: raw points,
 * or a rollup's windows of `resolution_ms`). URLs never carry credentials.
 */
export type ExportSource =
  | { kind: 'prometheus'; url: string }
  | { kind: 'influxdb'; url: string; tier: string; bucket: string; resolution_ms?: number };

/** What makes two exports the same one: a rerun of it may replace its files. */
export interface ExportIdentity {
  /** `continuous` for the daemon's `load.export` dataset, which grows hour by hour; absent ad hoc. */
  mode?: 'continuous';
  config_sha256: string;
  source: ExportSource;
  range: { from: string; to: string };
  layout: DatasetLayout;
  format: DatasetFormat;
  queries: { name: string; expr: string; step_ms: number }[];
  /** With `--split`: each split's exact half-open range, and the gap before every split but the first. */
  splits?: { gap_ms: number; ranges: { name: string; from: string; to: string }[] };
}

export interface ManifestFile {
  path: string;
  rows: number;
  bytes: number;
  sha256: string;
  from: string;
  to: string;
}

export interface ManifestQuery {
  name: string;
  expr: string;
  step_ms: number;
  series: number;
  schema: ColumnSpec[];
  files: ManifestFile[];
  columns?: QueryExport['columns'];
  /** With `--stats`: per value column (`value`, or each wide column). */
  stats?: Record<string, ColumnStats>;
}

export interface ExportManifest extends Omit<ExportIdentity, 'queries'> {
  manifest_version: 1;
  promflux_version: string;
  created_at: string;
  /** False while the export runs (and after it failed): the identity holds, the files do not. */
  complete: boolean;
  /** With `--stats`: the split the queries' `stats` describe, null for all rows. */
  stats?: { split: string | null };
  queries: ManifestQuery[];
}

/**
 * SHA-256 of the configuration that shapes the rows: the queries and the transform settings.
 * Connection settings (and so secrets) stay out: pointing at another URL is told by `source`.
 */
export function configHash(shaping: unknown): string {
  const text = JSON.stringify(shaping, (_key, value: unknown) => {
    if (value instanceof RegExp) return value.source;
    if (value instanceof Set) return [...(value as Set<unknown>)];
    if (value instanceof Map) return [...(value as Map<unknown, unknown>)];
    return value;
  });
  return createHash('sha256').update(text).digest('hex');
}

/**
 * The manifest: the identity, then each query's schema, files (sorted by path) and series count.
 * Nothing but `created_at` depends on when it was made.
 */
export function buildManifest(
  identity: ExportIdentity,
  exported: ReadonlyMap<string, QueryExport>,
  meta: {
    version: string;
    createdAt: string;
    complete: boolean;
    /** With `--stats`: the split they describe, null for all rows. */
    statsSplit?: string | null;
  },
): ExportManifest {
  return {
    manifest_version: 1,
    promflux_version: meta.version,
    created_at: meta.createdAt,
    complete: meta.complete,
    config_sha256: identity.config_sha256,
    source: identity.source,
    range: identity.range,
    layout: identity.layout,
    format: identity.format,
    ...(identity.splits && { splits: identity.splits }),
    ...(meta.statsSplit !== undefined && { stats: { split: meta.statsSplit } }),
    queries: identity.queries.map((q) => {
      const result = exported.get(q.name) ?? { files: [], series: 0 };
      return {
        ...q,
        series: result.series,
        schema: unionSchema(result.files.map((f) => f.columns)),
        files: result.files.map((f) => ({
          path: f.path,
          rows: f.rows,
          bytes: f.bytes,
          sha256: f.sha256,
          from: new Date(f.fromMs).toISOString(),
          to: new Date(f.toMs).toISOString(),
        })),
        ...(result.columns && { columns: result.columns }),
        ...(result.stats && { stats: result.stats }),
      };
    }),
  };
}

export function serializeManifest(manifest: ExportManifest): string {
  return JSON.stringify(manifest, null, 2) + '\n';
}

/** The identity a manifest records; undefined when the text is not a promflux manifest. */
export function manifestIdentity(text: string): ExportIdentity | undefined {
  let parsed: Partial<ExportManifest>;
  try {
    parsed = JSON.parse(text) as Partial<ExportManifest>;
  } catch {
    return undefined;
  }
  if (parsed.manifest_version !== 1 || !Array.isArray(parsed.queries)) return undefined;
  return {
    ...(parsed.mode !== undefined && { mode: parsed.mode }),
    config_sha256: parsed.config_sha256!,
    source: parsed.source!,
    range: parsed.range!,
    layout: parsed.layout!,
    format: parsed.format!,
    queries: parsed.queries.map((q) => ({ name: q.name, expr: q.expr, step_ms: q.step_ms })),
    ...(parsed.splits && { splits: parsed.splits }),
  };
}

/** The first field in which two identities differ, for the refusal message; undefined if equal. */
export function identityDifference(a: ExportIdentity, b: ExportIdentity): string | undefined {
  const fields = [
    'mode',
    'source',
    'range',
    'layout',
    'format',
    'splits',
    'queries',
    'config_sha256',
  ] as const;
  return fields.find((f) => JSON.stringify(a[f]) !== JSON.stringify(b[f]));
}

/** Every file's columns merged: `timestamp`, then string columns sorted, then value columns. */
export function unionSchema(schemas: readonly (readonly ColumnSpec[])[]): ColumnSpec[] {
  const byName = new Map<string, ColumnSpec>();
  for (const schema of schemas)
    for (const c of schema) if (!byName.has(c.name)) byName.set(c.name, c);
  const all = [...byName.values()];
  const rank = { timestamp: 0, string: 1, float64: 2 } as const;
  return all
    .map((c, i) => ({ c, i }))
    .sort((x, y) => {
      const byKind = rank[x.c.kind] - rank[y.c.kind];
      if (byKind !== 0) return byKind;
      if (x.c.kind === 'string') return stringOrder(x.c.name, y.c.name);
      return x.i - y.i;
    })
    .map(({ c }) => ({ name: c.name, kind: c.kind }));
}

/** `query` first (as in the files), then the tags by name. */
function stringOrder(a: string, b: string): number {
  if (a === 'query' || b === 'query') return a === b ? 0 : a === 'query' ? -1 : 1;
  return a < b ? -1 : a > b ? 1 : 0;
}
