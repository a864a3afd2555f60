import { blockTimestamps, blockValues, type SeriesBlock } from '../../src/core/series.js';
import { decodeMatrixReference } from './matrix-reference.js';

/**
 * What a real Prometheus answers to a range query, decoded by the reference decoder: the
 * expected side of end-to-end comparisons (independent of promflux's streaming decoder).
 */
export async function prometheusRange(
  prometheusUrl: string,
  query: string,
  range: { startMs: number; endMs: number; stepMs: number },
): Promise<SeriesBlock[]> {
  const body = new URLSearchParams({
    query,
    start: String(range.startMs / 1000),
    end: String(range.endMs / 1000),
    step: String(range.stepMs / 1000),
  });
  const res = await fetch(`${prometheusUrl}/api/v1/query_range`, { method: 'POST', body });
  const decoded = decodeMatrixReference(await res.text());
  if (decoded.status !== 'success') throw new Error(`Prometheus: ${decoded.error}`);
  return decoded.result.series;
}

/** A block's samples with a finite value (what promflux writes), in time order. */
export function finiteSamples(block: SeriesBlock): Array<{ timestampMs: number; value: number }> {
  const [timestamps, values] = [blockTimestamps(block), blockValues(block)];
  const samples: Array<{ timestampMs: number; value: number }> = [];
  for (let i = 0; i < block.length; i++) {
    if (Number.isFinite(values[i]!))
      samples.push({ timestampMs: timestamps[i]!, value: values[i]! });
  }
  return samples;
}
