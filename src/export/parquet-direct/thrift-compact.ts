import { ByteSink } from './byte-sink.js';

/**
 * The Thrift compact protocol, write side only, for the few Parquet structs the direct writer
 * emits (PageHeader, FileMetaData). Integers are JS numbers: every one Parquet needs here (sizes,
 * offsets, row counts, millisecond timestamps) is below 2^53, where zigzag and varint stay exact.
 */

export const CType = {
  True: 1,
  False: 2,
  I32: 5,
  I64: 6,
  Binary: 8,
  List: 9,
  Struct: 12,
} as const;
export type CType = (typeof CType)[keyof typeof CType];

export class CompactWriter {
  private readonly out = new ByteSink(256);
  private lastField = 0;
  private readonly fieldStack: number[] = [];

  finish(): Uint8Array {
    return this.out.view();
  }

  /** A field's header; ids climb within a struct, as Parquet's writers emit them. */
  field(type: CType, id: number): this {
    const delta = id - this.lastField;
    if (delta > 0 && delta <= 15) this.byte((delta << 4) | type);
    else {
      this.byte(type);
      this.varint(zigzag(id));
    }
    this.lastField = id;
    return this;
  }

  i32(id: number, value: number): this {
    return this.field(CType.I32, id).varint(zigzag(value));
  }

  i64(id: number, value: number): this {
    return this.field(CType.I64, id).varint(zigzag(value));
  }

  bool(id: number, value: boolean): this {
    return this.field(value ? CType.True : CType.False, id);
  }

  binary(id: number, value: Uint8Array): this {
    return this.field(CType.Binary, id).rawBinary(value);
  }

  string(id: number, value: string): this {
    return this.binary(id, new TextEncoder().encode(value));
  }

  /** A struct field; `body` writes its fields. */
  struct(id: number, body: (w: this) => void): this {
    this.field(CType.Struct, id);
    return this.structBody(body);
  }

  /** A list of structs. */
  structList<T>(id: number, items: readonly T[], body: (w: this, item: T) => void): this {
    this.field(CType.List, id).listHeader(items.length, CType.Struct);
    for (const item of items) this.structBody((w) => body(w, item));
    return this;
  }

  i32List(id: number, items: readonly number[]): this {
    this.field(CType.List, id).listHeader(items.length, CType.I32);
    for (const item of items) this.varint(zigzag(item));
    return this;
  }

  stringList(id: number, items: readonly string[]): this {
    this.field(CType.List, id).listHeader(items.length, CType.Binary);
    for (const item of items) this.rawBinary(new TextEncoder().encode(item));
    return this;
  }

  /** Ends the outermost struct (the message itself). */
  stop(): this {
    return this.byte(0);
  }

  private structBody(body: (w: this) => void): this {
    this.fieldStack.push(this.lastField);
    this.lastField = 0;
    body(this);
    this.byte(0);
    this.lastField = this.fieldStack.pop()!;
    return this;
  }

  private listHeader(size: number, type: CType): this {
    if (size < 15) return this.byte((size << 4) | type);
    return this.byte(0xf0 | type).varint(size);
  }

  private rawBinary(value: Uint8Array): this {
    this.out.varint(value.length);
    this.out.append(value);
    return this;
  }

  private varint(value: number): this {
    this.out.varint(value);
    return this;
  }

  private byte(value: number): this {
    this.out.byte(value);
    return this;
  }
}

function zigzag(n: number): number {
  if (!Number.isSafeInteger(n)) throw new RangeError(`Not a safe integer for Thrift: ${n}.`);
  return n >= 0 ? n * 2 : -n * 2 - 1;
}
