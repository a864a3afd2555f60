import type http from 'node:http';

import type { InfluxDB } from '@influxdata/influxdb-client';
import type { BucketsAPI } from '@influxdata/influxdb-client-apis';

import { describeError } from '../../core/errors.js';
import { createAgent } from '../../core/http.js';
import { createInfluxClient, isHttpError } from '../../core/influx-http.js';
import {
  ProvisionDenied,
  type Denial,
  type ProvisionConnection,
  type Provisioner,
  type TierSpec,
  type TierState,
} from './plan.js';

/**
 * InfluxDB 2.x and Cloud: the org by name (OrgsAPI), then each tier's bucket by name (BucketsAPI),
 * created with one `expire` retention rule, its retention patched only when asked. A token that
 * may not see the org or bucket gets an empty list from 2.x (its authorizer filters what it may
 * not read), and one that may not create or patch gets 401 `<permission> is unauthorized`: both
 * become a denial naming the permission.
 */
export class InfluxDbV2Provisioner implements Provisioner {
  private readonly agent: http.Agent;
  private client: { influx: InfluxDB; buckets: BucketsAPI } | undefined;
  private orgId = '';
  private readonly bucketIds = new Map<string, string>();

  constructor(private readonly connection: ProvisionConnection) {
    this.agent = createAgent(connection.endpoint.url, connection.endpoint.tls, 2);
  }

  async inspect(tiers: readonly TierSpec[]): Promise<TierState[]> {
    const { org } = this.connection;
    const target = (tier: TierSpec): string => `bucket "${tier.bucket}" in org "${org ?? ''}"`;
    if (!org) {
      return tiers.map((tier) => ({
        tier,
        target: target(tier),
        kind: 'failed',
        message: 'no org configured (load.influxdb.org)',
      }));
    }
    const found = await this.findOrg(org);
    if (typeof found !== 'string') {
      return tiers.map((tier) => ({ tier, target: target(tier), ...found }));
    }
    this.orgId = found;
    const { buckets } = await this.api();
    const states: TierState[] = [];
    for (const tier of tiers) {
      try {
        const list = await buckets.getBuckets({ orgID: this.orgId, name: tier.bucket });
        const bucket = list.buckets?.find((b) => b.name === tier.bucket);
        if (!bucket?.id) {
          // 2.x answers 404 for a bucket that does not exist; an empty list means not readable.
          states.push({
            tier,
            target: target(tier),
            kind: 'denied',
            denial: this.denial(`read bucket "${tier.bucket}"`, `read:orgs/${this.orgId}/buckets`),
          });
          continue;
        }
        this.bucketIds.set(tier.name, bucket.id);
        const everySeconds = bucket.retentionRules.find((r) => r.type === 'expire')?.everySeconds;
        states.push({
          tier,
          target: target(tier),
          kind: 'exists',
          retentionMs: (everySeconds ?? 0) * 1000,
        });
      } catch (err) {
        if (isHttpError(err) && err.statusCode === 404) {
          states.push({ tier, target: target(tier), kind: 'missing' });
        } else {
          const problem = this.classify(
            err,
            `read bucket "${tier.bucket}"`,
            `read:orgs/${this.orgId}/buckets`,
          );
          states.push({ tier, target: target(tier), ...problem });
        }
      }
    }
    return states;
  }

  async create(state: TierState & { kind: 'missing' }): Promise<void> {
    const { buckets } = await this.api();
    const { tier } = state;
    try {
      const bucket = await buckets.postBuckets({
        body: {
          orgID: this.orgId,
          name: tier.bucket,
          retentionRules: [{ type: 'expire', everySeconds: tier.retentionMs / 1000 }],
        },
      });
      if (bucket.id) this.bucketIds.set(tier.name, bucket.id);
    } catch (err) {
      this.rethrow(err, `create bucket "${tier.bucket}"`, `write:orgs/${this.orgId}/buckets`);
    }
  }

  async changeRetention(state: TierState & { kind: 'exists' }): Promise<void> {
    const { buckets } = await this.api();
    const { tier } = state;
    const bucketID = this.bucketIds.get(tier.name) ?? '';
    try {
      await buckets.patchBucketsID({
        bucketID,
        body: { retentionRules: [{ type: 'expire', everySeconds: tier.retentionMs / 1000 }] },
      });
    } catch (err) {
      this.rethrow(
        err,
        `change the retention of bucket "${tier.bucket}"`,
        `write:orgs/${this.orgId}/buckets/${bucketID}`,
      );
    }
  }

  close(): void {
    this.agent.destroy();
  }

  /** The org's id, or the state every tier gets when it cannot be had. */
  private async findOrg(
    org: string,
  ): Promise<string | { kind: 'denied'; denial: Denial } | { kind: 'failed'; message: string }> {
    const { OrgsAPI } = await import('@influxdata/influxdb-client-apis');
    try {
      const orgs = await new OrgsAPI((await this.api()).influx).getOrgs({ org });
      const match = orgs.orgs?.find((o) => o.name === org || o.id === org);
      if (match?.id) return match.id;
      // 2.x answers 404 for an org that does not exist, and filters out one the token may not read.
      return { kind: 'denied', denial: this.denial(`look up organization "${org}"`, 'read:orgs') };
    } catch (err) {
      if (isHttpError(err) && err.statusCode === 404) {
        return { kind: 'failed', message: `organization "${org}" not found` };
      }
      return this.classify(err, `look up organization "${org}"`, 'read:orgs');
    }
  }

  private classify(
    err: unknown,
    action: string,
    permission: string,
  ): { kind: 'denied'; denial: Denial } | { kind: 'failed'; message: string } {
    const denial = this.denialOf(err, action, permission);
    if (denial) return { kind: 'denied', denial };
    return { kind: 'failed', message: this.failure(err, action) };
  }

  private rethrow(err: unknown, action: string, permission: string): never {
    const denial = this.denialOf(err, action, permission);
    if (denial) throw new ProvisionDenied(denial);
    throw new Error(this.failure(err, action), { cause: err });
  }

  /** 401 `<permission> is unauthorized` or 403: the token is valid but lacks a permission. */
  private denialOf(err: unknown, action: string, permission: string): Denial | undefined {
    if (!isHttpError(err)) return undefined;
    const named = /^(\S+:\S+) is unauthorized/.exec(err.message)?.[1];
    if (err.statusCode === 403 || (err.statusCode === 401 && named)) {
      return this.denial(action, named ?? permission, err.message);
    }
    return undefined;
  }

  private failure(err: unknown, action: string): string {
    if (isHttpError(err)) {
      if (err.statusCode === 401) {
        return this.connection.token
          ? `InfluxDB rejected the token (401 ${err.message})`
          : 'InfluxDB requires a token and none is configured (401 unauthorized)';
      }
      return `could not ${action} (${err.statusCode}): ${err.message}`;
    }
    return `could not ${action}: ${describeError(err)}`;
  }

  private denial(action: string, permission: string, serverMessage?: string): Denial {
    return { action, permission, credential: 'token', ...(serverMessage ? { serverMessage } : {}) };
  }

  private async api(): Promise<{ influx: InfluxDB; buckets: BucketsAPI }> {
    if (!this.client) {
      const { BucketsAPI } = await import('@influxdata/influxdb-client-apis');
      const influx = await createInfluxClient(this.connection, this.agent);
      this.client = { influx, buckets: new BucketsAPI(influx) };
    }
    return this.client;
  }
}
