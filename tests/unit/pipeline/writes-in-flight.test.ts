import pino from 'pino';
import { describe, expect, it } from 'vitest';
import type { QueryConfig } from '../../../src/config/types.js';
import type { PrometheusClient } from '../../../src/extract/prometheus.js';
import { runQueries, WRITES_IN_FLIGHT, type Pipeline } from '../../../src/pipeline/pipeline.js';
import { parse, yamlWith } from '../config/helpers.js';
import { FakePrometheusClient } from '../../support/fake-prometheus-client.js';
import { RecordingSink } from '../../support/recording-sink.js';

const STEP = 15_000;
const POINTS = 400;

describe('runQueries: writes in flight', () => {
  it('keeps four writes in flight to a slow sink, never more', async () => {
    // Small batches and a sink that takes a while: the encoder has many batches ready long
    // before the first answer, so only the write window limits how many are sent at once.
    const { config } = await parse(yamlWith({ load: { influxdb: { batch_size: 10 } } }));
    const sink = new RecordingSink('influxdb');
    sink.delayMs = 20;
    const client = new FakePrometheusClient(
      Array.from({ length: 4 }, (_, i) => ({
        labels: { __name__: 'g', i: String(i) },
        valueAt: (t: number) => t / STEP,
      })),
    );
    const pipeline: Pipeline = {
      config,
      client: client as unknown as PrometheusClient,
      sinks: [sink],
      tierSinks: new Map([[config.load.tiers[0]!.name, sink]]),
      logger: pino({ level: 'silent' }),
      limiter: undefined,
      close: () => Promise.resolve(),
    };
    const query: QueryConfig = { name: 'q', expr: 'g', stepMs: STEP, tags: {} };

    const [result] = await runQueries(pipeline, [query], () => ({
      startMs: 0,
      endMs: (POINTS - 1) * STEP,
    }));

    expect(result!.error).toBeUndefined();
    expect(sink.lines).toHaveLength(4 * POINTS);
    expect(WRITES_IN_FLIGHT).toBe(4);
    expect(sink.maxConcurrent).toBe(WRITES_IN_FLIGHT);
  });
});
