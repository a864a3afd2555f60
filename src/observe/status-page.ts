import { escapeHtml } from '../core/html.js';
import { formatDuration } from '../core/time.js';
import type { DaemonStatus, TierStatus } from './status.js';

type Snapshot = ReturnType<DaemonStatus['snapshot']>;

function lag(seconds: number | null): string {
  if (seconds === null) return '—';
  if (seconds < 120) return `${seconds.toFixed(0)} s`;
  if (seconds < 7200) return `${(seconds / 60).toFixed(1)} min`;
  return `${(seconds / 3600).toFixed(1)} h`;
}

/** One line per tier: name and resolution, watermark, lag. */
function tierLines(tiers: readonly TierStatus[]): string {
  return tiers
    .map((t) => {
      const kind =
        t.resolutionSeconds === null ? 'raw' : formatDuration(t.resolutionSeconds * 1000);
      return `<div>${escapeHtml(t.name)} (${kind}): ${escapeHtml(t.watermark ?? '—')}, lag ${lag(t.lagSeconds)}</div>`;
    })
    .join('');
}

/**
 * The `/` page: one row per query with its tiers, refreshed every 5 seconds. Every value is
 * HTML-escaped.
 */
export function renderStatusPage(s: Snapshot): string {
  const rows = s.queries
    .map(
      (q) => `<tr class="${q.lastError ? 'failing' : 'ok'}">
  <td>${escapeHtml(q.query)}</td><td>${escapeHtml(q.lastRunAt ?? '—')}</td>
  <td>${escapeHtml(q.watermark ?? '—')}</td><td>${lag(q.lagSeconds)}</td>
  <td class="num">${q.pointsWritten}</td><td class="tiers">${tierLines(q.tiers)}</td>
  <td>${escapeHtml(q.lastError ?? '')}</td>
</tr>`,
    )
    .join('\n');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta http-equiv="refresh" content="5">
<title>promflux status</title>
<style>
body{font-family:system-ui,sans-serif;margin:2em;color:#222}
table{border-collapse:collapse}td,th{padding:.3em .8em;border-bottom:1px solid #ddd;text-align:left}
.num{text-align:right}.tiers{font-size:.9em}.failing td{background:#fde8e8}.ready{color:#17622e}.notready{color:#a11}
</style></head>
<body><h1>promflux</h1>
<p class="${s.ready ? 'ready' : 'notready'}" id="readiness">${s.ready ? 'Ready' : 'Not ready'}: ${escapeHtml(s.readyReason)}</p>
<p>Started ${escapeHtml(s.startedAt)}; ${s.cycles} ${s.cycles === 1 ? 'cycle' : 'cycles'}.
<a href="/metrics">metrics</a> · <a href="/status">status JSON</a></p>
<table><thead><tr><th>query</th><th>last run</th><th>watermark</th><th>lag</th><th>points written</th><th>tiers</th><th>last error</th></tr></thead>
<tbody>
${rows}
</tbody></table></body></html>
`;
}
