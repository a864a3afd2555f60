/**
 * Checks across keys, one list entry per section. They read the raw document and only speak when
 * the keys involved have the right types (type problems are the schema's to report), so they run
 * even when the schema failed elsewhere and every problem surfaces in one pass.
 */
import { exportChecks } from './checks/export.js';
import { extractChecks } from './checks/extract.js';
import { loadChecks } from './checks/load.js';
import type { CrossCheck, Findings } from './checks/rules.js';
import { serverChecks } from './checks/server.js';
import { tierChecks } from './checks/tiers.js';
import { transformChecks } from './checks/transform.js';

export type { Findings };

/** In document order, so that issues are listed in the order of the keys. */
const CROSS_CHECKS: readonly CrossCheck[] = [
  extractChecks,
  transformChecks,
  loadChecks,
  tierChecks,
  exportChecks,
  serverChecks,
];

/** Cross-key rules of the document; see {@link Findings}. */
export function crossFieldFindings(doc: unknown): Findings {
  const found: Findings = { issues: [], warnings: [] };
  for (const check of CROSS_CHECKS) check(doc, found);
  return found;
}
