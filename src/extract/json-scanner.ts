import { PromfluxError } from '../core/errors.js';
import type { LabelStringCache } from './label-caches.js';

/** The response body is not the JSON Prometheus promises. `offset` is the byte where it went wrong. */
export class DecodeError extends PromfluxError {
  readonly offset: number | undefined;
  constructor(message: string, offset?: number) {
    super('RESPONSE_MALFORMED', message);
    this.offset = offset;
  }
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const LBRACE = 0x7b;
const RBRACE = 0x7d;
const LBRACKET = 0x5b;
const RBRACKET = 0x5d;
const MINUS = 0x2d;
const DOT = 0x2e;
const LOWER_N = 0x6e;
const LOWER_E = 0x65;
const UPPER_E = 0x45;

// Generic skipping of values nobody asked for.
const SKIP_START = 0;
const SKIP_STRING = 1;
const SKIP_CONTAINER = 2;
const SKIP_SCALAR = 3;

const NULL_BYTES = [0x6e, 0x75, 0x6c, 0x6c];

const ESCAPES: Record<number, string> = {
  0x22: '"',
  0x5c: '\\',
  0x2f: '/',
  0x62: '\b',
  0x66: '\f',
  0x6e: '\n',
  0x72: '\r',
  0x74: '\t',
};

/**
 * The JSON tokens the decoder does not treat specially, read from a buffer that may end anywhere:
 * strings (into {@link str}), `null`, and whole values skipped unread. Each read returns the
 * position after the token, or -1 when the buffer ends first; a skip keeps its state across
 * buffers. Errors are {@link DecodeError}s at the body offset {@link base} + position.
 */
export class JsonScanner {
  /** Global byte offset of `buf[0]` for the buffer being parsed (for messages and hints). */
  base = 0;
  /** The last string token read. */
  str = '';

  /** A long string cut by chunk boundaries is not rescanned from its start: where we got to. */
  private hintAt = -1;
  private hintScanned = 0;
  private hintAscii = true;

  private skipMode = SKIP_START;
  private skipDepth = 0;
  private skipEscape = false;

  /**
   * Reads the string token starting at the quote at `pos` into {@link str}. Returns the position
   * after the closing quote, or -1 when the buffer ends first. Labels go through `cache`.
   */
  readString(buf: Buffer, pos: number, end: number, cache?: LabelStringCache): number {
    const at = this.base + pos;
    let p = pos + 1;
    let ascii = true;
    let hash = 0x811c9dc5;
    if (this.hintAt === at && cache === undefined) {
      p += this.hintScanned;
      ascii = this.hintAscii;
    }
    this.hintAt = -1;
    for (; p < end; p++) {
      const c = buf[p]!;
      if (c === QUOTE) {
        this.str =
          cache !== undefined
            ? cache.get(buf, pos + 1, p, hash, ascii)
            : buf.toString(ascii ? 'latin1' : 'utf8', pos + 1, p);
        return p + 1;
      }
      if (c === BACKSLASH) return this.readEscapedString(buf, pos, end);
      if (c < 0x20) this.fail('Control character in a string', p);
      if (c >= 0x80) ascii = false;
      hash = Math.imul(hash ^ c, 0x01000193);
    }
    this.hintAt = at;
    this.hintScanned = p - pos - 1;
    this.hintAscii = ascii;
    return -1;
  }

  readEscapedString(buf: Buffer, pos: number, end: number): number {
    let out = '';
    let segment = pos + 1;
    let p = segment;
    while (p < end) {
      const c = buf[p]!;
      if (c === QUOTE) {
        this.str = out + buf.toString('utf8', segment, p);
        return p + 1;
      }
      if (c < 0x20) this.fail('Control character in a string', p);
      if (c !== BACKSLASH) {
        p++;
        continue;
      }
      out += buf.toString('utf8', segment, p);
      if (p + 1 >= end) return -1;
      const e = buf[p + 1]!;
      if (e === 0x75) {
        if (p + 6 > end) return -1;
        let code = 0;
        for (let i = p + 2; i < p + 6; i++) {
          const h = hexValue(buf[i]!);
          if (h < 0) this.fail('Invalid \\u escape', p);
          code = code * 16 + h;
        }
        // Surrogate halves are appended one by one: a pair joins up, a lone one stays (as JSON.parse).
        out += String.fromCharCode(code);
        p += 6;
      } else {
        const ch = ESCAPES[e];
        if (ch === undefined) this.fail('Invalid escape in a string', p);
        out += ch;
        p += 2;
      }
      segment = p;
    }
    return -1;
  }

  readNull(buf: Buffer, pos: number, end: number): number {
    const avail = Math.min(4, end - pos);
    for (let i = 0; i < avail; i++) {
      if (buf[pos + i] !== NULL_BYTES[i]) this.fail('Expected a JSON value', pos);
    }
    return avail < 4 ? -1 : pos + 4;
  }

  /** Starts skipping one value; {@link skip} goes on with it. */
  startSkip(): void {
    this.skipMode = SKIP_START;
    this.skipDepth = 0;
    this.skipEscape = false;
  }

  /**
   * Skips one JSON value of any size without decoding it (structure is counted, not checked).
   * Returns the position after it, or -1 when the buffer ends first.
   */
  skip(buf: Buffer, pos: number, end: number): number {
    let mode = this.skipMode;
    let depth = this.skipDepth;
    let escape = this.skipEscape;
    while (pos < end) {
      const c = buf[pos]!;
      if (mode === SKIP_STRING) {
        pos++;
        if (escape) escape = false;
        else if (c === BACKSLASH) escape = true;
        else if (c === QUOTE) {
          if (depth === 0) return pos;
          mode = SKIP_CONTAINER;
        }
      } else if (mode === SKIP_CONTAINER) {
        pos++;
        if (c === QUOTE) mode = SKIP_STRING;
        else if (c === LBRACE || c === LBRACKET) depth++;
        else if ((c === RBRACE || c === RBRACKET) && --depth === 0) return pos;
      } else if (mode === SKIP_SCALAR) {
        if (!isScalarByte(c)) return pos;
        pos++;
      } else {
        if (c === QUOTE) mode = SKIP_STRING;
        else if (c === LBRACE || c === LBRACKET) {
          mode = SKIP_CONTAINER;
          depth = 1;
        } else if (c === MINUS || isDigit(c) || c === 0x74 || c === 0x66 || c === LOWER_N) {
          mode = SKIP_SCALAR;
        } else {
          this.fail('Expected a JSON value', pos);
        }
        pos++;
      }
    }
    this.skipMode = mode;
    this.skipDepth = depth;
    this.skipEscape = escape;
    return -1;
  }

  fail(message: string, pos: number): never {
    const offset = this.base + pos;
    throw new DecodeError(`${message} at byte ${offset}.`, offset);
  }
}

export function bytesEqual(buf: Buffer, start: number, bytes: Uint8Array): boolean {
  for (let i = 0; i < bytes.length; i++) if (buf[start + i] !== bytes[i]) return false;
  return true;
}

export function skipSpace(buf: Buffer, p: number, end: number): number {
  while (p < end && isSpace(buf[p]!)) p++;
  return p;
}

export function startsWith(buf: Buffer, p: number, end: number, bytes: Uint8Array): boolean {
  return end - p >= bytes.length && bytesEqual(buf, p, bytes);
}

export function isSpace(c: number): boolean {
  return c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;
}

export function isDigit(c: number): boolean {
  return c >= 0x30 && c <= 0x39;
}

export function isNumberByte(c: number): boolean {
  return isDigit(c) || c === MINUS || c === 0x2b || c === DOT || c === LOWER_E || c === UPPER_E;
}

function isScalarByte(c: number): boolean {
  return isNumberByte(c) || (c >= 0x61 && c <= 0x7a) || (c >= 0x41 && c <= 0x5a);
}

function hexValue(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x61 && c <= 0x66) return c - 0x57;
  if (c >= 0x41 && c <= 0x46) return c - 0x37;
  return -1;
}
