import { ConfigError, describeError } from '../../core/errors.js';
import {
  decide,
  describeDenial,
  ProvisionDenied,
  tierResult,
  validateTiers,
  type InfluxGeneration,
  type ProvisionConnection,
  type ProvisionOptions,
  type ProvisionReport,
  type Provisioner,
  type TierResult,
  type TierSpec,
  type TierState,
} from './plan.js';
import { InfluxDbV1Provisioner } from './influxdb-v1.js';
import { InfluxDbV2Provisioner } from './influxdb-v2.js';
import { InfluxDbV3Provisioner } from './influxdb-v3.js';

/** The provisioner for a generation. */
export function createProvisioner(
  generation: InfluxGeneration,
  connection: ProvisionConnection,
): Provisioner {
  switch (generation) {
    case 'v1':
      return new InfluxDbV1Provisioner(connection);
    case 'v2':
      return new InfluxDbV2Provisioner(connection);
    case 'v3':
      return new InfluxDbV3Provisioner(connection);
  }
}

/**
 * Plans and (unless `dryRun`) applies: creates what is missing, changes a differing retention
 * only with `applyRetention`. Tiers are handled in order, so a database made for one tier is seen
 * by the next. Invalid tiers throw a {@link ConfigError} before any request; a permission or
 * server problem becomes that tier's result, never a rejection, so the caller decides whether it
 * is fatal (`promflux provision`) or a warning (start-up).
 */
export async function provision(
  generation: InfluxGeneration,
  connection: ProvisionConnection,
  tiers: readonly TierSpec[],
  options: ProvisionOptions,
  provisioner: Provisioner = createProvisioner(generation, connection),
): Promise<ProvisionReport> {
  try {
    const issues = validateTiers(tiers, generation);
    if (issues.length > 0) throw new ConfigError(issues);
    const states = await provisioner.inspect(tiers);
    const results: TierResult[] = [];
    for (const state of states) results.push(await applyOne(provisioner, state, options));
    return { generation, dryRun: options.dryRun, results };
  } finally {
    provisioner.close();
  }
}

async function applyOne(
  provisioner: Provisioner,
  state: TierState,
  options: ProvisionOptions,
): Promise<TierResult> {
  const { action, outcome } = decide(state, options);
  const result = tierResult(state, outcome);
  try {
    if (action === 'create' && state.kind === 'missing') await provisioner.create(state);
    if (action === 'change-retention' && state.kind === 'exists') {
      await provisioner.changeRetention(state);
    }
    return result;
  } catch (err) {
    if (err instanceof ProvisionDenied) {
      return { ...result, outcome: 'not-permitted', detail: describeDenial(err.denial) };
    }
    return { ...result, outcome: 'failed', detail: describeError(err) };
  }
}
