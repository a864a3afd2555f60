import type { LoadConfig } from '../../config/types.js';
import { createAgent } from '../../core/http.js';
import { pingInflux } from '../../core/influx-api.js';
import {
  generationFromPing,
  type InfluxGeneration,
  type ProvisionOptions,
  type ProvisionReport,
  type TierSpec,
} from './plan.js';
import { provision } from './provision.js';

/** The tiers of a loaded configuration, as provisioning sees them. */
export function tierSpecs(load: Pick<LoadConfig, 'tiers'>): TierSpec[] {
  return load.tiers.map((t) => ({
    name: t.name,
    bucket: t.bucket,
    retentionMs: t.retentionMs,
    ...(t.retentionUnmanaged && { retentionUnmanaged: true }),
  }));
}

/**
 * Which InfluxDB the sink talks to, from `/ping`'s version header; without one, the configured
 * `api` (`v1` → 1.x, `v2` → 2.x). `auto` without a header is an error: the statements differ per
 * generation, and a server that does not say (VictoriaMetrics) has nothing to provision.
 */
export async function detectGeneration(influx: LoadConfig['influxdb']): Promise<InfluxGeneration> {
  const agent = createAgent(influx.endpoint.url, influx.endpoint.tls, 1);
  try {
    const ping = await pingInflux(influx.endpoint, agent);
    const generation = generationFromPing(ping);
    if (generation) return generation;
    if (influx.api !== 'auto') return influx.api;
    const why = ping.version
      ? `its version "${ping.version}" is none promflux knows`
      : '/ping sent no X-Influxdb-Version header (not InfluxDB itself?)';
    throw new Error(
      `cannot tell which InfluxDB generation to provision: ${why}; set load.influxdb.api to v1 or v2`,
    );
  } finally {
    agent.destroy();
  }
}

/**
 * Provisions every configured tier on the configured InfluxDB: detects the generation, then
 * {@link provision}. Rejects when InfluxDB is unreachable or its generation unknown, and with a
 * ConfigError for tiers the generation refuses; a tier's own problem is in its result.
 */
export async function provisionConfigured(
  load: Pick<LoadConfig, 'influxdb' | 'tiers'>,
  options: ProvisionOptions,
): Promise<ProvisionReport> {
  const generation = await detectGeneration(load.influxdb);
  return provision(generation, load.influxdb, tierSpecs(load), options);
}
