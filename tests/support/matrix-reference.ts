import { seriesBlock, type Labels, type SeriesBlock } from '../../src/core/series.js';
import { DecodeError } from '../../src/extract/matrix-decoder.js';
import { parsePromValue } from '../../src/extract/prom-value.js';
import type { DecodedResponse, MatrixResult } from '../../src/extract/types.js';

/**
 * The reference decoder: `JSON.parse` and plain checks. Slow and obviously correct; the streaming
 * {@link MatrixDecoder} must return exactly what this returns (tests hold them to it).
 *
 * Rules both decoders follow: the body is one object; `status` is `"success"` or `"error"`;
 * `warnings`/`infos` are arrays of strings, `errorType`/`error` strings, all optional (or null);
 * `data`, when present and not null, is `{resultType: "matrix", result: [series...]}` with unknown
 * keys ignored; a series is `{metric: {name: value}, values: [[ts, "v" | null]...],
 * histograms: [...]}`, each part optional. Timestamps become integer ms, values go through
 * {@link parsePromValue}; `null` values are counted, not stored; histogram samples are counted.
 */
export function decodeMatrixReference(body: string): DecodedResponse {
  let doc: unknown;
  try {
    doc = JSON.parse(body);
  } catch (err) {
    throw new DecodeError(`Invalid JSON: ${(err as Error).message}`);
  }
  if (!isObject(doc)) throw new DecodeError('Expected the response to be a JSON object.');
  const warnings = stringArray(doc.warnings, 'warnings');
  const infos = stringArray(doc.infos, 'infos');
  const errorType = optionalString(doc.errorType, 'errorType');
  const error = optionalString(doc.error, 'error');
  const data = doc.data === undefined || doc.data === null ? undefined : decodeData(doc.data);
  if (doc.status === 'error') return { status: 'error', errorType, error, warnings };
  if (doc.status !== 'success') {
    throw new DecodeError(`Expected "status" to be "success" or "error", got ${show(doc.status)}.`);
  }
  if (!data) throw new DecodeError('Missing "data" in a successful response.');
  return { status: 'success', result: { ...data, warnings, infos } };
}

function decodeData(data: unknown): Omit<MatrixResult, 'warnings' | 'infos'> {
  if (!isObject(data)) throw new DecodeError('Expected "data" to be an object.');
  if (data.resultType !== 'matrix') {
    throw new DecodeError(`Expected "resultType" "matrix", got ${show(data.resultType)}.`);
  }
  const result = data.result ?? [];
  if (!Array.isArray(result)) throw new DecodeError('Expected "data.result" to be an array.');
  const series: SeriesBlock[] = [];
  let samples = 0;
  let histogramSamples = 0;
  for (const item of result) {
    if (!isObject(item)) throw new DecodeError('Expected a series object in "data.result".');
    const block = decodeSeries(item);
    samples += block.length;
    if (item.histograms !== undefined && item.histograms !== null) {
      if (!Array.isArray(item.histograms)) throw new DecodeError('Expected "histograms" array.');
      histogramSamples += item.histograms.length;
    }
    series.push(block);
  }
  return { series, samples, histogramSamples };
}

function decodeSeries(item: Record<string, unknown>): SeriesBlock {
  const metric = item.metric ?? {};
  if (!isObject(metric)) throw new DecodeError('Expected "metric" to be an object.');
  for (const value of Object.values(metric)) {
    if (typeof value !== 'string') throw new DecodeError('Expected label values to be strings.');
  }
  const values = item.values ?? [];
  if (!Array.isArray(values)) throw new DecodeError('Expected "values" to be an array.');
  const timestampsMs: number[] = [];
  const floats: number[] = [];
  let nullValues = 0;
  for (const sample of values) {
    if (!Array.isArray(sample) || sample.length !== 2 || typeof sample[0] !== 'number') {
      throw new DecodeError('Expected a sample [timestamp, "value"].');
    }
    const [ts, value] = sample as [number, unknown];
    if (value === null) {
      nullValues++;
      continue;
    }
    if (typeof value !== 'string') throw new DecodeError('Expected a sample value string.');
    let parsed: number;
    try {
      parsed = parsePromValue(value);
    } catch (err) {
      throw new DecodeError((err as Error).message);
    }
    timestampsMs.push(Math.round(ts * 1000));
    floats.push(parsed);
  }
  return seriesBlock(metric as Labels, timestampsMs, floats, nullValues);
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function stringArray(value: unknown, key: string): string[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value) || !value.every((v) => typeof v === 'string')) {
    throw new DecodeError(`Expected "${key}" to be an array of strings.`);
  }
  return value;
}

function optionalString(value: unknown, key: string): string {
  if (value === undefined || value === null) return '';
  if (typeof value !== 'string') throw new DecodeError(`Expected "${key}" to be a string.`);
  return value;
}

function show(value: unknown): string {
  return value === undefined ? 'nothing' : JSON.stringify(value).slice(0, 40);
}
