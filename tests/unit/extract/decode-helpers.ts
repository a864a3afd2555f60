import { MatrixDecoder } from '../../../src/extract/matrix-decoder.js';
import { decodeMatrixReference } from '../../support/matrix-reference.js';
import type { DecodedResponse } from '../../../src/extract/types.js';
import { blockTimestamps, blockValues } from '../../../src/core/series.js';

/** A comparable, exact form of a decoded response: -0, NaN and label order all show. */
export function normalize(decoded: DecodedResponse): unknown {
  if (decoded.status === 'error') return decoded;
  // `release` is a decoder-pool hook, not data.
  const { series, release, ...rest } = decoded.result;
  return {
    ...rest,
    series: series.map((s) => ({
      labels: Object.entries(s.labels),
      timestampsMs: Array.from(blockTimestamps(s), exact),
      values: Array.from(blockValues(s), exact),
      length: s.length,
      nullValues: s.nullValues,
    })),
  };
}

function exact(v: number): string {
  return Object.is(v, -0) ? '-0' : String(v);
}

export type Outcome = { ok: true; value: unknown } | { ok: false; error: Error };

export function outcome(fn: () => DecodedResponse): Outcome {
  try {
    return { ok: true, value: normalize(fn()) };
  } catch (error) {
    return { ok: false, error: error as Error };
  }
}

/** Decodes the bytes pushed in the given chunks (sizes cycle), with the streaming decoder. */
export function decodeStreaming(
  bytes: Uint8Array,
  chunkSizes: number[] = [bytes.length],
): DecodedResponse {
  const decoder = new MatrixDecoder();
  let at = 0;
  let i = 0;
  while (at < bytes.length) {
    const size = Math.max(1, chunkSizes[i++ % chunkSizes.length]!);
    decoder.push(bytes.subarray(at, at + size));
    at += size;
  }
  return decoder.end();
}

export function decodeReference(bytes: Uint8Array): DecodedResponse {
  return decodeMatrixReference(Buffer.from(bytes).toString('utf8'));
}
