import { describeError } from '../../core/errors.js';
import { authorizationHeader } from '../../core/http.js';
import type { HttpResponse } from '../../core/http-client.js';
import { serverErrorMessage } from '../../core/influx-http.js';
import { AdminHttp } from './admin-http.js';
import {
  influxDuration,
  ProvisionDenied,
  type Denial,
  type ProvisionConnection,
  type Provisioner,
  type TierSpec,
  type TierState,
} from './plan.js';

const DATABASES = '/api/v3/configure/database';

/**
 * InfluxDB 3 (Core/Enterprise): a tier's bucket is a database. Lists them with
 * `GET /api/v3/configure/database?format=json` and creates a missing one with
 * `POST /api/v3/configure/database {"db", "retention_period"}`. The listing does not carry the
 * retention, so an existing database's retention is reported as unknown, never changed here.
 */
export class InfluxDbV3Provisioner implements Provisioner {
  private readonly http: AdminHttp;

  constructor(private readonly connection: ProvisionConnection) {
    this.http = new AdminHttp(
      connection.endpoint,
      connection.token
        ? `Bearer ${connection.token}`
        : authorizationHeader(connection.endpoint.auth),
    );
  }

  async inspect(tiers: readonly TierSpec[]): Promise<TierState[]> {
    const target = (tier: TierSpec): string => `database "${tier.bucket}"`;
    let res: HttpResponse;
    try {
      res = await this.http.request('GET', DATABASES, { query: { format: 'json' } });
    } catch (err) {
      const message = `could not list databases: ${describeError(err)}`;
      return tiers.map((tier) => ({ tier, target: target(tier), kind: 'failed', message }));
    }
    if (res.status !== 200) {
      const problem = this.problem(res, 'list databases');
      return tiers.map((tier) => ({ tier, target: target(tier), ...problem }));
    }
    let rows: unknown;
    try {
      rows = JSON.parse(res.body);
    } catch {
      rows = undefined;
    }
    if (!Array.isArray(rows)) {
      const message = 'could not list databases: the answer is not a JSON array';
      return tiers.map((tier) => ({ tier, target: target(tier), kind: 'failed', message }));
    }
    const names = new Set(rows.map((row: Record<string, unknown>) => String(row['iox::database'])));
    return tiers.map((tier) =>
      names.has(tier.bucket)
        ? { tier, target: target(tier), kind: 'exists', retentionMs: undefined }
        : { tier, target: target(tier), kind: 'missing' },
    );
  }

  async create(state: TierState & { kind: 'missing' }): Promise<void> {
    const { tier } = state;
    const body: Record<string, string> = { db: tier.bucket };
    if (tier.retentionMs > 0) body.retention_period = influxDuration(tier.retentionMs);
    const res = await this.http.request('POST', DATABASES, {
      body: JSON.stringify(body),
      contentType: 'application/json',
    });
    if (res.status >= 200 && res.status < 300) return;
    const problem = this.problem(res, `create database "${tier.bucket}"`);
    if (problem.kind === 'denied') throw new ProvisionDenied(problem.denial);
    throw new Error(problem.message);
  }

  changeRetention(): Promise<void> {
    // Unreachable: inspect() never reports a retention, so decide() never asks for a change.
    return Promise.reject(new Error('changing an InfluxDB 3 database retention is not supported'));
  }

  close(): void {
    this.http.close();
  }

  private problem(
    res: HttpResponse,
    action: string,
  ): { kind: 'denied'; denial: Denial } | { kind: 'failed'; message: string } {
    const message = serverErrorMessage(res);
    if (res.status === 403) {
      return {
        kind: 'denied',
        denial: {
          action,
          permission: 'an admin token',
          credential: 'token',
          serverMessage: message,
        },
      };
    }
    if (res.status === 401) {
      return {
        kind: 'failed',
        message: this.connection.token
          ? `InfluxDB rejected the token (401 ${message})`
          : `InfluxDB requires a token and none is configured (401 ${message})`,
      };
    }
    return { kind: 'failed', message: `could not ${action} (${res.status}): ${message}` };
  }
}
