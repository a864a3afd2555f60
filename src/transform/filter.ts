import type { Labels } from '../core/series.js';
import { selectedMetrics } from '../core/promql-metric-names.js';

/**
 * The metric whitelist (`transform.valid_metrics`: exact names or `/regex/`, anchored).
 *
 * A series is judged by its `__name__`. A series without one (from `rate()`, arithmetic,
 * `histogram_quantile()`...) is judged by the metrics its query selects: it is kept when every
 * selected metric is whitelisted. A query whose metric names cannot be known statically (only a
 * `__name__` regex, or no metric name at all, e.g. `vector(1)`) produces unnamed series that are
 * dropped unless the whitelist is empty. An empty whitelist keeps everything.
 */
export interface MetricFilter {
  (labels: Labels): boolean;
}

export interface MetricMatcher {
  (name: string): boolean;
}

export function compileMetricMatcher(validMetrics: readonly string[]): MetricMatcher | undefined {
  if (validMetrics.length === 0) return undefined;
  const exact = new Set<string>();
  const patterns: RegExp[] = [];
  for (const entry of validMetrics) {
    const regex = /^\/(.*)\/$/.exec(entry);
    if (regex) patterns.push(new RegExp(`^(?:${regex[1]})$`));
    else exact.add(entry);
  }
  return (name) => exact.has(name) || patterns.some((p) => p.test(name));
}

export function createMetricFilter(
  validMetrics: readonly string[],
  queryExpr: string,
): MetricFilter {
  const matches = compileMetricMatcher(validMetrics);
  if (!matches) return () => true;
  const selected = selectedMetrics(queryExpr);
  const unnamedAllowed =
    !selected.hasDynamicNames && selected.names.length > 0 && selected.names.every(matches);
  return (labels) => {
    const name = labels.__name__;
    return name === undefined ? unnamedAllowed : matches(name);
  };
}

/**
 * Which of a query's selected metrics the whitelist refuses: for a startup warning, so that a query
 * that can only ever produce dropped series is noticed before the first cycle.
 */
export function metricsRefusedByWhitelist(
  validMetrics: readonly string[],
  queryExpr: string,
): string[] {
  const matches = compileMetricMatcher(validMetrics);
  if (!matches) return [];
  return selectedMetrics(queryExpr).names.filter((name) => !matches(name));
}

/**
 * Whether the whitelist drops every series of a query that selects no metric at all (`vector(1)`,
 * `time()`, `1 + 1`): its series carry no `__name__` and derive from no metric that could be listed.
 */
export function dropsNamelessQuery(validMetrics: readonly string[], queryExpr: string): boolean {
  if (validMetrics.length === 0) return false;
  const selected = selectedMetrics(queryExpr);
  return selected.names.length === 0 && !selected.hasDynamicNames;
}
