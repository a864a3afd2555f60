import { describeError } from '../../core/errors.js';
import { parseDurationMs } from '../../core/time.js';
import { quoteIdent, serverErrorMessage, v1Authorization } from '../../core/influx-http.js';
import { parseDatabaseTarget } from '../../core/database-target.js';
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

interface PolicyRow {
  name: string;
  durationMs: number;
  shardGroupDurationMs: number;
  isDefault: boolean;
}

/** A statement failed: `denied` when 1.x refused it for lack of privilege. */
type QueryOutcome =
  | { ok: true; values: unknown[][]; columns: string[] }
  | { ok: false; denied: boolean; message: string };

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;

/**
 * InfluxDB 1.x: a tier is `database/retention_policy` (or a bare `database` kept forever). Creates
 * databases and non-default retention policies with REPLICATION 1; never creates, alters or
 * accepts a DEFAULT policy as a tier's policy, since other writers share it.
 */
export class InfluxDbV1Provisioner implements Provisioner {
  private readonly http: AdminHttp;
  private readonly databases = new Set<string>();
  private readonly policies = new Map<string, PolicyRow[]>();

  constructor(private readonly connection: ProvisionConnection) {
    this.http = new AdminHttp(connection.endpoint, v1Authorization(connection));
  }

  async inspect(tiers: readonly TierSpec[]): Promise<TierState[]> {
    const shown = await this.query('SHOW DATABASES');
    if (!shown.ok) return tiers.map((tier) => this.problem(tier, shown, 'list databases'));
    for (const row of shown.values) this.databases.add(String(row[0]));

    const states: TierState[] = [];
    for (const tier of tiers) {
      const { db, rp } = parseDatabaseTarget(tier.bucket);
      const target = rp ? `retention policy "${rp}" on database "${db}"` : `database "${db}"`;
      if (!this.databases.has(db)) {
        states.push({ tier, target, kind: 'missing' });
        continue;
      }
      const rows = await this.policiesOf(db);
      if (!Array.isArray(rows)) {
        states.push({
          ...this.problem(tier, rows, `read the retention policies of "${db}"`),
          target,
        });
        continue;
      }
      if (rp === undefined) {
        const policy = rows.find((r) => r.isDefault);
        states.push({
          tier,
          target,
          kind: 'exists',
          retentionMs: policy?.durationMs,
          keep: `it is the DEFAULT policy "${policy?.name ?? '?'}" of "${db}", which promflux never changes (other writers share it): name a dedicated "${db}/<policy>" for the tier`,
        });
        continue;
      }
      const policy = rows.find((r) => r.name === rp);
      if (!policy) {
        states.push({ tier, target, kind: 'missing' });
      } else if (policy.isDefault && !tier.retentionUnmanaged) {
        // The one tier of load.influxdb.bucket goes where it was told; it manages no retention.
        states.push({
          tier,
          target,
          kind: 'failed',
          message: `it is the DEFAULT policy of "${db}": promflux never writes a tier through or changes a DEFAULT policy (other writers share it); name a dedicated retention policy`,
        });
      } else {
        states.push({ tier, target, kind: 'exists', retentionMs: policy.durationMs });
      }
    }
    return states;
  }

  async create(state: TierState & { kind: 'missing' }): Promise<void> {
    const { db, rp } = parseDatabaseTarget(state.tier.bucket);
    if (!this.databases.has(db)) {
      await this.run(`CREATE DATABASE ${quoteIdent(db)}`, `create database "${db}"`);
      this.databases.add(db);
    }
    if (rp === undefined) return;
    const duration = state.tier.retentionMs === 0 ? 'INF' : influxDuration(state.tier.retentionMs);
    await this.run(
      `CREATE RETENTION POLICY ${quoteIdent(rp)} ON ${quoteIdent(db)} DURATION ${duration} REPLICATION 1`,
      `create retention policy "${rp}" on database "${db}"`,
    );
  }

  async changeRetention(state: TierState & { kind: 'exists' }): Promise<void> {
    const { db, rp } = parseDatabaseTarget(state.tier.bucket);
    // inspect() never offers a database's default policy for a change (it sets `keep`).
    if (rp === undefined) throw new Error(`no retention policy named for database "${db}"`);
    const wanted = state.tier.retentionMs;
    const current = (this.policies.get(db) ?? []).find((r) => r.name === rp);
    let statement = `ALTER RETENTION POLICY ${quoteIdent(rp)} ON ${quoteIdent(db)} DURATION ${wanted === 0 ? 'INF' : influxDuration(wanted)}`;
    // 1.x refuses a duration shorter than the policy's shard group duration.
    if (wanted > 0 && current && wanted < current.shardGroupDurationMs) {
      statement += ` SHARD DURATION ${influxDuration(defaultShardGroupMs(wanted))}`;
    }
    await this.run(statement, `change retention policy "${rp}" on database "${db}"`);
  }

  close(): void {
    this.http.close();
  }

  private async policiesOf(db: string): Promise<PolicyRow[] | (QueryOutcome & { ok: false })> {
    const known = this.policies.get(db);
    if (known) return known;
    const res = await this.query(`SHOW RETENTION POLICIES ON ${quoteIdent(db)}`);
    if (!res.ok) return res;
    const col = (name: string): number => res.columns.indexOf(name);
    const rows = res.values.map((v) => ({
      name: String(v[col('name')]),
      durationMs: parseDurationMs(String(v[col('duration')])) ?? 0,
      shardGroupDurationMs: parseDurationMs(String(v[col('shardGroupDuration')])) ?? 0,
      isDefault: v[col('default')] === true,
    }));
    this.policies.set(db, rows);
    return rows;
  }

  private problem(
    tier: TierSpec,
    failure: QueryOutcome & { ok: false },
    action: string,
  ): TierState {
    const target = `database "${parseDatabaseTarget(tier.bucket).db}"`;
    return failure.denied
      ? { tier, target, kind: 'denied', denial: this.denial(action, failure.message) }
      : { tier, target, kind: 'failed', message: failure.message };
  }

  private denial(action: string, serverMessage: string): Denial {
    const who = this.connection.username !== undefined ? ` "${this.connection.username}"` : '';
    const required = /requires (.+?)\.?$/.exec(serverMessage)?.[1] ?? 'admin privilege';
    return {
      action,
      permission: `${required} (user${who})`,
      credential: 'user',
      serverMessage,
    };
  }

  /** Runs a statement that changes something; rejects with ProvisionDenied or an Error. */
  private async run(statement: string, action: string): Promise<void> {
    const res = await this.query(statement);
    if (res.ok) return;
    if (res.denied) throw new ProvisionDenied(this.denial(action, res.message));
    throw new Error(`${statement} failed: ${res.message}`);
  }

  /** One statement through `POST /query`; statement errors come back as HTTP 200 with `error`. */
  private async query(statement: string): Promise<QueryOutcome> {
    let res;
    try {
      res = await this.http.request('POST', '/query', {
        body: new URLSearchParams({ q: statement }).toString(),
        contentType: 'application/x-www-form-urlencoded',
      });
    } catch (err) {
      return { ok: false, denied: false, message: `${statement}: ${describeError(err)}` };
    }
    if (res.status === 401) {
      const message =
        this.connection.username !== undefined || this.connection.token
          ? `InfluxDB rejected the username/password (401 ${serverErrorMessage(res)})`
          : `InfluxDB requires a username and password and none is configured (401 ${serverErrorMessage(res)})`;
      return { ok: false, denied: false, message };
    }
    if (res.status === 403) return { ok: false, denied: true, message: serverErrorMessage(res) };
    if (res.status !== 200) {
      return {
        ok: false,
        denied: false,
        message: `${statement}: ${res.status} ${serverErrorMessage(res)}`,
      };
    }
    let parsed: {
      error?: string;
      results?: { error?: string; series?: { columns?: string[]; values?: unknown[][] }[] }[];
    };
    try {
      parsed = JSON.parse(res.body) as typeof parsed;
    } catch {
      return { ok: false, denied: false, message: `${statement}: the answer is not InfluxDB JSON` };
    }
    const result = parsed.results?.[0];
    const error = parsed.error ?? result?.error;
    if (error) return { ok: false, denied: /not authorized|authoriz/i.test(error), message: error };
    const series = result?.series?.[0];
    return { ok: true, values: series?.values ?? [], columns: series?.columns ?? [] };
  }
}

/** 1.x's shard group duration for a retention: 1h under 2 days, 1d up to 6 months, else 7d. */
function defaultShardGroupMs(retentionMs: number): number {
  if (retentionMs < 2 * DAY_MS) return HOUR_MS;
  if (retentionMs <= 180 * DAY_MS) return DAY_MS;
  return 7 * DAY_MS;
}
