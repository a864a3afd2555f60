import type { ConfigIssue } from '../../core/errors.js';
import { isRetentionTooShort } from '../../core/retention.js';
import { invalidDatabaseTargetMessage, splitDatabaseTarget } from '../../core/database-target.js';
import { formatDuration } from '../../core/time.js';
import type { InfluxSinkConfig } from '../../config/types.js';

/**
 * The shared, pure part of provisioning: what a tier asks for, what a generation-specific
 * provisioner found, what to do about it, and how the outcome reads. The I/O lives in
 * influxdb-v1.ts, influxdb-v2.ts and influxdb-v3.ts; provision.ts runs them.
 */

/** One storage tier as provisioning sees it. */
export interface TierSpec {
  name: string;
  /** 2.x/Cloud: bucket; 3.x: database; 1.x: `database/retention_policy` or `database`. */
  bucket: string;
  /** 0 = keep forever. */
  retentionMs: number;
  /**
   * No retention was configured (the one tier of `load.influxdb.bucket`): created kept forever
   * like the server's default, and an existing retention is left as it is, never compared.
   */
  retentionUnmanaged?: boolean;
}

export type InfluxGeneration = 'v1' | 'v2' | 'v3';

/** The connection, exactly as the sinks take it (a sink config fits). */
export type ProvisionConnection = Pick<
  InfluxSinkConfig,
  'endpoint' | 'token' | 'org' | 'username' | 'password'
>;

export interface ProvisionOptions {
  /** Plan only: read what exists, change nothing. */
  dryRun: boolean;
  /** Change the retention of an existing bucket / policy / database that differs. */
  applyRetention: boolean;
}

/** What a provisioner found for one tier. `target` names the object (`bucket "x" in org "y"`). */
export type TierState =
  | { tier: TierSpec; target: string; kind: 'missing' }
  | {
      tier: TierSpec;
      target: string;
      kind: 'exists';
      /** Undefined when the server does not report it. */
      retentionMs: number | undefined;
      /** Why this object's retention is never changed by promflux (a DEFAULT policy), if so. */
      keep?: string;
    }
  | { tier: TierSpec; target: string; kind: 'denied'; denial: Denial }
  | { tier: TierSpec; target: string; kind: 'failed'; message: string };

/** A permission the credential lacks, and who should run provisioning instead. */
export interface Denial {
  /** What could not be done (`create bucket "x"`). */
  action: string;
  /** The permission it needs (`write:orgs/<id>/buckets`, `admin privilege`). */
  permission: string;
  /** The credential to use instead: `token` (2.x/3.x) or `user` (1.x). */
  credential: 'token' | 'user';
  /** The server's own words. */
  serverMessage?: string;
}

/** Thrown by a provisioner's create/changeRetention when the credential lacks a permission. */
export class ProvisionDenied extends Error {
  readonly denial: Denial;
  constructor(denial: Denial) {
    super(`not permitted to ${denial.action} (needs ${denial.permission})`);
    this.name = 'ProvisionDenied';
    this.denial = denial;
  }
}

/** The I/O side of one InfluxDB generation. */
export interface Provisioner {
  /** Reads what exists for every tier, in order; changes nothing and never rejects for a tier. */
  inspect(tiers: readonly TierSpec[]): Promise<TierState[]>;
  /** Creates what a `missing` state lacks. Rejects with {@link ProvisionDenied} on permission. */
  create(state: TierState & { kind: 'missing' }): Promise<void>;
  /** Sets the tier's retention on an existing object. */
  changeRetention(state: TierState & { kind: 'exists' }): Promise<void>;
  close(): void;
}

export type TierAction = 'none' | 'create' | 'change-retention';

export type TierOutcome =
  | 'exists'
  | 'created'
  | 'would-create'
  | 'differs'
  | 'retention-changed'
  | 'would-change-retention'
  | 'not-permitted'
  | 'failed';

/** One line of the report, as plain data. */
export interface TierResult {
  tier: string;
  target: string;
  outcome: TierOutcome;
  configuredRetentionMs: number;
  /** The retention found on the server before any change, when known. */
  actualRetentionMs?: number;
  /** Extra words: the denial and its fix, a failure, why a retention is kept. */
  detail?: string;
  /** The tier configures no retention (see {@link TierSpec.retentionUnmanaged}). */
  retentionUnmanaged?: true;
}

export interface ProvisionReport {
  generation: InfluxGeneration;
  dryRun: boolean;
  results: TierResult[];
}

/** What to do with one tier's state, and the outcome if that succeeds. */
export function decide(
  state: TierState,
  options: ProvisionOptions,
): { action: TierAction; outcome: TierOutcome } {
  switch (state.kind) {
    case 'missing':
      return options.dryRun
        ? { action: 'none', outcome: 'would-create' }
        : { action: 'create', outcome: 'created' };
    case 'denied':
      return { action: 'none', outcome: 'not-permitted' };
    case 'failed':
      return { action: 'none', outcome: 'failed' };
    case 'exists':
      if (
        state.tier.retentionUnmanaged ||
        state.retentionMs === undefined ||
        state.retentionMs === state.tier.retentionMs
      ) {
        return { action: 'none', outcome: 'exists' };
      }
      if (!options.applyRetention || state.keep !== undefined) {
        return { action: 'none', outcome: 'differs' };
      }
      return options.dryRun
        ? { action: 'none', outcome: 'would-change-retention' }
        : { action: 'change-retention', outcome: 'retention-changed' };
  }
}

/** The result for a state and outcome (before any I/O error replaced it). */
export function tierResult(state: TierState, outcome: TierOutcome): TierResult {
  const result: TierResult = {
    tier: state.tier.name,
    target: state.target,
    outcome,
    configuredRetentionMs: state.tier.retentionMs,
  };
  if (state.kind === 'exists' && state.retentionMs !== undefined) {
    result.actualRetentionMs = state.retentionMs;
  }
  if (state.tier.retentionUnmanaged) result.retentionUnmanaged = true;
  if (state.kind === 'exists' && state.keep !== undefined && outcome === 'differs') {
    result.detail = state.keep;
  }
  if (state.kind === 'denied') result.detail = describeDenial(state.denial);
  if (state.kind === 'failed') result.detail = state.message;
  return result;
}

export function describeDenial(denial: Denial): string {
  const said = denial.serverMessage ? ` (server: ${denial.serverMessage})` : '';
  return (
    `the ${denial.credential} may not ${denial.action}: it needs ${denial.permission}${said}; ` +
    `run \`promflux provision\` with an admin ${denial.credential}`
  );
}

/** `7d`, `1d12h`, or `forever`. */
export function describeRetention(ms: number): string {
  return ms === 0 ? 'forever' : formatDuration(ms);
}

/** One line per tier, for the CLI and for start-up warnings. */
export function formatTierResult(r: TierResult): string {
  const configured = describeRetention(r.configuredRetentionMs);
  const actual = r.actualRetentionMs === undefined ? '' : describeRetention(r.actualRetentionMs);
  const head = `tier "${r.tier}": ${r.target}`;
  switch (r.outcome) {
    case 'exists':
      if (r.retentionUnmanaged) {
        return `${head}: exists, retention ${actual || 'not reported'} (not configured: load.tiers sets one)`;
      }
      return r.actualRetentionMs === undefined
        ? `${head}: exists (the server does not report its retention; configured ${configured})`
        : `${head}: exists, retention ${configured} as configured`;
    case 'created':
      return `${head}: created, retention ${configured}`;
    case 'would-create':
      return `${head}: missing, would be created with retention ${configured}`;
    case 'differs':
      return r.detail
        ? `${head}: exists, retention ${actual} differs from the configured ${configured}; ${r.detail}`
        : `${head}: exists, retention ${actual} differs from the configured ${configured} (run \`promflux provision --apply-retention\` to change it)`;
    case 'retention-changed':
      return `${head}: retention changed from ${actual} to ${configured}`;
    case 'would-change-retention':
      return `${head}: retention ${actual} would be changed to ${configured}`;
    case 'not-permitted':
      return `${head}: not checked or changed: ${r.detail ?? 'not permitted'}`;
    case 'failed':
      return `${head}: failed: ${r.detail ?? 'unknown error'}`;
  }
}

/** Outcomes that need an operator: a warning at start, a failing `promflux provision`. */
export function needsAttention(r: TierResult): boolean {
  return r.outcome === 'not-permitted' || r.outcome === 'failed';
}

/**
 * Checks the tiers against what the generation accepts, before any request: every issue at once,
 * located by `load.tiers[i]`. 1.x and 2.x refuse retentions under 1h; 1.x needs a named retention
 * policy for a finite retention, since promflux never changes a DEFAULT policy (other writers
 * share it).
 */
export function validateTiers(
  tiers: readonly TierSpec[],
  generation: InfluxGeneration,
): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  tiers.forEach((tier, i) => {
    const at = `load.tiers[${i}]`;
    if (!tier.bucket) {
      issues.push({ path: `${at}.bucket`, message: `tier "${tier.name}" names no bucket.` });
      return;
    }
    if (!Number.isInteger(tier.retentionMs / 1000) || tier.retentionMs < 0) {
      issues.push({
        path: `${at}.retention`,
        message: `tier "${tier.name}": retention must be 0 (forever) or a whole number of seconds.`,
      });
      return;
    }
    if (generation !== 'v3' && isRetentionTooShort(tier.retentionMs)) {
      issues.push({
        path: `${at}.retention`,
        message: `tier "${tier.name}": retention ${formatDuration(tier.retentionMs)} is under 1h, which InfluxDB ${generation === 'v1' ? '1.x' : '2.x'} refuses (use 0 for forever, or at least 1h).`,
      });
    }
    if (generation === 'v1') {
      const target = splitDatabaseTarget(tier.bucket);
      if (!target) {
        issues.push({
          path: `${at}.bucket`,
          message: invalidDatabaseTargetMessage(tier.bucket),
        });
      } else if (target.rp === undefined && tier.retentionMs > 0) {
        issues.push({
          path: `${at}.bucket`,
          message: `tier "${tier.name}" has a finite retention, so it must name "database/retention_policy" (e.g. "${target.db}/${tier.name}"): promflux never changes a database's DEFAULT policy, which other writers share.`,
        });
      }
    }
  });
  return issues;
}

/**
 * A duration in the one-unit form InfluxQL and InfluxDB 3 both read (`7d`, `36h`, `90m`): the
 * largest unit that divides it exactly.
 */
export function influxDuration(ms: number): string {
  for (const [unit, size] of [
    ['d', 86_400_000],
    ['h', 3_600_000],
    ['m', 60_000],
    ['s', 1000],
  ] as const) {
    if (ms % size === 0) return `${ms / size}${unit}`;
  }
  return `${ms}ms`;
}

/**
 * The generation from `/ping`'s `X-Influxdb-Version` / `X-Influxdb-Build`: `1.x` → v1, `2.x` and
 * Cloud (`cloud2`) → v2, `3.x` → v3; undefined for anything else (VictoriaMetrics sends neither).
 */
export function generationFromPing(ping: {
  version?: string;
  build?: string;
}): InfluxGeneration | undefined {
  if (/^v?1\./i.test(ping.version ?? '')) return 'v1';
  if (/^v?2\./i.test(ping.version ?? '') || /^cloud2$/i.test(ping.build ?? '')) return 'v2';
  if (/^v?3\./i.test(ping.version ?? '')) return 'v3';
  return undefined;
}
