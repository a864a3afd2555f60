/**
 * (4) Decoder throughput: promflux's streaming MatrixDecoder (compiled, from dist/) against
 * `JSON.parse` and the reference decoder (the test oracle, tests/support/, loaded through tsx
 * like this script) on the very same query_range bodies, fetched from the bench Prometheus with the
 * chunk size promflux asks for. Also measures how fast Prometheus serves those bodies (the
 * source ceiling), so a slow end-to-end run can be told apart from a slow Prometheus.
 */
import http from 'node:http';
import { resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { decodeMatrixReference } from '../../tests/support/matrix-reference.js';
import { BENCH_METRIC, STEP_MS, chunkPointsFor, type BenchRange } from './fixture.js';

type DecoderModule = typeof import('../../src/extract/matrix-decoder.js');
type SlabPoolModule = typeof import('../../src/core/slab-pool.js');

const DIST = resolve(import.meta.dirname, '../../dist/extract');
/** Bytes handed to the decoder per push(): what a socket typically delivers. */
const PUSH_BYTES = 64 * 1024;

export interface SourceResult {
  requests: number;
  samples: number;
  bytes: number;
  seconds: number;
  samples_per_second: number;
  /**
   * CPU seconds of this (the bench's) process for the fetch: node:http receiving the bodies,
   * nothing decoded. What any Node client pays to read these bytes.
   */
  cpu_seconds: number;
  /** Bodies kept for the decoder benchmark (a prefix of the range). */
  bodies: Buffer[];
}

/**
 * Fetches the range as promflux's steady state would (POST /api/v1/query_range, identity
 * encoding, `concurrency` requests in flight) and discards the bodies except the first
 * `keepBytes` worth.
 */
export async function fetchSource(
  prometheusUrl: string,
  range: BenchRange,
  series: number,
  opts: { concurrency?: number; keepBytes: number },
): Promise<SourceResult> {
  const perChunk = chunkPointsFor(series);
  const chunks: { startMs: number; endMs: number }[] = [];
  for (let t = range.startMs; t <= range.endMs; t += perChunk * STEP_MS) {
    chunks.push({ startMs: t, endMs: Math.min(range.endMs, t + (perChunk - 1) * STEP_MS) });
  }
  const agent = new http.Agent({ keepAlive: true, maxSockets: opts.concurrency ?? 2 });
  const kept: (Buffer | undefined)[] = new Array<Buffer | undefined>(chunks.length);
  let keptBytes = 0;
  let bytes = 0;
  let next = 0;
  const worker = async (): Promise<void> => {
    for (;;) {
      const i = next++;
      const chunk = chunks[i];
      if (chunk === undefined) return;
      const body = await queryRange(agent, prometheusUrl, chunk);
      bytes += body.length;
      if (keptBytes < opts.keepBytes) {
        kept[i] = body;
        keptBytes += body.length;
      }
    }
  };
  const t0 = performance.now();
  const cpu0 = process.cpuUsage();
  try {
    await Promise.all(Array.from({ length: opts.concurrency ?? 2 }, worker));
  } finally {
    agent.destroy();
  }
  const cpu = process.cpuUsage(cpu0);
  const seconds = (performance.now() - t0) / 1000;
  return {
    requests: chunks.length,
    samples: range.samples,
    bytes,
    seconds,
    samples_per_second: range.samples / seconds,
    cpu_seconds: (cpu.user + cpu.system) / 1e6,
    bodies: kept.filter((b): b is Buffer => b !== undefined),
  };
}

function queryRange(
  agent: http.Agent,
  baseUrl: string,
  chunk: { startMs: number; endMs: number },
): Promise<Buffer> {
  const form = new URLSearchParams({
    query: BENCH_METRIC,
    start: String(chunk.startMs / 1000),
    end: String(chunk.endMs / 1000),
    step: String(STEP_MS / 1000),
  }).toString();
  return new Promise((resolvePromise, reject) => {
    const req = http.request(
      new URL('/api/v1/query_range', baseUrl),
      {
        method: 'POST',
        agent,
        headers: {
          'Content-Type': 'application/x-www-form-urlencoded',
          'Content-Length': String(Buffer.byteLength(form)),
          Accept: 'application/json',
          'Accept-Encoding': 'identity',
        },
        timeout: 120_000,
      },
      (res) => {
        const parts: Buffer[] = [];
        res.on('data', (c: Buffer) => parts.push(c));
        res.on('error', reject);
        res.on('end', () => {
          const body = Buffer.concat(parts);
          if (res.statusCode === 200) resolvePromise(body);
          else
            reject(
              new Error(`query_range answered ${res.statusCode}: ${body.toString().slice(0, 500)}`),
            );
        });
      },
    );
    req.on('timeout', () => req.destroy(new Error('query_range: no answer within 120s')));
    req.on('error', reject);
    req.end(form);
  });
}

export interface DecoderResult {
  bodies: number;
  bytes: number;
  samples: number;
  rounds: number;
  /** MatrixDecoder, body pushed in 64 KiB pieces: samples/s (median round). */
  decoder_samples_per_second: number;
  /** `JSON.parse(body.toString('utf8'))`: bytes → string → objects, nothing more. */
  json_parse_samples_per_second: number;
  /** `JSON.parse` of a string decoded beforehand (the string decoding not timed). */
  json_parse_string_only_samples_per_second: number;
  /** The JSON.parse reference decoder (tests/support/matrix-reference.ts): JSON.parse + columns. */
  reference_decoder_samples_per_second: number;
  /** decoder ÷ JSON.parse from bytes: the headline ratio (target ≥ 3). */
  ratio_vs_json_parse: number;
  ratio_vs_json_parse_string_only: number;
  ratio_vs_reference_decoder: number;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/** Times the decoders over `bodies`, interleaved round by round so noise hits them alike. */
export async function benchDecoder(bodies: Buffer[], rounds: number): Promise<DecoderResult> {
  const { MatrixDecoder, LabelStringCache, LabelSetCache } = (await import(
    pathToFileURL(resolve(DIST, 'matrix-decoder.js')).href
  )) as DecoderModule;
  const { COLUMN_POOL_BYTES, SlabPool } = (await import(
    pathToFileURL(resolve(DIST, '../core/slab-pool.js')).href
  )) as SlabPoolModule;

  // Shared by the decoders of all bodies, as PrometheusClient shares them between its responses.
  const labelCache = new LabelStringCache();
  const labelSetCache = new LabelSetCache();
  const slabPool = new SlabPool(COLUMN_POOL_BYTES);
  const strings = bodies.map((b) => b.toString('utf8'));
  let samples = 0;
  let sink = 0;

  const decodeStreaming = (): number => {
    let n = 0;
    for (const body of bodies) {
      const decoder = new MatrixDecoder({ labelCache, labelSetCache, slabPool });
      for (let at = 0; at < body.length; at += PUSH_BYTES) {
        decoder.push(body.subarray(at, Math.min(body.length, at + PUSH_BYTES)));
      }
      const out = decoder.end();
      if (out.status !== 'success') throw new Error('decoder: Prometheus answered an error');
      n += out.result.samples;
      out.result.release?.();
    }
    return n;
  };
  const parseFromBytes = (): number => {
    let n = 0;
    for (const body of bodies) {
      const doc = JSON.parse(body.toString('utf8')) as {
        data: { result: { values: unknown[] }[] };
      };
      for (const s of doc.data.result) n += s.values.length;
    }
    return n;
  };
  const parseString = (): number => {
    let n = 0;
    for (const text of strings) {
      const doc = JSON.parse(text) as { data: { result: { values: unknown[] }[] } };
      for (const s of doc.data.result) n += s.values.length;
    }
    return n;
  };
  const reference = (): number => {
    let n = 0;
    for (const body of bodies) {
      const out = decodeMatrixReference(body.toString('utf8'));
      if (out.status !== 'success') throw new Error('reference: Prometheus answered an error');
      n += out.result.samples;
    }
    return n;
  };

  const contenders = { decodeStreaming, parseFromBytes, parseString, reference };
  const times: Record<keyof typeof contenders, number[]> = {
    decodeStreaming: [],
    parseFromBytes: [],
    parseString: [],
    reference: [],
  };
  // Warm-up round (JIT), and the sample counts must agree.
  for (const [name, fn] of Object.entries(contenders)) {
    const n = fn();
    if (samples === 0) samples = n;
    if (n !== samples)
      throw new Error(`decoder bench: ${name} counted ${n} samples, expected ${samples}`);
  }
  for (let r = 0; r < rounds; r++) {
    for (const [name, fn] of Object.entries(contenders) as [
      keyof typeof contenders,
      () => number,
    ][]) {
      const t0 = performance.now();
      sink += fn();
      times[name].push((performance.now() - t0) / 1000);
    }
  }
  if (sink !== samples * rounds * 4) throw new Error('decoder bench: inconsistent sample counts');

  const rate = (name: keyof typeof contenders): number => samples / median(times[name]);
  const decoder = rate('decodeStreaming');
  return {
    bodies: bodies.length,
    bytes: bodies.reduce((a, b) => a + b.length, 0),
    samples,
    rounds,
    decoder_samples_per_second: decoder,
    json_parse_samples_per_second: rate('parseFromBytes'),
    json_parse_string_only_samples_per_second: rate('parseString'),
    reference_decoder_samples_per_second: rate('reference'),
    ratio_vs_json_parse: decoder / rate('parseFromBytes'),
    ratio_vs_json_parse_string_only: decoder / rate('parseString'),
    ratio_vs_reference_decoder: decoder / rate('reference'),
  };
}
