import { describeError } from '../core/errors.js';
import { DROP_REASONS, totalDropped } from '../core/series.js';
import { toRfc3339 } from '../core/time.js';
import type { QueryRunResult } from '../pipeline/run-query.js';

/** Where rejected points went: the dead-letter file (`load.dead_letter_path`). */
export interface SummaryContext {
  deadLetterPath?: string;
}

/**
 * One line per query run, for people: `ok availability: 240 samples → 240 points ...`.
 * A run that finished with rejected points says `ok*` and where they are.
 */
export function formatQuerySummary(r: QueryRunResult, ctx: SummaryContext = {}): string {
  const where = ctx.deadLetterPath ? ` to the dead-letter file ${ctx.deadLetterPath}` : '';
  const sinks = Object.entries(r.sinks)
    .map(
      ([name, t]) =>
        `${t.written} written to ${name}` +
        (t.rejected ? ` (${t.rejected} rejected, saved${where})` : ''),
    )
    .join(', ');
  const dropped = totalDropped(r.drops);
  const reasons = DROP_REASONS.filter((k) => r.drops[k] > 0)
    .map((k) => `${k}=${r.drops[k]}`)
    .join(' ');
  const tiers = tierSummary(r, where);
  const status = r.error !== undefined ? 'FAILED' : rejectedPoints([r]) > 0 ? 'ok*   ' : 'ok    ';
  const range = `${toRfc3339(r.range.startMs)}..${toRfc3339(r.range.endMs)}`;
  let line =
    `${status} ${r.query}: ${r.samples} samples, ${r.series} series → ${r.points} points; ${sinks || 'no sink'}; ${tiers}` +
    `dropped ${dropped}${reasons ? ` (${reasons})` : ''}; ${r.chunks} chunk${r.chunks === 1 ? '' : 's'}; ` +
    `${(r.durationMs / 1000).toFixed(2)}s; range ${range}`;
  if (r.error !== undefined) line += `\n       error: ${describeError(r.error)}`;
  return line;
}

/**
 * Per tier, what it wrote, `tiers: hot 120 written (40 skipped beyond retention), warm 24 written;
 * `, when the run wrote more than today's one raw tier or skipped points beyond a retention.
 */
function tierSummary(r: QueryRunResult, where: string): string {
  const entries = Object.entries(r.tiers);
  const plain = entries.length <= 1 && entries.every(([, t]) => t.skippedBeyondRetention === 0);
  if (plain) return '';
  const parts = entries.map(([name, t]) => {
    const notes = [
      ...(t.skippedBeyondRetention > 0
        ? [`${t.skippedBeyondRetention} skipped beyond retention`]
        : []),
      ...(t.rejected > 0 ? [`${t.rejected} rejected, saved${where}`] : []),
    ];
    return `${name} ${t.written} written${notes.length > 0 ? ` (${notes.join(', ')})` : ''}`;
  });
  return `tiers: ${parts.join(', ')}; `;
}

/** Points the sinks refused as malformed (dead-lettered), over these runs. */
export function rejectedPoints(results: readonly QueryRunResult[]): number {
  let n = 0;
  for (const r of results) for (const t of Object.values(r.sinks)) n += t.rejected;
  return n;
}

/** Machine-readable twin of the summary line (`--json`). */
export function summaryRecord(
  r: QueryRunResult,
  ctx: SummaryContext = {},
): Record<string, unknown> {
  return {
    query: r.query,
    ok: r.error === undefined,
    start: toRfc3339(r.range.startMs),
    end: toRfc3339(r.range.endMs),
    samples: r.samples,
    series: r.series,
    points: r.points,
    sinks: r.sinks,
    tiers: Object.fromEntries(
      Object.entries(r.tiers).map(([name, t]) => [
        name,
        {
          written: t.written,
          skipped_beyond_retention: t.skippedBeyondRetention,
          rejected: t.rejected,
          watermark: t.watermarkMs === undefined ? null : toRfc3339(t.watermarkMs),
        },
      ]),
    ),
    drops: r.drops,
    chunks: r.chunks,
    duration_seconds: r.durationMs / 1000,
    acked_through: r.ackedThroughMs === undefined ? null : toRfc3339(r.ackedThroughMs),
    error: r.error === undefined ? null : describeError(r.error),
    dead_letter_file: rejectedPoints([r]) > 0 ? (ctx.deadLetterPath ?? null) : null,
  };
}
