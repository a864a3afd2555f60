import type { LineBatcher } from './line-batcher.js';
import { escapeTag, writeFloatAt, writeUint } from './line-protocol.js';
import type { MetricKind, WindowAggregate } from './rollup.js';

/**
 * A kind's rollup fields, in line order: `<field>_<name>`, integer or float, and their values
 * from a window. `values` fills a Float64Array rather than returning numbers one by one, so that
 * encoding a window calls no per-field closure and boxes no double.
 */
interface KindFields {
  names: readonly string[];
  integer: readonly boolean[];
  values: (w: WindowAggregate, out: Float64Array) => void;
}

const GAUGE_FIELDS: KindFields = {
  names: ['count', 'sum', 'min', 'max', 'last', 'mean'],
  integer: [true, false, false, false, false, false],
  values: (w, out) => {
    out[0] = w.count;
    out[1] = w.sum;
    out[2] = w.min;
    out[3] = w.max;
    out[4] = w.last;
    out[5] = w.sum / w.count;
  },
};

const COUNTER_FIELDS: KindFields = {
  names: ['increase', 'resets', 'first', 'last', 'count'],
  integer: [false, true, false, false, true],
  values: (w, out) => {
    out[0] = w.increase;
    out[1] = w.resets;
    out[2] = w.first;
    out[3] = w.last;
    out[4] = w.count;
  },
};

const fieldsOf = (kind: MetricKind): KindFields =>
  kind === 'counter' ? COUNTER_FIELDS : GAUGE_FIELDS;

/** A window's fields as RollupLineWriter writes them: `<field>_<aggregate>` → value. */
export function rollupFieldValues(
  kind: MetricKind,
  field: string,
  window: WindowAggregate,
): Record<string, number> {
  const fields = fieldsOf(kind);
  const out = new Float64Array(fields.names.length);
  fields.values(window, out);
  const values: Record<string, number> = {};
  fields.names.forEach((name, f) => (values[`${field}_${name}`] = out[f]!));
  return values;
}

/**
 * The longest number writeFloatAt or writeUint produces: 17 digits after five zeros
 * (`-0.0000012345678901234567`, 25 bytes), one longer than the exponent form
 * (`-1.2345678901234567e-300`).
 */
const MAX_NUMBER_BYTES = 25;

/**
 * Encodes rollup windows as line protocol: the raw tier's measurement and tags, stamped at the
 * window start, fields `<field>_<aggregate>`. Field types never change: gauges write `count`
 * (integer), `sum`, `min`, `max`, `last`, `mean` = sum / count; counters `increase`, `resets`
 * (integer), `first`, `last`, `count` (integer).
 */
export class RollupLineWriter {
  /** `[" value_count=", "i,value_sum=", ...]`: the bytes between the numbers. */
  private readonly separators: Separator[];
  private readonly separatorBytes: number;
  private readonly fields: KindFields;
  private readonly line: WindowLine;
  /** The window's start, for appendLine (see there why in an array). */
  private readonly stamp = new Float64Array(1);

  constructor(kind: MetricKind, field: string) {
    this.fields = fieldsOf(kind);
    const escaped = escapeTag(field);
    const texts: string[] = [];
    let before = ' ';
    this.fields.names.forEach((name, f) => {
      texts.push(`${before}${escaped}_${name}=`);
      before = this.fields.integer[f] ? 'i,' : ',';
    });
    texts.push(before.slice(0, -1));
    this.separators = texts.map((t) => separator(new Uint8Array(Buffer.from(t))));
    this.separatorBytes = this.separators.reduce((n, s) => n + s.bytes.length, 0);
    this.line = {
      key: new Uint8Array(0),
      values: new Float64Array(this.fields.names.length),
      integer: Uint8Array.from(this.fields.integer, (i) => (i ? 1 : 0)),
      separators: this.separators,
      target: NO_TARGET,
      view: new DataView(NO_TARGET.buffer),
    };
  }

  /** Appends the window's line for the series whose encoded measurement and tags are `key`. */
  append(batcher: LineBatcher, key: Uint8Array, window: WindowAggregate): void {
    const line = this.line;
    line.key = key;
    this.fields.values(window, line.values);
    this.stamp[0] = window.startMs;
    const maxBytes = key.length + this.separatorBytes + MAX_NUMBER_BYTES * line.values.length;
    batcher.appendLine(maxBytes, this.stamp, 0, writeLine, line);
  }
}

/**
 * The bytes between two numbers of a line, also as little-endian 32-bit words (the tail of fewer
 * than four bytes aside): written four bytes a store, they cost a quarter of a byte loop, which
 * was most of a line's fixed cost.
 */
interface Separator {
  bytes: Uint8Array;
  words: Uint32Array;
}

function separator(bytes: Uint8Array): Separator {
  const words = new Uint32Array(bytes.length >> 2);
  for (let w = 0; w < words.length; w++) {
    const b = w * 4;
    words[w] =
      (bytes[b]! | (bytes[b + 1]! << 8) | (bytes[b + 2]! << 16) | (bytes[b + 3]! << 24)) >>> 0;
  }
  return { bytes, words };
}

const NO_TARGET = new Uint8Array(0);

/** One window's line, up to its timestamp: the series key, then the fields. */
interface WindowLine {
  key: Uint8Array;
  values: Float64Array;
  /** 1 where the field is an integer. */
  integer: Uint8Array;
  /** separators[f] goes before field f; the last one after all of them. */
  separators: readonly Separator[];
  /** The buffer last written to, and a DataView of it (a batch's lines share one buffer). */
  target: Uint8Array;
  view: DataView;
}

function writeLine(buf: Buffer, offset: number, line: WindowLine): number {
  if (buf !== line.target) {
    line.target = buf;
    line.view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  }
  const view = line.view;
  buf.set(line.key, offset);
  let off = offset + line.key.length;
  const { values, integer, separators } = line;
  for (let f = 0; f < values.length; f++) {
    off = copySeparator(buf, view, off, separators[f]!);
    off = integer[f] === 1 ? writeUint(buf, off, values[f]!) : writeFloatAt(buf, off, values, f);
  }
  return copySeparator(buf, view, off, separators[values.length]!);
}

function copySeparator(buf: Buffer, view: DataView, offset: number, separator: Separator): number {
  const { words, bytes } = separator;
  let off = offset;
  for (let w = 0; w < words.length; w++) {
    view.setUint32(off, words[w]!, true);
    off += 4;
  }
  for (let b = words.length * 4; b < bytes.length; b++) buf[off++] = bytes[b]!;
  return off;
}
