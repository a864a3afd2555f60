import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { blockValues, type SeriesBlock } from '../../../src/core/series.js';
import type { MatrixResult } from '../../../src/extract/types.js';
import { decodeStreaming } from './decode-helpers.js';

/** Sample `i` of the block's spelling, if the decoder kept it. */
function spelling(block: SeriesBlock, i: number): string | undefined {
  const text = block.columns.valueText;
  const at = block.offset + i;
  if (!text || text.length[at] === 0) return undefined;
  const start = text.start[at]!;
  return Buffer.from(text.bytes.subarray(start, start + text.length[at]!)).toString('latin1');
}

function body(series: string[][]): Buffer {
  const result = series.map(
    (values, s) =>
      `{"metric":{"__name__":"m","s":"${s}"},"values":[${values
        .map((v, i) => `[${1700000000 + i * 15},${v === 'null' ? 'null' : JSON.stringify(v)}]`)
        .join(',')}]}`,
  );
  return Buffer.from(
    `{"status":"success","data":{"resultType":"matrix","result":[${result.join(',')}]}}`,
  );
}

function decoded(bytes: Buffer, cuts?: number[]): MatrixResult {
  const out = decodeStreaming(bytes, cuts);
  if (out.status !== 'success') throw new Error(out.error);
  return out.result;
}

describe('MatrixDecoder keeps the spelling of plain decimal values for the encoder', () => {
  it('keeps plain decimals and refuses what line protocol would not read the same', () => {
    const values = ['1', '0.5', '-2.25', '1.9633333333333334', '0', '-0', '123456789.125'];
    const refused = ['NaN', '+Inf', '-Inf', '007', '1e3', '1E-7', '.5'];
    const [block] = decoded(body([[...values, ...refused]])).series;
    values.forEach((v, i) => expect(spelling(block!, i), v).toBe(v));
    refused.forEach((v, i) => expect(spelling(block!, values.length + i), v).toBeUndefined());
  });

  it('maps every sample to its own spelling, however the body is cut and however many samples', () => {
    const decimal = fc
      .tuple(fc.boolean(), fc.nat(10 ** 9), fc.option(fc.stringMatching(/^\d{1,17}$/)))
      .map(([neg, int, frac]) => `${neg ? '-' : ''}${int}${frac === null ? '' : `.${frac}`}`);
    const value = fc.oneof(decimal, decimal, fc.constantFrom('NaN', '+Inf', 'null', '1e5'));
    fc.assert(
      fc.property(
        fc.array(fc.array(value, { maxLength: 300 }), { minLength: 1, maxLength: 8 }),
        fc.array(fc.integer({ min: 1, max: 97 }), { minLength: 1, maxLength: 5 }),
        (series, cuts) => {
          const result = decoded(body(series), cuts);
          result.series.forEach((block, s) => {
            const expected = series[s]!.filter((v) => v !== 'null');
            expect(block.length).toBe(expected.length);
            expected.forEach((v, i) => {
              const text = spelling(block, i);
              // Up to 16 digits the fast path always applies; longer ones may be formatted instead.
              const plain = /^-?(0|[1-9]\d*)(\.\d+)?$/.test(v);
              if (plain && v.replace(/\D/g, '').length <= 16) expect(text).toBe(v);
              if (text !== undefined) {
                expect(text).toBe(v);
                expect(Number(text)).toBe(blockValues(block)[i]);
              }
            });
          });
        },
      ),
      { numRuns: 300 },
    );
  });

  it('keeps spellings right across slab growth (a series of 300,000 samples)', () => {
    const values = Array.from({ length: 300_000 }, (_, i) => `${i % 977}.${i % 89}`);
    const [block] = decoded(body([values]), [65_536]).series;
    for (const i of [0, 1, 1023, 1024, 99_999, 262_143, 262_144, 299_999]) {
      expect(spelling(block!, i)).toBe(values[i]);
    }
  });
});
