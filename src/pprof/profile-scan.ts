/**
 * decodeProfile's verdict without its objects: whether bytes are a profile decodeProfile accepts,
 * and if so its time_nanos and sample count, from walks over the wire format that build nothing
 * per sample, location or string. A store's upload check needs only that (profefe's collector
 * accepts a profile that parses and has samples), and a full decode of a real heap profile costs
 * ten times as much (objects for every sample, location, function and string).
 *
 * Same answers, same words: the first walk follows profile-reader.ts's ProfileReader field by
 * field (the same wire checks, in the same byte order, so the same first error); the second
 * makes decode.ts's checkAndNormalize checks in its order (string table, sample types, mappings,
 * functions, locations, samples, header). test/pprof/profile-scan.test.ts holds the two to it
 * on valid, truncated, mutated, bomb and hostile inputs.
 */
import { DEFAULT_DECODE_LIMITS, inflateProfile, type DecodeLimits } from './decode.js';
import { ProfileFormatError } from './errors.js';
import { toInt64, type Int64 } from './int64.js';
import { checkProfileLimits } from './profile-reader.js';
import { WireCursor, WireError, WIRE_BYTES, WIRE_FIXED32, WIRE_FIXED64, WIRE_VARINT, type Numeric } from './wire-cursor.js';



/** What {@link scanProfile} learns of a profile decodeProfile would accept. */
export interface ProfileScan {
  /** time_nanos as decodeProfile gives it (0 when unset). */
  readonly timeNanos: Int64;
  /** Number of samples. */
  readonly samples: number;
}

/**
 * Checks bytes exactly as {@link decodeProfile} does, with the same limits, and throws the same
 * ProfileFormatError (same message) for every input it rejects; for the others returns
 * time_nanos and the sample count. Allocates the inflated bytes and sets of ids, never objects
 * per sample, location, function or string.
 */
export function scanProfile(bytes: Uint8Array, source?: string, limits: Partial<DecodeLimits> = {}): ProfileScan {
  const lim: DecodeLimits = { ...DEFAULT_DECODE_LIMITS, ...limits };
  const raw = inflateProfile(bytes, source, lim);
  const scanner = new ProfileScanner(raw);
  let problem: string | undefined;
  try {
    checkProfileLimits(raw, lim);
    problem = scanner.scan();
  } catch (err) {
    if (err instanceof WireError) throw new ProfileFormatError(err.message, source);
    throw err;
  }
  if (problem) throw new ProfileFormatError(`invalid pprof profile: ${problem}`, source);
  return { timeNanos: scanner.timeNanos, samples: scanner.samples.length };
}

interface IdStats {
  count: number;
  maxId: Numeric;
}

/** Where messages of one kind start (their tags), in byte order. */
class Positions {
  private at = new Uint32Array(64);
  length = 0;

  push(pos: number): void {
    if (this.length === this.at.length) {
      const grown = new Uint32Array(this.at.length * 2);
      grown.set(this.at);
      this.at = grown;
    }
    this.at[this.length++] = pos;
  }

  get(i: number): number {
    return this.at[i]!;
  }
}

/**
 * The scan: ProfileReader's walk, field by field with its wire checks, then checkAndNormalize's
 * checks in their order. Samples, most of the bytes, are walked once: their wire checks are put
 * off to the second walk, and made first when the first walk fails, so that the error that
 * comes first in the bytes is still the one reported.
 */
class ProfileScanner extends WireCursor {
  timeNanos: Int64 = 0;
  readonly samples = new Positions();
  private readonly mappings = new Positions();
  private readonly functions = new Positions();
  private readonly locations = new Positions();
  private readonly mappingIds: IdStats = { count: 0, maxId: 0 };
  private readonly functionIds: IdStats = { count: 0, maxId: 0 };
  private readonly locationIds: IdStats = { count: 0, maxId: 0 };
  private sampleTypes = 0;
  /** The largest string index a sample type names (they are non-negative). */
  private sampleTypeStrings = 0;
  /** string_table entries; the reader adds "" when there are none. */
  private strings = 0;
  /** The first string decodes to "" (TextDecoder drops a leading byte-order mark). */
  private firstStringEmpty = true;
  private periodType: [number, number] | undefined;
  private commentMin = 0;
  private commentMax = 0;
  /** drop_frames, keep_frames, default_sample_type, doc_url: the last of each counts. */
  private readonly header = [0, 0, 0, 0];
  /** The ids of mappings and functions, once checked. */
  private mappingSet: IdSet | undefined;
  private functionSet: IdSet | undefined;

  /** Throws the WireError the reader would; else returns the problem checkAndNormalize would find, if any. */
  scan(): string | undefined {
    try {
      this.readTopLevel();
    } catch (err) {
      // A sample before the failing field would have failed first.
      if (err instanceof WireError) this.readSamples(false);
      throw err;
    }
    const nStrings = Math.max(this.strings, 1);
    const bad = (x: number) => x < 0 || x >= nStrings;
    let problem: string | undefined;
    if (!this.firstStringEmpty) problem = 'string_table[0] must be ""';
    else if (this.sampleTypes > 0 && bad(this.sampleTypeStrings)) problem = 'sample type refers to a missing string';
    else if (this.sampleTypes === 0 && this.samples.length > 0) problem = 'samples present but no sample types';
    const locationIds = new IdSet(this.locationIds);
    problem ??= this.checkMappingsAndFunctions(bad) ?? this.checkLocations(locationIds);
    // Every sample's wire checks come before any of these problems; their own checks after them.
    const sampleProblem = this.readSamples(problem === undefined, locationIds, bad);
    problem ??= sampleProblem;
    if (problem) return problem;
    if (this.periodType && (bad(this.periodType[0]) || bad(this.periodType[1]))) return 'period type refers to a missing string';
    if (this.commentMin < 0 || this.commentMax >= nStrings) return 'comment refers to a missing string';
    if (this.header.some(bad)) return 'header refers to a missing string';
    return undefined;
  }

  private readTopLevel(): void {
    let timeNanosSeen = false;
    const end = this.buf.length;
    while (this.pos < end) {
      const at = this.pos;
      const tag = this.varint32();
      const field = tag >>> 3;
      const wire = tag & 7;
      switch (field) {
        case 1: {
          const [type, unit] = this.valueType(this.messageEnd(wire));
          this.sampleTypeStrings = Math.max(this.sampleTypeStrings, type, unit);
          this.sampleTypes++;
          break;
        }
        case 2: {
          const stop = this.messageEnd(wire);
          this.samples.push(at);
          this.pos = stop;
          break;
        }
        case 3: this.mappings.push(at); countId(this.mappingIds, this.readMapping(this.messageEnd(wire))); break;
        case 4: this.locations.push(at); countId(this.locationIds, this.readLocation(this.messageEnd(wire))); break;
        case 5: this.functions.push(at); countId(this.functionIds, this.readFunction(this.messageEnd(wire))); break;
        case 6: {
          const stop = this.messageEnd(wire);
          if (this.strings === 0) this.firstStringEmpty = decodesToEmpty(this.buf, this.pos, stop);
          this.strings++;
          this.pos = stop;
          break;
        }
        case 7: this.header[0] = this.stringIndex(wire); break;
        case 8: this.header[1] = this.stringIndex(wire); break;
        case 9: {
          if (timeNanosSeen) throw new WireError('concatenated profiles detected (two profiles in one input; merge them instead)');
          timeNanosSeen = true;
          const v = this.uint(wire);
          this.timeNanos = typeof v === 'number' ? v : toInt64(v);
          break;
        }
        case 10: case 12: this.scalar(wire); break;
        case 11: this.periodType = this.valueType(this.messageEnd(wire)); break;
        case 13: {
          const stop = wire === WIRE_VARINT ? -1 : this.messageEnd(wire);
          while (stop < 0 || this.pos < stop) {
            const c = signedNumber(this.varint());
            this.commentMin = Math.min(this.commentMin, c);
            this.commentMax = Math.max(this.commentMax, c);
            if (stop < 0) break;
          }
          if (stop >= 0) this.expectEnd(stop, 'packed integers');
          break;
        }
        case 14: this.header[2] = this.stringIndex(wire); break;
        case 15: this.header[3] = this.stringIndex(wire); break;
        default: this.skip(wire, field);
      }
    }
  }

  private valueType(end: number): [number, number] {
    let type = 0;
    let unit = 0;
    while (this.pos < end) {
      const tag = this.varint32();
      if (tag === 0x08) type = this.varintNumber();
      else if (tag === 0x10) unit = this.varintNumber();
      else this.skip(tag & 7, tag >>> 3);
    }
    this.expectEnd(end, 'value type');
    return [type, unit];
  }

  /** Returns the mapping's id. */
  private readMapping(end: number): Numeric {
    let id: Numeric = 0;
    while (this.pos < end) {
      const tag = this.varint32();
      const field = tag >>> 3;
      if (field === 1) id = this.id(tag & 7);
      else if (field >= 2 && field <= 10) this.scalar(tag & 7);
      else this.skip(tag & 7, field);
    }
    this.expectEnd(end, 'mapping');
    return id;
  }

  /** Returns the location's id. */
  private readLocation(end: number): Numeric {
    let id: Numeric = 0;
    while (this.pos < end) {
      const tag = this.varint32();
      const wire = tag & 7;
      switch (tag >>> 3) {
        case 1: id = this.id(wire); break;
        case 2: case 3: case 5: this.scalar(wire); break;
        case 4: {
          const lineEnd = this.messageEnd(wire);
          while (this.pos < lineEnd) {
            const t = this.varint32();
            const field = t >>> 3;
            if (field >= 1 && field <= 3) this.scalar(t & 7);
            else this.skip(t & 7, field);
          }
          this.expectEnd(lineEnd, 'line');
          break;
        }
        default: this.skip(wire, tag >>> 3);
      }
    }
    this.expectEnd(end, 'location');
    return id;
  }

  /** Returns the function's id. */
  private readFunction(end: number): Numeric {
    let id: Numeric = 0;
    while (this.pos < end) {
      const tag = this.varint32();
      const field = tag >>> 3;
      if (field === 1) id = this.id(tag & 7);
      else if (field >= 2 && field <= 5) this.scalar(tag & 7);
      else this.skip(tag & 7, field);
    }
    this.expectEnd(end, 'function');
    return id;
  }

  /** Moves to the message that starts (with its tag) at `at`; returns its end. */
  private enter(at: number): number {
    this.pos = at;
    const tag = this.varint32();
    return this.messageEnd(tag & 7);
  }

  /** Mapping ids (zero, repeated) and strings, then the same for functions. */
  private checkMappingsAndFunctions(bad: (x: number) => boolean): string | undefined {
    const mappingIds = new IdSet(this.mappingIds);
    for (let i = 0; i < this.mappings.length; i++) {
      const end = this.enter(this.mappings.get(i));
      let id: Numeric = 0;
      let filename = 0;
      let buildId = 0;
      while (this.pos < end) {
        const tag = this.varint32();
        const wire = tag & 7;
        switch (tag >>> 3) {
          case 1: id = this.id(wire); break;
          case 5: filename = this.stringIndex(wire); break;
          case 6: buildId = this.stringIndex(wire); break;
          default: this.skip(wire, tag >>> 3);
        }
      }
      if (id === 0 || !mappingIds.add(id)) return `mapping id ${id} is zero or repeated`;
      if (bad(filename) || bad(buildId)) return `mapping ${id} refers to a missing string`;
    }
    this.mappingSet = mappingIds;
    const functionIds = new IdSet(this.functionIds);
    for (let i = 0; i < this.functions.length; i++) {
      const end = this.enter(this.functions.get(i));
      let id: Numeric = 0;
      let name = 0;
      let systemName = 0;
      let filename = 0;
      while (this.pos < end) {
        const tag = this.varint32();
        const wire = tag & 7;
        switch (tag >>> 3) {
          case 1: id = this.id(wire); break;
          case 2: name = this.stringIndex(wire); break;
          case 3: systemName = this.stringIndex(wire); break;
          case 4: filename = this.stringIndex(wire); break;
          default: this.skip(wire, tag >>> 3);
        }
      }
      if (id === 0 || !functionIds.add(id)) return `function id ${id} is zero or repeated`;
      if (bad(name) || bad(systemName) || bad(filename)) return `function ${id} refers to a missing string`;
    }
    this.functionSet = functionIds;
    return undefined;
  }

  /** Location ids (zero, repeated) into `ids`, their mappings, then their lines' functions. */
  private checkLocations(ids: IdSet): string | undefined {
    const mappingIds = this.mappingSet!;
    const functionIds = this.functionSet!;
    for (let i = 0; i < this.locations.length; i++) {
      const start = this.locations.get(i);
      const end = this.enter(start);
      const body = this.pos;
      let id: Numeric = 0;
      let mappingId: Numeric = 0;
      while (this.pos < end) {
        const tag = this.varint32();
        const wire = tag & 7;
        switch (tag >>> 3) {
          case 1: id = this.id(wire); break;
          case 2: mappingId = this.id(wire); break;
          default: this.skip(wire, tag >>> 3);
        }
      }
      if (id === 0 || !ids.add(id)) return `location id ${id} is zero or repeated`;
      if (mappingId !== 0 && !mappingIds.has(mappingId)) return `location ${id} refers to unknown mapping ${mappingId}`;
      // Then its lines, in order (the id and the mapping may come after them in the bytes).
      this.pos = body;
      while (this.pos < end) {
        const tag = this.varint32();
        if (tag >>> 3 !== 4) {
          this.skip(tag & 7, tag >>> 3);
          continue;
        }
        const lineEnd = this.messageEnd(tag & 7);
        let functionId: Numeric = 0;
        while (this.pos < lineEnd) {
          const t = this.varint32();
          if (t >>> 3 === 1) functionId = this.id(t & 7);
          else this.skip(t & 7, t >>> 3);
        }
        if (functionId !== 0 && !functionIds.has(functionId)) return `location ${id} refers to unknown function ${functionId}`;
      }
    }
    return undefined;
  }

  /**
   * Walks the samples with the reader's wire checks (throwing its WireError) and, with `check`,
   * checkAndNormalize's sample checks: returns the first sample's problem.
   */
  private readSamples(check: false): undefined;
  private readSamples(check: boolean, locationIds: IdSet, bad: (x: number) => boolean): string | undefined;
  private readSamples(check: boolean, locationIds?: IdSet, bad?: (x: number) => boolean): string | undefined {
    const nValues = this.sampleTypes;
    let problem: string | undefined;
    for (let i = 0; i < this.samples.length; i++) {
      const end = this.enter(this.samples.get(i));
      const checking = check && problem === undefined;
      let values = 0;
      let unknownLocation: Numeric | undefined;
      let badLabel = false;
      while (this.pos < end) {
        const tag = this.varint32();
        const wire = tag & 7;
        switch (tag >>> 3) {
          case 1: {
            const stop = wire === WIRE_VARINT ? -1 : this.messageEnd(wire);
            while (stop < 0 || this.pos < stop) {
              const id = exactId(this.varint());
              if (checking && unknownLocation === undefined && !locationIds!.has(id)) unknownLocation = id;
              if (stop < 0) break;
            }
            if (stop >= 0) this.expectEnd(stop, 'packed integers');
            break;
          }
          case 2: {
            const stop = wire === WIRE_VARINT ? -1 : this.messageEnd(wire);
            while (stop < 0 || this.pos < stop) {
              this.skipVarint();
              values++;
              if (stop < 0) break;
            }
            if (stop >= 0) this.expectEnd(stop, 'packed integers');
            break;
          }
          case 3: {
            const labelEnd = this.messageEnd(wire);
            let key = 0;
            let str = 0;
            let numUnit = 0;
            while (this.pos < labelEnd) {
              const t = this.varint32();
              const w = t & 7;
              switch (t >>> 3) {
                case 1: key = this.stringIndex(w); break;
                case 2: str = this.stringIndex(w); break;
                case 3: this.scalar(w); break;
                case 4: numUnit = this.stringIndex(w); break;
                default: this.skip(w, t >>> 3);
              }
            }
            this.expectEnd(labelEnd, 'label');
            if (checking && (bad!(key) || bad!(str) || bad!(numUnit))) badLabel = true;
            break;
          }
          default: this.skip(wire, tag >>> 3);
        }
      }
      this.expectEnd(end, 'sample');
      if (!checking) continue;
      if (values !== nValues) problem = `sample ${i} has ${values} values for ${nValues} sample types`;
      else if (unknownLocation !== undefined) problem = `sample ${i} refers to unknown location ${unknownLocation}`;
      else if (badLabel) problem = `sample ${i} has a label with a missing string`;
    }
    return problem;
  }

  /** An id or a reference to one, as decode normalises it: a number when exact, else bigint. */
  id(wire: number): Numeric {
    return exactId(this.uint(wire));
  }

  /** A string index, as the reader reads it (a signed number). */
  stringIndex(wire: number): number {
    return signedNumber(this.uint(wire));
  }

  /** A scalar whose value nothing checks (values, lines, flags): stepped over with the reader's checks. */
  scalar(wire: number): void {
    if (wire !== WIRE_VARINT) this.skip(wire, -1);
    else this.skipVarint();
  }
}

const MAX_SAFE_BIG = BigInt(Number.MAX_SAFE_INTEGER);

/** decode's toExactNumeric: a uint64 as a number when exact (a 10-byte varint can wrap to a small one). */
function exactId(v: Numeric): Numeric {
  return typeof v === 'bigint' && v <= MAX_SAFE_BIG ? Number(v) : v;
}

/** The reader's reading of a uint64 as a signed number (string indexes, comments). */
function signedNumber(v: Numeric): number {
  return typeof v === 'number' ? v : Number(BigInt.asIntN(64, v));
}

function countId(stats: IdStats, id: Numeric): void {
  stats.count++;
  if (id > stats.maxId) stats.maxId = id;
}

/** Whether TextDecoder (as pprof-format's string table uses it) makes "" of these bytes. */
function decodesToEmpty(buf: Uint8Array, start: number, end: number): boolean {
  return end === start || (end - start === 3 && buf[start] === 0xef && buf[start + 1] === 0xbb && buf[start + 2] === 0xbf);
}

/** A set of pprof ids: flags when they are small numbers (as decode's IdMap), else a Set. */
class IdSet {
  private readonly flags: Uint8Array | undefined;
  private readonly set: Set<Numeric> | undefined;

  constructor({ count, maxId }: IdStats) {
    if (typeof maxId === 'number' && maxId <= count * 2 + 1024) this.flags = new Uint8Array(maxId + 1);
    else this.set = new Set();
  }

  /** Adds an id; false when it was there already. */
  add(id: Numeric): boolean {
    if (this.flags) {
      // Every id is a number <= maxId here: maxId is the largest of them.
      if (this.flags[id as number] === 1) return false;
      this.flags[id as number] = 1;
      return true;
    }
    if (this.set!.has(id)) return false;
    this.set!.add(id);
    return true;
  }

  has(id: Numeric): boolean {
    if (this.flags) return typeof id === 'number' && this.flags[id] === 1;
    return this.set!.has(id);
  }
}
