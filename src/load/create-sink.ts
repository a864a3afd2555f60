import { redactUrl } from '../core/redact.js';
import type { InfluxSinkConfig } from '../config/types.js';
import { AutoApiSink, influxSink } from './auto-api-sink.js';
import { detectWriteApi, fallbackApi } from '../core/influx-api.js';
import type { Sink, SinkDeps } from './sink.js';

/**
 * Builds the InfluxDB sink for `config`, resolving `api: auto` from `/ping`. When the server
 * cannot tell yet (down at start: the daemon may start before InfluxDB), the sink writes with
 * the fallback rule and asks `/ping` again before each write until an answer settles the API.
 */
export async function createSink(config: InfluxSinkConfig, deps: SinkDeps): Promise<Sink> {
  if (config.api !== 'auto') return influxSink(config.api, config, deps);
  const whenUnknown = fallbackApi(config);
  const detection = await detectWriteApi(config.endpoint, whenUnknown);
  const url = redactUrl(config.endpoint.url);
  if (detection.api) {
    deps.logger.info(
      { url, api: detection.api },
      `Detected the InfluxDB ${detection.api} write API.`,
    );
    return influxSink(detection.api, config, deps);
  }
  deps.logger.warn(
    { url, api: whenUnknown, err: detection.reason },
    `Could not detect the InfluxDB API; writing with ${whenUnknown} (v2 needs token and org) until /ping answers, detecting again before each write. Set load.influxdb.api to skip detection.`,
  );
  return new AutoApiSink(config, deps, whenUnknown);
}
