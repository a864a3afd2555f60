export {
  decide,
  describeRetention,
  formatTierResult,
  generationFromPing,
  influxDuration,
  needsAttention,
  ProvisionDenied,
  validateTiers,
} from './plan.js';
export type {
  Denial,
  InfluxGeneration,
  ProvisionConnection,
  ProvisionOptions,
  ProvisionReport,
  Provisioner,
  TierOutcome,
  TierResult,
  TierSpec,
  TierState,
} from './plan.js';
export { createProvisioner, provision } from './provision.js';
export { detectGeneration, provisionConfigured, tierSpecs } from './configured.js';
