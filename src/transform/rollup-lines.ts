import type { LineBatcher } from './line-batcher.js';
import { escapeTag, writeFloat, writeUint } from './line-protocol.js';
import type { MetricKind, WindowAggregate } from './rollup.js';

interface FieldSpec {
  aggregate: string;
  integer: boolean;
  of: (w: WindowAggregate) => number;
}

const GAUGE_FIELDS: readonly FieldSpec[] = [
  { aggregate: 'count', integer: true, of: (w) => w.count },
  { aggregate: 'sum', integer: false, of: (w) => w.sum },
  { aggregate: 'min', integer: false, of: (w) => w.min },
  { aggregate: 'max', integer: false, of: (w) => w.max },
  { aggregate: 'last', integer: false, of: (w) => w.last },
  { aggregate: 'mean', integer: false, of: (w) => w.sum / w.count },
];

const COUNTER_FIELDS: readonly FieldSpec[] = [
  { aggregate: 'increase', integer: false, of: (w) => w.increase },
  { aggregate: 'resets', integer: true, of: (w) => w.resets },
  { aggregate: 'first', integer: false, of: (w) => w.first },
  { aggregate: 'last', integer: false, of: (w) => w.last },
  { aggregate: 'count', integer: true, of: (w) => w.count },
];

/** A window's fields as RollupLineWriter writes them: `<field>_<aggregate>` → value. */
export function rollupFieldValues(
  kind: MetricKind,
  field: string,
  window: WindowAggregate,
): Record<string, number> {
  const values: Record<string, number> = {};
  for (const f of kind === 'counter' ? COUNTER_FIELDS : GAUGE_FIELDS) {
    values[`${field}_${f.aggregate}`] = f.of(window);
  }
  return values;
}

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
  private readonly maxNumbers: number;
  private readonly write: (buf: Buffer, offset: number, arg: WindowLine) => number;
  private readonly line: WindowLine = { key: new Uint8Array(0), window: undefined };

  constructor(kind: MetricKind, field: string) {
    const fields = kind === 'counter' ? COUNTER_FIELDS : GAUGE_FIELDS;
    const escaped = escapeTag(field);
    const texts: string[] = [];
    let before = ' ';
    for (const f of fields) {
      texts.push(`${before}${escaped}_${f.aggregate}=`);
      before = f.integer ? 'i,' : ',';
    }
    texts.push(before.slice(0, -1));
    this.separators = texts.map((t) => new Uint8Array(Buffer.from(t)));
    this.separatorBytes = this.separators.reduce((n, s) => n + s.length, 0);
    this.maxNumbers = fields.length;
    this.write = writeFields(fields, this.separators);
  }

  /** Appends the window's line for the series whose encoded measurement and tags are `key`. */
  append(batcher: LineBatcher, key: Uint8Array, window: WindowAggregate): void {
    const line = this.line;
    line.key = key;
    line.window = window;
    const maxBytes = key.length + this.separatorBytes + MAX_NUMBER_BYTES * this.maxNumbers;
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

function writeFields(fields: readonly FieldSpec[], separators: Uint8Array[]) {
  return (buf: Buffer, offset: number, { key, window }: WindowLine): number => {
    let off = copy(buf, offset, key);
    for (let f = 0; f < fields.length; f++) {
      const field = fields[f]!;
      off = copy(buf, off, separators[f]!);
      const value = field.of(window!);
      off = field.integer ? writeUint(buf, off, value) : writeFloat(buf, off, value);
    }
    return copy(buf, off, separators[fields.length]!);
  };
}
