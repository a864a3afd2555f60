import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PromfluxError } from '../../../src/core/errors.js';
import {
  DecodeError,
  LabelSetCache,
  LabelStringCache,
  MatrixDecoder,
} from '../../../src/extract/matrix-decoder.js';
import type { DecodedResponse, MatrixResult } from '../../../src/extract/types.js';
import { decodeReference, decodeStreaming, normalize, outcome } from './decode-helpers.js';
import { blockTimestamps, blockValues } from '../../../src/core/series.js';

const FIXTURES = join(import.meta.dirname, 'fixtures');
const fixtures = readdirSync(FIXTURES)
  .filter((f) => f.endsWith('.txt'))
  .sort();

function fixture(name: string): Buffer {
  return readFileSync(join(FIXTURES, name));
}

function success(decoded: DecodedResponse): MatrixResult {
  if (decoded.status !== 'success') throw new Error(`expected success, got ${decoded.errorType}`);
  return decoded.result;
}

function seriesByName(result: MatrixResult, name: string) {
  const s = result.series.find((x) => x.labels.__name__ === name);
  if (!s) throw new Error(`no series ${name}`);
  return s;
}

describe('MatrixDecoder agrees with the JSON.parse reference on every fixture', () => {
  it('has fixtures of both kinds', () => {
    expect(fixtures.filter((f) => f.startsWith('invalid-')).length).toBeGreaterThan(10);
    expect(fixtures.filter((f) => !f.startsWith('invalid-')).length).toBeGreaterThan(10);
  });

  for (const name of fixtures) {
    it(name, () => {
      const bytes = fixture(name);
      const reference = outcome(() => decodeReference(bytes));
      const splits = [[bytes.length], [1], [2], [3], [5], [7], [64], [1, 13, 2, 31]];
      for (const sizes of splits) {
        const streaming = outcome(() => decodeStreaming(bytes, sizes));
        if (name.startsWith('invalid-')) {
          expect(reference.ok, 'reference accepts an invalid fixture').toBe(false);
          expect(streaming.ok, `streaming accepts it with chunks ${sizes.join(',')}`).toBe(false);
          if (!streaming.ok) expect(streaming.error).toBeInstanceOf(DecodeError);
          if (!reference.ok) expect(reference.error).toBeInstanceOf(DecodeError);
        } else {
          expect(reference.ok ? undefined : reference.error).toBeUndefined();
          expect(streaming, `chunks ${sizes.join(',')}`).toEqual(reference);
        }
      }
    });
  }
});

describe('MatrixDecoder', () => {
  it('decodes the Prometheus documentation example', () => {
    const r = success(decodeStreaming(fixture('basic.txt')));
    expect(r.series).toHaveLength(2);
    expect(r.samples).toBe(6);
    expect(r.histogramSamples).toBe(0);
    expect(r.warnings).toEqual([]);
    expect(r.series[0]!.labels).toEqual({
      __name__: 'up',
      job: 'prometheus',
      instance: 'localhost:9090',
    });
    expect(Array.from(blockTimestamps(r.series[0]!))).toEqual([
      1435781430781, 1435781445781, 1435781460781,
    ]);
    expect(Array.from(blockValues(r.series[1]!))).toEqual([0, 0, 1]);
  });

  it('turns timestamps into exact integer milliseconds', () => {
    const r = success(decodeStreaming(fixture('timestamps.txt'), [3]));
    expect(Array.from(blockTimestamps(r.series[0]!))).toEqual([
      1435781430781, 1100, 10, 1000, 0, 1, 1714521600100, 1714521600120, 9999999999999, -1500,
      1435781430700, 1000000,
    ]);
  });

  it('rounds timestamps with more than three fractional digits half up', () => {
    const body = (ts: string) =>
      `{"status":"success","data":{"resultType":"matrix","result":[{"metric":{},"values":[[${ts},"1"]]}]}}`;
    const ts = (t: string) =>
      blockTimestamps(success(decodeStreaming(Buffer.from(body(t)))).series[0]!)[0];
    expect(ts('1.0005')).toBe(1001);
    expect(ts('1.0004999')).toBe(1000);
    expect(ts('1714521600.123456')).toBe(1714521600123);
    expect(ts('1714521600.9996')).toBe(1714521601000);
  });

  it('maps the special values and exponent forms', () => {
    const values = Array.from(
      blockValues(success(decodeStreaming(fixture('special-values.txt'))).series[0]!),
    );
    expect(values.slice(0, 8)).toEqual([NaN, Infinity, -Infinity, 1e21, 1e-7, -0, 0, -12.5]);
    expect(Object.is(values[5], -0)).toBe(true);
    expect(values[9]).toBe(0.016666666666666666);
    expect(values[10]).toBe(0.30000000000000004);
    expect(values[11]).toBe(9007199254740992);
    expect(values.slice(17, 22)).toEqual([Infinity, -Infinity, NaN, Infinity, 1e5]);
  });

  it('skips native histograms and counts them', () => {
    const r = success(decodeStreaming(fixture('histograms.txt'), [4]));
    expect(r.histogramSamples).toBe(3);
    expect(r.samples).toBe(3);
    expect(seriesByName(r, 'http_request_duration_seconds').length).toBe(0);
    expect(Array.from(blockValues(seriesByName(r, 'mixed')))).toEqual([1]);
    expect(Array.from(blockValues(seriesByName(r, 'plain')))).toEqual([2, 3]);
  });

  it('skips null values and counts them per series', () => {
    const r = success(decodeStreaming(fixture('nulls.txt'), [5]));
    expect(seriesByName(r, 'sparse')).toMatchObject({ length: 2, nullValues: 2 });
    expect(Array.from(blockTimestamps(seriesByName(r, 'sparse')))).toEqual([
      1714521615000, 1714521645000,
    ]);
    expect(seriesByName(r, 'all_null')).toMatchObject({ length: 0, nullValues: 1 });
    expect(r.samples).toBe(2);
  });

  it('decodes escapes, surrogate pairs and raw UTF-8 in labels, cut anywhere', () => {
    for (const size of [1, 2, 3, 1000]) {
      const labels = success(decodeStreaming(fixture('escapes.txt'), [size])).series[0]!.labels;
      expect(labels.quote).toBe('a"b');
      expect(labels.backslash).toBe('c:\\path\\x');
      expect(labels.slash).toBe('a/b');
      expect(labels.controls).toBe('l1\nl2\tt\r\b\f');
      expect(labels.bmp).toBe('é中é');
      expect(labels.pair).toBe('😀 smile');
      expect(labels.lone_high).toBe('x\ud800y');
      expect(labels.raw_utf8).toBe('Zürich 東京 😀');
      expect(labels.key).toBe('escaped name');
      expect(Object.getOwnPropertyDescriptor(labels, '__proto__')?.value).toBe('proto label');
      expect(Object.getPrototypeOf(labels)).toBe(Object.prototype);
      expect(labels.empty).toBe('');
    }
  });

  it('reads keys in any order, warnings and infos before or after data', () => {
    const r = success(decodeStreaming(fixture('status-after-data.txt'), [2]));
    expect(r.warnings).toHaveLength(1);
    expect(r.infos[0]).toContain('might not be a counter');
    expect(r.series[0]!.labels).toEqual({ job: 'api', __name__: 'http_requests_rate' });
    const w = success(decodeStreaming(fixture('warnings-infos.txt')));
    expect(w.warnings).toEqual(['PromQL warning: a', 'results truncated due to limit']);
    expect(w.infos).toEqual(['PromQL info: b', '2 more info annotations omitted']);
  });

  it('skips unknown keys holding any JSON value', () => {
    const r = success(decodeStreaming(fixture('unknown-keys.txt'), [1]));
    expect(r.series).toHaveLength(1);
    expect(Array.from(blockValues(r.series[0]!))).toEqual([1, 2]);
  });

  it('refuses malformed JSON under an unknown key, as JSON.parse does, however it is cut', () => {
    const head = '{"status":"success","data":{"resultType":"matrix","extra":';
    const body = (unknown: string): Buffer => Buffer.from(`${head}${unknown},"result":[]}}`);
    // The value under "extra", what is wrong with it, and at which of its bytes.
    const malformed: [string, string, number][] = [
      ['[1 2]', "Expected ',' or ']'", 3],
      ['[1,]', 'Expected a JSON value', 3],
      ['{"a" 1}', "Expected ':' after a key", 5],
      ['{"a":1,}', 'Expected a key in an object', 7],
      ['{1:2}', 'Expected a key in an object', 1],
      ['{"a":[}', 'Expected a JSON value', 6],
      ['[{]', 'Expected a key in an object', 2],
      ['[1}', "Expected ',' or ']'", 2],
      ['tru', 'Expected a JSON value', 3],
      ['01', 'Expected a JSON value', 2],
      ['-', 'Expected a JSON value', 1],
      ['1.e5', 'Expected a JSON value', 4],
      ['["\\q"]', 'Invalid escape in a string', 3],
      ['["\\u12G4"]', 'Invalid \\u escape', 6],
      ['["a\tb"]', 'Control character in a string', 3],
    ];
    for (const [unknown, message, index] of malformed) {
      const bytes = body(unknown);
      expect(outcome(() => decodeReference(bytes)).ok, unknown).toBe(false);
      expect(() => decodeStreaming(bytes), unknown).toThrow(
        `${message} at byte ${head.length + index}.`,
      );
      expect(() => decodeStreaming(bytes, [1]), unknown).toThrow(
        `${message} at byte ${head.length + index}.`,
      );
    }
    const valid = [
      '[1, 2.5e-3, -0, true, false, null, "s\\u00e9\\n", {"a": {"b": []}}, [[]]]',
      '{}',
      '[]',
      '"x"',
      '-12.5E+3',
      ' { "a" : [ 1 , { } ] } ',
    ];
    for (const unknown of valid) {
      const bytes = body(unknown);
      for (const sizes of [[bytes.length], [1], [2, 3]]) {
        expect(
          outcome(() => decodeStreaming(bytes, sizes)),
          unknown,
        ).toEqual(outcome(() => decodeReference(bytes)));
      }
      expect(outcome(() => decodeStreaming(bytes)).ok, unknown).toBe(true);
    }
  });

  it('keeps series without values', () => {
    const r = success(decodeStreaming(fixture('zero-values.txt')));
    expect(r.series.map((s) => s.length)).toEqual([0, 0, 1, 0, 0]);
    expect(r.series[3]!.labels).toEqual({});
  });

  it('returns Prometheus error objects', () => {
    expect(decodeStreaming(fixture('error-bad-data.txt'), [7])).toEqual({
      status: 'error',
      errorType: 'bad_data',
      error: 'invalid parameter "query": 1:4: parse error: unexpected <op:*>',
      warnings: [],
    });
    expect(decodeStreaming(fixture('error-execution.txt'))).toMatchObject({
      status: 'error',
      errorType: 'execution',
      warnings: ['w1'],
    });
  });

  it('refuses results that are not a matrix, saying so', () => {
    expect(() => decodeStreaming(fixture('invalid-vector.txt'))).toThrow(
      /Expected "resultType" "matrix" \(a range query\), got "vector" at byte \d+/,
    );
    expect(() => decodeStreaming(fixture('invalid-scalar-type-last.txt'))).toThrow(
      /Expected a series object/,
    );
  });

  it('refuses a truncated body at every cut, naming the size', () => {
    const bytes = fixture('basic.txt');
    const last = bytes.lastIndexOf('}'.charCodeAt(0));
    for (let cut = 0; cut <= last; cut++) {
      expect(() => decodeStreaming(bytes.subarray(0, cut), [3])).toThrow(DecodeError);
    }
    expect(() => decodeStreaming(bytes.subarray(0, 100))).toThrow(
      'Response truncated after 100 bytes.',
    );
  });

  it('reports the byte offset of malformed input', () => {
    const err = outcome(() => decodeStreaming(fixture('invalid-bad-value.txt'), [1]));
    expect(err.ok).toBe(false);
    if (!err.ok) {
      expect(err.error).toBeInstanceOf(PromfluxError);
      expect((err.error as DecodeError).code).toBe('RESPONSE_MALFORMED');
      expect((err.error as DecodeError).offset).toBe(86);
      expect(err.error.message).toMatch(/Invalid sample value "one" at byte 86\./);
    }
    expect(() => decodeStreaming(fixture('invalid-trailing-garbage.txt'))).toThrow(
      /Unexpected data after the response object at byte 64/,
    );
  });

  it('keeps failing after an error and refuses push after end', () => {
    const d = new MatrixDecoder();
    expect(() => d.push(Buffer.from('nope'))).toThrow(DecodeError);
    expect(() => d.push(Buffer.from('{}'))).toThrow(DecodeError);
    expect(() => d.end()).toThrow(DecodeError);
    const e = new MatrixDecoder();
    e.push(fixture('error-minimal.txt'));
    expect(e.end()).toEqual({ status: 'error', errorType: '', error: '', warnings: [] });
    expect(() => e.push(Buffer.from(' '))).toThrow(/after end/);
  });

  it('accepts plain Uint8Array chunks', () => {
    const bytes = new Uint8Array(fixture('basic.txt'));
    const d = new MatrixDecoder();
    d.push(bytes.subarray(0, 50));
    d.push(bytes.subarray(50));
    expect(normalize(d.end())).toEqual(normalize(decodeReference(bytes)));
  });

  it('enforces maxSeries', () => {
    const d = new MatrixDecoder({ maxSeries: 1 });
    expect(() => d.push(fixture('basic.txt'))).toThrow(/more than 1 series/);
  });

  it('shares a label cache across decoders without mixing strings up', () => {
    const cache = new LabelStringCache();
    const a = success(new MatrixDecoderRun(cache).run(fixture('basic.txt')));
    const b = success(new MatrixDecoderRun(cache).run(fixture('status-after-data.txt')));
    const c = success(new MatrixDecoderRun(cache).run(fixture('basic.txt')));
    expect(a.series.map((s) => s.labels)).toEqual(c.series.map((s) => s.labels));
    expect(b.series[0]!.labels).toEqual({ job: 'api', __name__: 'http_requests_rate' });
    expect(c.series[0]!.labels.instance).toBe('localhost:9090');
  });

  it('gives each series its own window of the columns, so in-place edits do not leak', () => {
    const r = success(decodeStreaming(fixture('basic.txt')));
    const [a, b] = r.series;
    blockValues(a!).fill(42);
    expect(Array.from(blockValues(b!))).toEqual([0, 0, 1]);
    expect(Array.from(blockValues(a!))).toEqual([42, 42, 42]);
  });

  it('decodes tokens far longer than a chunk', () => {
    const long = 'é😀"\\x'.repeat(3000) + 'end';
    const body = Buffer.from(
      JSON.stringify({
        warnings: [long, 'short'],
        status: 'success',
        data: {
          resultType: 'matrix',
          unknown: { blob: long, list: [long, long] },
          result: [{ metric: { long, [long]: 'name' }, values: [[1.5, '1'.repeat(5000)]] }],
        },
      }),
    );
    const expected = normalize(decodeReference(body));
    for (const sizes of [[1000], [3], [700, 1, 20_000], [65_536]]) {
      expect(normalize(decodeStreaming(body, sizes))).toEqual(expected);
    }
    const r = success(decodeStreaming(body, [999]));
    expect(r.warnings[0]).toBe(long);
    expect(r.series[0]!.labels.long).toBe(long);
  });

  it('grows its sample storage for long series and many series', () => {
    const points = 5000;
    const series = 40;
    const parts: string[] = [];
    for (let s = 0; s < series; s++) {
      const values = Array.from({ length: points }, (_, i) => `[${1000 + i * 15}.5,"${s}.${i}"]`);
      parts.push(`{"metric":{"s":"${s}"},"values":[${values.join(',')}]}`);
    }
    const body = Buffer.from(
      `{"status":"success","data":{"resultType":"matrix","result":[${parts.join(',')}]}}`,
    );
    const r = success(decodeStreaming(body, [65536, 17, 4096]));
    expect(r.samples).toBe(points * series);
    for (let s = 0; s < series; s++) {
      const block = r.series[s]!;
      expect(block.labels.s).toBe(String(s));
      expect(block.length).toBe(points);
      expect(blockTimestamps(block)[points - 1]).toBe((1000 + (points - 1) * 15) * 1000 + 500);
      expect(blockValues(block)[points - 1]).toBe(Number(`${s}.${points - 1}`));
    }
  });
});

describe('MatrixDecoder label sets', () => {
  const body = (metric: string): Buffer =>
    Buffer.from(
      `{"status":"success","data":{"resultType":"matrix","result":[` +
        `{"metric":${metric},"values":[[1,"1"]]},{"metric":{"job":"b"},"values":[[1,"2"]]}]}}`,
    );
  const decodeWith = (cache: LabelSetCache, bytes: Buffer) => {
    const d = new MatrixDecoder({ labelSetCache: cache });
    d.push(bytes);
    return success(d.end());
  };

  it('hands out the same frozen labels for a series in every response sharing a cache', () => {
    const cache = new LabelSetCache();
    const first = decodeWith(cache, body('{"__name__":"up","job":"a"}'));
    const second = decodeWith(cache, body('{"__name__":"up","job":"a"}'));
    expect(second.series[0]!.labels).toBe(first.series[0]!.labels);
    expect(second.series[1]!.labels).toBe(first.series[1]!.labels);
    expect(first.series[0]!.labels).toEqual({ __name__: 'up', job: 'a' });
    expect(Object.isFrozen(first.series[0]!.labels)).toBe(true);
    // Other bytes, other labels (not a stale hit).
    const other = decodeWith(cache, body('{"__name__":"up","job":"c"}'));
    expect(other.series[0]!.labels).toEqual({ __name__: 'up', job: 'c' });
  });

  it('keeps every one of thousands of series the same object from response to response', () => {
    // A direct-mapped table lost about a fifth of 2000 series to slot collisions every chunk.
    const many = Buffer.from(
      `{"status":"success","data":{"resultType":"matrix","result":[` +
        Array.from(
          { length: 5000 },
          (_, i) => `{"metric":{"__name__":"m","instance":"host-${i}:9100"},"values":[[1,"1"]]}`,
        ).join(',') +
        `]}}`,
    );
    const cache = new LabelSetCache();
    const first = decodeWith(cache, many);
    const second = decodeWith(cache, many);
    expect(second.series).toHaveLength(5000);
    const changed = second.series.filter((s, i) => s.labels !== first.series[i]!.labels);
    expect(changed.length).toBe(0);
    expect(second.series[4999]!.labels).toEqual({ __name__: 'm', instance: 'host-4999:9100' });
  });

  it('decodes escaped label sets (not cached) and a repeated "metric" key like JSON.parse', () => {
    const cache = new LabelSetCache();
    for (let i = 0; i < 2; i++) {
      const escaped = decodeWith(cache, body('{"job":"a\\"b","x":"\\u00e9"}'));
      expect(escaped.series[0]!.labels).toEqual({ job: 'a"b', x: 'é' });
    }
    const twice = Buffer.from(
      '{"status":"success","data":{"resultType":"matrix","result":[' +
        '{"metric":{"a":"1"},"metric":{"b":"\\u0032"},"values":[[1,"1"]]}]}}',
    );
    const decoded = decodeWith(cache, twice);
    expect(decoded.series[0]!.labels).toEqual({ b: '2' });
    expect(normalize({ status: 'success', result: decoded })).toEqual(
      normalize(decodeReference(twice)),
    );
  });
});

class MatrixDecoderRun {
  constructor(private readonly cache: LabelStringCache) {}
  run(bytes: Uint8Array): DecodedResponse {
    const d = new MatrixDecoder({ labelCache: this.cache });
    for (let i = 0; i < bytes.length; i += 5) d.push(bytes.subarray(i, i + 5));
    return d.end();
  }
}
