import { parseDatabaseTarget } from '../core/database-target.js';
import { describeError } from '../core/errors.js';
import { joinUrl } from '../core/http.js';
import type { InfluxSinkConfig } from '../config/types.js';
import type { SinkDeps } from './sink.js';
import { describePing, pingInflux } from '../core/influx-api.js';
import { httpRequest } from '../core/http-client.js';
import { HttpLineSink } from './http-line-sink.js';
import type { SinkCheckResult } from './sink.js';
import { quoteIdent, serverErrorMessage, v1Authorization } from '../core/influx-http.js';

interface InfluxQlResult {
  series?: { name?: string; columns?: string[]; values?: unknown[][] }[];
  error?: string;
}

/**
 * InfluxDB 1.x (and VictoriaMetrics' 1.x endpoint) through `POST /write?db=&rp=&precision=`.
 * Credentials go in a Basic `Authorization` header, never in `u`/`p` URL parameters, so they do
 * not land in access logs.
 */
export class InfluxDbV1Sink extends HttpLineSink {
  readonly api = 'v1' as const;
  readonly db: string;
  readonly rp: string | undefined;

  constructor(config: InfluxSinkConfig, deps: SinkDeps) {
    const target = parseDatabaseTarget(config.bucket);
    super(config, deps, {
      authorization: v1Authorization(config),
      writeUrl: (precision) => {
        const url = new URL(joinUrl(config.endpoint.url, '/write'));
        url.searchParams.set('db', target.db);
        if (target.rp) url.searchParams.set('rp', target.rp);
        url.searchParams.set('precision', precision);
        return url;
      },
    });
    this.db = target.db;
    this.rp = target.rp;
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

  private async probeWrite(): Promise<{ ok: boolean; detail: string }> {
    try {
      const res = await this.probeWriteRequest();
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
