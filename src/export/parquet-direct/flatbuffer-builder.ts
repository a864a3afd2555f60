/**
 * The part of a FlatBuffers builder the Arrow schema message needs: tables of scalars and
 * offsets, strings, vectors of offsets. It lays bytes out as the reference `flatbuffers` package
 * (what apache-arrow uses) does, back to front with the same alignment and vtable sharing, so
 * the same calls in the same order give the same bytes. Scalars are written only when they
 * differ from the field's default, as the reference builder does unless told otherwise.
 */
export class FlatBufferBuilder {
  /** Built from the end: the buffer's last `offset()` bytes hold what is written so far. */
  private bytes = new Uint8Array(256);
  private space = 256;
  private minAlign = 1;
  private vtable: number[] = [];
  private objectStart = 0;
  /** Where each vtable written so far starts, as an offset from the end. */
  private readonly vtables: number[] = [];
  private vectorLength = 0;

  /** Bytes written so far: the offset (from the end) of what was written last. */
  offset(): number {
    return this.bytes.length - this.space;
  }

  startObject(fields: number): void {
    this.vtable = new Array<number>(fields).fill(0);
    this.objectStart = this.offset();
  }

  addFieldInt8(slot: number, value: number, defaultValue: number): void {
    this.addScalar(slot, value, defaultValue, 1);
  }

  addFieldInt16(slot: number, value: number, defaultValue: number): void {
    this.addScalar(slot, value, defaultValue, 2);
  }

  addFieldInt32(slot: number, value: number, defaultValue: number): void {
    this.addScalar(slot, value, defaultValue, 4);
  }

  /** A non-negative 64-bit integer below 2^32. */
  addFieldInt64(slot: number, value: number, defaultValue: number): void {
    if (value === defaultValue) return;
    this.prep(8, 0);
    this.write(0, 4);
    this.write(value, 4);
    this.vtable[slot] = this.offset();
  }

  /** An offset returned by `endObject`, `createString` or `offsetVector`; 0 is none. */
  addFieldOffset(slot: number, target: number): void {
    if (target === 0) return;
    this.addOffset(target);
    this.vtable[slot] = this.offset();
  }

  endObject(): number {
    this.prep(4, 0);
    this.write(0, 4);
    const tableAt = this.offset();
    let fields = this.vtable.length;
    while (fields > 0 && this.vtable[fields - 1] === 0) fields--;
    for (let i = fields - 1; i >= 0; i--) {
      const at = this.vtable[i]!;
      this.prep(2, 0);
      this.write(at !== 0 ? tableAt - at : 0, 2);
    }
    this.prep(2, 0);
    this.write(tableAt - this.objectStart, 2);
    const length = (fields + 2) * 2;
    this.prep(2, 0);
    this.write(length, 2);
    const shared = this.vtables.find((v) => this.sameVtable(this.bytes.length - v, length));
    if (shared !== undefined) {
      // Drops the vtable just written; the table points at the earlier, identical one.
      this.space = this.bytes.length - tableAt;
      this.put(this.space, shared - tableAt, 4);
    } else {
      this.vtables.push(this.offset());
      this.put(this.bytes.length - tableAt, this.offset() - tableAt, 4);
    }
    return tableAt;
  }

  createString(text: string): number {
    const utf8 = new TextEncoder().encode(text);
    this.prep(1, 0);
    this.write(0, 1);
    this.startVector(1, utf8.length, 1);
    this.space -= utf8.length;
    this.bytes.set(utf8, this.space);
    return this.endVector();
  }

  /** A vector of offsets (tables or strings), in the given order. */
  offsetVector(targets: readonly number[]): number {
    this.startVector(4, targets.length, 4);
    for (let i = targets.length - 1; i >= 0; i--) this.addOffset(targets[i]!);
    return this.endVector();
  }

  /** The finished buffer: the root table's offset, then everything written. */
  finish(root: number): Uint8Array {
    this.prep(this.minAlign, 4);
    this.addOffset(root);
    return this.bytes.slice(this.space);
  }

  private addScalar(slot: number, value: number, defaultValue: number, size: number): void {
    if (value === defaultValue) return;
    this.prep(size, 0);
    this.write(value, size);
    this.vtable[slot] = this.offset();
  }

  private startVector(elementSize: number, length: number, alignment: number): void {
    this.vectorLength = length;
    this.prep(4, elementSize * length);
    this.prep(alignment, elementSize * length);
  }

  private endVector(): number {
    this.write(this.vectorLength, 4);
    return this.offset();
  }

  private addOffset(target: number): void {
    this.prep(4, 0);
    this.write(this.offset() - target + 4, 4);
  }

  /** Zero bytes so that `size` bytes written after `additional` more are aligned to `size`. */
  private prep(size: number, additional: number): void {
    if (size > this.minAlign) this.minAlign = size;
    const align = (~(this.offset() + additional) + 1) & (size - 1);
    while (this.space < align + size + additional) this.grow();
    for (let i = 0; i < align; i++) this.bytes[--this.space] = 0;
  }

  private grow(): void {
    const old = this.bytes;
    this.bytes = new Uint8Array(old.length * 2);
    this.bytes.set(old, old.length);
    this.space += old.length;
  }

  /** `size` bytes of `value`, little-endian, in front of what is written. */
  private write(value: number, size: number): void {
    this.space -= size;
    this.put(this.space, value, size);
  }

  private put(at: number, value: number, size: number): void {
    for (let i = 0; i < size; i++) this.bytes[at + i] = (value >>> (8 * i)) & 0xff;
  }

  /** Whether the vtable at `at` equals the one just written (at `space`, `length` bytes). */
  private sameVtable(at: number, length: number): boolean {
    for (let j = 0; j < length; j++) {
      if (this.bytes[at + j] !== this.bytes[this.space + j]) return false;
    }
    return true;
  }
}
