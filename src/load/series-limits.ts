import type { InfluxSinkConfig } from '../config/types.js';
import { splitDatabaseTarget } from '../core/database-target.js';
import { describeError } from '../core/errors.js';
import { headerValue } from '../core/http-client.js';
import { quoteIdent, serverErrorMessage, v1Authorization } from '../core/influx-http.js';
import { AdminHttp } from './provision/admin-http.js';
import { generationFromPing } from './provision/plan.js';

/** What the server shows of its series limits and of each 1.x database's series. */
export interface SeriesLimits {
  /** `max-series-per-database` (0 = no limit); undefined when not visible. */
  maxSeriesPerDatabase?: number;
  /** `max-values-per-tag` (0 = no limit); undefined when not visible. */
  maxValuesPerTag?: number;
  /** Why the limits are not visible, when they are not. */
  limitsHidden?: string;
  /** Series per database now (1.x's own estimate), or why that is unknown. */
  databases: { db: string; series?: number; unknown?: string }[];
}

/**
 * Reads what InfluxDB exposes about series limits, for `backfill --plan`. Only 1.x exposes them:
 * `SHOW DIAGNOSTICS` (admin only) lists the `[data]` settings `max-series-per-database` and
 * `max-values-per-tag`, and `SHOW SERIES CARDINALITY ON db` (read access) estimates the series a
 * database holds. 2.x and 3.x show neither through their APIs. Never throws: what cannot be read
 * is reported as such.
 */
export async function readSeriesLimits(
  influx: InfluxSinkConfig,
  databases: readonly string[],
): Promise<SeriesLimits> {
  const http = new AdminHttp(influx.endpoint, v1Authorization(influx));
  const unknownAll = (why: string): SeriesLimits => ({ limitsHidden: why, databases: [] });
  try {
    let generation;
    try {
      const res = await http.request('GET', '/ping');
      const ping = {
        version: headerValue(res.headers, 'x-influxdb-version') || undefined,
        build: headerValue(res.headers, 'x-influxdb-build') || undefined,
      };
      generation = generationFromPing(ping) ?? (ping.version ? undefined : influx.api);
    } catch (err) {
      return unknownAll(`InfluxDB is unreachable: ${describeError(err)}`);
    }
    if (generation === 'v2' || generation === 'v3') {
      return unknownAll(
        `InfluxDB ${generation === 'v2' ? '2.x' : '3.x'} exposes no series limits or series counts through its API`,
      );
    }
    if (generation !== 'v1') {
      return unknownAll('the server does not identify as InfluxDB 1.x, 2.x or 3.x');
    }
    const limits: SeriesLimits = { databases: [] };
    const diagnostics = await influxQl(http, 'SHOW DIAGNOSTICS');
    if ('failure' in diagnostics) {
      limits.limitsHidden = `SHOW DIAGNOSTICS, which shows them, failed: ${diagnostics.failure}`;
    } else {
      const data = diagnostics.find((s) => s.name === 'config-data');
      limits.maxSeriesPerDatabase = numberAt(data, 'max-series-per-database');
      limits.maxValuesPerTag = numberAt(data, 'max-values-per-tag');
      if (limits.maxSeriesPerDatabase === undefined && limits.maxValuesPerTag === undefined) {
        limits.limitsHidden = 'SHOW DIAGNOSTICS does not list them';
      }
    }
    for (const db of databases) {
      const cardinality = await influxQl(http, `SHOW SERIES CARDINALITY ON ${quoteIdent(db)}`);
      if ('failure' in cardinality) {
        limits.databases.push({ db, unknown: cardinality.failure });
      } else {
        // An empty database answers no rows.
        const value = cardinality[0]?.values?.[0]?.[0];
        limits.databases.push({ db, series: typeof value === 'number' ? value : 0 });
      }
    }
    return limits;
  } finally {
    http.close();
  }
}

/**
 * The plan's lines about series limits: per database, the series it holds and the most this plan
 * can add (one per Prometheus series of each query writing there; a series written to several
 * retention policies of one database counts once, as 1.x counts it), against the limits.
 */
export function describeSeriesLimits(
  limits: SeriesLimits,
  planned: ReadonlyMap<string, number | undefined>,
): string[] {
  const lines: string[] = [];
  const maxSeries = limits.maxSeriesPerDatabase;
  const maxValues = limits.maxValuesPerTag;
  if (limits.limitsHidden !== undefined) {
    lines.push(`series limits: not visible (${limits.limitsHidden})`);
  } else {
    lines.push(
      `series limits: max-series-per-database ${limitText(maxSeries)}, max-values-per-tag ${limitText(maxValues)}`,
    );
  }
  for (const { db, series, unknown } of limits.databases) {
    const adds = planned.get(db);
    const addsText = adds === undefined ? 'an unknown number of' : `at most ${adds}`;
    const now =
      series === undefined ? `series now unknown (${unknown})` : `about ${series} series now`;
    let verdict = '';
    if (maxSeries !== undefined && maxSeries > 0 && series !== undefined && adds !== undefined) {
      verdict =
        series + adds > maxSeries
          ? `: may exceed max-series-per-database ${maxSeries} (${series} + ${adds}); writes of new series would fail`
          : `: within max-series-per-database ${maxSeries}`;
    }
    lines.push(`database "${db}": ${now}, this plan writes ${addsText} series${verdict}`);
    if (maxValues !== undefined && maxValues > 0 && adds !== undefined && adds > maxValues) {
      lines.push(
        `database "${db}": a label can take up to ${adds} values in this plan, over max-values-per-tag ${maxValues} if they all differ`,
      );
    }
  }
  return lines;
}

/** The 1.x databases the tiers write to, each with the plan's series (undefined: unknown). */
export function plannedSeriesPerDatabase(
  queries: readonly { series: number | undefined; buckets: readonly string[] }[],
): Map<string, number | undefined> {
  const out = new Map<string, number | undefined>();
  for (const query of queries) {
    const dbs = new Set(query.buckets.map((b) => splitDatabaseTarget(b)?.db ?? b));
    for (const db of dbs) {
      const sum = out.has(db) ? out.get(db) : 0;
      out.set(db, sum === undefined || query.series === undefined ? undefined : sum + query.series);
    }
  }
  return out;
}

function limitText(limit: number | undefined): string {
  if (limit === undefined) return 'not shown';
  return limit === 0 ? 'off (0)' : String(limit);
}

interface InfluxQlSeries {
  name?: string;
  columns?: string[];
  values?: unknown[][];
}

function numberAt(series: InfluxQlSeries | undefined, column: string): number | undefined {
  const i = series?.columns?.indexOf(column) ?? -1;
  const value = i >= 0 ? series?.values?.[0]?.[i] : undefined;
  return typeof value === 'number' ? value : undefined;
}

/** One read-only statement; every series of its first result, or why it failed. */
async function influxQl(
  http: AdminHttp,
  statement: string,
): Promise<InfluxQlSeries[] | { failure: string }> {
  try {
    const res = await http.request('GET', '/query', { query: { q: statement } });
    if (res.status !== 200) return { failure: `${res.status} ${serverErrorMessage(res)}` };
    const parsed = JSON.parse(res.body) as {
      error?: string;
      results?: { error?: string; series?: InfluxQlSeries[] }[];
    };
    const error = parsed.error ?? parsed.results?.[0]?.error;
    if (error) return { failure: error };
    return parsed.results?.[0]?.series ?? [];
  } catch (err) {
    return { failure: describeError(err) };
  }
}
