import type { SampleColumns } from '../core/series.js';
import type { SlabPool } from '../core/slab-pool.js';

/** Samples go into shared slabs; each series is a window. Slabs double up to this many entries. */
const SLAB_MIN = 1024;
const SLAB_MAX = 1 << 18;

/**
 * The columns one response's samples are decoded into: timestamps, values and the values'
 * spellings, shared by all its series (a series is the window `[seriesStart, slabLen)` while it is
 * being read). The decoder's samples loop writes the slabs directly and calls {@link grow} /
 * {@link growText} when one is full; a full slab is replaced by a larger one, and only the current
 * series' part moves along, since the finished series keep the old slabs.
 */
export class SampleColumnWriter {
  tsSlab: Float64Array;
  valSlab: Float64Array;
  /** Samples written, the current series' included. */
  slabLen = 0;
  seriesStart = 0;
  /** Value spellings (see SeriesBlock.valueText): bytes, and per sample their start and length. */
  textSlab: Uint8Array;
  textUsed = 0;
  seriesTextStart = 0;
  textStartSlab: Uint32Array;
  textLenSlab: Uint8Array;

  private readonly slabPool: SlabPool | undefined;
  /** Pooled buffers behind these columns, returned by {@link release}. */
  private owned: ArrayBuffer[] = [];
  /** The slabs above as the blocks see them; a new object whenever one of them is replaced. */
  private columns: SampleColumns | undefined;

  constructor(slabPool?: SlabPool) {
    this.slabPool = slabPool;
    this.tsSlab = new Float64Array(this.slab(SLAB_MIN * 8));
    this.valSlab = new Float64Array(this.slab(SLAB_MIN * 8));
    this.textStartSlab = new Uint32Array(this.slab(SLAB_MIN * 4));
    this.textLenSlab = new Uint8Array(this.slab(SLAB_MIN));
    this.textSlab = new Uint8Array(this.slab(SLAB_MIN * 16));
  }

  /** Whether the memory comes from a pool, and {@link release} should give it back. */
  get pooled(): boolean {
    return this.slabPool !== undefined;
  }

  /** Ends the current series: returns the columns its window lies in; the next one starts here. */
  endSeries(): SampleColumns {
    this.columns ??= {
      timestampsMs: this.tsSlab,
      values: this.valSlab,
      valueText: { bytes: this.textSlab, start: this.textStartSlab, length: this.textLenSlab },
    };
    this.seriesTextStart = this.textUsed;
    this.seriesStart = this.slabLen;
    return this.columns;
  }

  /** Returns pooled slabs to the pool (the columns handed out must no longer be read). */
  release(): void {
    const owned = this.owned;
    this.owned = [];
    for (const buffer of owned) this.slabPool?.release(buffer);
  }

  /** New, larger sample slabs; the current series' samples move along. */
  grow(): void {
    const used = this.slabLen - this.seriesStart;
    const size = nextPowerOfTwo(
      Math.max(Math.min(this.tsSlab.length * 2, SLAB_MAX), used * 2, SLAB_MIN),
    );
    const ts = new Float64Array(this.slab(size * 8));
    const vs = new Float64Array(this.slab(size * 8));
    ts.set(this.tsSlab.subarray(this.seriesStart, this.slabLen));
    vs.set(this.valSlab.subarray(this.seriesStart, this.slabLen));
    const starts = new Uint32Array(this.slab(size * 4));
    const lengths = new Uint8Array(this.slab(size));
    starts.set(this.textStartSlab.subarray(this.seriesStart, this.slabLen));
    lengths.set(this.textLenSlab.subarray(this.seriesStart, this.slabLen));
    this.tsSlab = ts;
    this.valSlab = vs;
    this.textStartSlab = starts;
    this.textLenSlab = lengths;
    this.columns = undefined;
    this.seriesStart = 0;
    this.slabLen = used;
  }

  /** A new text slab with room for `need` more bytes; the current series' text moves along. */
  growText(need: number): void {
    const used = this.textUsed - this.seriesTextStart;
    const size = nextPowerOfTwo(
      Math.max(Math.min(this.textSlab.length * 2, SLAB_MAX * 16), (used + need) * 2, SLAB_MIN * 16),
    );
    const text = new Uint8Array(this.slab(size));
    text.set(this.textSlab.subarray(this.seriesTextStart, this.textUsed));
    const shift = this.seriesTextStart;
    for (let i = this.seriesStart; i < this.slabLen; i++) {
      if (this.textLenSlab[i] !== 0) this.textStartSlab[i]! -= shift;
    }
    this.textSlab = text;
    this.columns = undefined;
    this.seriesTextStart = 0;
    this.textUsed = used;
  }

  /** A buffer of `bytes` bytes (a power of two), from the pool when there is one. */
  private slab(bytes: number): ArrayBuffer {
    if (!this.slabPool) return new ArrayBuffer(bytes);
    const buffer = this.slabPool.acquire(bytes);
    this.owned.push(buffer);
    return buffer;
  }
}

function nextPowerOfTwo(n: number): number {
  return 2 ** Math.ceil(Math.log2(n));
}
