/**
 * A direct reader of profile.proto bytes into pprof-format's classes.
 *
 * Why not pprof-format's own `Profile.decode`: it slices a new subarray for every field and
 * every packed varint, which made decoding 70-80% of a large merge (1000 Go heap profiles:
 * 6.7 s, vs 11 s for go tool pprof; see bench/). This reader walks the bytes once with bounds
 * checks and builds the same objects; pprof-format remains the model, the encoder, and the
 * reference that test/pprof/profile-reader.test.ts compares this reader against.
 *
 * Integers: uint64 fields (ids, addresses) come back as numbers when exact, else bigint;
 * int64 fields (sample values, label numbers, lines, columns, start lines, the period, time and
 * duration) are signed (negative values are 10-byte varints) and exact, as canonical Int64s
 * (int64.ts): a number when it fits one exactly, else a bigint. String indexes are numbers.
 */
import { Function as PprofFunction, Label, Line, Location, Mapping, Profile, Sample, StringTable, ValueType, emptyTableToken } from 'pprof-format';
import { toInt64, type Int64 } from './int64.js';
import { WireCursor, WireError, WIRE_BYTES, WIRE_FIXED32, WIRE_FIXED64, WIRE_VARINT, type Numeric } from './wire-cursor.js';

// Thrown for bytes that are not a well-formed profile.proto message; decode.ts words it.
export { WireError };

/** The limits {@link checkProfileLimits} enforces (decode.ts's DecodeLimits). */
export interface ProfileCountLimits {
  readonly maxSamples: number;
  readonly maxLocations: number;
  readonly maxFunctions: number;
  readonly maxMappings: number;
  readonly maxStrings: number;
  readonly maxUnknownFieldBytes: number;
}

/**
 * One pass over the top-level fields of profile.proto bytes, building nothing: throws WireError
 * when there are more samples, locations, functions, mappings or strings than allowed, or more
 * bytes of fields profile.proto does not define. Run before readProfile, so that a bomb of
 * millions of tiny messages costs a scan, not millions of objects. Malformed bytes are left for
 * readProfile to report.
 */
export function checkProfileLimits(buf: Uint8Array, limits: ProfileCountLimits): void {
  const counted: Record<number, [name: string, max: number]> = {
    2: ['samples (the --max-samples limit)', limits.maxSamples],
    3: ['mappings (a decode limit)', limits.maxMappings],
    4: ['locations (a decode limit)', limits.maxLocations],
    5: ['functions (a decode limit)', limits.maxFunctions],
    6: ['strings (a decode limit)', limits.maxStrings],
  };
  const counts = new Map<number, number>();
  let unknown = 0;
  let pos = 0;
  const varint = (): number => {
    let result = 0;
    let scale = 1;
    for (let i = 0; i < 10 && pos < buf.length; i++) {
      const b = buf[pos++]!;
      result += (b & 0x7f) * scale;
      if (b < 0x80) return result;
      scale *= 128;
    }
    return -1;
  };
  while (pos < buf.length) {
    const start = pos;
    const tag = varint();
    if (tag < 0) return;
    const field = Math.floor(tag / 8);
    switch (tag % 8) {
      case WIRE_VARINT: if (varint() < 0) return; break;
      case WIRE_FIXED64: pos += 8; break;
      case WIRE_FIXED32: pos += 4; break;
      case WIRE_BYTES: {
        const len = varint();
        if (len < 0) return;
        pos += len;
        break;
      }
      default: return;
    }
    if (pos > buf.length) return;
    const limit = counted[field];
    if (limit) {
      const n = (counts.get(field) ?? 0) + 1;
      counts.set(field, n);
      if (n > limit[1]) throw new WireError(`more than ${limit[1]} ${limit[0]}`);
    } else if (field < 1 || field > 15) {
      unknown += pos - start;
      if (unknown > limits.maxUnknownFieldBytes) throw new WireError(`more than ${limits.maxUnknownFieldBytes} bytes of fields profile.proto does not define (a decode limit)`);
    }
  }
}

/** Reads a complete Profile message. Throws WireError on malformed or truncated input. */
export function readProfile(buf: Uint8Array): Profile {
  return new ProfileReader(buf).profile();
}

class ProfileReader extends WireCursor {

  profile(): Profile {
    const sampleType: ValueType[] = [];
    const sample: Sample[] = [];
    const mapping: Mapping[] = [];
    const location: Location[] = [];
    const fn: PprofFunction[] = [];
    const strings = new StringTable(emptyTableToken);
    const comment: number[] = [];
    let dropFrames = 0;
    let keepFrames = 0;
    let timeNanos: Numeric = 0;
    let timeNanosSeen = false;
    let durationNanos: Numeric = 0;
    let periodType: ValueType | undefined;
    let period: Int64 = 0;
    let defaultSampleType = 0;
    let docUrl = 0;
    const end = this.buf.length;
    while (this.pos < end) {
      const tag = this.varint32();
      const field = tag >>> 3;
      const wire = tag & 7;
      switch (field) {
        case 1: sampleType.push(this.valueType(this.messageEnd(wire))); break;
        case 2: sample.push(this.sample(this.messageEnd(wire))); break;
        case 3: mapping.push(this.mapping(this.messageEnd(wire))); break;
        case 4: location.push(this.location(this.messageEnd(wire))); break;
        case 5: fn.push(this.function(this.messageEnd(wire))); break;
        case 6: {
          const stop = this.messageEnd(wire);
          strings._decodeString(this.buf.subarray(this.pos, stop));
          this.pos = stop;
          break;
        }
        case 7: dropFrames = this.int(wire); break;
        case 8: keepFrames = this.int(wire); break;
        case 9:
          // runtime/pprof writes time_nanos once; a second one means two profiles glued together.
          if (timeNanosSeen) throw new WireError('concatenated profiles detected (two profiles in one input; merge them instead)');
          timeNanosSeen = true;
          timeNanos = this.int64Exact(wire);
          break;
        case 10: durationNanos = this.int64Exact(wire); break;
        case 11: periodType = this.valueType(this.messageEnd(wire)); break;
        case 12: period = this.int64Exact(wire); break;
        case 13: this.repeatedInts(wire, comment); break;
        case 14: defaultSampleType = this.int(wire); break;
        case 15: docUrl = this.int(wire); break;
        default: this.skip(wire, field);
      }
    }
    if (strings.strings.length === 0) strings._decodeString(new Uint8Array(0));
    return new Profile({
      sampleType, sample, mapping, location, function: fn, stringTable: strings,
      dropFrames, keepFrames, timeNanos, durationNanos, periodType, period, comment, defaultSampleType, docUrl,
    });
  }

  private valueType(end: number): ValueType {
    let type = 0;
    let unit = 0;
    while (this.pos < end) {
      const tag = this.varint32();
      if (tag === 0x08) type = this.varintNumber();
      else if (tag === 0x10) unit = this.varintNumber();
      else this.skip(tag & 7, tag >>> 3);
    }
    this.expectEnd(end, 'value type');
    return new ValueType({ type, unit });
  }

  private sample(end: number): Sample {
    const locationId: Numeric[] = [];
    const value: Int64[] = [];
    let label: Label[] | undefined;
    while (this.pos < end) {
      const tag = this.varint32();
      switch (tag >>> 3) {
        case 1: this.repeatedUints(tag & 7, locationId); break;
        case 2: this.repeatedInt64s(tag & 7, value); break;
        case 3: (label ??= []).push(this.label(this.messageEnd(tag & 7))); break;
        default: this.skip(tag & 7, tag >>> 3);
      }
    }
    this.expectEnd(end, 'sample');
    return new Sample({ locationId, value, label });
  }

  private label(end: number): Label {
    let key = 0;
    let str = 0;
    let numUnit = 0;
    let num: Int64 = 0;
    while (this.pos < end) {
      const tag = this.varint32();
      switch (tag >>> 3) {
        case 1: key = this.int(tag & 7); break;
        case 2: str = this.int(tag & 7); break;
        case 3: num = this.int64Exact(tag & 7); break;
        case 4: numUnit = this.int(tag & 7); break;
        default: this.skip(tag & 7, tag >>> 3);
      }
    }
    this.expectEnd(end, 'label');
    return new Label({ key, str, num, numUnit });
  }

  private mapping(end: number): Mapping {
    const m = new Mapping({});
    while (this.pos < end) {
      const tag = this.varint32();
      const wire = tag & 7;
      switch (tag >>> 3) {
        case 1: m.id = this.uint(wire); break;
        case 2: m.memoryStart = this.uint(wire); break;
        case 3: m.memoryLimit = this.uint(wire); break;
        case 4: m.fileOffset = this.uint(wire); break;
        case 5: m.filename = this.int(wire); break;
        case 6: m.buildId = this.int(wire); break;
        case 7: m.hasFunctions = this.int(wire) !== 0; break;
        case 8: m.hasFilenames = this.int(wire) !== 0; break;
        case 9: m.hasLineNumbers = this.int(wire) !== 0; break;
        case 10: m.hasInlineFrames = this.int(wire) !== 0; break;
        default: this.skip(wire, tag >>> 3);
      }
    }
    this.expectEnd(end, 'mapping');
    return m;
  }

  private location(end: number): Location {
    let id: Numeric = 0;
    let mappingId: Numeric = 0;
    let address: Numeric = 0;
    let isFolded = false;
    const line: Line[] = [];
    while (this.pos < end) {
      const tag = this.varint32();
      const wire = tag & 7;
      switch (tag >>> 3) {
        case 1: id = this.uint(wire); break;
        case 2: mappingId = this.uint(wire); break;
        case 3: address = this.uint(wire); break;
        case 4: line.push(this.line(this.messageEnd(wire))); break;
        case 5: isFolded = this.int(wire) !== 0; break;
        default: this.skip(wire, tag >>> 3);
      }
    }
    this.expectEnd(end, 'location');
    return new Location({ id, mappingId, address, line, isFolded });
  }

  private line(end: number): Line {
    let functionId: Numeric = 0;
    let line: Int64 = 0;
    let column: Int64 = 0;
    while (this.pos < end) {
      const tag = this.varint32();
      const wire = tag & 7;
      switch (tag >>> 3) {
        case 1: functionId = this.uint(wire); break;
        case 2: line = this.int64Exact(wire); break;
        case 3: column = this.int64Exact(wire); break;
        default: this.skip(wire, tag >>> 3);
      }
    }
    this.expectEnd(end, 'line');
    return new Line({ functionId, line, column });
  }

  private function(end: number): PprofFunction {
    let id: Numeric = 0;
    let name = 0;
    let systemName = 0;
    let filename = 0;
    let startLine: Int64 = 0;
    while (this.pos < end) {
      const tag = this.varint32();
      const wire = tag & 7;
      switch (tag >>> 3) {
        case 1: id = this.uint(wire); break;
        case 2: name = this.int(wire); break;
        case 3: systemName = this.int(wire); break;
        case 4: filename = this.int(wire); break;
        case 5: startLine = this.int64Exact(wire); break;
        default: this.skip(wire, tag >>> 3);
      }
    }
    this.expectEnd(end, 'function');
    return new PprofFunction({ id, name, systemName, filename, startLine });
  }

  // ---- profile.proto's scalars (the wire primitives are WireCursor's) ----

  /** A string index, enum or flag: a signed number (these are small). */
  private int(wire: number): number {
    if (wire !== WIRE_VARINT) return this.skipNonVarint(wire);
    const v = this.varint();
    return typeof v === 'number' ? v : Number(BigInt.asIntN(64, v));
  }

  /** int64 field kept exact: a canonical Int64 (negative values arrive as 10-byte varints). */
  private int64Exact(wire: number): Int64 {
    if (wire !== WIRE_VARINT) return this.skipNonVarint(wire);
    const v = this.varint();
    return typeof v === 'number' ? v : toInt64(v);
  }

  /** Repeated int64 kept exact (sample values), packed or not. */
  private repeatedInt64s(wire: number, out: Int64[]): void {
    if (wire === WIRE_VARINT) {
      out.push(this.int64Exact(wire));
      return;
    }
    const end = this.messageEnd(wire);
    while (this.pos < end) {
      const v = this.varint();
      out.push(typeof v === 'number' ? v : toInt64(v));
    }
    this.expectEnd(end, 'packed integers');
  }

  /** Repeated string indexes (comments), packed or not. */
  private repeatedInts(wire: number, out: number[]): void {
    if (wire === WIRE_VARINT) {
      out.push(this.int(wire));
      return;
    }
    const end = this.messageEnd(wire);
    while (this.pos < end) {
      const v = this.varint();
      out.push(typeof v === 'number' ? v : Number(BigInt.asIntN(64, v)));
    }
    this.expectEnd(end, 'packed integers');
  }

  /** Repeated uint64, packed or not. */
  private repeatedUints(wire: number, out: Numeric[]): void {
    if (wire === WIRE_VARINT) {
      out.push(this.varint());
      return;
    }
    const end = this.messageEnd(wire);
    while (this.pos < end) out.push(this.varint());
    this.expectEnd(end, 'packed integers');
  }


}
