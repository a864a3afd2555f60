import { selectedMetrics } from './promql-metric-names.js';

/** How a query's values are rolled up: a gauge's samples, a counter's increase. */
export type MetricKind = 'gauge' | 'counter';

/** A query's `kind` setting (default `auto`). */
export type KindSetting = MetricKind | 'auto';

export const KIND_SETTINGS = ['auto', 'gauge', 'counter'] as const;

/** What a rollup tier stores per window of each kind, in the order written (README, Tiers). */
export const ROLLUP_AGGREGATES: Readonly<Record<MetricKind, readonly string[]>> = {
  gauge: ['count', 'sum', 'min', 'max', 'last', 'mean'],
  counter: ['increase', 'resets', 'first', 'last', 'count'],
};

/** A rollup tier's field names for the query field `field`: `value_count`, `value_sum`, .... */
export function rollupFieldNames(kind: MetricKind, field: string): string[] {
  return ROLLUP_AGGREGATES[kind].map((aggregate) => `${field}_${aggregate}`);
}

/** Name suffixes of series that only ever grow (counters, and histogram and summary parts). */
const COUNTER_SUFFIXES = ['_total', '_count', '_sum', '_bucket'] as const;

export type KindDecision =
  | { kind: MetricKind; reason: string; error?: undefined }
  | { kind?: undefined; reason?: undefined; error: string };

/**
 * How a query's rollups treat its values. Only a bare selector (`http_requests_total{code="500"}`)
 * is ever a counter: an expression such as a `sum()` of counters drops whenever one target
 * restarts, and treating that drop as a reset would inflate the increase. `auto` follows the type
 * Prometheus' metadata gives the metric (`metadataType`, undefined when unknown), else the name's
 * suffix; `counter` on anything but a bare selector is an error.
 */
export function decideKind(
  queryName: string,
  expr: string,
  setting: KindSetting,
  metadataType: string | undefined,
): KindDecision {
  const selector = bareSelectorMetric(expr);
  if (setting === 'gauge') return { kind: 'gauge', reason: 'kind: gauge' };
  if (setting === 'counter') {
    if (selector) return { kind: 'counter', reason: 'kind: counter' };
    return {
      error:
        `Query "${queryName}": kind: counter needs a bare selector such as ` +
        `http_requests_total{code="500"}, and "${expr.trim()}" is an expression. A sum() or ` +
        'other function of counters drops whenever one target restarts, which would count as a ' +
        'reset; use kind: gauge, or select the counter itself.',
    };
  }
  if (!selector) return { kind: 'gauge', reason: 'not a bare selector' };
  if (selector.name === undefined) return { kind: 'gauge', reason: 'metric name not fixed' };
  if (metadataType === 'counter') return { kind: 'counter', reason: 'metadata type counter' };
  if (metadataType === 'gauge') return { kind: 'gauge', reason: 'metadata type gauge' };
  const suffix = COUNTER_SUFFIXES.find((s) => selector.name!.endsWith(s));
  if (suffix) return { kind: 'counter', reason: `name ends in ${suffix}` };
  return { kind: 'gauge', reason: 'no counter metadata or suffix' };
}

/**
 * Whether `expr` is a bare instant-vector selector: a metric name, a `{...}` matcher list, or both,
 * and nothing else (no function, operator, range, offset or `@`). Returns the metric name when
 * it is fixed (by the name or a `__name__="..."` matcher), undefined for a selector that is not
 * bare.
 */
export function bareSelectorMetric(expr: string): { name: string | undefined } | undefined {
  const match = /^\s*([A-Za-z_:][A-Za-z0-9_:]*)?\s*(\{[\s\S]*\})?\s*$/.exec(expr);
  if (!match || (match[1] === undefined && match[2] === undefined)) return undefined;
  if (match[2] !== undefined && !isOneMatcherList(match[2])) return undefined;
  if (match[1] !== undefined && KEYWORDS.has(match[1].toLowerCase())) return undefined;
  const selected = selectedMetrics(expr);
  const names = selected.names;
  return { name: !selected.hasDynamicNames && names.length === 1 ? names[0] : undefined };
}

/** Words that are not metric names on their own (`inf`, `nan`, and the like). */
const KEYWORDS = new Set(['inf', 'nan', 'by', 'without', 'bool', 'and', 'or', 'unless', 'offset']);

/** `{...}` with its closing brace last: no `}` outside quoted label values before the end. */
function isOneMatcherList(text: string): boolean {
  let quote: string | undefined;
  for (let i = 1; i < text.length; i++) {
    const c = text[i]!;
    if (quote !== undefined) {
      if (c === '\\' && quote !== '`') i++;
      else if (c === quote) quote = undefined;
    } else if (c === '"' || c === "'" || c === '`') {
      quote = c;
    } else if (c === '}') {
      return i === text.length - 1;
    } else if (c === '{') {
      return false;
    }
  }
  return false;
}
