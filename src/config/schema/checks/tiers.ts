/**
 * Rules across `load.tiers`, `load.influxdb` and the queries: one way to name the storage, unique
 * tier names, retentions InfluxDB accepts, resolutions that fit the queries' steps and each other,
 * tier names a query may list, and which queries may be counters.
 */
import {
  invalidDatabaseTargetMessage,
  splitDatabaseTarget,
} from '../../../core/database-target.js';
import { isRetentionTooShort } from '../../../core/retention.js';
import { decideKind } from '../../../core/metric-kind.js';
import { formatDuration, parseDurationMs } from '../../../core/time.js';
import { isRecord } from '../../plain-object.js';
import { DEFAULT_QUERIES } from '../../default-queries.js';
import { LEGACY_TIER_NAME } from '../../tiers.js';
import { child, isSet, issueSink, type CrossCheck, type IssueSink } from './rules.js';

const DEFAULT_STEP_MS = 15_000;

/** A duration as the schema reads it, or undefined when it is not one (the schema reports that). */
function durationMs(value: unknown): number | undefined {
  return typeof value === 'string' || typeof value === 'number'
    ? parseDurationMs(value)
    : undefined;
}

export interface QueryView {
  index: number | undefined;
  name: string;
  expr: string | undefined;
  stepMs: number | undefined;
  tiers: unknown;
}

/** The queries as written, or the default ones (index undefined) when `extract.queries` is absent. */
export function queryViews(doc: unknown): QueryView[] {
  const queries = child(child(doc, 'extract'), 'queries');
  if (queries === undefined) {
    return DEFAULT_QUERIES.map((q) => ({
      index: undefined,
      name: q.name,
      expr: q.expr,
      stepMs: q.stepMs,
      tiers: undefined,
    }));
  }
  if (!Array.isArray(queries)) return [];
  return queries.map((q, index) => {
    const step = child(q, 'step');
    const expr = child(q, 'query');
    const name = child(q, 'name');
    return {
      index,
      name: typeof name === 'string' ? name : `queries[${index}]`,
      expr: typeof expr === 'string' ? expr : undefined,
      stepMs: step === undefined ? DEFAULT_STEP_MS : durationMs(step),
      tiers: child(q, 'tiers'),
    };
  });
}

/** `load.influxdb.bucket` is required without `load.tiers` (checked first, with the sink's keys). */
export function bucketRequiredIssue(doc: unknown, issue: IssueSink): void {
  if (!isRecord(doc)) return;
  const load = child(doc, 'load');
  if (child(load, 'tiers') !== undefined || child(child(load, 'influxdb'), 'bucket') !== undefined)
    return;
  issue(
    ['load', 'influxdb', 'bucket'],
    'is required (a bucket name; for InfluxDB 1.x "database" or "database/retention_policy"), unless load.tiers lists the tiers',
  );
}

export const tierChecks: CrossCheck = (doc, found) => {
  const issue = issueSink(found);
  const load = child(doc, 'load');
  const influx = child(load, 'influxdb');
  const tiers = child(load, 'tiers');
  const hasBucket = isSet(child(influx, 'bucket'));
  if (tiers !== undefined && hasBucket) {
    issue(
      ['load', 'influxdb', 'bucket'],
      'cannot be combined with load.tiers (the bucket alone means one raw tier; list it in load.tiers instead)',
    );
  }
  const queries = queryViews(doc);
  const names = Array.isArray(tiers) ? tierRules(tiers, child(influx, 'api'), queries, issue) : [];
  const known = Array.isArray(tiers) ? names : [LEGACY_TIER_NAME];
  for (const q of queries) {
    if (q.index === undefined) continue;
    const at = ['extract', 'queries', q.index] as const;
    if (Array.isArray(q.tiers)) {
      q.tiers.forEach((name, j) => {
        if (typeof name !== 'string' || known.includes(name)) return;
        issue(
          [...at, 'tiers', j],
          `unknown tier "${name}" (${Array.isArray(tiers) ? 'load.tiers names' : 'without load.tiers the one tier is'}: ${known.join(', ')})`,
        );
      });
    }
  }
  kindIssues(doc, issue);
};

/** Rules within `load.tiers`; returns the tier names. */
function tierRules(
  tiers: readonly unknown[],
  api: unknown,
  queries: readonly QueryView[],
  issue: IssueSink,
): string[] {
  const firstIndex = new Map<string, number>();
  const rollups: { name: string; index: number; resolutionMs: number }[] = [];
  tiers.forEach((tier, i) => {
    const at = ['load', 'tiers', i] as const;
    const name = child(tier, 'name');
    const label = typeof name === 'string' ? name : `load.tiers[${i}]`;
    if (typeof name === 'string') {
      const first = firstIndex.get(name);
      if (first === undefined) firstIndex.set(name, i);
      else
        issue(
          [...at, 'name'],
          `duplicate tier name "${name}" (also used by load.tiers[${first}]); names must be unique`,
        );
    }
    const retention = durationMs(child(tier, 'retention'));
    if (retention !== undefined && retention > 0) {
      if (retention % 1000 !== 0) {
        issue([...at, 'retention'], `tier "${label}": must be 0 (forever) or whole seconds`);
      } else if (isRetentionTooShort(retention)) {
        issue(
          [...at, 'retention'],
          `tier "${label}": retention ${formatDuration(retention)} is under 1h, which InfluxDB 1.x and 2.x refuse (use 0 for forever, or at least 1h)`,
        );
      }
    }
    const bucket = child(tier, 'bucket');
    if (api === 'v1' && typeof bucket === 'string' && bucket.trim() !== '') {
      const target = splitDatabaseTarget(bucket);
      if (!target) {
        issue([...at, 'bucket'], invalidDatabaseTargetMessage(bucket));
      } else if (target.rp === undefined && retention !== undefined && retention > 0) {
        issue(
          [...at, 'bucket'],
          `tier "${label}" has a finite retention, so for InfluxDB 1.x it must name "database/retention_policy" (e.g. "${bucket}/${label}"): promflux never changes a database's DEFAULT policy, which other writers share`,
        );
      }
    }
    const resolution = durationMs(child(tier, 'resolution'));
    if (resolution === undefined || resolution <= 0) return;
    rollups.push({ name: label, index: i, resolutionMs: resolution });
    for (const q of queries) {
      const feeds = !Array.isArray(q.tiers) || q.tiers.includes(name);
      if (!feeds || q.stepMs === undefined || q.stepMs <= 0) continue;
      if (resolution % q.stepMs !== 0) {
        issue(
          [...at, 'resolution'],
          `tier "${label}": resolution ${formatDuration(resolution)} must be a multiple of the step ${formatDuration(q.stepMs)} of query "${q.name}", which feeds it`,
        );
        break;
      }
    }
  });
  const byResolution = [...rollups].sort((a, b) => a.resolutionMs - b.resolutionMs);
  for (let k = 1; k < byResolution.length; k++) {
    const finer = byResolution[k - 1]!;
    const coarser = byResolution[k]!;
    if (coarser.resolutionMs % finer.resolutionMs !== 0) {
      issue(
        ['load', 'tiers', coarser.index, 'resolution'],
        `tier "${coarser.name}": resolution ${formatDuration(coarser.resolutionMs)} must be a multiple of the finer tier "${finer.name}"'s ${formatDuration(finer.resolutionMs)}`,
      );
    }
  }
  return [...firstIndex.keys()];
}

/** `kind: counter` only on a bare selector. */
function kindIssues(doc: unknown, issue: IssueSink): void {
  const queries = child(child(doc, 'extract'), 'queries');
  if (!Array.isArray(queries)) return;
  queries.forEach((q, i) => {
    if (!isRecord(q) || q.kind !== 'counter') return;
    const { name, query } = q;
    if (typeof query !== 'string') return;
    const decision = decideKind(
      typeof name === 'string' ? name : `queries[${i}]`,
      query,
      'counter',
      undefined,
    );
    if (decision.error !== undefined) issue(['extract', 'queries', i, 'kind'], decision.error);
  });
}
