import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  compareUtf8,
  encodeSeriesPrefix,
  escapeMeasurement,
  escapeTag,
  IntegerWriter,
  writeFloat,
  writeUint,
} from '../../../src/transform/line-protocol.js';
import { parseLineProtocol } from '../../fakes/influxdb-v2-fake.js';
import { parseLine } from '../../support/line-protocol-parser.js';

const line = (prefix: string, v = '1', ts = '1700000000'): string => `${prefix}${v} ${ts}`;

describe('escapeTag', () => {
  it.each([
    ['plain', 'plain'],
    ['a,b', 'a\\,b'],
    ['a b', 'a\\ b'],
    ['a=b', 'a\\=b'],
    ['a"b', 'a"b'],
    ['C:\\dir', 'C:\\dir'],
    ['trailing\\', 'trailing\uff3c'],
    ['run\\\\', 'run\uff3c\uff3c'],
    ['\\', '\uff3c'],
    ['mid\\\\dle\\', 'mid\\\\dle\uff3c'],
    ['before\\,comma', 'before\uff3c\\,comma'],
    ['run\\\\ space', 'run\uff3c\uff3c\\ space'],
    ['before\\=equals', 'before\uff3c\\=equals'],
    ['line\nbreak', 'line\\nbreak'],
    ['cr\rtab\t', 'cr\\rtab\\t'],
    ['bell\u0007', 'bell\ufffd'],
    ['Zürich 東京 😀', 'Zürich\\ 東京\\ 😀'],
  ])('%j → %j', (input, expected) => {
    expect(escapeTag(input)).toBe(expected);
  });

  it('leaves = unescaped in measurements but escapes comma and space', () => {
    expect(escapeMeasurement('a=b,c d')).toBe('a=b\\,c\\ d');
  });
});

describe('encodeSeriesPrefix', () => {
  it('sorts tags by key in byte order and omits empty keys and values', () => {
    const prefix = encodeSeriesPrefix(
      'health_metrics',
      [
        ['service', 'api'],
        ['instance', 'host:9100'],
        ['empty', ''],
        ['', 'nokey'],
        ['Zeta', 'upper sorts first'],
        ['metric_type', 'availability'],
      ],
      'value',
    );
    expect(prefix).toBe(
      'health_metrics,Zeta=upper\\ sorts\\ first,instance=host:9100,metric_type=availability,service=api value=',
    );
  });

  it('orders astral characters after U+E000-U+FFFF like UTF-8 bytes, not UTF-16 units', () => {
    expect(compareUtf8('\uffff', '😀')).toBeLessThan(0);
    expect('\uffff' < '😀').toBe(false); // the UTF-16 order a naive sort would use
    expect(compareUtf8('a', 'b')).toBeLessThan(0);
    expect(compareUtf8('ab', 'a')).toBeGreaterThan(0);
    expect(compareUtf8('same', 'same')).toBe(0);
  });

  it('round-trips any label set through an InfluxDB-faithful parser', () => {
    const text = fc.string({ unit: 'grapheme', maxLength: 12 });
    const specialText = fc.stringMatching(/^[a-z ,=\\\n\t"']{0,10}$/);
    const value = fc.oneof(text, specialText);
    fc.assert(
      fc.property(
        fc.dictionary(fc.stringMatching(/^[a-zA-Z_][a-zA-Z0-9_]{0,8}$/), value, { maxKeys: 6 }),
        (labels) => {
          const tags = Object.entries(labels);
          const parsed = parseLine(line(encodeSeriesPrefix('m', tags, 'value')));
          const expected = tags
            .filter(([, v]) => v !== '')
            .map(([k, v]) => [k, influxStored(v)] as [string, string])
            .sort((a, b) => compareUtf8(a[0], b[0]));
          expect(parsed.measurement).toBe('m');
          expect(parsed.tags).toEqual(expected);
          expect(parsed.fieldKey).toBe('value');
          expect(parsed.timestamp).toBe('1700000000');
          // VictoriaMetrics also unescapes \\\\: values without a backslash run land the same.
          const vm = parseLine(line(encodeSeriesPrefix('m', tags, 'value')), 'vm');
          expect(vm.tags.map(([k]) => k)).toEqual(expected.map(([k]) => k));
          vm.tags.forEach(([k, v]) => {
            const stored = influxStored(labels[k]!);
            if (!stored.includes('\\\\')) expect(v).toBe(stored);
          });
        },
      ),
      { numRuns: 2000 },
    );
  });
});

describe('encoded lines against the port of InfluxDB models/points.go (the v2 fake parser)', () => {
  it('are always accepted, with every tag stored as documented', () => {
    const value = fc.oneof(
      fc.string({ unit: 'grapheme', maxLength: 12 }),
      fc.stringMatching(/^[a-z ,=\\\n\r\t"']{0,10}$/),
    );
    fc.assert(
      fc.property(
        fc.dictionary(fc.stringMatching(/^[a-zA-Z_][a-zA-Z0-9_]{0,8}$/), value, { maxKeys: 6 }),
        fc.stringMatching(/^[a-z ,=\\]{1,8}$/),
        (labels, measurement) => {
          const text = line(encodeSeriesPrefix(measurement, Object.entries(labels), 'value'));
          const parsed = parseLineProtocol(text + '\n', 's', 0n);
          expect(parsed.errors).toEqual([]);
          const expectedTags = Object.fromEntries(
            Object.entries(labels)
              .filter(([, v]) => v !== '')
              .map(([k, v]) => [k, influxStored(v)]),
          );
          expect(parsed.points[0]!.tags).toEqual(expectedTags);
          expect(parsed.points[0]!.measurement).toBe(
            measurement.replace(/\\+(?=[, ]|$)/g, (run) => '\uff3c'.repeat(run.length)),
          );
        },
      ),
      { numRuns: 2000 },
    );
  });
});

/** What InfluxDB stores for a label value: control characters sanitised, backslashes before a delimiter → ＼. */
function influxStored(value: string): string {
  return value
    .replace(/\\+(?=[,= ]|$)/g, (run) => '\uff3c'.repeat(run.length))
    .replace(/\n/g, '\\n')
    .replace(/\r/g, '\\r')
    .replace(/\t/g, '\\t')
    .replace(/[\u0000-\u001f\u007f]/g, '\ufffd');
}

describe('number writers', () => {
  const render = (write: (b: Buffer, o: number) => number): string => {
    const buf = Buffer.alloc(64);
    return buf.toString('latin1', 0, write(buf, 0));
  };

  it('writes unsigned integers as digits', () => {
    for (const n of [0, 7, 10, 99, 1700000000, 1700000000123, Number.MAX_SAFE_INTEGER]) {
      expect(render((b, o) => writeUint(b, o, n))).toBe(String(n));
    }
  });

  it('writes unsigned integers of every length, on both sides of 2^31 and of 10^k, as digits', () => {
    // Below 2^31 one int32 loop; above, the digits over the last eight, then eight zero-padded.
    const edges = [2 ** 31 - 1, 2 ** 31, 2 ** 31 + 1, 10 ** 8 * 21 + 7, 2 ** 53 - 1];
    for (let k = 1; k <= 15; k++) edges.push(10 ** k - 1, 10 ** k, 10 ** k + 1);
    const sampled = fc.sample(fc.maxSafeNat(), { numRuns: 5000, seed: 31 });
    for (const n of [...edges, ...sampled]) {
      expect(render((b, o) => writeUint(b, o, n))).toBe(String(n));
    }
  });

  it('writes floats that parse back to the same double', () => {
    fc.assert(
      fc.property(fc.double({ noNaN: true, noDefaultInfinity: true }), (v) => {
        const text = render((b, o) => writeFloat(b, o, v));
        expect(text).toMatch(/^-?(\d+(\.\d+)?|\d(\.\d+)?e[+-]\d+|\d+\.\d*e[+-]\d+)$/);
        expect(Number(text)).toBe(v === 0 ? 0 : v);
      }),
      { numRuns: 5000 },
    );
  });

  it('writes values with up to three decimals exactly as JavaScript spells them', () => {
    const decimals = fc
      .tuple(fc.integer({ min: -1e12, max: 1e12 }), fc.constantFrom(1, 10, 100, 1000, 1e4))
      .map(([n, scale]) => n / scale);
    fc.assert(
      fc.property(fc.oneof(decimals, fc.double({ noNaN: true, noDefaultInfinity: true })), (v) => {
        expect(render((b, o) => writeFloat(b, o, v))).toBe(String(v === 0 ? 0 : v));
      }),
      { numRuns: 20_000 },
    );
  });

  it('writes thousandths of every whole-part length, up to and past 2^31 of them, as String(v)', () => {
    // n / 1000 with n on both sides of 2^31 (the int32 path's bound) and around each power of ten.
    const ns: number[] = [];
    for (let n = 2 ** 31 - 2000; n <= 2 ** 31 + 2000; n++) ns.push(n);
    for (let p = 1e3; p <= 1e13; p *= 10) for (let d = -1500; d <= 1500; d++) ns.push(p + d);
    const seeded = fc.sample(fc.integer({ min: 1, max: 2 ** 31 + 1e6 }), {
      numRuns: 20_000,
      seed: 13,
    });
    for (const n of [...ns, ...seeded]) {
      for (const v of [n / 1000, -n / 1000]) {
        expect(render((b, o) => writeFloat(b, o, v))).toBe(String(v));
      }
    }
  });

  it.each([
    [1, '1'],
    [-1, '-1'],
    [0.5, '0.5'],
    [1e21, '1e+21'],
    [-1.5e-7, '-1.5e-7'],
    [123456789012345, '123456789012345'],
    [1e15, '1000000000000000'],
    [123.45, '123.45'],
    [-0.001, '-0.001'],
    [0.0001, '0.0001'],
    [9876.539999999999, '9876.539999999999'],
  ])('%d → %s', (v, expected) => {
    expect(render((b, o) => writeFloat(b, o, v))).toBe(expected);
  });
});

describe('IntegerWriter', () => {
  it('writes any sequence of safe integers exactly, ascending or not', () => {
    fc.assert(
      fc.property(
        fc.array(fc.oneof(fc.maxSafeNat(), fc.integer({ min: 1_699_999_000, max: 1_700_001_000 }))),
        (numbers) => {
          const writer = new IntegerWriter();
          const buf = Buffer.alloc(32);
          for (const n of numbers) {
            expect(buf.toString('latin1', 0, writer.write(buf, 0, n))).toBe(String(n));
          }
        },
      ),
    );
  });

  it('writes every value of the four low digits exactly', () => {
    const writer = new IntegerWriter();
    const buf = Buffer.alloc(32);
    for (const base of [1_700_000_000, 90_071_992_547_0000]) {
      for (let low = 0; low < 10_000; low++) {
        const n = base + low;
        expect(buf.toString('latin1', 0, writer.write(buf, 0, n))).toBe(String(n));
      }
    }
  });
});
