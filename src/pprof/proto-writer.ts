/**
 * Writes protobuf bytes into one growing buffer. A nested message reserves one byte for its
 * length and moves its body when the length needs more, so nothing is measured twice. The bytes
 * are what pprof-format's encoder writes for the same values (zero scalars left out, repeated
 * integers packed, negative int64s as 10-byte varints).
 */
export class ProtoWriter {
  private buf = new Uint8Array(4096);
  pos = 0;

  /** The bytes written, in a buffer of their own size. */
  finish(): Uint8Array {
    return this.buf.slice(0, this.pos);
  }

  ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.pos + n) size *= 2;
    const buf = new Uint8Array(size);
    buf.set(this.buf.subarray(0, this.pos));
    this.buf = buf;
  }

  /** A varint of a non-negative integer below 2^32 (tags, lengths, ids, string indexes). */
  varint32(v: number): void {
    this.ensure(5);
    const buf = this.buf;
    let pos = this.pos;
    while (v >= 0x80) {
      buf[pos++] = (v & 0x7f) | 0x80;
      v >>>= 7;
    }
    buf[pos++] = v;
    this.pos = pos;
  }

  /** A varint of a 64-bit value given as words (low, high). */
  varint64(lo: number, hi: number): void {
    if (hi === 0) {
      this.varint32(lo);
      return;
    }
    this.ensure(10);
    const buf = this.buf;
    let pos = this.pos;
    // As pprof-format: 7 bits at a time from the 64-bit value while the high word is non-zero.
    while (hi !== 0) {
      buf[pos++] = (lo & 0x7f) | 0x80;
      lo = ((lo >>> 7) | (hi << 25)) >>> 0;
      hi >>>= 7;
    }
    while (lo > 0x7f) {
      buf[pos++] = (lo & 0x7f) | 0x80;
      lo >>>= 7;
    }
    buf[pos++] = lo;
    this.pos = pos;
  }

  /** A varint field, left out when the value is zero. */
  uint32Field(tag: number, v: number): void {
    if (v === 0) return;
    this.varint32(tag);
    this.varint32(v);
  }

  /** A varint field of a 64-bit value given as words, left out when it is zero. */
  int64Field(tag: number, lo: number, hi: number): void {
    if (lo === 0 && hi === 0) return;
    this.varint32(tag);
    this.varint64(lo, hi);
  }

  bytesField(tag: number, bytes: Uint8Array): void {
    this.varint32(tag);
    this.varint32(bytes.length);
    this.ensure(bytes.length);
    this.buf.set(bytes, this.pos);
    this.pos += bytes.length;
  }

  /** Starts a length-delimited field; returns where its body starts, for {@link endMessage}. */
  beginMessage(tag: number): number {
    this.varint32(tag);
    this.ensure(1);
    this.pos++;
    return this.pos;
  }

  /** Writes the length of the message begun at `start`. */
  endMessage(start: number): void {
    const length = this.pos - start;
    if (length < 0x80) {
      this.buf[start - 1] = length;
      return;
    }
    let extra = 0;
    for (let v = length >>> 7; v > 0; v >>>= 7) extra++;
    this.ensure(extra);
    this.buf.copyWithin(start + extra, start, this.pos);
    this.pos = start - 1;
    this.varint32(length);
    this.pos = start + extra + length;
  }
}
