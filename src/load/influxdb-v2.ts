import { describeError } from '../core/errors.js';
import { authorizationHeader, joinUrl } from '../core/http.js';
import { formatDuration } from '../core/time.js';
import type { InfluxSinkConfig } from '../config/types.js';
import type { SinkDeps } from './sink.js';
import { describePing, pingInflux } from '../core/influx-api.js';
import { HttpLineSink } from './http-line-sink.js';
import type { SinkCheckResult } from './sink.js';
import { createInfluxClient, isHttpError, serverErrorMessage } from '../core/influx-http.js';

/**
 * InfluxDB 2.x, Cloud and 3.x (and VictoriaMetrics) through `POST /api/v2/write?org=&bucket=&precision=`
 * with `Authorization: Token <token>`. Writes go through node:http (see core/http-client.ts for why not
 * the client library's transport); `check()` uses the library's OrgsAPI and BucketsAPI.
 */
export class InfluxDbV2Sink extends HttpLineSink {
  readonly api = 'v2' as const;

  constructor(config: InfluxSinkConfig, deps: SinkDeps) {
    super(config, deps, {
      authorization: config.token
        ? `Token ${config.token}`
        : authorizationHeader(config.endpoint.auth),
      writeUrl: (precision) => {
        const url = new URL(joinUrl(config.endpoint.url, '/api/v2/write'));
        if (config.org) url.searchParams.set('org', config.org);
        url.searchParams.set('bucket', config.bucket);
        url.searchParams.set('precision', precision);
        return url;
      },
    });
  }

  /**
   * Reachability (`/ping`), then on InfluxDB 2.x the organization and bucket (token accepted),
   * then an empty write, which 2.x answers only after checking token, org, bucket and write
   * permission (`400 writing requires points` means all of them passed).
   */
  async check(): Promise<SinkCheckResult> {
    const details: string[] = [];
    const { org, bucket } = this.config;
    let ping;
    try {
      ping = await pingInflux(this.config.endpoint, this.agent);
    } catch (err) {
      return { ok: false, details: [describeError(err)] };
    }
    details.push(describePing(ping, 'v2'));

    if (!/^v?2\./.test(ping.version ?? '')) {
      details.push(
        'organization and bucket look-up skipped: only InfluxDB 2.x has /api/v2/orgs and /api/v2/buckets',
      );
    } else if (!org) {
      details.push('organization and bucket look-up skipped: no org configured');
    } else {
      const { BucketsAPI, OrgsAPI } = await import('@influxdata/influxdb-client-apis');
      const influx = await createInfluxClient(this.config, this.agent);
      try {
        const orgs = await new OrgsAPI(influx).getOrgs({ org });
        if (!orgs.orgs?.some((o) => o.name === org || o.id === org)) {
          return { ok: false, details: [...details, `organization "${org}" not found`] };
        }
        details.push(`organization "${org}" found`);
      } catch (err) {
        return {
          ok: false,
          details: [...details, this.lookupFailure(err, `organization "${org}" not found`)],
        };
      }
      try {
        const found = await new BucketsAPI(influx).getBuckets({ org, name: bucket });
        const match = found.buckets?.find((b) => b.name === bucket);
        if (!match) {
          return {
            ok: false,
            details: [...details, `bucket "${bucket}" not found in org "${org}"`],
          };
        }
        const every = match.retentionRules[0]?.everySeconds ?? 0;
        details.push(
          `bucket "${bucket}" found in org "${org}" (retention ${every > 0 ? formatDuration(every * 1000) : 'infinite'})`,
        );
      } catch (err) {
        return {
          ok: false,
          details: [
            ...details,
            this.lookupFailure(err, `bucket "${bucket}" not found in org "${org}"`),
          ],
        };
      }
    }

    const probe = await this.probeWrite();
    details.push(probe.detail);
    return { ok: probe.ok, details };
  }

  private async probeWrite(): Promise<{ ok: boolean; detail: string }> {
    const { bucket } = this.config;
    try {
      const res = await this.probeWriteRequest();
      const message = serverErrorMessage(res);
      if (res.status >= 200 && res.status < 300) return { ok: true, detail: 'write access: ok' };
      if (res.status === 400) {
        // 2.x checks token, org, bucket and permission before it finds the body empty.
        return { ok: true, detail: `write access: ok (empty test write answered 400: ${message})` };
      }
      if (res.status === 401) return { ok: false, detail: this.unauthorized() };
      if (res.status === 403) {
        return {
          ok: false,
          detail: `the token may not write to bucket "${bucket}" (403: ${message})`,
        };
      }
      if (res.status === 404)
        return { ok: false, detail: `write target not found (404): ${message}` };
      return { ok: false, detail: `test write failed (${res.status}): ${message}` };
    } catch (err) {
      return { ok: false, detail: `test write failed: ${describeError(err)}` };
    }
  }

  private lookupFailure(err: unknown, notFound: string): string {
    if (isHttpError(err)) {
      if (err.statusCode === 401) return this.unauthorized();
      if (err.statusCode === 404) return notFound;
      if (err.statusCode === 403)
        return `the token may not read ${notFound.split(' not found')[0]} (403)`;
      return `${notFound.split(' not found')[0]}: look-up failed (${err.statusCode}): ${err.message}`;
    }
    return `look-up failed: ${describeError(err)}`;
  }

  private unauthorized(): string {
    return this.config.token
      ? 'InfluxDB rejected the token (401 unauthorized)'
      : 'InfluxDB requires a token and none is configured (401 unauthorized)';
  }
}
