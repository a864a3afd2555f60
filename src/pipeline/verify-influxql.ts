import type { TransformConfig } from '../config/types.js';
import { splitDatabaseTarget } from '../core/database-target.js';
import { UsageError } from '../core/errors.js';
import { quoteIdent, quoteString } from '../core/influxql.js';
import type { InfluxQlReader, InfluxQlSeries } from '../extract/influxql-select.js';
import { storedTagText } from '../transform/line-protocol.js';
import type { TierContents, VerifyCheck } from './verify.js';
import { storedTags, WindowTable } from './verify-windows.js';

/**
 * What InfluxDB 1.x holds for a check, read with InfluxQL: a raw tier aggregated by the server
 * (`count`, `sum` per window, `GROUP BY time(1h), *`), a rollup tier's points as they are. Only
 * the query's series (`metric_type`) in the check's range are read.
 */
export class InfluxQlTierContents implements TierContents {
  constructor(
    private readonly reader: Pick<InfluxQlReader, 'select'>,
    private readonly transform: Pick<TransformConfig, 'measurement' | 'field'>,
  ) {}

  async read(check: VerifyCheck, signal?: AbortSignal): Promise<WindowTable> {
    const target = splitDatabaseTarget(check.tier.bucket);
    if (!target) {
      throw new UsageError(`Tier "${check.tier.name}": "${check.tier.bucket}" names no database.`);
    }
    const { query } = check;
    const measurement = query.measurement ?? this.transform.measurement;
    const field = query.field ?? this.transform.field;
    const from = `${quoteIdent(target.db)}.${target.rp === undefined ? '' : quoteIdent(target.rp)}.${quoteIdent(measurement)}`;
    const where = `${quoteIdent('metric_type')} = ${quoteString(storedTagText(query.name))}`;
    const table = new WindowTable(check.windowMs);
    if (check.kind === 'raw') {
      const { startMs, endMs } = check.points;
      const statement =
        `SELECT count(${quoteIdent(field)}), sum(${quoteIdent(field)}) FROM ${from} ` +
        `WHERE ${where} AND time >= ${startMs}ms AND time <= ${endMs}ms ` +
        `GROUP BY time(${check.windowMs}ms), * fill(none)`;
      await this.reader.select(target.db, statement, (s) => addRows(table, s, countAndSum), signal);
      return table;
    }
    const prefix = `${field}_`;
    const statement =
      `SELECT * FROM ${from} WHERE ${where} ` +
      `AND time >= ${check.windows.fromMs}ms AND time < ${check.windows.toMs}ms GROUP BY *`;
    await this.reader.select(
      target.db,
      statement,
      (s) => addRows(table, s, (column) => column.startsWith(prefix)),
      signal,
    );
    return table;
  }
}

/** `count`/`sum` columns of the raw statement, named as the expectation names them. */
function countAndSum(column: string): boolean {
  return column === 'count' || column === 'sum';
}

/** Adds a series' rows: each non-null numeric column `wanted` keeps, stamped at its row's time. */
function addRows(
  table: WindowTable,
  series: InfluxQlSeries,
  wanted: (column: string) => boolean,
): void {
  const tags = storedTags(Object.entries(series.tags ?? {}), false);
  const columns = series.columns.map((c, i) => ({ c, i })).filter(({ c }) => wanted(c));
  const time = series.columns.indexOf('time');
  for (const row of series.values ?? []) {
    // Columns of fields only other queries write (one measurement is shared) are null here.
    const present = columns.filter(({ i }) => typeof row[i] === 'number');
    if (present.length === 0) continue;
    const fields = table.window(tags, Number(row[time]));
    for (const { c, i } of present) fields[c] = row[i] as number;
  }
}
