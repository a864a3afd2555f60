import type { QueryConfig } from '../config/types.js';
import { describeError } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import { bareSelectorMetric, decideKind, type KindDecision } from '../core/metric-kind.js';
import type { PrometheusClient } from './prometheus.js';

type MetadataClient = Pick<PrometheusClient, 'metricMetadata'>;

/**
 * A client's metadata, fetched at most once: a run's kinds stay as they were decided, and a
 * Prometheus without metadata is warned about once, not once per cycle. undefined: the request
 * failed.
 */
const fetched = new WeakMap<MetadataClient, Promise<Map<string, string[]> | undefined>>();

/**
 * Each query's kind (gauge or counter) and why, by query name. `auto` queries that select one
 * fixed metric name follow the type Prometheus' `/api/v1/metadata` declares for it (one request
 * per client, made only when such a query exists); when that request fails, or the metadata does
 * not name exactly one type, the name's suffix decides, and a failure is logged once as a
 * warning: the run goes on.
 */
export async function resolveQueryKinds(
  client: MetadataClient,
  queries: readonly QueryConfig[],
  logger: Logger,
): Promise<Map<string, KindDecision>> {
  const needed = queries.some((q) => metadataName(q) !== undefined);
  const metadata = needed ? await metadataOf(client, logger) : undefined;
  const kinds = new Map<string, KindDecision>();
  for (const q of queries) {
    const name = metadataName(q);
    const types = name === undefined ? undefined : metadata?.get(name);
    const type = types?.length === 1 ? types[0] : undefined;
    const decision = decideKind(q.name, q.expr, q.kind ?? 'auto', type);
    kinds.set(q.name, name === undefined ? decision : explained(decision, name, metadata, types));
  }
  return kinds;
}

/** The metric name whose metadata decides `q`'s kind, when it is `auto` and a bare selector. */
function metadataName(q: QueryConfig): string | undefined {
  if ((q.kind ?? 'auto') !== 'auto') return undefined;
  return bareSelectorMetric(q.expr)?.name;
}

function metadataOf(
  client: MetadataClient,
  logger: Logger,
): Promise<Map<string, string[]> | undefined> {
  let pending = fetched.get(client);
  if (!pending) {
    pending = client.metricMetadata().catch((err: unknown) => {
      logger.warn(
        { reason: describeError(err) },
        'Prometheus metric metadata is unavailable; query kinds follow the metric name suffixes ' +
          '(_total, _count, _sum, _bucket). Set `kind` on a query to decide it yourself.',
      );
      return undefined;
    });
    fetched.set(client, pending);
  }
  return pending;
}

/** Adds why the metadata did not decide, when the suffix rule did. */
function explained(
  decision: KindDecision,
  name: string,
  metadata: Map<string, string[]> | undefined,
  types: string[] | undefined,
): KindDecision {
  if (decision.error !== undefined || decision.reason.startsWith('metadata')) return decision;
  let why: string;
  if (!metadata) why = 'metadata unavailable';
  else if (!types || types.length === 0) why = `no metadata for ${name}`;
  else if (types.length > 1) why = `metadata types differ: ${types.join(', ')}`;
  else why = `metadata type ${types[0]}`;
  return { kind: decision.kind, reason: `${decision.reason}; ${why}` };
}
