import type { InfluxSinkConfig } from '../../src/config/types.js';
import type {
  StoredChunk,
  StoredSeriesQuery,
  StoredSeriesReader,
} from '../../src/extract/influxdb/index.js';

/** A sink config for `url` with fast, test-sized settings; override what the test is about. */
export function readerConfig(
  url: string,
  overrides: Partial<InfluxSinkConfig> = {},
): InfluxSinkConfig {
  return {
    endpoint: { url, timeoutMs: 10_000, headers: {}, auth: { type: 'none' }, tls: {} },
    api: 'auto',
    bucket: 'unused',
    batchSize: 5000,
    gzip: false,
    retry: { maxAttempts: 1, initialDelayMs: 1, maxDelayMs: 1, multiplier: 2, jitter: 0 },
    ...overrides,
  };
}

/** Every point read, keyed `tags JSON @ ms` → field values; plus the chunks' ranges. */
export async function readAll(
  reader: StoredSeriesReader,
  query: StoredSeriesQuery,
): Promise<{ points: Map<string, number[]>; chunks: Omit<StoredChunk, 'series'>[] }> {
  const points = new Map<string, number[]>();
  const chunks: Omit<StoredChunk, 'series'>[] = [];
  for await (const chunk of reader.read(query)) {
    chunks.push({ fromMs: chunk.fromMs, toMs: chunk.toMs });
    for (const s of chunk.series) {
      const tags = JSON.stringify(s.tags);
      s.timestampsMs.forEach((t, i) => {
        if (t < chunk.fromMs || t >= chunk.toMs) throw new Error(`point at ${t} outside its chunk`);
        const key = `${tags}@${t}`;
        if (points.has(key)) throw new Error(`point ${key} read twice`);
        points.set(
          key,
          s.fields.map((f) => f[i]!),
        );
      });
    }
  }
  return { points, chunks };
}

/** The key {@link readAll} gives a point: tags sorted by name. */
export function pointKey(tags: Record<string, string>, ms: number): string {
  const sorted = Object.fromEntries(Object.entries(tags).sort(([a], [b]) => (a < b ? -1 : 1)));
  return `${JSON.stringify(sorted)}@${ms}`;
}
