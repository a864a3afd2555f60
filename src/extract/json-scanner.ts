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

const COMMA = 0x2c;
const COLON = 0x3a;

// Skipping of values nobody asked for: where the skip is in the JSON grammar.
/** A value must start here. */
const SKIP_VALUE = 0;
/** After `[`: a value or `]`. */
const SKIP_VALUE_OR_END = 1;
/** After `{`: a key or `}`. */
const SKIP_KEY_OR_END = 2;
/** After `,` in an object: a key. */
const SKIP_KEY = 3;
/** After a key: `:`. */
const SKIP_COLON = 4;
/** After a value inside a container: `,` or the container's closing bracket. */
const SKIP_AFTER_VALUE = 5;
const SKIP_STRING = 6;
const SKIP_SCALAR = 7;
/** In a string: no escape, after a backslash, or this many hex digits of `\u` still to come. */
const NO_ESCAPE = 0;
const AFTER_BACKSLASH = -1;
/** JSON's numbers, and the three literals. */
const JSON_SCALAR = /^(?:-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?|true|false|null)$/;

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

  private skipState = SKIP_VALUE;
  /** Open containers of the value being skipped (`{` or `[`), innermost last. */
  private readonly skipStack: number[] = [];
  private skipKey = false;
  private skipEscape = NO_ESCAPE;
  private skipScalar = '';

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
    this.skipState = SKIP_VALUE;
    this.skipStack.length = 0;
    this.skipKey = false;
    this.skipEscape = NO_ESCAPE;
    this.skipScalar = '';
  }

  /**
   * Skips one JSON value of any size without decoding it, but checking it as JSON.parse would (a
   * value nobody reads may still not be malformed). Returns the position after it, or -1 when the
   * buffer ends first.
   */
  skip(buf: Buffer, pos: number, end: number): number {
    const stack = this.skipStack;
    let state = this.skipState;
    let escape = this.skipEscape;
    /** After a value: the skip is done at depth 0, else `,` or a closing bracket comes. */
    const afterValue = (): number => (stack.length === 0 ? -1 : SKIP_AFTER_VALUE);
    while (pos < end) {
      const c = buf[pos]!;
      if (state === SKIP_STRING) {
        pos++;
        if (escape > 0) {
          if (hexValue(c) < 0) this.fail('Invalid \\u escape', pos - 1);
          escape--;
        } else if (escape === AFTER_BACKSLASH) {
          if (c === 0x75) escape = 4;
          else if (ESCAPES[c] === undefined) this.fail('Invalid escape in a string', pos - 1);
          else escape = NO_ESCAPE;
        } else if (c === BACKSLASH) escape = AFTER_BACKSLASH;
        else if (c === QUOTE) {
          state = this.skipKey ? SKIP_COLON : afterValue();
          if (state === -1) return this.endSkip(pos);
        } else if (c < 0x20) this.fail('Control character in a string', pos - 1);
        continue;
      }
      if (state === SKIP_SCALAR) {
        if (isScalarByte(c)) {
          this.skipScalar += String.fromCharCode(c);
          pos++;
          continue;
        }
        if (!JSON_SCALAR.test(this.skipScalar)) this.fail('Expected a JSON value', pos);
        state = afterValue();
        if (state === -1) return this.endSkip(pos);
        continue;
      }
      pos++;
      if (isSpace(c)) continue;
      switch (state) {
        case SKIP_VALUE:
        case SKIP_VALUE_OR_END:
          if (c === RBRACKET && state === SKIP_VALUE_OR_END) state = this.closeSkipped(c, pos);
          else if (c === QUOTE) {
            state = SKIP_STRING;
            this.skipKey = false;
          } else if (c === LBRACE || c === LBRACKET) {
            stack.push(c);
            state = c === LBRACE ? SKIP_KEY_OR_END : SKIP_VALUE_OR_END;
          } else if (c === MINUS || isDigit(c) || c === 0x74 || c === 0x66 || c === LOWER_N) {
            state = SKIP_SCALAR;
            this.skipScalar = String.fromCharCode(c);
          } else this.fail('Expected a JSON value', pos - 1);
          break;
        case SKIP_KEY_OR_END:
        case SKIP_KEY:
          if (c === RBRACE && state === SKIP_KEY_OR_END) state = this.closeSkipped(c, pos);
          else if (c === QUOTE) {
            state = SKIP_STRING;
            this.skipKey = true;
          } else this.fail('Expected a key in an object', pos - 1);
          break;
        case SKIP_COLON:
          if (c !== COLON) this.fail("Expected ':' after a key", pos - 1);
          state = SKIP_VALUE;
          break;
        default: // SKIP_AFTER_VALUE
          if (c === COMMA) state = stack.at(-1) === LBRACE ? SKIP_KEY : SKIP_VALUE;
          else state = this.closeSkipped(c, pos);
      }
      if (state === -1) return this.endSkip(pos);
    }
    this.skipState = state;
    this.skipEscape = escape;
    return -1;
  }

  /** `c` (just read, before `pos`) must close the innermost container; the state after it. */
  private closeSkipped(c: number, pos: number): number {
    const open = this.skipStack.pop();
    if ((open === LBRACE && c !== RBRACE) || (open === LBRACKET && c !== RBRACKET)) {
      const close = open === LBRACE ? '}' : ']';
      this.fail(`Expected ',' or '${close}'`, pos - 1);
    }
    return this.skipStack.length === 0 ? -1 : SKIP_AFTER_VALUE;
  }

  private endSkip(pos: number): number {
    this.startSkip();
    return pos;
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
