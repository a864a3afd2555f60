/**
 * Exact InfluxDB line protocol for one float field: escaping, sanitising and tag ordering.
 *
 * Sanitising (label values may hold any UTF-8; line protocol cannot carry all of it):
 * - newline, carriage return and tab become the two characters `\n`, `\r`, `\t`; other control
 *   characters (U+0000–U+001F, U+007F) become U+FFFD;
 * - backslashes directly before a character that gets escaped (comma, space, and in tags `=`) or
 *   at the end of the text become U+FF3C (`＼`, fullwidth reverse solidus). No spelling of them
 *   reads back the same everywhere: InfluxDB's parser (1.x and 2.x, models/points.go) takes any
 *   delimiter preceded by a backslash as escaped, so a text ending in `\` cannot be written at all
 *   (the line is rejected: `invalid tag format`, checked against InfluxDB 1.6.7), while
 *   VictoriaMetrics counts the backslashes and would split `a\\,b` after `a\` (and answer 204,
 *   skipping the line). Trimming them instead would merge `C:\` and `C:` into one series;
 * - every other backslash is written as it is and InfluxDB stores it as it is (`C:\dir`).
 *   VictoriaMetrics also unescapes `\\` to `\`, so there a run of two or more arrives halved;
 * - empty tag keys or values are omitted (line protocol has no empty tag).
 */

import { writeShortestFloat } from './shortest-float.js';
import { DIGIT_PAIRS, writeInt32 } from './digit-pairs.js';

/** Characters escaped in tag keys, tag values and field keys. */
const TAG_SPECIALS = new Set([',', '=', ' ']);
/** Characters escaped in measurements. */
const MEASUREMENT_SPECIALS = new Set([',', ' ']);

const NEEDS_WORK = /[,= \\\u0000-\u001f\u007f]/;
/** Stands in for a backslash before a delimiter, which line protocol cannot carry. */
export const BACKSLASH_STANDIN = '\uff3c';

export function escapeTag(text: string): string {
  return NEEDS_WORK.test(text) ? escapeWith(text, TAG_SPECIALS) : text;
}

/**
 * The text InfluxDB stores for a tag key or value written with {@link escapeTag}: sanitised, the
 * escapes removed (every backslash left before a comma, `=` or space is an escape, see above).
 */
export function storedTagText(text: string): string {
  return escapeTag(text).replace(/\\([,= ])/g, '$1');
}

export function escapeMeasurement(text: string): string {
  return NEEDS_WORK.test(text) ? escapeWith(text, MEASUREMENT_SPECIALS) : text;
}

function escapeWith(text: string, specials: ReadonlySet<string>): string {
  let out = '';
  let i = 0;
  while (i < text.length) {
    const c = text[i]!;
    if (c === '\\') {
      let j = i;
      while (j < text.length && text[j] === '\\') j++;
      const next = text[j];
      const touchesDelimiter = next === undefined || specials.has(next);
      out += (touchesDelimiter ? BACKSLASH_STANDIN : '\\').repeat(j - i);
      i = j;
      continue;
    }
    if (specials.has(c)) out += '\\' + c;
    else if (c === '\n') out += '\\n';
    else if (c === '\r') out += '\\r';
    else if (c === '\t') out += '\\t';
    else if (c < ' ' || c === '\u007f') out += '\ufffd';
    else out += c;
    i++;
  }
  return out;
}

/** Compares strings in UTF-8 byte order (Go's bytes.Compare), which InfluxDB sorts tags by. */
export function compareUtf8(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const ca = a.charCodeAt(i);
    const cb = b.charCodeAt(i);
    if (ca === cb) continue;
    // UTF-16 order equals UTF-8 order except that surrogates (U+D800–DFFF, astral characters) sort
    // below U+E000–FFFF in UTF-16 but above them in UTF-8.
    if (ca < 0xd800 || cb < 0xd800) return ca - cb;
    return Buffer.compare(Buffer.from(a.slice(i)), Buffer.from(b.slice(i)));
  }
  return a.length - b.length;
}

/**
 * The series part of a line, through the field key's `=`: `measurement,k1=v1,k2=v2 value=`.
 * Tags are escaped, empty ones omitted, sorted by escaped key in byte order.
 */
export function encodeSeriesPrefix(
  measurement: string,
  tags: ReadonlyArray<readonly [string, string]>,
  field: string,
): string {
  return `${encodeSeriesKey(measurement, tags)} ${escapeTag(field)}=`;
}

/** The measurement and tags of a line, before the space: `measurement,k1=v1,k2=v2`. */
export function encodeSeriesKey(
  measurement: string,
  tags: ReadonlyArray<readonly [string, string]>,
): string {
  const encoded: [string, string][] = [];
  for (const [key, value] of tags) {
    const k = escapeTag(key);
    const v = escapeTag(value);
    if (k !== '' && v !== '') encoded.push([k, v]);
  }
  encoded.sort((a, b) => compareUtf8(a[0], b[0]));
  let out = escapeMeasurement(measurement);
  for (const [k, v] of encoded) out += `,${k}=${v}`;
  return out;
}

/** Writes a non-negative safe integer as ASCII digits; returns the new offset. */
export function writeUint(buf: Uint8Array, offset: number, n: number): number {
  if (n < INT32_BOUND) return writeInt32(buf, offset, n | 0, 1);
  // Above 2^31: the digits above the last eight (fewer than 2^31 of them), then those eight.
  const high = Math.floor(n / 1e8);
  return writeInt32(buf, writeInt32(buf, offset, high | 0, 1), (n - high * 1e8) | 0, 8);
}

const INT32_BOUND = 2 ** 31;
/**
 * Writes ascending integers such as timestamps: the digits above the last four are cached, as they
 * rarely change from one line to the next, so a line costs one division instead of five.
 */
export class IntegerWriter {
  private high = -1;
  private readonly highDigits = new Uint8Array(16);
  private highLength = 0;

  /** Writes the non-negative safe integer `n`; returns the new offset. */
  write(buf: Uint8Array, offset: number, n: number): number {
    if (n < 10_000) return writeUint(buf, offset, n);
    const high = Math.floor(n / 10_000);
    // An int32, so that what follows is integer arithmetic (`%` on a double calls fmod).
    const low = (n - high * 10_000) | 0;
    if (high !== this.high) {
      this.high = high;
      this.highLength = writeUint(this.highDigits, 0, high);
    }
    const digits = this.highDigits;
    const highLength = this.highLength;
    for (let k = 0; k < highLength; k++) buf[offset++] = digits[k]!;
    // low / 100 for low < 43,699 without a float division: (low × 5243) >> 19.
    const quotient = (low * 5243) >>> 19;
    const hundreds = quotient * 2;
    const units = (low - quotient * 100) * 2;
    buf[offset++] = DIGIT_PAIRS[hundreds]!;
    buf[offset++] = DIGIT_PAIRS[hundreds + 1]!;
    buf[offset++] = DIGIT_PAIRS[units]!;
    buf[offset++] = DIGIT_PAIRS[units + 1]!;
    return offset;
  }
}

const MAX_PLAIN_INTEGER = 1e15;

/** Holds writeFloat's argument for writeFloatAt. */
const floatArgument = new Float64Array(1);

/** Writes `v` as {@link writeFloatAt} does; returns the new offset. */
export function writeFloat(buf: Buffer, offset: number, v: number): number {
  floatArgument[0] = v;
  return writeFloatAt(buf, offset, floatArgument, 0);
}

/** Writes n / 1000 (n not a multiple of 1000) as `123.45`: trailing zeros dropped. */
function writeThousandths(buf: Buffer, offset: number, n: number): number {
  const whole = n < INT32_BOUND ? (n / 1000) | 0 : Math.floor(n / 1000);
  return writeFraction(buf, writeUint(buf, offset, whole), n - whole * 1000);
}

/** `.` and the fraction 1..999 (thousandths), trailing zeros dropped. */
function writeFraction(buf: Buffer, offset: number, fraction: number): number {
  const f = fraction | 0;
  buf[offset++] = 0x2e;
  const hundreds = (f / 100) | 0;
  buf[offset++] = 48 + hundreds;
  const rest = f - hundreds * 100;
  if (rest !== 0) {
    buf[offset++] = DIGIT_PAIRS[rest * 2]!;
    if (rest % 10 !== 0) buf[offset++] = DIGIT_PAIRS[rest * 2 + 1]!;
  }
  return offset;
}

/**
 * Writes the finite float `values[index]` in line protocol's float syntax. Integers are written as
 * plain digits (a float field without `i` suffix); others in JavaScript's shortest round-trip
 * form, which is valid line protocol (`0.1`, `1e+21`, `1.5e-7`), byte for byte what `String(v)`
 * gives, mostly without a string (shortest-float.ts). Returns the new offset. The value is read
 * from its array here rather than passed: a double argument to a function that is not inlined
 * is boxed, a heap number per call.
 */
export function writeFloatAt(
  buf: Buffer,
  offset: number,
  values: Float64Array,
  index: number,
): number {
  const v = values[index]!;
  if (Number.isInteger(v) && v > -MAX_PLAIN_INTEGER && v < MAX_PLAIN_INTEGER) {
    if (v < 0) {
      buf[offset++] = 0x2d;
      return writeUint(buf, offset, -v);
    }
    return writeUint(buf, offset, v === 0 ? 0 : v);
  }
  // Values with up to three decimals (`123.45`: most gauges' min, max and last) without a string:
  // when n / 1000 is exactly v (n a safe integer), n with three decimals, trailing zeros dropped,
  // is its shortest round-trip form (no other decimal of 15 digits or fewer reads back as v).
  const a = v < 0 ? -v : v;
  if (a >= 0.001 && a < 1e12) {
    const n = Math.round(a * 1000);
    if (n / 1000 === a) {
      if (v < 0) buf[offset++] = 0x2d;
      return writeThousandths(buf, offset, n);
    }
  }
  const written = writeShortestFloat(buf, offset, values, index);
  return written >= 0 ? written : offset + buf.write(String(v), offset, 'latin1');
}
