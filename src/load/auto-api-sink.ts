import type { InfluxSinkConfig } from '../config/types.js';
import { redactUrl } from '../core/redact.js';
import { detectWriteApi, type InfluxWriteApi } from '../core/influx-api.js';
import { InfluxDbV1Sink } from './influxdb-v1.js';
import { InfluxDbV2Sink } from './influxdb-v2.js';
import type { Sink, SinkCheckResult, SinkDeps, WriteReport } from './sink.js';
import type { LineBatch } from '../core/line-batch.js';

/** The sink for a known API. */
export function influxSink(api: InfluxWriteApi, config: InfluxSinkConfig, deps: SinkDeps): Sink {
  return api === 'v1' ? new InfluxDbV1Sink(config, deps) : new InfluxDbV2Sink(config, deps);
}

/**
 * `api: auto` while the server has not said which API it speaks (it was down when promflux
 * started). Before each write or check it asks `/ping` again (one request, shared by concurrent
 * writes) until an answer settles the API for good; until then the fallback API writes, so a
 * server that stays down fails the way any write would, with the sink's retries.
 */
export class AutoApiSink implements Sink {
  readonly name: string;
  private readonly sinks = new Map<InfluxWriteApi, Sink>();
  private settled: Sink | undefined;
  private detecting: Promise<Sink> | undefined;

  constructor(
    private readonly config: InfluxSinkConfig,
    private readonly deps: SinkDeps,
    private readonly fallback: InfluxWriteApi,
  ) {
    this.name = deps.name ?? 'influxdb';
  }

  async write(
    batch: LineBatch,
    options?: { signal?: AbortSignal; deadlineMs?: number },
  ): Promise<WriteReport> {
    return (await this.current(options?.signal)).write(batch, options);
  }

  async check(): Promise<SinkCheckResult> {
    return (await this.current()).check();
  }

  async close(): Promise<void> {
    for (const sink of this.sinks.values()) await sink.close();
  }

  private current(signal?: AbortSignal): Promise<Sink> {
    if (this.settled) return Promise.resolve(this.settled);
    this.detecting ??= this.detect(signal).finally(() => (this.detecting = undefined));
    return this.detecting;
  }

  private async detect(signal?: AbortSignal): Promise<Sink> {
    const detection = await detectWriteApi(this.config.endpoint, this.fallback, { signal });
    if (!detection.api) return this.sinkFor(this.fallback);
    this.settled = this.sinkFor(detection.api);
    this.deps.logger.info(
      { url: redactUrl(this.config.endpoint.url), api: detection.api },
      `Detected the InfluxDB ${detection.api} write API.`,
    );
    return this.settled;
  }

  private sinkFor(api: InfluxWriteApi): Sink {
    let sink = this.sinks.get(api);
    if (!sink) this.sinks.set(api, (sink = influxSink(api, this.config, this.deps)));
    return sink;
  }
}
