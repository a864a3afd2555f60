import type { Labels } from '../core/series.js';

const CACHE_SLOTS = 4096;
const CACHE_MAX_BYTES = 64;

/**
 * A bounded, direct-mapped cache from label bytes to their decoded string (names repeat in every
 * series, values in every chunk). A slot holds one string; a collision replaces it.
 */
export class LabelStringCache {
  private readonly bytes = new Uint8Array(CACHE_SLOTS * CACHE_MAX_BYTES);
  private readonly lengths = new Int32Array(CACHE_SLOTS).fill(-1);
  private readonly strings: string[] = new Array<string>(CACHE_SLOTS).fill('');

  /** The string for `buf[start, end)`, whose FNV-1a hash is `hash`; decodes and caches on a miss. */
  get(buf: Buffer, start: number, end: number, hash: number, ascii: boolean): string {
    const len = end - start;
    if (len > CACHE_MAX_BYTES) return buf.toString(ascii ? 'latin1' : 'utf8', start, end);
    const slot = (hash ^ (hash >>> 15)) & (CACHE_SLOTS - 1);
    const at = slot * CACHE_MAX_BYTES;
    const bytes = this.bytes;
    if (this.lengths[slot] === len) {
      let i = 0;
      while (i < len && bytes[at + i] === buf[start + i]) i++;
      if (i === len) return this.strings[slot]!;
    }
    const text = buf.toString(ascii ? 'latin1' : 'utf8', start, end);
    for (let i = 0; i < len; i++) bytes[at + i] = buf[start + i]!;
    this.lengths[slot] = len;
    this.strings[slot] = text;
    return text;
  }
}

/** Distinct label sets remembered; past it the cache starts over (a query over more series). */
const SET_CACHE_MAX_ENTRIES = 16384;
/** Longer `metric` objects are decoded every time (and are rare: ~40 labels of 50 bytes). */
const SET_CACHE_MAX_BYTES = 2048;
/** The labels of a series whose `metric` object is missing or empty: shared, frozen. */
export const NO_LABELS: Labels = Object.freeze({});

interface LabelSetEntry {
  readonly bytes: Buffer;
  readonly labels: Labels;
  /** Another label set with the same hash. */
  next: LabelSetEntry | undefined;
}

/**
 * A bounded cache from the bytes of a `metric` object (`{` to `}`) to its decoded labels, frozen:
 * callers share the object, so a series is the same object in every chunk and the transform finds
 * its encoded form by identity. Keyed by the bytes' hash, chained on collisions: a direct-mapped
 * table evicted about a fifth of 2000 series every chunk, and each miss costs a new label object
 * and its encoding again. When full it starts over.
 */
export class LabelSetCache {
  private readonly byHash = new Map<number, LabelSetEntry>();
  private entries = 0;

  /** The labels for `buf[start, end)` (FNV-1a `hash`), or undefined. */
  get(buf: Buffer, start: number, end: number, hash: number): Labels | undefined {
    const len = end - start;
    for (let e = this.byHash.get(hash); e !== undefined; e = e.next) {
      // memcmp without a view: ~10× a byte loop for a 100-byte metric object.
      if (e.bytes.length === len && buf.compare(e.bytes, 0, len, start, end) === 0) {
        return e.labels;
      }
    }
    return undefined;
  }

  set(buf: Buffer, start: number, end: number, hash: number, labels: Labels): Labels {
    const frozen = Object.freeze(labels);
    if (end - start > SET_CACHE_MAX_BYTES) return frozen;
    if (this.entries >= SET_CACHE_MAX_ENTRIES) {
      this.byHash.clear();
      this.entries = 0;
    }
    const bytes = Buffer.from(buf.subarray(start, end));
    this.byHash.set(hash, { bytes, labels: frozen, next: this.byHash.get(hash) });
    this.entries++;
    return frozen;
  }
}

/** Sets a decoded label on `labels`, `__proto__` included (as JSON.parse would). */
export function setLabel(labels: Record<string, string>, name: string, value: string): void {
  // `labels.__proto__ = v` would not create a property.
  if (name === '__proto__') {
    Object.defineProperty(labels, name, {
      value,
      enumerable: true,
      writable: true,
      configurable: true,
    });
  } else {
    labels[name] = value;
  }
}
