import type { LineBatcher } from './line-batcher.js';
import { escapeTag, writeFloat, writeUint } from './line-protocol.js';
import type { MetricKind, WindowAggregate } from './rollup.js';

/** Field suffixes in the order they are written; `i` marks the integer fields. */
const GAUGE_FIELDS = ['count:i', 'sum', 'min', 'max', 'last', 'mean'] as const;
const COUNTER_FIELDS = ['increase', 'resets:i', 'first', 'last', 'count:i'] as const;

/** The longest number writeFloat or writeUint produces (`-1.2345678901234567e-300`). */
const MAX_NUMBER_BYTES = 24;

/**
 * Encodes rollup windows as line protocol: the raw tier's measurement and tags, stamped at the
 * window start, fields `<field>_<aggregate>`. Field types never change: gauges write `count`
 * (integer), `sum`, `min`, `max`, `last`, `mean` = sum / count; counters `increase`, `resets`
 * (integer), `first`, `last`, `count` (integer).
 */
export class RollupLineWriter {
  /** `[" value_count=", "i,value_sum=", ...]`: the bytes between the numbers. */
  private readonly separators: Uint8Array[];
  private readonly separatorBytes: number;
  private readonly write: (buf: Buffer, offset: number, arg: WindowLine) => number;
  private readonly line: WindowLine = { key: new Uint8Array(0), window: undefined };

  constructor(kind: MetricKind, field: string) {
    const fields = kind === 'counter' ? COUNTER_FIELDS : GAUGE_FIELDS;
    const escaped = escapeTag(field);
    const texts: string[] = [];
    let pendingSuffix = ' ';
    for (const f of fields) {
      const [name, type] = f.split(':');
      texts.push(`${pendingSuffix}${escaped}_${name}=`);
      pendingSuffix = type === 'i' ? 'i,' : ',';
    }
    texts.push(pendingSuffix.slice(0, -1));
    this.separators = texts.map((t) => new Uint8Array(Buffer.from(t)));
    this.separatorBytes = this.separators.reduce((n, s) => n + s.length, 0);
    this.write = kind === 'counter' ? writeCounter(this.separators) : writeGauge(this.separators);
  }

  /** Appends the window's line for the series whose encoded measurement and tags are `key`. */
  append(batcher: LineBatcher, key: Uint8Array, window: WindowAggregate): void {
    const line = this.line;
    line.key = key;
    line.window = window;
    const maxBytes = key.length + this.separatorBytes + MAX_NUMBER_BYTES * 6;
    batcher.appendLine(maxBytes, window.startMs, this.write, line);
    line.window = undefined;
  }
}

interface WindowLine {
  key: Uint8Array;
  window: WindowAggregate | undefined;
}

function copy(buf: Buffer, offset: number, bytes: Uint8Array): number {
  buf.set(bytes, offset);
  return offset + bytes.length;
}

function writeGauge(sep: Uint8Array[]) {
  return (buf: Buffer, offset: number, { key, window }: WindowLine): number => {
    const w = window!;
    let off = copy(buf, offset, key);
    off = writeUint(buf, copy(buf, off, sep[0]!), w.count);
    off = writeFloat(buf, copy(buf, off, sep[1]!), w.sum);
    off = writeFloat(buf, copy(buf, off, sep[2]!), w.min);
    off = writeFloat(buf, copy(buf, off, sep[3]!), w.max);
    off = writeFloat(buf, copy(buf, off, sep[4]!), w.last);
    off = writeFloat(buf, copy(buf, off, sep[5]!), w.sum / w.count);
    return copy(buf, off, sep[6]!);
  };
}

function writeCounter(sep: Uint8Array[]) {
  return (buf: Buffer, offset: number, { key, window }: WindowLine): number => {
    const w = window!;
    let off = copy(buf, offset, key);
    off = writeFloat(buf, copy(buf, off, sep[0]!), w.increase);
    off = writeUint(buf, copy(buf, off, sep[1]!), w.resets);
    off = writeFloat(buf, copy(buf, off, sep[2]!), w.first);
    off = writeFloat(buf, copy(buf, off, sep[3]!), w.last);
    off = writeUint(buf, copy(buf, off, sep[4]!), w.count);
    return copy(buf, off, sep[5]!);
  };
}
