import type http from 'node:http';

import type { InfluxSinkConfig } from '../../config/types.js';
import { parseDatabaseTarget } from '../../core/database-target.js';
import { PromfluxError } from '../../core/errors.js';
import { authorizationHeader, createAgent } from '../../core/http.js';
import { redactUrl } from '../../core/redact.js';
import { detectInfluxApi, fallbackApi, type InfluxWriteApi } from '../../core/influx-api.js';
import { createInfluxClient, v1Authorization } from '../../core/influx-http.js';
import { readFluxChunk } from './flux.js';
import { readInfluxQlChunk } from './influxql.js';
import type { StoredChunk, StoredSeries, StoredSeriesQuery } from './stored-series.js';
import { DEFAULT_CHUNK_SIZING, nextTimeChunk, type ChunkSizing } from './time-chunks.js';

export interface StoredSeriesReaderOptions {
  /** Applied to every text a server sent before it goes into an error (the config's Redactor). */
  redact?: (text: string) => string;
  /** Bounds one chunk's memory; default 1,000,000 points and 10,000 timestamps per series. */
  sizing?: Partial<ChunkSizing>;
  /**
   * The buckets it will read: on 1.x each must be a database target, checked as soon as the API
   * is known (a ConfigError, exit 2, before any query), not at the first read.
   */
  buckets?: readonly string[];
}

/**
 * Reads back what promflux stored: one query's series, chunk by chunk in time, from InfluxDB 1.x
 * (InfluxQL) or 2.x (Flux). Connection, credentials, TLS and headers are the sink's
 * (`load.influxdb`). One reader serves many queries, one at a time; `close` it when done.
 */
export interface StoredSeriesReader {
  /** The API it reads with: `v1` InfluxQL `/query`, `v2` Flux `/api/v2/query`. */
  readonly api: InfluxWriteApi;
  /**
   * The query's series in time chunks, in range order, each chunk's series sorted by tags. A
   * chunk is only valid until the next one is asked for (its memory is the bound).
   */
  read(query: StoredSeriesQuery, signal?: AbortSignal): AsyncGenerator<StoredChunk>;
  close(): Promise<void>;
}

/**
 * A reader for the sink's InfluxDB. `api: auto` asks `/ping` once (the same rule the sink uses);
 * a server that does not say gets v2 when a token and an org are configured, else v1.
 */
export async function openStoredSeriesReader(
  config: InfluxSinkConfig,
  options: StoredSeriesReaderOptions = {},
): Promise<StoredSeriesReader> {
  const redact = options.redact ?? ((t: string) => t);
  const sizing = { ...DEFAULT_CHUNK_SIZING, ...options.sizing };
  const agent = createAgent(config.endpoint.url, config.endpoint.tls, 4);
  try {
    const api =
      config.api === 'auto'
        ? await detectInfluxApi(config.endpoint, { whenUnknown: fallbackApi(config), agent })
        : config.api;
    if (api === 'v1') for (const bucket of options.buckets ?? []) parseDatabaseTarget(bucket);
    const readChunk =
      api === 'v1'
        ? influxQlChunks(config, agent, redact)
        : await fluxChunks(config, agent, redact);
    return {
      api,
      read: (query, signal) => readChunks(query, sizing, signal, readChunk),
      close: () => {
        agent.destroy();
        return Promise.resolve();
      },
    };
  } catch (err) {
    agent.destroy();
    throw err;
  }
}

type ChunkFn = (
  query: StoredSeriesQuery,
  chunk: { fromMs: number; toMs: number },
  signal: AbortSignal | undefined,
) => Promise<StoredSeries[]>;

async function* readChunks(
  query: StoredSeriesQuery,
  sizing: ChunkSizing,
  signal: AbortSignal | undefined,
  readChunk: ChunkFn,
): AsyncGenerator<StoredChunk> {
  if (query.fields.length === 0) throw new RangeError('A stored-series query needs a field.');
  if (!(query.intervalMs > 0)) throw new RangeError('A stored-series query needs an interval.');
  let seriesCount: number | undefined;
  let cursor = query.fromMs;
  for (;;) {
    const chunk = nextTimeChunk(cursor, query.toMs, query.intervalMs, seriesCount, sizing);
    if (!chunk) return;
    if (signal?.aborted) throw new PromfluxError('ABORTED', 'Reading stored series was aborted.');
    const series = await readChunk(query, chunk, signal);
    seriesCount = series.length;
    yield { ...chunk, series };
    cursor = chunk.toMs;
  }
}

function influxQlChunks(
  config: InfluxSinkConfig,
  agent: http.Agent,
  redact: (text: string) => string,
): ChunkFn {
  const authorization = v1Authorization(config);
  const conn = {
    url: config.endpoint.url,
    displayUrl: redactUrl(config.endpoint.url),
    headers: {
      ...config.endpoint.headers,
      ...(authorization === undefined ? {} : { Authorization: authorization }),
    },
    agent,
    timeoutMs: config.endpoint.timeoutMs,
    redact,
  };
  return (query, chunk, signal) => {
    return readInfluxQlChunk(conn, parseDatabaseTarget(query.bucket), query, chunk, signal);
  };
}

async function fluxChunks(
  config: InfluxSinkConfig,
  agent: http.Agent,
  redact: (text: string) => string,
): Promise<ChunkFn> {
  if (config.org === undefined) {
    throw new PromfluxError(
      'CONFIG_INVALID',
      'Reading from InfluxDB 2.x needs load.influxdb.org (Flux queries run in an organization).',
    );
  }
  const authorization = config.token ? undefined : authorizationHeader(config.endpoint.auth);
  const conn = {
    client: await createInfluxClient(config, agent),
    org: config.org,
    headers:
      authorization === undefined
        ? {}
        : ({ Authorization: authorization } as Record<string, string>),
    displayUrl: redactUrl(config.endpoint.url),
    redact,
  };
  return (query, chunk, signal) => readFluxChunk(conn, query, chunk, signal);
}
