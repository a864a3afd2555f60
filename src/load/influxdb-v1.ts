import type http from 'node:http';

import { ConfigError, describeError, SinkError } from '../core/errors.js';
import { authorizationHeader, createAgent, joinUrl } from '../core/http.js';
import type { InfluxSinkConfig } from '../config/types.js';
import { BatchWriter, type PostFn, type SinkDeps } from './batch-writer.js';
import { describePing, pingInflux } from './detect-api.js';
import { httpRequest } from './http-request.js';
import type { LineBatch, Precision, Sink, SinkCheckResult, WriteReport } from './sink.js';
import { serverErrorMessage } from './write-outcome.js';

/** `db` or `db/rp` (split on the first `/`). */
export function parseDatabaseTarget(bucket: string): { db: string; rp?: string } {
  const slash = bucket.indexOf('/');
  const db = slash === -1 ? bucket : bucket.slice(0, slash);
  const rp = slash === -1 ? undefined : bucket.slice(slash + 1);
  if (!db || rp === '') {
    throw new ConfigError([
      {
        path: 'load.influxdb.bucket',
        message: `"${bucket}" is not a valid InfluxDB 1.x target: use "database" or "database/retention_policy".`,
      },
    ]);
  }
  return rp === undefined ? { db } : { db, rp };
}

/** Quotes an InfluxQL identifier. */
function quoteIdent(name: string): string {
  return `"${name.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

interface InfluxQlResult {
  series?: { name?: string; columns?: string[]; values?: unknown[][] }[];
  error?: string;
}

/**
 * InfluxDB 1.x (and VictoriaMetrics' 1.x endpoint) through `POST /write?db=&rp=&precision=`.
 * Credentials go in a Basic `Authorization` header, never in `u`/`p` URL parameters, so they do
 * not land in access logs.
 */
export class InfluxDbV1Sink implements Sink {
  readonly name: string;
  readonly api = 'v1' as const;
  readonly db: string;
  readonly rp: string | undefined;
  private readonly config: InfluxSinkConfig;
  private readonly agent: http.Agent;
  private readonly writer: BatchWriter;
  private readonly headers: Record<string, string>;
  private readonly writeUrls: Record<Precision, URL>;
  private closed = false;

  constructor(config: InfluxSinkConfig, deps: SinkDeps) {
    this.config = config;
    this.name = deps.name ?? 'influxdb';
    const target = parseDatabaseTarget(config.bucket);
    this.db = target.db;
    this.rp = target.rp;
    this.agent = createAgent(config.endpoint.url, config.endpoint.tls);
    const auth =
      config.username !== undefined
        ? authorizationHeader({
            type: 'basic',
            username: config.username,
            password: config.password ?? '',
          })
        : config.token
          ? `Token ${config.token}`
          : authorizationHeader(config.endpoint.auth);
    this.headers = { ...config.endpoint.headers, ...(auth ? { Authorization: auth } : {}) };
    this.writeUrls = { s: this.writeUrl('s'), ms: this.writeUrl('ms') };
    const post: PostFn = (body, precision, signal, contentEncoding) =>
      httpRequest({
        method: 'POST',
        url: this.writeUrls[precision],
        headers: {
          ...this.headers,
          'Content-Type': 'text/plain; charset=utf-8',
          ...(contentEncoding ? { 'Content-Encoding': contentEncoding } : {}),
        },
        body,
        agent: this.agent,
        timeoutMs: config.endpoint.timeoutMs,
        signal,
      });
    this.writer = new BatchWriter({
      name: this.name,
      post,
      retry: config.retry,
      deadLetter: deps.deadLetter,
      logger: deps.logger,
      gzip: config.gzip,
      maxLinesPerRequest: config.batchSize,
      onRetry: deps.onRetry,
    });
  }

  write(
    batch: LineBatch,
    options?: { signal?: AbortSignal; deadlineMs?: number },
  ): Promise<WriteReport> {
    if (this.closed) {
      return Promise.reject(new SinkError('SINK_WRITE_FAILED', `Sink ${this.name} is closed.`));
    }
    return this.writer.write(batch, options);
  }

  /**
   * `/ping` (version), then on InfluxDB itself `SHOW DATABASES` (credentials accepted, database
   * exists), `SHOW RETENTION POLICIES` (the configured or default policy exists) and an empty
   * write, which 1.x answers 204 only when the user may write there (403 otherwise).
   */
  async check(): Promise<SinkCheckResult> {
    const details: string[] = [];
    let ping;
    try {
      ping = await pingInflux(this.config.endpoint, this.agent);
    } catch (err) {
      return { ok: false, details: [describeError(err)] };
    }
    details.push(describePing(ping, 'v1'));
    if (!ping.version) {
      details.push(
        'database checks skipped: the server does not identify as InfluxDB (VictoriaMetrics accepts any database)',
      );
      return { ok: true, details };
    }

    const databases = await this.query('SHOW DATABASES');
    if ('failure' in databases) return { ok: false, details: [...details, databases.failure] };
    const names = (databases.series?.[0]?.values ?? []).map((row) => String(row[0]));
    if (!names.includes(this.db)) {
      const known = names.filter((n) => n !== '_internal');
      return {
        ok: false,
        details: [
          ...details,
          `database "${this.db}" not found${known.length ? ` (visible: ${known.join(', ')})` : ''}`,
        ],
      };
    }
    details.push(`database "${this.db}" found`);

    const policies = await this.query(`SHOW RETENTION POLICIES ON ${quoteIdent(this.db)}`);
    if ('failure' in policies) return { ok: false, details: [...details, policies.failure] };
    const series = policies.series?.[0];
    const columns = series?.columns ?? [];
    const rows = (series?.values ?? []).map((row) =>
      Object.fromEntries(columns.map((c, i) => [c, row[i]])),
    );
    const policy = this.rp
      ? rows.find((r) => r.name === this.rp)
      : rows.find((r) => r.default === true);
    if (!policy) {
      const detail = this.rp
        ? `retention policy "${this.rp}" not found on database "${this.db}"`
        : `database "${this.db}" has no default retention policy`;
      return { ok: false, details: [...details, detail] };
    }
    const duration = String(policy.duration) === '0s' ? 'infinite' : String(policy.duration);
    details.push(
      `retention policy "${String(policy.name)}"${this.rp ? '' : ' (default)'} found (duration ${duration})`,
    );
    const probe = await this.probeWrite();
    details.push(probe.detail);
    return { ok: probe.ok, details };
  }

  async close(): Promise<void> {
    this.closed = true;
    this.agent.destroy();
    return Promise.resolve();
  }

  private writeUrl(precision: Precision): URL {
    const url = new URL(joinUrl(this.config.endpoint.url, '/write'));
    url.searchParams.set('db', this.db);
    if (this.rp) url.searchParams.set('rp', this.rp);
    url.searchParams.set('precision', precision);
    return url;
  }

  private async probeWrite(): Promise<{ ok: boolean; detail: string }> {
    try {
      const res = await httpRequest({
        method: 'POST',
        url: this.writeUrls.s,
        headers: { ...this.headers, 'Content-Type': 'text/plain; charset=utf-8' },
        body: Buffer.alloc(0),
        agent: this.agent,
        timeoutMs: this.config.endpoint.timeoutMs,
      });
      if (res.status >= 200 && res.status < 300) return { ok: true, detail: 'write access: ok' };
      const message = serverErrorMessage(res);
      if (res.status === 403)
        return { ok: false, detail: `not permitted to write (403): ${message}` };
      return { ok: false, detail: `test write failed (${res.status}): ${message}` };
    } catch (err) {
      return { ok: false, detail: `test write failed: ${describeError(err)}` };
    }
  }

  /** One read-only InfluxQL statement; statement errors come back as HTTP 200 with `error`. */
  private async query(q: string): Promise<InfluxQlResult | { failure: string }> {
    const url = new URL(joinUrl(this.config.endpoint.url, '/query'));
    url.searchParams.set('q', q);
    try {
      const res = await httpRequest({
        method: 'GET',
        url,
        headers: this.headers,
        agent: this.agent,
        timeoutMs: this.config.endpoint.timeoutMs,
      });
      if (res.status === 401) {
        return {
          failure:
            this.config.username !== undefined || this.config.token
              ? `InfluxDB rejected the username/password (401 ${serverErrorMessage(res)})`
              : `InfluxDB requires a username and password and none is configured (401 ${serverErrorMessage(res)})`,
        };
      }
      if (res.status === 403)
        return { failure: `not permitted to run ${q} (403 ${serverErrorMessage(res)})` };
      if (res.status !== 200)
        return { failure: `${q} failed (${res.status}): ${serverErrorMessage(res)}` };
      const parsed = JSON.parse(res.body) as { results?: InfluxQlResult[]; error?: string };
      const result = parsed.results?.[0];
      const error = parsed.error ?? result?.error;
      if (error) return { failure: `${q} failed: ${error}` };
      return result ?? {};
    } catch (err) {
      return { failure: `${q} failed: ${describeError(err)}` };
    }
  }
}
