import type { Writable } from 'node:stream';
import type { PromfluxConfig } from '../config/types.js';
import { describeError } from '../core/errors.js';
import { redactUrl } from '../core/redact.js';
import type { Logger } from '../core/logger.js';
import { resolveQueryKinds } from '../extract/metric-metadata.js';
import { createSink } from '../load/create-sink.js';
import { DeadLetterFile } from '../load/dead-letter.js';
import { formatTierResult, provisionConfigured } from '../load/provision/index.js';
import { createPrometheusClient } from '../pipeline/pipeline.js';

/**
 * `promflux check`: can promflux reach both ends, authenticate, and find its target? Prints one
 * line per check (`ok`/`FAIL`), and each query's kind (gauge or counter) and why, and resolves to
 * whether all passed.
 */
export async function runChecks(
  config: PromfluxConfig,
  logger: Logger,
  out: Writable,
): Promise<boolean> {
  let ok = true;
  const line = (passed: boolean, text: string): void => {
    ok &&= passed;
    out.write(`${passed ? 'ok  ' : 'FAIL'} ${text}\n`);
  };

  const prometheusUrl = redactUrl(config.extract.endpoint.url);
  const client = createPrometheusClient(config.extract, {
    ...config.extract.retry,
    maxAttempts: 1,
  });
  try {
    const ready = await client.ready();
    line(ready.ready, `prometheus ${prometheusUrl}: ${ready.detail}`);
    // Not ready says it all; asking for the build info would only repeat the failure.
    if (ready.ready) {
      const info = await client.buildInfo();
      line(
        true,
        `prometheus ${prometheusUrl}: version ${info?.version ?? 'unknown (no buildinfo API)'}`,
      );
      // Kinds follow Prometheus' metadata, so they are shown only when it answers.
      const kinds = await resolveQueryKinds(client, config.extract.queries, logger);
      for (const [name, decision] of kinds) {
        if (decision.error !== undefined) line(false, `query ${name}: ${decision.error}`);
        else line(true, `query ${name}: kind ${decision.kind} (${decision.reason})`);
      }
    }
  } catch (err) {
    line(false, `prometheus ${prometheusUrl}: ${describeError(err)}`);
  } finally {
    client.close();
  }

  const influxOk = await checkInflux(config, logger, line);
  if (influxOk) await checkTiers(config, line);
  return ok;
}

/**
 * One line per configured tier: ok when it exists with the configured retention, else FAIL
 * (missing or differing: fixed by `promflux provision`). A lone `load.influxdb.bucket` is the
 * sink check's own target.
 */
async function checkTiers(
  config: PromfluxConfig,
  line: (passed: boolean, text: string) => void,
): Promise<void> {
  if (config.load.tiers.every((t) => t.retentionUnmanaged)) return;
  try {
    const report = await provisionConfigured(config.load, { dryRun: true, applyRetention: false });
    for (const r of report.results) {
      const text = formatTierResult(r);
      if (r.outcome === 'exists') line(true, text);
      else if (r.outcome === 'would-create' || r.outcome === 'differs')
        line(false, `${text}; run \`promflux provision\``);
      else line(false, text);
    }
  } catch (err) {
    line(false, `tiers: ${describeError(err)}`);
  }
}

/** One line per InfluxDB check made; only the last one of a failed result failed. */
async function checkInflux(
  config: PromfluxConfig,
  logger: Logger,
  line: (passed: boolean, text: string) => void,
): Promise<boolean> {
  const influxUrl = redactUrl(config.load.influxdb.endpoint.url);
  try {
    const sink = await createSink(config.load.influxdb, {
      deadLetter: new DeadLetterFile(config.load.deadLetterPath),
      logger,
      name: 'influxdb',
    });
    try {
      const result = await sink.check();
      result.details.forEach((detail, i) =>
        line(result.ok || i < result.details.length - 1, `influxdb ${influxUrl}: ${detail}`),
      );
      if (result.details.length === 0) line(result.ok, `influxdb ${influxUrl}`);
      return result.ok;
    } finally {
      await sink.close();
    }
  } catch (err) {
    line(false, `influxdb ${influxUrl}: ${describeError(err)}`);
    return false;
  }
}
