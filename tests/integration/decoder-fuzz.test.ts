/**
 * The streaming response decoder (src/extract/matrix-decoder.ts) fuzzed with mutated REAL bodies:
 * range query responses of a real Prometheus (infinities, exponents, special labels, NaN, an empty
 * result, an error), each mutated a few times per iteration (bytes flipped, deleted, duplicated,
 * swapped, JSON tokens inserted, bodies spliced and cut) and pushed in seeded random chunks. For a
 * fixed budget of iterations (seeded; PROMFLUX_FUZZ_SEED explores others), every mutant must end
 * in a `DecodeError` with a message (never another exception, never a hang) when the JSON.parse
 * reference refuses it, and in exactly the reference's result when it accepts it.
 */
import { afterAll, beforeAll, describe, expect, it, onTestFailed } from 'vitest';
import { generateHealthFixture, mulberry32 } from '../../scripts/lib/openmetrics-fixture.js';
import { startPrometheus, type StartedServer } from '../../scripts/lib/servers.js';
import { DecodeError } from '../../src/extract/matrix-decoder.js';
import { decodeReference, decodeStreaming, outcome } from '../unit/extract/decode-helpers.js';

const SEED = Number(process.env.PROMFLUX_FUZZ_SEED ?? 20261201);
const ITERATIONS = 6000;
const STEP_MS = 15_000;
const FIXTURE_START = 1_699_999_980_000;
const FIXTURE_END = FIXTURE_START + 3_600_000;
/** Twenty points per series: bodies of a few KB, so that many mutants fit the budget. */
const RANGE = { startMs: FIXTURE_START + 600_000, endMs: FIXTURE_START + 600_000 + 19 * STEP_MS };

const QUERIES = [
  'up',
  'rate(http_requests_total[1m])',
  'histogram_quantile(0.9, sum by (le, instance) (rate(http_request_duration_seconds_bucket[5m])))',
  'test_special_labels',
  'up / 0 or label_replace(-up / 0, "sign", "negative", "", "")',
  'http_requests_total * 1e22 or http_requests_total / 1e12',
  'no_such_metric',
  // Prometheus refuses it: an error body.
  'rate(up[5m]',
];

/** Tokens a mutation inserts: JSON syntax, Prometheus' special values, bad escapes, bad UTF-8. */
const TOKENS = [
  '"',
  '\\',
  '{',
  '}',
  '[',
  ']',
  ',',
  ':',
  '-',
  '.',
  'e',
  '0',
  ' ',
  '\n',
  'null',
  'true',
  '{}',
  '[]',
  '"NaN"',
  '"+Inf"',
  '"-Inf"',
  '"1e309"',
  '"-0"',
  '"0x1p3"',
  '1e309',
  '-0',
  '1.5',
  '"\\u0000"',
  '"\\ud800"',
  '"\\x"',
  '"__name__":"x",',
  '[1700000000.5,"1"],',
  '"status":"error",',
  '"resultType":"vector",',
].map((t) => Buffer.from(t, 'utf8'));
const BAD_UTF8 = [Buffer.from([0xff]), Buffer.from([0xc3]), Buffer.from([0xf0, 0x9f])];

type Mutation = (body: Buffer, random: () => number, bodies: readonly Buffer[]) => Buffer;

const pick = <T>(items: readonly T[], random: () => number): T =>
  items[Math.floor(random() * items.length)]!;
const at = (body: Buffer, random: () => number): number => Math.floor(random() * (body.length + 1));

const MUTATIONS: readonly Mutation[] = [
  // A byte flipped to any value.
  (b, r) => {
    const out = Buffer.from(b);
    if (out.length > 0) out[Math.min(out.length - 1, at(b, r))] = Math.floor(r() * 256);
    return out;
  },
  // A token or bad UTF-8 inserted.
  (b, r) => {
    const i = at(b, r);
    const token = r() < 0.85 ? pick(TOKENS, r) : pick(BAD_UTF8, r);
    return Buffer.concat([b.subarray(0, i), token, b.subarray(i)]);
  },
  // A byte replaced by a token.
  (b, r) => {
    const i = at(b, r);
    return Buffer.concat([b.subarray(0, i), pick(TOKENS, r), b.subarray(i + 1)]);
  },
  // 1..32 bytes deleted.
  (b, r) => {
    const i = at(b, r);
    return Buffer.concat([b.subarray(0, i), b.subarray(i + 1 + Math.floor(r() * 32))]);
  },
  // A range duplicated in place.
  (b, r) => {
    const i = at(b, r);
    const j = Math.min(b.length, i + 1 + Math.floor(r() * 64));
    return Buffer.concat([b.subarray(0, j), b.subarray(i, j), b.subarray(j)]);
  },
  // Two ranges swapped.
  (b, r) => {
    const cuts = [at(b, r), at(b, r), at(b, r)].sort((x, y) => x - y);
    const [i, j, k] = cuts as [number, number, number];
    return Buffer.concat([b.subarray(0, i), b.subarray(j, k), b.subarray(i, j), b.subarray(k)]);
  },
  // Cut short.
  (b, r) => b.subarray(0, at(b, r)),
  // The head of this body, the tail of another.
  (b, r, bodies) => {
    const other = pick(bodies, r);
    return Buffer.concat([b.subarray(0, at(b, r)), other.subarray(at(other, r))]);
  },
];

/** Whether a (valid JSON) body repeats a name within one object. */
function hasDuplicateNames(body: Buffer): boolean {
  // JSON.parse keeps one of each name: the names are counted in the text, per container.
  let duplicate = false;
  const text = body.toString('utf8');
  const names: Set<string>[] = [];
  for (let i = 0; i < text.length && !duplicate; i++) {
    const c = text[i];
    if (c === '{' || c === '[') names.push(new Set());
    else if (c === '}' || c === ']') names.pop();
    else if (c === '"') {
      let j = i + 1;
      while (text[j] !== '"') j += text[j] === '\\' ? 2 : 1;
      const name = JSON.parse(text.slice(i, j + 1)) as string;
      i = j;
      let k = j + 1;
      while (/\s/.test(text[k] ?? '')) k++;
      const scope = names.at(-1);
      if (text[k] === ':' && scope !== undefined) {
        if (scope.has(name)) duplicate = true;
        scope.add(name);
      }
    }
  }
  return duplicate;
}

describe('the response decoder fuzzed with mutated real Prometheus bodies', () => {
  let prometheus: StartedServer;
  const bodies: Buffer[] = [];

  beforeAll(async () => {
    prometheus = await startPrometheus({
      openMetrics: generateHealthFixture({
        startMs: FIXTURE_START,
        endMs: FIXTURE_END,
        intervalMs: STEP_MS,
        instances: 2,
        specialLabels: true,
        nanEvery: 7,
      }),
    });
    for (const query of QUERIES) {
      const res = await fetch(`${prometheus.url}/api/v1/query_range`, {
        method: 'POST',
        body: new URLSearchParams({
          query,
          start: String(RANGE.startMs / 1000),
          end: String(RANGE.endMs / 1000),
          step: String(STEP_MS / 1000),
        }),
      });
      bodies.push(Buffer.from(await res.arrayBuffer()));
    }
  });
  afterAll(async () => {
    await prometheus?.stop();
  });

  it(`${ITERATIONS} seeded mutants: a DecodeError or the reference's exact result, never a crash`, () => {
    let iteration = -1;
    let mutant: Buffer = Buffer.alloc(0);
    onTestFailed(() => {
      console.error(
        `decoder fuzz seed ${SEED}, iteration ${iteration} (replay: PROMFLUX_FUZZ_SEED=${SEED}); ` +
          `mutant (base64): ${mutant.toString('base64')}`,
      );
    });
    // The real bodies decode as the reference decodes them; one of them is Prometheus' error.
    const originals = bodies.map((b) => outcome(() => decodeStreaming(b)));
    expect(originals.map((o) => o.ok)).toEqual(QUERIES.map(() => true));
    for (const [i, b] of bodies.entries()) {
      expect(originals[i], QUERIES[i]).toEqual(outcome(() => decodeReference(b)));
    }
    expect(bodies.at(-1)!.toString()).toMatch(/"status":"error","errorType":"bad_data"/);

    const random = mulberry32(SEED);
    const tally = { accepted: 0, refused: 0, duplicateNames: 0 };
    for (iteration = 0; iteration < ITERATIONS; iteration++) {
      mutant = pick(bodies, random);
      const rounds = 1 + Math.floor(random() * 3);
      for (let m = 0; m < rounds; m++) mutant = pick(MUTATIONS, random)(mutant, random, bodies);
      const sizes = Array.from({ length: 1 + Math.floor(random() * 6) }, () =>
        random() < 0.3 ? 1 : 1 + Math.floor(random() * 512),
      );

      const reference = outcome(() => decodeReference(mutant));
      const streaming = outcome(() => decodeStreaming(mutant, sizes));
      if (!streaming.ok) {
        // A clear error: the decoder's own, with a message; a TypeError or RangeError is a crash.
        expect(streaming.error).toBeInstanceOf(DecodeError);
        expect(streaming.error.message.length).toBeGreaterThan(10);
      }
      tally[streaming.ok ? 'accepted' : 'refused']++;
      // Malformed JSON is never accepted.
      if (!reference.ok) expect(streaming.ok, 'refused by the reference').toBe(false);
      // A name twice in one object: JSON leaves the meaning open (JSON.parse keeps the last), so
      // any clear outcome will do. Otherwise the decoder returns exactly the reference's result.
      else if (hasDuplicateNames(mutant)) tally.duplicateNames++;
      else expect(streaming, 'accepted by the reference').toEqual(reference);
    }
    // Both kinds of outcome occur, so the budget explores both sides of the line.
    console.log(`decoder fuzz (seed ${SEED}): ${JSON.stringify(tally)}`);
    expect(tally.accepted).toBeGreaterThan(ITERATIONS / 50);
    expect(tally.refused).toBeGreaterThan(ITERATIONS / 2);
  }, 120_000);
});
