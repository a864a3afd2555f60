/** Rules across `load.export` and the queries: every query's step fits the export's hour files. */
import { formatDuration } from '../../../core/time.js';
import { child, issueSink, type CrossCheck } from './rules.js';
import { queryViews } from './tiers.js';

const HOUR_MS = 3_600_000;

export const exportChecks: CrossCheck = (doc, found) => {
  if (child(child(doc, 'load'), 'export') === undefined) return;
  const issue = issueSink(found);
  for (const q of queryViews(doc)) {
    // A step the schema rejects is reported there.
    if (q.stepMs === undefined || q.stepMs <= 0 || HOUR_MS % q.stepMs === 0) continue;
    const at = q.index === undefined ? ['load', 'export'] : ['extract', 'queries', q.index, 'step'];
    issue(
      at,
      `query "${q.name}": step ${formatDuration(q.stepMs)} does not divide 1h, which load.export needs (one file per query per hour, every hour on the same grid)`,
    );
  }
};
