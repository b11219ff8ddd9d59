/**
 * The protobuf wire format as profile.proto readers here read it: wire types, WireError, and
 * WireCursor, the primitives decodeProfile's reader and serve's upload scan share (one set of
 * checks, one set of messages, so that the scan's verdicts are decode's).
 */

/** A uint64 as read: a number when exact, else a bigint. */
export type Numeric = number | bigint;

export const WIRE_VARINT = 0;
export const WIRE_FIXED64 = 1;
export const WIRE_BYTES = 2;
export const WIRE_FIXED32 = 5;

/** Malformed or truncated protobuf; decodeProfile turns it into a ProfileFormatError. */
export class WireError extends Error {}

/**
 * A cursor over protobuf bytes with the checks and messages every reader of profile.proto here
 * shares (decodeProfile's reader, the merger's input reader's fallbacks, serve's upload scan):
 * varints as exact numbers or uint64 bigints, length-delimited fields bounded by the buffer,
 * fields of any wire type skipped. Throws WireError naming the byte at fault.
 */
export class WireCursor {
  pos = 0;
  constructor(readonly buf: Uint8Array) {}

  /** End offset of a length-delimited field starting at pos (after its tag). */
  messageEnd(wire: number): number {
    if (wire !== WIRE_BYTES) throw new WireError(`not a pprof protobuf: invalid wire type ${wire} for a message or string at byte ${this.pos}`);
    const len = this.varintNumber();
    const end = this.pos + len;
    if (end > this.buf.length) {
      throw new WireError(`truncated protobuf: a field at byte ${this.pos} runs ${end - this.buf.length} bytes past the end (${this.buf.length} bytes)`);
    }
    return end;
  }

  expectEnd(end: number, what: string): void {
    if (this.pos !== end) throw new WireError(`malformed protobuf: ${what} overruns its length at byte ${end}`);
  }

  /** A varint that must fit 32 bits (tags). */
  varint32(): number {
    const buf = this.buf;
    let b = buf[this.pos++]!;
    if (b < 0x80) return b;
    let result = b & 0x7f;
    for (let shift = 7; shift < 35; shift += 7) {
      if (this.pos >= buf.length) throw new WireError(`truncated protobuf: varint runs past the end at byte ${this.pos}`);
      b = buf[this.pos++]!;
      result |= (b & 0x7f) << shift;
      if (b < 0x80) return result >>> 0;
    }
    throw new WireError(`malformed protobuf: tag varint too long at byte ${this.pos}`);
  }

  /** A varint as a number when exact, else the uint64 as bigint. */
  varint(): Numeric {
    const buf = this.buf;
    const start = this.pos;
    if (start >= buf.length) throw new WireError(`truncated protobuf: varint runs past the end at byte ${start}`);
    let b = buf[this.pos++]!;
    if (b < 0x80) return b;
    // Up to 4 bytes in 32-bit integers, apart from the longer ones: mixing them with doubles in one
    // variable made every result a boxed double (an allocation per id read).
    let small = b & 0x7f;
    for (let shift = 7; shift < 28; shift += 7) {
      if (this.pos >= buf.length) throw new WireError(`truncated protobuf: varint runs past the end at byte ${this.pos}`);
      b = buf[this.pos++]!;
      small |= (b & 0x7f) << shift;
      if (b < 0x80) return small;
    }
    return this.longVarint(start);
  }

  /** A varint of 5 to 10 bytes starting at `start` (pos is past its fourth byte). */
  private longVarint(start: number): Numeric {
    const buf = this.buf;
    let result = 0;
    let scale = 1;
    for (let p = start; p < this.pos; p++, scale *= 128) result += (buf[p]! & 0x7f) * scale;
    for (let i = 4; i < 10; i++) {
      if (this.pos >= buf.length) throw new WireError(`truncated protobuf: varint runs past the end at byte ${this.pos}`);
      const b = buf[this.pos++]!;
      result += (b & 0x7f) * scale;
      if (b < 0x80) return result <= Number.MAX_SAFE_INTEGER ? result : this.bigVarint(start);
      scale *= 128;
    }
    throw new WireError(`malformed protobuf: varint longer than 10 bytes at byte ${start}`);
  }

  /** Steps over a varint with varint()'s checks, computing nothing. */
  skipVarint(): void {
    const buf = this.buf;
    const start = this.pos;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= buf.length) throw new WireError(`truncated protobuf: varint runs past the end at byte ${this.pos}`);
      if (buf[this.pos++]! < 0x80) return;
    }
    throw new WireError(`malformed protobuf: varint longer than 10 bytes at byte ${start}`);
  }

  private bigVarint(start: number): bigint {
    let result = 0n;
    let shift = 0n;
    for (let p = start; p < this.pos; p++) {
      result |= BigInt(this.buf[p]! & 0x7f) << shift;
      shift += 7n;
    }
    return BigInt.asUintN(64, result);
  }

  varintNumber(): number {
    const v = this.varint();
    if (typeof v !== 'number') throw new WireError(`malformed protobuf: value out of range at byte ${this.pos}`);
    return v;
  }

  /** A uint64 scalar (ids): a number when exact, else bigint; another wire type is read as 0. */
  uint(wire: number): Numeric {
    if (wire !== WIRE_VARINT) return this.skipNonVarint(wire);
    return this.varint();
  }

  /** A scalar field sent with a wire type profile.proto never uses: skipped, and read as 0. */
  skipNonVarint(wire: number): 0 {
    this.skip(wire, -1);
    return 0;
  }

  skip(wire: number, field: number): void {
    const at = this.pos;
    switch (wire) {
      case WIRE_VARINT: this.skipVarint(); return;
      case WIRE_FIXED64: this.pos += 8; break;
      case WIRE_BYTES: this.pos = this.messageEnd(wire); return;
      case WIRE_FIXED32: this.pos += 4; break;
      default: throw new WireError(`not a pprof protobuf: invalid wire type ${wire}${field >= 0 ? ` for field ${field}` : ''} at byte ${at}`);
    }
    if (this.pos > this.buf.length) throw new WireError(`truncated protobuf: field at byte ${at} runs past the end`);
  }
}
