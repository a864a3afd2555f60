import { PromfluxError } from '../core/errors.js';
import type { Labels, SeriesBlock } from '../core/series.js';
import { decimalToDouble, parsePromValue } from './prom-value.js';
import type { DecodedResponse, MatrixResult } from './types.js';
import { LabelSetCache, LabelStringCache, NO_LABELS, setLabel } from './label-caches.js';
import {
  bytesEqual,
  DecodeError,
  isDigit,
  isNumberByte,
  isSpace,
  JsonScanner,
  skipSpace,
  startsWith,
} from './json-scanner.js';
import type { SlabPool } from '../core/slab-pool.js';
import type { SeriesBlockRecycler } from './block-recycler.js';
import { SampleColumnWriter } from './sample-columns.js';

export type { DecodedResponse };
// The caches are part of the decoder's options: its callers import them from here.
export { LabelSetCache, LabelStringCache };
// So is its error.
export { DecodeError };

export interface MatrixDecoderOptions {
  /** More series than this in one response fails the decode (a memory guard). Default: no limit. */
  maxSeries?: number;
  /**
   * Label names and values seen before, shared across decoders: every chunk of a range query
   * returns the same series, so sharing one cache per client makes label decoding a lookup.
   */
  labelCache?: LabelStringCache;
  /**
   * Whole label sets seen before, shared the same way: a series' `metric` object comes back
   * byte-identical in every chunk, and handing out the same (frozen) object each time spares the
   * garbage of rebuilding it, and lets the transform stage key its caches by identity.
   */
  labelSetCache?: LabelSetCache;
  /** Where the sample columns' memory comes from; the result's `release` gives it back. */
  slabPool?: SlabPool;
  /** Where the series blocks come from; the result's `release` gives them back. */
  blockRecycler?: SeriesBlockRecycler;
}

// Where in the document we are: the nesting is fixed, so the parent of each context is known.
const C_TOP = 0;
const C_DATA = 1;
const C_RESULT = 2;
const C_SERIES = 3;
const C_METRIC = 4;
const C_VALUES = 5;
const C_HISTOGRAMS = 6;
const C_STRINGS = 7;

// What comes next within the context.
const S_START = 0;
const S_KEY_OR_END = 1;
const S_KEY = 2;
const S_COLON = 3;
const S_VALUE = 4;
const S_OBJ_NEXT = 5;
const S_ELEM_OR_END = 6;
const S_ELEM = 7;
const S_ARR_NEXT = 8;
const S_SKIP = 9;
const S_DONE = 10;

// The key whose value comes next.
const K_OTHER = 0;
const K_STATUS = 1;
const K_DATA = 2;
const K_WARNINGS = 3;
const K_INFOS = 4;
const K_ERROR_TYPE = 5;
const K_ERROR = 6;
const K_RESULT_TYPE = 7;
const K_RESULT = 8;
const K_METRIC = 9;
const K_VALUES = 10;
const K_HISTOGRAMS = 11;
const K_LABEL = 12;

// Bytes, defined here rather than imported: a module's own const folds into the compiled samples
// loop, an imported binding is loaded on every use (the loop ran ~12% slower with imports).
const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const COLON = 0x3a;
const LBRACE = 0x7b;
const RBRACE = 0x7d;
const LBRACKET = 0x5b;
const RBRACKET = 0x5d;
const MINUS = 0x2d;
const DOT = 0x2e;
const LOWER_N = 0x6e;
const LOWER_E = 0x65;
const UPPER_E = 0x45;

/** Below this, `hi * 10 + digit` stays an exact integer (< 2^53). */
const HI_LIMIT = 9e14;
/** Powers of ten that are exact doubles: `m / 10^k` is correctly rounded for m < 2^53, k <= 22. */
const POW10 = Array.from({ length: 23 }, (_, k) => Number(`1e${k}`));
/** Integer seconds with up to 15 digits keep `seconds * 1000 + ms` below 2^53. */
const MAX_FAST_INT_DIGITS = 15;
const JSON_NUMBER = /^-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?$/;

/** Bytes of a new chunk appended at a time to complete a token cut by the previous one. */
const PENDING_STEP = 512;

/**
 * A streaming decoder for `/api/v1/query_range` responses: push the body's bytes as they arrive,
 * in chunks split anywhere, then call {@link end}.
 *
 * Bytes are parsed in place; the body never becomes a string. Timestamps and values go straight
 * into Float64Arrays (shared slabs; a series is a window of them): no per-sample objects or
 * strings.
 * Timestamps are parsed from their decimal digits into exact integer milliseconds (more than three
 * fractional digits round half away from zero); plain decimal values of up to 19 digits are
 * converted from their digits, correctly rounded ({@link decimalToDouble}); anything else (`NaN`,
 * `+Inf`, exponents, escapes) goes through {@link parsePromValue}. The common shapes (a series'
 * `{"metric":{...},"values":[` head, a sample) have straight-line fast paths; everything else goes
 * through a general state machine that accepts keys in any order and skips unknown values.
 *
 * A token cut by a chunk boundary is parsed again from its start once more bytes arrive: only its
 * bytes are carried over. Values under keys nobody reads are skipped byte by byte, in any size.
 */
export class MatrixDecoder {
  private readonly maxSeries: number;
  private readonly labelCache: LabelStringCache;
  private readonly labelSetCache: LabelSetCache;

  private st = S_START;
  private ctx = C_TOP;
  private key = K_OTHER;
  private labelName = '';
  private readonly json = new JsonScanner();

  private status: string | undefined;
  private errorType = '';
  private error = '';
  private resultTypeSeen = false;
  private dataSeen = false;
  private readonly warnings: string[] = [];
  private readonly infos: string[] = [];
  private strings: string[] = this.warnings;

  private readonly series: SeriesBlock[] = [];
  /** The current series' labels: shared and frozen when they came whole from the cache. */
  private labels: Labels = NO_LABELS;
  private nullValues = 0;
  private samples = 0;
  private histogramSamples = 0;
  private readonly cols: SampleColumnWriter;
  private readonly blockRecycler: SeriesBlockRecycler | undefined;
  private released = false;

  /** The state after the value being skipped. */
  private skipReturn = S_OBJ_NEXT;

  /** Unparsed bytes carried over to the next push (a token cut by a chunk boundary). */
  private pending: Buffer = Buffer.allocUnsafe(0);
  private pendingLen = 0;
  /** Global byte offset of the first byte not parsed yet (pending[0] when bytes are carried). */
  private consumed = 0;
  private received = 0;
  private failure: Error | undefined;
  private ended = false;

  constructor(opts: MatrixDecoderOptions = {}) {
    this.maxSeries = opts.maxSeries ?? Infinity;
    this.labelCache = opts.labelCache ?? new LabelStringCache();
    this.labelSetCache = opts.labelSetCache ?? new LabelSetCache();
    this.cols = new SampleColumnWriter(opts.slabPool);
    this.blockRecycler = opts.blockRecycler;
  }

  /** Parses the next bytes of the body. Throws {@link DecodeError} as soon as they cannot be right. */
  push(chunk: Uint8Array): void {
    if (this.failure !== undefined) throw this.failure;
    if (this.ended) throw new DecodeError('push() after end().');
    this.received += chunk.length;
    if (chunk.length === 0) return;
    try {
      this.parse(
        Buffer.isBuffer(chunk)
          ? chunk
          : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength),
      );
    } catch (err) {
      this.failure = err instanceof Error ? err : new Error(String(err));
      throw this.failure;
    }
  }

  private parse(data: Buffer): void {
    const end = data.length;
    let offset = 0;
    while (offset < end) {
      if (this.pendingLen === 0) {
        this.json.base = this.consumed - offset;
        const pos = this.run(data, offset, end);
        this.consumed += pos - offset;
        if (pos < end) {
          this.reservePending(end - pos);
          data.copy(this.pending, 0, pos, end);
          this.pendingLen = end - pos;
        }
        return;
      }
      // Complete the carried-over token with a few bytes of the chunk, then go on in the chunk
      // itself: copying whole chunks would cost a copy of the body.
      const carried = this.pendingLen;
      const take = Math.min(end - offset, Math.max(PENDING_STEP, carried));
      this.reservePending(carried + take);
      data.copy(this.pending, carried, offset, offset + take);
      this.pendingLen = carried + take;
      offset += take;
      this.json.base = this.consumed;
      const pos = this.run(this.pending, 0, this.pendingLen);
      this.consumed += pos;
      if (pos >= carried) {
        // What is left lies within the bytes just taken: parse it from the chunk.
        offset -= this.pendingLen - pos;
        this.pendingLen = 0;
      } else {
        this.pending.copyWithin(0, pos, this.pendingLen);
        this.pendingLen -= pos;
      }
    }
  }

  /** Ends the body: returns the decoded response, or throws if it was truncated or incomplete. */
  end(): DecodedResponse {
    if (this.failure !== undefined) throw this.failure;
    this.ended = true;
    if (this.st !== S_DONE) {
      throw new DecodeError(`Response truncated after ${this.received} bytes.`, this.received);
    }
    if (this.status === 'error') {
      return {
        status: 'error',
        errorType: this.errorType,
        error: this.error,
        warnings: this.warnings,
      };
    }
    if (this.status === undefined) throw new DecodeError('Missing "status" in the response.');
    if (!this.dataSeen) throw new DecodeError('Missing "data" in a successful response.');
    const result: MatrixResult = {
      series: this.series,
      warnings: this.warnings,
      infos: this.infos,
      samples: this.samples,
      histogramSamples: this.histogramSamples,
      ...((this.cols.pooled || this.blockRecycler) && { release: () => this.release() }),
    };
    return { status: 'success', result };
  }

  private run(buf: Buffer, pos: number, end: number): number {
    while (pos < end) {
      const st = this.st;
      if (st === S_SKIP) {
        const next = this.json.skip(buf, pos, end);
        if (next < 0) return end;
        this.st = this.skipReturn;
        pos = next;
        continue;
      }
      if (this.ctx === C_VALUES && st >= S_ELEM_OR_END) {
        pos = this.runValues(buf, pos, end);
        if (this.ctx === C_VALUES) return pos;
        continue;
      }
      const c = buf[pos]!;
      if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) {
        pos++;
        continue;
      }
      let next: number;
      switch (st) {
        case S_START:
          if (c !== LBRACE) this.fail('Expected the response to be a JSON object', pos);
          this.ctx = C_TOP;
          this.st = S_KEY_OR_END;
          pos++;
          break;
        case S_KEY_OR_END:
        case S_KEY:
          if (c === RBRACE && st === S_KEY_OR_END) {
            this.closeObject();
            pos++;
            break;
          }
          if (c !== QUOTE) this.fail('Expected an object key', pos);
          next =
            this.ctx === C_METRIC
              ? this.json.readString(buf, pos, end, this.labelCache)
              : this.readKey(buf, pos, end);
          if (next < 0) return pos;
          if (this.ctx === C_METRIC) {
            this.key = K_LABEL;
            this.labelName = this.json.str;
          }
          this.st = S_COLON;
          pos = next;
          break;
        case S_COLON:
          if (c !== COLON) this.fail('Expected ":" after an object key', pos);
          this.st = S_VALUE;
          pos++;
          break;
        case S_VALUE:
          next = this.onValue(buf, pos, end);
          if (next < 0) return pos;
          pos = next;
          break;
        case S_OBJ_NEXT:
          if (c === COMMA) this.st = S_KEY;
          else if (c === RBRACE) this.closeObject();
          else this.fail('Expected "," or "}" in an object', pos);
          pos++;
          break;
        case S_ELEM_OR_END:
        case S_ELEM:
          if (c === RBRACKET && st === S_ELEM_OR_END) {
            this.closeArray();
            pos++;
            break;
          }
          next = this.onElement(buf, pos, end);
          if (next < 0) return pos;
          pos = next;
          break;
        case S_ARR_NEXT:
          if (c === COMMA) this.st = S_ELEM;
          else if (c === RBRACKET) this.closeArray();
          else this.fail('Expected "," or "]" in an array', pos);
          pos++;
          break;
        default:
          this.fail('Unexpected data after the response object', pos);
      }
    }
    return pos;
  }

  /**
   * The hot loop: samples `[ts, "v"]` of one series' `values` array. Returns where it stopped:
   * the end of the buffer, the start of a sample cut by it, or just past the closing `]`.
   */
  private runValues(buf: Buffer, pos: number, end: number): number {
    const cols = this.cols;
    let st = this.st;
    let ts = cols.tsSlab;
    let vs = cols.valSlab;
    let n = cols.slabLen;
    let nulls = this.nullValues;
    while (pos < end) {
      let c = buf[pos]!;
      if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) {
        pos++;
        continue;
      }
      if (st === S_ARR_NEXT) {
        if (c === COMMA) {
          st = S_ELEM;
          pos++;
          continue;
        }
        if (c !== RBRACKET) this.fail('Expected "," or "]" after a sample', pos);
        pos++;
        this.ctx = C_SERIES;
        st = S_OBJ_NEXT;
        break;
      }
      if (c !== LBRACKET) {
        if (c === RBRACKET && st === S_ELEM_OR_END) {
          pos++;
          this.ctx = C_SERIES;
          st = S_OBJ_NEXT;
          break;
        }
        this.fail('Expected a sample [timestamp, "value"]', pos);
      }

      // One sample, parsed whole or not at all (`break` with pos at its start when cut short).
      let p = pos + 1;
      while (p < end && isSpace(buf[p]!)) p++;
      if (p >= end) break;

      // Timestamp: decimal seconds → integer ms, from the digits.
      const numStart = p;
      c = buf[p]!;
      const negative = c === MINUS;
      if (negative) {
        if (++p >= end) break;
        c = buf[p]!;
      }
      let d = c - 0x30;
      if (d < 0 || d > 9) this.fail('Expected a sample timestamp', p);
      const intStart = p;
      let seconds = d;
      p++;
      if (d === 0) {
        if (p < end && isDigit(buf[p]!)) this.fail('Leading zero in a number', p);
      } else {
        while (p < end) {
          d = buf[p]! - 0x30;
          if (d < 0 || d > 9) break;
          seconds = seconds * 10 + d;
          p++;
        }
      }
      if (p >= end) break;
      const intDigits = p - intStart;
      let ms = 0;
      let roundUp = 0;
      c = buf[p]!;
      if (c === DOT) {
        p++;
        const fracStart = p;
        while (p < end) {
          d = buf[p]! - 0x30;
          if (d < 0 || d > 9) break;
          const k = p - fracStart;
          if (k < 3) ms = ms * 10 + d;
          else if (k === 3 && d >= 5) roundUp = 1;
          p++;
        }
        if (p >= end) break;
        const fracDigits = p - fracStart;
        if (fracDigits === 0) this.fail('Expected digits after "."', p);
        if (fracDigits === 1) ms *= 100;
        else if (fracDigits === 2) ms *= 10;
        c = buf[p]!;
      }
      let tsMs: number;
      if (c === LOWER_E || c === UPPER_E || intDigits > MAX_FAST_INT_DIGITS) {
        while (p < end && isNumberByte(buf[p]!)) p++;
        if (p >= end) break;
        tsMs = this.exoticTimestamp(buf, numStart, p);
      } else {
        tsMs = seconds * 1000 + ms + roundUp;
        if (negative) tsMs = -tsMs;
      }

      while (p < end && isSpace(buf[p]!)) p++;
      if (p >= end) break;
      if (buf[p] !== COMMA) this.fail('Expected "," after a sample timestamp', p);
      p++;
      while (p < end && isSpace(buf[p]!)) p++;
      if (p >= end) break;

      // Value: a string, or null (some compatible APIs).
      c = buf[p]!;
      let value = 0;
      let isNull = false;
      let textOk = false;
      let textFrom = 0;
      let textTo = 0;
      if (c === QUOTE) {
        let q = p + 1;
        if (q >= end) break;
        c = buf[q]!;
        const valueNegative = c === MINUS;
        if (valueNegative) {
          if (++q >= end) break;
          c = buf[q]!;
        }
        // Digits go into `hi` while it stays exact, the rest (up to 4) into `lo`.
        let fast = false;
        d = c - 0x30;
        // A leading zero before another digit ("007") is not a line-protocol number.
        textOk = !(d === 0 && q + 1 < end && isDigit(buf[q + 1]!));
        if (d >= 0 && d <= 9) {
          let hi = d;
          let lo = 0;
          let loDigits = 0;
          let fracDigits = 0;
          let ok = true;
          q++;
          while (q < end) {
            d = buf[q]! - 0x30;
            if (d < 0 || d > 9) break;
            if (hi < HI_LIMIT) hi = hi * 10 + d;
            else {
              lo = lo * 10 + d;
              loDigits++;
            }
            q++;
          }
          if (q < end && buf[q] === DOT) {
            q++;
            const fracStart = q;
            while (q < end) {
              d = buf[q]! - 0x30;
              if (d < 0 || d > 9) break;
              if (hi < HI_LIMIT) hi = hi * 10 + d;
              else {
                lo = lo * 10 + d;
                loDigits++;
              }
              q++;
            }
            fracDigits = q - fracStart;
            ok = fracDigits > 0;
          }
          if (q >= end) break;
          if (ok && buf[q] === QUOTE && fracDigits <= 22 && loDigits <= 4) {
            value =
              loDigits === 0
                ? hi / POW10[fracDigits]!
                : decimalToDouble(hi, loDigits, lo, fracDigits);
            if (value !== value) value = Number(buf.toString('latin1', p + 1, q));
            else if (valueNegative) value = -value;
            textFrom = p + 1;
            textTo = q;
            p = q + 1;
            fast = true;
          }
        }
        if (!fast) {
          const next = this.json.readString(buf, p, end);
          if (next < 0) break;
          value = this.parseValue(p);
          p = next;
        }
      } else if (c === LOWER_N) {
        const next = this.json.readNull(buf, p, end);
        if (next < 0) break;
        isNull = true;
        p = next;
      } else {
        this.fail('Expected a sample value string', p);
      }

      while (p < end && isSpace(buf[p]!)) p++;
      if (p >= end) break;
      if (buf[p] !== RBRACKET) this.fail('Expected "]" after a sample value', p);
      p++;

      if (isNull) {
        nulls++;
      } else {
        if (n === ts.length) {
          cols.slabLen = n;
          cols.grow();
          ts = cols.tsSlab;
          vs = cols.valSlab;
          n = cols.slabLen;
        }
        ts[n] = tsMs;
        vs[n] = value;
        const textLength = textTo - textFrom;
        if (textOk && textLength > 0 && textLength < 256) {
          if (cols.textUsed + textLength > cols.textSlab.length) {
            cols.slabLen = n;
            cols.growText(textLength);
          }
          const text = cols.textSlab;
          let t = cols.textUsed;
          cols.textStartSlab[n] = t;
          for (let k = textFrom; k < textTo; k++) text[t++] = buf[k]!;
          cols.textUsed = t;
          cols.textLenSlab[n] = textLength;
        } else {
          cols.textLenSlab[n] = 0;
        }
        n++;
      }
      pos = p;
      st = S_ARR_NEXT;
    }
    this.st = st;
    cols.slabLen = n;
    this.nullValues = nulls;
    return pos;
  }

  private exoticTimestamp(buf: Buffer, start: number, end: number): number {
    const text = buf.toString('latin1', start, end);
    if (!JSON_NUMBER.test(text)) this.fail('Invalid sample timestamp', start);
    return Math.round(Number(text) * 1000);
  }

  private parseValue(pos: number): number {
    try {
      return parsePromValue(this.json.str);
    } catch (err) {
      return this.fail((err as Error).message.replace(/\.$/, ''), pos);
    }
  }

  /** Reads a structural key and sets `this.key` without making a string (unless escaped). */
  private readKey(buf: Buffer, pos: number, end: number): number {
    let p = pos + 1;
    while (p < end) {
      const c = buf[p]!;
      if (c === QUOTE) break;
      if (c === BACKSLASH) {
        const next = this.json.readEscapedString(buf, pos, end);
        if (next >= 0) this.key = keyId(this.ctx, this.json.str);
        return next;
      }
      if (c < 0x20) this.fail('Control character in a string', p);
      p++;
    }
    if (p >= end) return -1;
    const start = pos + 1;
    const len = p - start;
    let key = K_OTHER;
    for (const [id, bytes] of KEYS[this.ctx] ?? []) {
      if (bytes.length === len && bytesEqual(buf, start, bytes)) {
        key = id;
        break;
      }
    }
    this.key = key;
    return p + 1;
  }

  /** Starts the value of the current key. Returns the position after what it consumed, or -1. */
  private onValue(buf: Buffer, pos: number, end: number): number {
    const c = buf[pos]!;
    const key = this.key;
    if (key === K_OTHER) {
      this.startSkip(S_OBJ_NEXT);
      return pos;
    }
    if (c === LOWER_N && key !== K_STATUS && key !== K_RESULT_TYPE && key !== K_LABEL) {
      const next = this.json.readNull(buf, pos, end);
      if (next >= 0) this.st = S_OBJ_NEXT;
      return next;
    }
    switch (key) {
      case K_STATUS:
      case K_ERROR_TYPE:
      case K_ERROR:
      case K_RESULT_TYPE:
      case K_LABEL: {
        if (c !== QUOTE) return this.fail(`Expected a string for ${this.keyName()}`, pos);
        const next = this.json.readString(
          buf,
          pos,
          end,
          key === K_LABEL ? this.labelCache : undefined,
        );
        if (next < 0) return next;
        this.onString(pos);
        this.st = S_OBJ_NEXT;
        return next;
      }
      case K_DATA:
        return this.open(c, LBRACE, C_DATA, pos, '"data" to be an object');
      case K_WARNINGS:
      case K_INFOS:
        this.strings = key === K_WARNINGS ? this.warnings : this.infos;
        return this.open(c, LBRACKET, C_STRINGS, pos, `${this.keyName()} to be an array`);
      case K_RESULT:
        return this.open(c, LBRACKET, C_RESULT, pos, '"data.result" to be an array');
      case K_METRIC: {
        const next = c === LBRACE ? this.readMetric(buf, pos, end) : -1;
        if (next >= 0) {
          this.st = S_OBJ_NEXT;
          return next;
        }
        // The slow path decodes into an object of its own (a repeated "metric" key: the last
        // one wins, as with JSON.parse).
        this.labels = {};
        return this.open(c, LBRACE, C_METRIC, pos, '"metric" to be an object');
      }
      case K_VALUES:
        return this.open(c, LBRACKET, C_VALUES, pos, '"values" to be an array');
      default:
        return this.open(c, LBRACKET, C_HISTOGRAMS, pos, '"histograms" to be an array');
    }
  }

  private open(c: number, expected: number, ctx: number, pos: number, what: string): number {
    if (c !== expected) return this.fail(`Expected ${what}`, pos);
    if (ctx === C_DATA) this.resultTypeSeen = false;
    this.ctx = ctx;
    this.st = expected === LBRACE ? S_KEY_OR_END : S_ELEM_OR_END;
    return pos + 1;
  }

  /**
   * The common case of a series' start, `{"metric":{...},"values":[`, whole in the buffer: straight
   * to its samples. Otherwise returns the position after the `{` and the state machine goes on.
   */
  private readSeriesHead(buf: Buffer, pos: number, end: number): number {
    let p = skipSpace(buf, pos + 1, end);
    if (!startsWith(buf, p, end, METRIC_KEY)) return pos + 1;
    p = skipSpace(buf, p + METRIC_KEY.length, end);
    if (p >= end || buf[p] !== COLON) return pos + 1;
    p = skipSpace(buf, p + 1, end);
    if (p >= end || buf[p] !== LBRACE) return pos + 1;
    p = this.readMetric(buf, p, end);
    if (p < 0) return pos + 1;
    p = skipSpace(buf, p, end);
    if (p >= end || buf[p] !== COMMA) return pos + 1;
    p = skipSpace(buf, p + 1, end);
    if (!startsWith(buf, p, end, VALUES_KEY)) return pos + 1;
    p = skipSpace(buf, p + VALUES_KEY.length, end);
    if (p >= end || buf[p] !== COLON) return pos + 1;
    p = skipSpace(buf, p + 1, end);
    if (p >= end || buf[p] !== LBRACKET) return pos + 1;
    this.ctx = C_VALUES;
    this.st = S_ELEM_OR_END;
    return p + 1;
  }

  /**
   * The common case of a `metric` object, whole in the buffer and without escapes, in one tight
   * loop. Returns the position after its `}`, or -1 to leave it to the state machine (which also
   * reports any error).
   */
  private readMetric(buf: Buffer, pos: number, end: number): number {
    // The object's extent and hash first: a series seen in an earlier chunk is a cache hit.
    let close = pos + 1;
    let inString = false;
    let setHash = 0x811c9dc5;
    for (;;) {
      if (close >= end) return -1;
      const c = buf[close]!;
      if (c === BACKSLASH) return -1;
      if (c === QUOTE) inString = !inString;
      else if (c === RBRACE && !inString) break;
      setHash = Math.imul(setHash ^ c, 0x01000193);
      close++;
    }
    const known = this.labelSetCache.get(buf, pos, close + 1, setHash);
    if (known !== undefined) {
      this.labels = known;
      return close + 1;
    }
    const labels: Record<string, string> = {};
    const p0 = this.decodeMetric(buf, pos, end, labels);
    if (p0 < 0) return -1;
    this.labels = this.labelSetCache.set(buf, pos, p0, setHash, labels);
    return p0;
  }

  /** Decodes the labels of a `metric` object without escapes into `labels`; -1 if it cannot. */
  private decodeMetric(
    buf: Buffer,
    pos: number,
    end: number,
    labels: Record<string, string>,
  ): number {
    const cache = this.labelCache;
    let p = pos + 1;
    let first = true;
    for (;;) {
      while (p < end && isSpace(buf[p]!)) p++;
      if (p >= end) return -1;
      if (first && buf[p] === RBRACE) return p + 1;
      first = false;
      if (buf[p] !== QUOTE) return -1;
      let start = ++p;
      let hash = 0x811c9dc5;
      let ascii = true;
      let c = 0;
      while (p < end && (c = buf[p]!) !== QUOTE) {
        if (c === BACKSLASH || c < 0x20) return -1;
        if (c >= 0x80) ascii = false;
        hash = Math.imul(hash ^ c, 0x01000193);
        p++;
      }
      if (p >= end) return -1;
      const name = cache.get(buf, start, p, hash, ascii);
      p++;
      while (p < end && isSpace(buf[p]!)) p++;
      if (p >= end || buf[p] !== COLON) return -1;
      p++;
      while (p < end && isSpace(buf[p]!)) p++;
      if (p >= end || buf[p] !== QUOTE) return -1;
      start = ++p;
      hash = 0x811c9dc5;
      ascii = true;
      while (p < end && (c = buf[p]!) !== QUOTE) {
        if (c === BACKSLASH || c < 0x20) return -1;
        if (c >= 0x80) ascii = false;
        hash = Math.imul(hash ^ c, 0x01000193);
        p++;
      }
      if (p >= end) return -1;
      setLabel(labels, name, cache.get(buf, start, p, hash, ascii));
      p++;
      while (p < end && isSpace(buf[p]!)) p++;
      if (p >= end) return -1;
      if (buf[p] === RBRACE) return p + 1;
      if (buf[p] !== COMMA) return -1;
      p++;
    }
  }

  private onString(pos: number): void {
    const s = this.json.str;
    switch (this.key) {
      case K_STATUS:
        if (s !== 'success' && s !== 'error') {
          this.fail(`Expected "status" to be "success" or "error", got ${JSON.stringify(s)}`, pos);
        }
        this.status = s;
        break;
      case K_ERROR_TYPE:
        this.errorType = s;
        break;
      case K_ERROR:
        this.error = s;
        break;
      case K_RESULT_TYPE:
        if (s !== 'matrix') {
          this.fail(
            `Expected "resultType" "matrix" (a range query), got ${JSON.stringify(s)}`,
            pos,
          );
        }
        this.resultTypeSeen = true;
        break;
      default:
        setLabel(this.labels, this.labelName, s); // a fresh object: see K_METRIC
    }
  }

  /** An element of an array other than `values`. Returns the position after it, or -1. */
  private onElement(buf: Buffer, pos: number, end: number): number {
    const c = buf[pos]!;
    switch (this.ctx) {
      case C_RESULT:
        if (c !== LBRACE) return this.fail('Expected a series object in "data.result"', pos);
        if (this.series.length >= this.maxSeries) {
          throw new PromfluxError(
            'QUERY_FAILED',
            `The response has more than ${this.maxSeries} series (extract.max_series_per_response); narrow the query.`,
          );
        }
        this.labels = NO_LABELS;
        this.nullValues = 0;
        this.ctx = C_SERIES;
        this.st = S_KEY_OR_END;
        return this.readSeriesHead(buf, pos, end);
      case C_HISTOGRAMS:
        this.histogramSamples++;
        this.startSkip(S_ARR_NEXT);
        return pos;
      default: {
        if (c !== QUOTE) return this.fail('Expected a string in a warnings/infos array', pos);
        const next = this.json.readString(buf, pos, end);
        if (next < 0) return next;
        this.strings.push(this.json.str);
        this.st = S_ARR_NEXT;
        return next;
      }
    }
  }

  private closeObject(): void {
    switch (this.ctx) {
      case C_TOP:
        this.st = S_DONE;
        return;
      case C_DATA:
        if (!this.resultTypeSeen) throw new DecodeError('Missing "resultType" in "data".');
        this.dataSeen = true;
        this.ctx = C_TOP;
        this.st = S_OBJ_NEXT;
        return;
      case C_SERIES:
        this.finishSeries();
        this.ctx = C_RESULT;
        this.st = S_ARR_NEXT;
        return;
      default:
        this.ctx = C_SERIES;
        this.st = S_OBJ_NEXT;
    }
  }

  private closeArray(): void {
    this.ctx = this.ctx === C_RESULT ? C_DATA : this.ctx === C_STRINGS ? C_TOP : C_SERIES;
    this.st = S_OBJ_NEXT;
  }

  private release(): void {
    this.cols.release();
    // Once only: blocks handed back twice would be handed out twice.
    if (!this.released) this.blockRecycler?.recycle(this.series);
    this.released = true;
  }

  private finishSeries(): void {
    const start = this.cols.seriesStart;
    const length = this.cols.slabLen - start;
    const columns = this.cols.endSeries();
    this.series.push(
      this.blockRecycler
        ? this.blockRecycler.block(this.labels, columns, start, length, this.nullValues)
        : { labels: this.labels, columns, offset: start, length, nullValues: this.nullValues },
    );
    this.samples += length;
    this.labels = NO_LABELS;
    this.nullValues = 0;
  }

  private startSkip(returnTo: number): void {
    this.st = S_SKIP;
    this.skipReturn = returnTo;
    this.json.startSkip();
  }

  private reservePending(size: number): void {
    if (this.pending.length >= size) return;
    const grown = Buffer.allocUnsafe(Math.max(size, this.pending.length * 2, 4096));
    this.pending.copy(grown, 0, 0, this.pendingLen);
    this.pending = grown;
  }

  private keyName(): string {
    switch (this.key) {
      case K_STATUS:
        return '"status"';
      case K_ERROR_TYPE:
        return '"errorType"';
      case K_ERROR:
        return '"error"';
      case K_RESULT_TYPE:
        return '"resultType"';
      case K_WARNINGS:
        return '"warnings"';
      case K_INFOS:
        return '"infos"';
      default:
        return `label ${JSON.stringify(this.labelName)}`;
    }
  }

  private fail(message: string, pos: number): never {
    return this.json.fail(message, pos);
  }
}

const KEY_NAMES: Record<number, [number, string][]> = {
  [C_TOP]: [
    [K_STATUS, 'status'],
    [K_DATA, 'data'],
    [K_WARNINGS, 'warnings'],
    [K_INFOS, 'infos'],
    [K_ERROR_TYPE, 'errorType'],
    [K_ERROR, 'error'],
  ],
  [C_DATA]: [
    [K_RESULT_TYPE, 'resultType'],
    [K_RESULT, 'result'],
  ],
  [C_SERIES]: [
    [K_METRIC, 'metric'],
    [K_VALUES, 'values'],
    [K_HISTOGRAMS, 'histograms'],
  ],
};

const KEYS: Record<number, [number, Uint8Array][]> = Object.fromEntries(
  Object.entries(KEY_NAMES).map(([ctx, keys]) => [
    ctx,
    keys.map(([id, name]): [number, Uint8Array] => [id, Buffer.from(name, 'latin1')]),
  ]),
);

function keyId(ctx: number, name: string): number {
  return KEY_NAMES[ctx]?.find(([, n]) => n === name)?.[0] ?? K_OTHER;
}

const METRIC_KEY = Buffer.from('"metric"', 'latin1');
const VALUES_KEY = Buffer.from('"values"', 'latin1');
