import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeReference, decodeStreaming, outcome } from './decode-helpers.js';

/**
 * Random Prometheus-like responses, serialised with random whitespace, random (valid) escaping
 * and random key order, cut into random chunks: the streaming decoder must return exactly what
 * JSON.parse + the reference rules return, and both must refuse every truncation.
 */

type Json =
  | { t: 'obj'; entries: [string, Json][] }
  | { t: 'arr'; items: Json[] }
  | { t: 'str'; s: string }
  | { t: 'raw'; text: string };

const str = (s: string): Json => ({ t: 'str', s });
const raw = (text: string): Json => ({ t: 'raw', text });
const arr = (items: Json[]): Json => ({ t: 'arr', items });
const obj = (entries: [string, Json][]): Json => ({ t: 'obj', entries });

function fromValue(v: unknown): Json {
  if (v === null) return raw('null');
  if (typeof v === 'string') return str(v);
  if (typeof v === 'number' || typeof v === 'boolean') return raw(JSON.stringify(v));
  if (Array.isArray(v)) return arr(v.map(fromValue));
  return obj(Object.entries(v as Record<string, unknown>).map(([k, x]) => [k, fromValue(x)]));
}

function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const SHORT_ESCAPES: Record<string, string> = {
  '"': '\\"',
  '\\': '\\\\',
  '\n': '\\n',
  '\r': '\\r',
  '\t': '\\t',
  '\b': '\\b',
  '\f': '\\f',
  '/': '\\/',
};

function serialize(doc: Json, seed: number): string {
  const rnd = prng(seed);
  const u = (code: number): string => {
    const hex = code.toString(16).padStart(4, '0');
    return `\\u${rnd() < 0.5 ? hex : hex.toUpperCase()}`;
  };
  const ws = (): string => {
    if (rnd() < 0.7) return '';
    let out = '';
    const n = 1 + Math.floor(rnd() * 3);
    for (let i = 0; i < n; i++) out += ' \n\t\r'[Math.floor(rnd() * 4)];
    return out;
  };
  const quote = (s: string): string => {
    let out = '"';
    for (let i = 0; i < s.length; i++) {
      const code = s.charCodeAt(i);
      const ch = s[i]!;
      const isHigh = code >= 0xd800 && code <= 0xdbff;
      const next = s.charCodeAt(i + 1);
      const pairOk = isHigh && next >= 0xdc00 && next <= 0xdfff;
      const lone =
        (code >= 0xd800 && code <= 0xdfff && !pairOk) || (code >= 0xdc00 && code <= 0xdfff);
      if (lone) out += u(code);
      else if (pairOk) {
        out += rnd() < 0.3 ? u(code) + u(next) : s.slice(i, i + 2);
        i++;
      } else if (ch === '"' || ch === '\\' || code < 0x20) {
        out += SHORT_ESCAPES[ch] !== undefined && rnd() < 0.6 ? SHORT_ESCAPES[ch] : u(code);
      } else if (rnd() < 0.05) {
        out += SHORT_ESCAPES[ch] ?? u(code);
      } else out += ch;
    }
    return out + '"';
  };
  const write = (j: Json): string => {
    switch (j.t) {
      case 'str':
        return quote(j.s);
      case 'raw':
        return j.text;
      case 'arr':
        return `[${ws()}${j.items.map((x) => write(x)).join(`${ws()},${ws()}`)}${ws()}]`;
      case 'obj':
        return `{${ws()}${j.entries
          .map(([k, v]) => `${quote(k)}${ws()}:${ws()}${write(v)}`)
          .join(`${ws()},${ws()}`)}${ws()}}`;
    }
  };
  return `${ws()}${write(doc)}${ws()}`;
}

// --- arbitraries -------------------------------------------------------------------------------

const loneSurrogate = fc.integer({ min: 0xd800, max: 0xdfff }).map((c) => String.fromCharCode(c));
const labelText = fc
  .array(
    fc.oneof(
      { weight: 5, arbitrary: fc.string({ unit: 'grapheme-ascii', maxLength: 8 }) },
      { weight: 3, arbitrary: fc.string({ unit: 'binary', maxLength: 6 }) },
      { weight: 1, arbitrary: loneSurrogate },
      { weight: 1, arbitrary: fc.constantFrom('"', '\\', '\n', '\u0000', '/', 'é', '😀', '東') },
    ),
    { maxLength: 4 },
  )
  .map((parts) => parts.join(''));
const labelName = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.constantFrom('__name__', 'job', 'instance', 'service', 'le', 'status'),
  },
  { weight: 3, arbitrary: labelText },
  { weight: 1, arbitrary: fc.constant('__proto__') },
);

function goFloat(v: number, padExponent: boolean): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return '+Inf';
  if (v === -Infinity) return '-Inf';
  if (Object.is(v, -0)) return '-0';
  const s = String(v);
  return padExponent ? s.replace(/e([+-])(\d)$/, 'e$10$2') : s;
}

const digits = (min: number, max: number) =>
  fc
    .array(fc.integer({ min: 0, max: 9 }), { minLength: min, maxLength: max })
    .map((d) => d.join(''));
const valueText = fc.oneof(
  { weight: 6, arbitrary: fc.tuple(fc.double(), fc.boolean()).map(([v, pad]) => goFloat(v, pad)) },
  { weight: 2, arbitrary: fc.double({ min: 0, max: 1, noNaN: true }).map((v) => String(v / 30)) },
  { weight: 2, arbitrary: fc.integer().map(String) },
  {
    weight: 3,
    arbitrary: fc
      .tuple(fc.boolean(), digits(1, 20), fc.option(digits(1, 25), { nil: undefined }))
      .map(([neg, i, f]) => `${neg ? '-' : ''}${i.replace(/^0+(?=\d)/, '')}${f ? `.${f}` : ''}`),
  },
  {
    weight: 1,
    arbitrary: fc.constantFrom(
      'inf',
      '-inf',
      '+inf',
      'Inf',
      'INF',
      'Infinity',
      '-Infinity',
      'nan',
      'NAN',
      '1e+21',
      '1E5',
      '5e-324',
    ),
  },
);

function promTimestamp(ms: number, style: number): string {
  if (style === 1) return (ms / 1000).toExponential();
  if (style === 2 && ms % 1000 !== 0) {
    const sign = ms < 0 ? '-' : '';
    const abs = Math.abs(ms);
    return `${sign}${Math.floor(abs / 1000)}.${String(abs % 1000).padStart(3, '0')}`;
  }
  return String(ms / 1000);
}
const timestamp = fc
  .tuple(
    fc.oneof(
      { weight: 8, arbitrary: fc.integer({ min: 0, max: 4_000_000_000_000 }) },
      { weight: 1, arbitrary: fc.integer({ min: -5_000_000, max: 5_000_000 }) },
      { weight: 1, arbitrary: fc.integer({ min: 0, max: 2000 }) },
    ),
    fc.integer({ min: 0, max: 3 }),
  )
  .map(([ms, style]) => raw(promTimestamp(ms, style)));

const sample = fc
  .tuple(timestamp, fc.option(valueText, { freq: 8, nil: null }))
  .map(([ts, v]) => arr([ts, v === null ? raw('null') : str(v)]));

const unknownKey = (known: string[]) =>
  fc.tuple(
    fc.string({ maxLength: 10 }).filter((k) => !known.includes(k)),
    fc.jsonValue({ maxDepth: 3 }).map(fromValue),
  );

function shuffled<T>(items: fc.Arbitrary<T[]>): fc.Arbitrary<T[]> {
  return items.chain((xs) =>
    fc.shuffledSubarray(xs, { minLength: xs.length, maxLength: xs.length }),
  );
}

function optional(key: string, value: fc.Arbitrary<Json>, nullable = true) {
  return fc
    .option(
      nullable
        ? fc.oneof(
            { weight: 5, arbitrary: value },
            { weight: 1, arbitrary: fc.constant(raw('null')) },
          )
        : value,
      { nil: undefined },
    )
    .map((v) => (v === undefined ? [] : [[key, v] as [string, Json]]));
}

const series: fc.Arbitrary<Json> = shuffled(
  fc
    .tuple(
      optional(
        'metric',
        fc.array(fc.tuple(labelName, labelText.map(str)), { maxLength: 6 }).map(obj),
      ),
      optional('values', fc.array(sample, { maxLength: 12 }).map(arr)),
      optional(
        'histograms',
        fc.array(fc.jsonValue({ maxDepth: 2 }).map(fromValue), { maxLength: 3 }).map(arr),
      ),
      fc.array(unknownKey(['metric', 'values', 'histograms']), { maxLength: 2 }),
    )
    .map(([m, v, h, extra]) => [...m, ...v, ...h, ...extra]),
).map(obj);

const data: fc.Arbitrary<Json> = shuffled(
  fc
    .tuple(
      optional('result', fc.array(series, { maxLength: 5 }).map(arr)),
      fc.array(unknownKey(['resultType', 'result']), { maxLength: 2 }),
    )
    .map(([r, extra]): [string, Json][] => [['resultType', str('matrix')], ...r, ...extra]),
).map(obj);

const strings = fc.array(labelText.map(str), { maxLength: 3 }).map(arr);
const known = ['status', 'data', 'warnings', 'infos', 'errorType', 'error'];

const successDoc: fc.Arbitrary<Json> = shuffled(
  fc
    .tuple(
      data,
      optional('warnings', strings),
      optional('infos', strings),
      fc.array(unknownKey(known), { maxLength: 2 }),
    )
    .map(([d, w, i, extra]): [string, Json][] => [
      ['status', str('success')],
      ['data', d],
      ...w,
      ...i,
      ...extra,
    ]),
).map(obj);

const errorDoc: fc.Arbitrary<Json> = shuffled(
  fc
    .tuple(
      optional('errorType', fc.constantFrom('bad_data', 'execution', 'timeout').map(str)),
      optional('error', labelText.map(str)),
      optional('warnings', strings),
      optional('data', data),
      fc.array(unknownKey(known), { maxLength: 2 }),
    )
    .map(([t, e, w, d, extra]): [string, Json][] => [
      ['status', str('error')],
      ...t,
      ...e,
      ...w,
      ...d,
      ...extra,
    ]),
).map(obj);

const doc = fc.oneof({ weight: 5, arbitrary: successDoc }, { weight: 1, arbitrary: errorDoc });
const body = fc
  .tuple(doc, fc.integer())
  .map(([d, seed]) => Buffer.from(serialize(d, seed), 'utf8'));
const chunkSizes = fc.array(fc.integer({ min: 1, max: 40 }), { minLength: 1, maxLength: 8 });

describe('MatrixDecoder against the reference, on random responses', () => {
  it('returns exactly what the reference returns, however the bytes are cut', () => {
    fc.assert(
      fc.property(body, chunkSizes, (bytes, sizes) => {
        const reference = outcome(() => decodeReference(bytes));
        expect(reference.ok ? undefined : reference.error).toBeUndefined();
        expect(outcome(() => decodeStreaming(bytes, sizes))).toEqual(reference);
        expect(outcome(() => decodeStreaming(bytes, [1]))).toEqual(reference);
      }),
      { numRuns: 1500 },
    );
  });

  it('never accepts a truncated body', () => {
    fc.assert(
      fc.property(
        body,
        fc.double({ min: 0, max: 1, noNaN: true }),
        chunkSizes,
        (bytes, at, sizes) => {
          const closing = bytes.lastIndexOf('}'.charCodeAt(0));
          const cut = Math.min(closing, Math.floor(at * (closing + 1)));
          const prefix = bytes.subarray(0, cut);
          expect(outcome(() => decodeReference(prefix)).ok).toBe(false);
          const streaming = outcome(() => decodeStreaming(prefix, sizes));
          expect(streaming.ok).toBe(false);
        },
      ),
      { numRuns: 1500 },
    );
  });
});
