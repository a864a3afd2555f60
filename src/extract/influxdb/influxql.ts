import type http from 'node:http';
import type { IncomingMessage } from 'node:http';
import { StringDecoder } from 'node:string_decoder';

import type { DatabaseTarget } from '../../core/database-target.js';
import { joinUrl } from '../../core/http.js';
import { RestartableTimeout, anySignal, streamRequest } from '../../core/http-client.js';
import { quoteIdent } from '../../core/influx-http.js';
import { StoredSeriesCollector } from './series-columns.js';
import { StoredReadError, readErrorBody } from './read-error.js';
import type { StoredSeries, StoredSeriesQuery } from './stored-series.js';

/** Rows per JSON object of a chunked answer: what one parsed object holds in memory. */
const ROWS_PER_ANSWER_CHUNK = 10_000;

/** An InfluxQL string literal. */
export function quoteString(text: string): string {
  return `'${text.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}

/**
 * The SELECT for one time chunk: the fields of one measurement, the `where` tags equal, the
 * half-open time range in epoch milliseconds, one series per tag set (`GROUP BY *`).
 */
export function influxQlSelect(
  target: DatabaseTarget,
  query: StoredSeriesQuery,
  chunk: { fromMs: number; toMs: number },
): string {
  const from = `${quoteIdent(target.db)}.${target.rp === undefined ? '' : quoteIdent(target.rp)}.${quoteIdent(query.measurement)}`;
  const conditions = Object.entries(query.where)
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .map(([tag, value]) => `${quoteIdent(tag)} = ${quoteString(value)}`);
  conditions.push(`time >= ${chunk.fromMs}ms`, `time < ${chunk.toMs}ms`);
  return `SELECT ${query.fields.map(quoteIdent).join(', ')} FROM ${from} WHERE ${conditions.join(' AND ')} GROUP BY *`;
}

interface AnswerSeries {
  tags?: Record<string, string>;
  columns?: string[];
  values?: unknown[][];
}

interface Answer {
  results?: { series?: AnswerSeries[]; error?: string }[];
  error?: string;
}

export interface InfluxQlConnection {
  url: string;
  /** `url` without credentials, for messages. */
  displayUrl: string;
  headers: Record<string, string>;
  agent: http.Agent;
  /** Longest wait for the next bytes of an answer. */
  timeoutMs: number;
  redact: (text: string) => string;
}

/**
 * Reads one chunk with InfluxDB 1.x `POST /query?chunked=true&epoch=ms`: the answer streams as
 * one JSON object per 10,000 rows, so only one of them is parsed at a time.
 */
export async function readInfluxQlChunk(
  conn: InfluxQlConnection,
  target: DatabaseTarget,
  query: StoredSeriesQuery,
  chunk: { fromMs: number; toMs: number },
  signal?: AbortSignal,
): Promise<StoredSeries[]> {
  const url = new URL(joinUrl(conn.url, '/query'));
  const form = new URLSearchParams({
    db: target.db,
    q: influxQlSelect(target, query, chunk),
    epoch: 'ms',
    chunked: 'true',
    chunk_size: String(ROWS_PER_ANSWER_CHUNK),
  });
  const idle = new RestartableTimeout(conn.timeoutMs);
  try {
    const res = await streamRequest({
      method: 'POST',
      url,
      headers: { ...conn.headers, 'Content-Type': 'application/x-www-form-urlencoded' },
      body: form.toString(),
      agent: conn.agent,
      signal: anySignal([signal, idle.signal]),
    });
    if (res.status !== 200) {
      throw StoredReadError.fromStatus(res.status, await readErrorBody(res), conn, query);
    }
    const collector = new StoredSeriesCollector(query.fields.length);
    // Not node:readline: its async iterator ends quietly when the body errors mid-way.
    const decoder = new StringDecoder('utf8');
    let pending = '';
    for await (const bytes of res.data as AsyncIterable<Buffer>) {
      idle.start();
      pending += decoder.write(bytes);
      let start = 0;
      for (let newline; (newline = pending.indexOf('\n', start)) !== -1; start = newline + 1) {
        collectLine(pending.slice(start, newline), query, collector, conn);
      }
      pending = pending.slice(start);
    }
    if (!(res.data as IncomingMessage).complete) {
      throw new Error('The server closed the connection mid-answer.');
    }
    collectLine(pending + decoder.end(), query, collector, conn);
    return collector.build();
  } catch (err) {
    if (idle.signal.aborted && !signal?.aborted) {
      throw new StoredReadError(
        'QUERY_FAILED',
        `InfluxDB at ${conn.displayUrl} sent nothing for ${conn.timeoutMs} ms while reading ${query.measurement}.`,
        undefined,
        { cause: err },
      );
    }
    throw StoredReadError.wrap(err, conn);
  } finally {
    idle.stop();
  }
}

function collectLine(
  line: string,
  query: StoredSeriesQuery,
  collector: StoredSeriesCollector,
  conn: InfluxQlConnection,
): void {
  if (line.trim() === '') return;
  const answer = JSON.parse(line) as Answer;
  const failed = answer.error ?? answer.results?.find((r) => r.error !== undefined)?.error;
  if (failed !== undefined) throw StoredReadError.statement(failed, conn, query);
  for (const result of answer.results ?? []) {
    for (const s of result.series ?? []) {
      const columns = s.columns ?? [];
      const fieldColumns = query.fields.map((f) => columns.indexOf(f));
      const timeColumn = columns.indexOf('time');
      const series = collector.seriesFor(s.tags ?? {});
      for (const row of s.values ?? []) {
        const t = row[timeColumn] as number;
        for (let f = 0; f < fieldColumns.length; f++) {
          const c = fieldColumns[f]!;
          const v = c < 0 ? null : (row[c] as number | null);
          collector.add(series, f, t, v === null ? null : Number(v));
        }
      }
    }
  }
}
