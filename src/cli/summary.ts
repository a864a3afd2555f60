import { describeError } from '../core/errors.js';
import { DROP_REASONS, totalDropped } from '../core/series.js';
import { toRfc3339 } from '../core/time.js';
import type { QueryRunResult } from '../pipeline/run-query.js';

/** One line per query run, for people: `ok availability: 240 samples → 240 points ...`. */
export function formatQuerySummary(r: QueryRunResult): string {
  const sinks = Object.entries(r.sinks)
    .map(
      ([name, t]) =>
        `${t.written} written to ${name}${t.rejected ? ` (${t.rejected} rejected)` : ''}`,
    )
    .join(', ');
  const dropped = totalDropped(r.drops);
  const reasons = DROP_REASONS.filter((k) => r.drops[k] > 0)
    .map((k) => `${k}=${r.drops[k]}`)
    .join(' ');
  const status = r.error === undefined ? 'ok    ' : 'FAILED';
  const range = `${toRfc3339(r.range.startMs)}..${toRfc3339(r.range.endMs)}`;
  let line =
    `${status} ${r.query}: ${r.samples} samples, ${r.series} series → ${r.points} points; ${sinks || 'no sink'}; ` +
    `dropped ${dropped}${reasons ? ` (${reasons})` : ''}; ${r.chunks} chunk${r.chunks === 1 ? '' : 's'}; ` +
    `${(r.durationMs / 1000).toFixed(2)}s; range ${range}`;
  if (r.error !== undefined) line += `\n       error: ${describeError(r.error)}`;
  return line;
}

/** Machine-readable twin of the summary line (`--json`). */
export function summaryRecord(r: QueryRunResult): Record<string, unknown> {
  return {
    query: r.query,
    ok: r.error === undefined,
    start: toRfc3339(r.range.startMs),
    end: toRfc3339(r.range.endMs),
    samples: r.samples,
    series: r.series,
    points: r.points,
    sinks: r.sinks,
    drops: r.drops,
    chunks: r.chunks,
    duration_seconds: r.durationMs / 1000,
    acked_through: r.ackedThroughMs === undefined ? null : toRfc3339(r.ackedThroughMs),
    error: r.error === undefined ? null : describeError(r.error),
  };
}
