import type http from 'node:http';
import { createInterface } from 'node:readline';
import { PromfluxError } from '../core/errors.js';
import { createAgent, joinUrl, type HttpEndpointOptions } from '../core/http.js';
import {
  anySignal,
  requestErrorMessage,
  RestartableTimeout,
  streamRequest,
} from '../core/http-client.js';
import { redactUrl } from '../core/redact.js';

/** One series of an InfluxQL answer (or part of one: chunked answers split long series). */
export interface InfluxQlSeries {
  name: string;
  /** With `GROUP BY *`: every tag key of the measurement, "" where the series has none. */
  tags?: Record<string, string>;
  columns: string[];
  values?: unknown[][];
}

/** Rows a chunk of a chunked answer holds at most: bounds the memory one line of JSON takes. */
const CHUNK_ROWS = 10_000;

/**
 * Reads InfluxDB 1.x with InfluxQL `SELECT`s through `POST /query`, streaming: the answer comes
 * chunked (`chunked=true`, one JSON document a line), so a long answer never sits in memory
 * whole. The endpoint's timeout applies between two chunks, not to the whole answer.
 */
export class InfluxQlReader {
  private readonly agent: http.Agent;
  private readonly headers: Record<string, string>;
  private readonly safeUrl: string;

  constructor(
    private readonly endpoint: HttpEndpointOptions,
    /** 1.x credentials as an `Authorization` header value, if any. */
    authorization: string | undefined,
  ) {
    this.agent = createAgent(endpoint.url, endpoint.tls, 2);
    this.headers = {
      ...endpoint.headers,
      ...(authorization ? { Authorization: authorization } : {}),
      'Content-Type': 'application/x-www-form-urlencoded',
      Accept: 'application/json',
    };
    this.safeUrl = redactUrl(endpoint.url);
  }

  /**
   * Runs one SELECT on `db` (times as epoch milliseconds) and hands each series part to
   * `onSeries` as it arrives. Rejects with a PromfluxError (`QUERY_FAILED`) naming the statement
   * and InfluxDB's message when the server refuses it or cannot be read.
   */
  async select(
    db: string,
    statement: string,
    onSeries: (series: InfluxQlSeries) => void,
    signal?: AbortSignal,
  ): Promise<void> {
    const form = new URLSearchParams({
      q: statement,
      db,
      epoch: 'ms',
      chunked: 'true',
      chunk_size: String(CHUNK_ROWS),
    });
    const timeout = new RestartableTimeout(
      this.endpoint.timeoutMs > 0 ? this.endpoint.timeoutMs : Infinity,
    );
    const fail = (why: string): PromfluxError =>
      new PromfluxError('QUERY_FAILED', `InfluxDB ${this.safeUrl}: ${statement}: ${why}`);
    try {
      const res = await streamRequest({
        method: 'POST',
        url: new URL(joinUrl(this.endpoint.url, '/query')),
        headers: this.headers,
        body: form.toString(),
        agent: this.agent,
        signal: anySignal([signal, timeout.signal]),
      });
      const lines = createInterface({ input: res.data, crlfDelay: Infinity });
      let body = '';
      for await (const line of lines) {
        timeout.start();
        if (res.status !== 200) {
          body += line;
          continue;
        }
        if (line.trim() === '') continue;
        for (const series of parseChunk(line, fail)) onSeries(series);
      }
      if (res.status !== 200) throw fail(`HTTP ${res.status} ${errorText(body)}`);
    } catch (err) {
      if (err instanceof PromfluxError) throw err;
      if (timeout.signal.aborted) {
        throw fail(`no answer within ${this.endpoint.timeoutMs} ms`);
      }
      throw fail(requestErrorMessage(err));
    } finally {
      timeout.stop();
    }
  }

  close(): void {
    this.agent.destroy();
  }
}

function parseChunk(line: string, fail: (why: string) => PromfluxError): InfluxQlSeries[] {
  let doc: { error?: string; results?: { error?: string; series?: InfluxQlSeries[] }[] };
  try {
    doc = JSON.parse(line) as typeof doc;
  } catch {
    throw fail('the answer is not InfluxDB JSON');
  }
  const error = doc.error ?? doc.results?.find((r) => r.error !== undefined)?.error;
  if (error !== undefined) throw fail(error);
  return (doc.results ?? []).flatMap((r) => r.series ?? []);
}

/** InfluxDB's `{"error": "..."}`, or the body's start. */
function errorText(body: string): string {
  try {
    const error = (JSON.parse(body) as { error?: unknown }).error;
    if (typeof error === 'string') return error;
  } catch {
    // Not JSON: shown as it is.
  }
  return body.slice(0, 200).trim();
}
