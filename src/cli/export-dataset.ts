import type { Writable } from 'node:stream';
import type { PromfluxConfig, QueryConfig } from '../config/types.js';
import { VERSION } from '../core/version.js';
import { statsSplit } from '../export/column-stats.js';
import { DatasetExport, type DatasetLayout, type QueryExport } from '../export/dataset-export.js';
import type { DatasetFormat } from '../export/dataset-file.js';
import { claimExportDir, writeManifest } from '../export/export-dir.js';
import {
  buildManifest,
  configHash,
  type ExportIdentity,
  type ExportSource,
} from '../export/manifest.js';
import { lookbackMs, splitRanges } from '../export/splits.js';
import type { CliIo } from './io.js';

/** The command line of `promflux export`, checked. */
export interface ExportRequest {
  out: string;
  format: DatasetFormat;
  layout: DatasetLayout;
  /** Half-open `[fromMs, toMs)`. */
  fromMs: number;
  toMs: number;
  maxColumns: number;
  splitParts?: { name: string; fraction: number }[];
  /** `--gap`, when given. */
  gapMs?: number;
  /** `--stats`: per-column statistics of the training split in the manifest. */
  stats?: boolean;
}

/** An export whose directory is claimed and whose incomplete manifest is written. */
export interface OpenedExport {
  dataset: DatasetExport;
  /**
   * Finishes the files, writes the complete manifest, calls `report` with what was written, then
   * prints the closing line (not with `json`).
   */
  complete(
    out: Writable,
    json: boolean | undefined,
    report?: (exported: ReadonlyMap<string, QueryExport>) => void,
  ): Promise<void>;
}

/**
 * Claims `--out` for this export (refusing another export's directory), writes its manifest
 * marked incomplete, and opens the dataset writers. `stepMs` is the grid of the splits.
 */
export async function openExport(
  io: CliIo,
  request: ExportRequest,
  config: PromfluxConfig,
  queries: readonly QueryConfig[],
  source: ExportSource,
  stepMs: number,
): Promise<OpenedExport> {
  const { fromMs, toMs, out } = request;
  const gapMs = request.gapMs ?? Math.max(0, ...queries.map((q) => lookbackMs(q.expr)));
  const splits =
    request.splitParts && splitRanges(request.splitParts, { fromMs, toMs }, gapMs, stepMs);
  const identity: ExportIdentity = {
    config_sha256: configHash({ queries, transform: config.transform }),
    source,
    range: { from: new Date(fromMs).toISOString(), to: new Date(toMs).toISOString() },
    layout: request.layout,
    format: request.format,
    queries: queries.map((q) => ({ name: q.name, expr: q.expr, step_ms: q.stepMs })),
  };
  if (splits) {
    identity.splits = {
      gap_ms: gapMs,
      ranges: splits.map((r) => ({
        name: r.name,
        from: new Date(r.fromMs).toISOString(),
        to: new Date(r.toMs).toISOString(),
      })),
    };
  }
  const stale = await claimExportDir(out, identity);
  const manifest = (exported: Parameters<typeof buildManifest>[1], complete: boolean) =>
    buildManifest(identity, exported, {
      version: VERSION,
      createdAt: new Date(io.now()).toISOString(),
      complete,
      ...(request.stats && { statsSplit: statsSplit(splits) ?? null }),
    });
  await writeManifest(out, manifest(new Map(), false));
  const dataset = new DatasetExport({
    dir: out,
    format: request.format,
    layout: request.layout,
    fromMs,
    toMs,
    maxColumns: request.maxColumns,
    createdBy: `promflux ${VERSION}`,
    ...(splits && { splits }),
    ...(request.stats && { stats: true }),
  });
  return {
    dataset,
    async complete(stream, json, report) {
      const exported = await dataset.finish();
      await writeManifest(out, manifest(exported, true), stale);
      report?.(exported);
      if (!json) {
        const files = [...exported.values()].flatMap((e) => e.files);
        const rows = files.reduce((n, f) => n + f.rows, 0);
        stream.write(`Exported ${rows} rows in ${files.length} files to ${out}.\n`);
      }
    },
  };
}
