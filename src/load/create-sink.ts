import { describeError } from '../core/errors.js';
import { redactUrl } from '../core/redact.js';
import type { InfluxSinkConfig } from '../config/types.js';
import type { SinkDeps } from './batch-writer.js';
import { detectInfluxApi, type InfluxWriteApi } from './detect-api.js';
import { InfluxDbV1Sink } from './influxdb-v1.js';
import { InfluxDbV2Sink } from './influxdb-v2.js';
import type { Sink } from './sink.js';

/**
 * The API `auto` falls back to when the server does not say (no `X-Influxdb-Version` on `/ping`,
 * e.g. VictoriaMetrics, or the server is down at start): v2 when a token or org is configured
 * (2.x/3.x credentials), else v1 (database + optional username/password).
 */
export function fallbackApi(config: InfluxSinkConfig): InfluxWriteApi {
  return config.token !== undefined || config.org !== undefined ? 'v2' : 'v1';
}

/**
 * Builds the InfluxDB sink for `config`, resolving `api: auto` once, here, from `/ping`. When the
 * server cannot be reached the fallback rule decides and a warning says so (the daemon may start
 * before InfluxDB; writes retry later).
 */
export async function createSink(config: InfluxSinkConfig, deps: SinkDeps): Promise<Sink> {
  let api: InfluxWriteApi;
  if (config.api === 'auto') {
    const whenUnknown = fallbackApi(config);
    try {
      api = await detectInfluxApi(config.endpoint, { whenUnknown });
      deps.logger.info(
        { url: redactUrl(config.endpoint.url), api },
        `Detected the InfluxDB ${api} write API.`,
      );
    } catch (err) {
      api = whenUnknown;
      deps.logger.warn(
        { url: redactUrl(config.endpoint.url), api, err: describeError(err) },
        `Could not detect the InfluxDB API; assuming ${api} from the configured credentials. Set load.influxdb.api to silence this.`,
      );
    }
  } else {
    api = config.api;
  }
  return api === 'v1' ? new InfluxDbV1Sink(config, deps) : new InfluxDbV2Sink(config, deps);
}
