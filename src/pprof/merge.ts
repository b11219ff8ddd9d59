import {
  Function as PprofFunction,
  Label,
  Line,
  Location,
  Mapping,
  Profile,
  Sample,
  StringTable,
  ValueType,
} from 'pprof-format';
import { DEFAULT_DECODE_LIMITS, decodeInflatedProfile, inflateProfile, type DecodeLimits } from './decode.js';
import { IncompatibleProfilesError } from './errors.js';
import { addInt64, type Int64 } from './int64.js';
import { int64FromWords, splitWords, uint64FromWords, words } from './int64-words.js';
import { MergeInput, mergeInputFromProfile, readMergeInput } from './merge-input.js';
import { ProtoWriter } from './proto-writer.js';
import { finishHash, grow, HASH_SEED, mixHash, TupleSet } from './tuple-set.js';

type Numeric = number | bigint;

/** Rounds mapping sizes like google/pprof so that ASLR and small size differences still match. */
const MAPSIZE_ROUNDING = 0x1000;
const TWO_32 = 4294967296;

interface MergedMapping {
  readonly id: number;
  readonly memoryStart: Numeric;
  readonly memoryLimit: Numeric;
  readonly fileOffset: Numeric;
  readonly filename: number;
  readonly buildId: number;
  readonly hasFunctions: boolean;
  readonly hasFilenames: boolean;
  readonly hasLineNumbers: boolean;
  readonly hasInlineFrames: boolean;
  /** memoryStart as words: locations are keyed by their address relative to it. */
  readonly startLo: number;
  readonly startHi: number;
}

/** A source mapping's merged mapping, and the shift of its addresses into it (words). */
interface MappedMapping {
  readonly out: MergedMapping;
  readonly offsetLo: number;
  readonly offsetHi: number;
}

/**
 * Merges profiles one at a time, with the semantics of google/pprof's profile.Merge:
 *
 * - sample types and period type (type and unit) must match the first profile's, otherwise
 *   IncompatibleProfilesError names both sources and both type lists;
 * - the result keeps the earliest non-zero time_nanos, the sum of duration_nanos, the largest
 *   period, the first drop/keep frames, default sample type and doc URL, and every distinct
 *   comment once, in order;
 * - strings, mappings, functions and locations are de-duplicated by value (mappings by
 *   build id or file, offset and rounded size; locations by mapping, normalised address,
 *   folding and lines), so the result refers only to what its samples use;
 * - samples with the same location stack and the same labels (numeric labels compared
 *   exactly, as int64) are summed with Go's int64 arithmetic: exact, wrapping around past
 *   2^63 - 1; samples whose values are all zero are dropped. Samples without a stack are
 *   kept, as profile.Merge keeps them (and the profefe collector's merge; `go tool pprof -top`
 *   counts them in its total): Go's threadcreate profiles have one. `dropStackless` leaves
 *   them out, as `go tool pprof -proto` does when it writes a profile.
 *
 * Profiles come in decoded ({@link add}) or as bytes ({@link addEncoded}, {@link addInflated}:
 * read straight into the merger's tables, no object per sample). Nothing of an input is kept,
 * so memory is bounded by the merged profile, not by the number of inputs. One deliberate
 * difference from Go: a profile without time_nanos does not reset the merged time to zero.
 */
export class ProfileMerger {
  /** `dropStackless`: leave out samples without a stack, as `go tool pprof -proto` does. */
  constructor(private readonly options: { readonly dropStackless?: boolean } = {}) {}

  private readonly strings: string[] = [''];
  private readonly stringIds = new Map<string, number>([['', 0]]);
  /** Merged string indexes, two per sample type (type, unit). */
  private sampleTypes: number[] = [];
  private sampleTypeNames: string[] = [];
  private periodTypeName = '';
  private periodType: [number, number] | undefined;
  private firstSource = '';
  private timeNanos: Int64 = 0;
  private durationNanos: Int64 = 0;
  private period: Int64 = 0;
  private readonly comments: number[] = [];
  private readonly seenComments = new Set<number>();
  private defaultSampleType = 0;
  private docUrl = 0;
  private dropFrames = 0;
  private keepFrames = 0;

  private readonly mappings: MergedMapping[] = [];
  private readonly mappingByKey = new Map<string, MergedMapping>();
  /** Functions by (name, system name, file name, start line words); id = index + 1. */
  private readonly functions = new TupleSet();
  /**
   * Locations by (mapping id, address - mapping start words, folded, then per line: function
   * id, line words, column words); id = index + 1.
   */
  private readonly locations = new TupleSet();
  /** Each location's address words (its first source's, shifted into the merged mapping). */
  private locationAddress = new Uint32Array(32);
  /** Samples by (location ids, then 0 and per label: key, str, num words, unit); index as in the result. */
  private readonly samples = new TupleSet();
  /** Each sample's sums, two words per sample type. */
  private values = new Uint32Array(64);

  private readonly input = new MergeInput();
  /** Scratch keys: a sample's, a location's (built while the sample's is), a function's. */
  private sampleKey = new Uint32Array(64);
  private locationKey = new Uint32Array(64);
  private readonly functionKey = new Uint32Array(5);
  private stringMemo = new Int32Array(64);
  private functionMemo = new Int32Array(64);
  private locationMemo = new Int32Array(64);

  /** How many profiles were added. */
  count = 0;

  /** Adds one decoded profile. `source` names it in errors (a file name or store id). */
  add(src: Profile, source = `profile #${this.count + 1}`): void {
    mergeInputFromProfile(src, this.input);
    this.addInput(this.input, source);
  }

  /**
   * Adds a profile as bytes (gzipped or not), as `add(decodeProfile(bytes, source, limits))`
   * would, with decodeProfile's limits and errors, but without building the profile's objects.
   */
  addEncoded(bytes: Uint8Array, source?: string, limits: Partial<DecodeLimits> = {}): void {
    this.addInflated(inflateProfile(bytes, source, limits), source, limits);
  }

  /**
   * {@link addEncoded} for bytes already through inflateProfile (or inflateProfileAsync): `raw`
   * is the protobuf itself, never gunzipped here.
   */
  addInflated(raw: Uint8Array, source?: string, limits: Partial<DecodeLimits> = {}): void {
    const lim: DecodeLimits = { ...DEFAULT_DECODE_LIMITS, ...limits };
    const name = source ?? `profile #${this.count + 1}`;
    if (raw.length <= lim.maxInflatedBytes && readMergeInput(raw, lim, this.input)) {
      this.addInput(this.input, name);
      return;
    }
    // Invalid, or unusual (sparse or huge ids, unpacked fields, ...): decodeProfile names the
    // problem, or reads it.
    this.add(decodeInflatedProfile(raw, source, lim), name);
  }

  /**
   * The merged profile. Throws when nothing was added. Each call builds new objects, which are
   * the caller's to change; `add` may be called afterwards.
   */
  result(): Profile {
    if (this.count === 0) throw new Error('no profiles to merge');
    const merged = this.buildProfile();
    // Values that cancelled out (e.g. negative diff samples) are dropped the way Go does it:
    // a second merge of the result skips zero samples and keeps only what is still used.
    return this.hasZeroSample() ? this.compacted(merged).result() : merged;
  }

  /**
   * The merged profile as profile.proto bytes (not gzipped): the bytes `result().encode()`
   * gives, written straight from the merger's tables.
   */
  encodeResult(): Uint8Array {
    if (this.count === 0) throw new Error('no profiles to merge');
    return this.hasZeroSample() ? this.compacted(this.buildProfile()).encodeResult() : this.writeProfile();
  }

  private compacted(merged: Profile): ProfileMerger {
    const again = new ProfileMerger(this.options);
    again.add(merged, this.firstSource);
    return again;
  }

  private addInput(m: MergeInput, source: string): void {
    this.checkCompatible(m, source);
    this.count++;

    const srcStrings = m.strings;
    if (this.stringMemo.length < srcStrings.length) this.stringMemo = new Int32Array(srcStrings.length * 2);
    const stringMemo = this.stringMemo;
    stringMemo.fill(-1, 0, srcStrings.length);
    const str = (i: number): number => {
      let out = stringMemo[i]!;
      if (out < 0) {
        out = this.dedup(srcStrings[i]!);
        stringMemo[i] = out;
      }
      return out;
    };
    this.combineHeader(m, str);

    const mappingMemo: (MappedMapping | undefined)[] = new Array(m.mappings.length);
    const mapMapping = (i: number): MappedMapping => (mappingMemo[i] ??= this.mapMapping(m, i, str));
    if (this.functionMemo.length < m.nFunctions) this.functionMemo = new Int32Array(m.nFunctions * 2);
    const functionMemo = this.functionMemo;
    functionMemo.fill(0, 0, m.nFunctions);
    const mapFunction = (i: number): number => {
      let out = functionMemo[i]!;
      if (out === 0) out = functionMemo[i] = this.mapFunction(m, i, str);
      return out;
    };
    if (this.locationMemo.length < m.nLocations) this.locationMemo = new Int32Array(m.nLocations * 2);
    const locationMemo = this.locationMemo;
    locationMemo.fill(0, 0, m.nLocations);

    // The first mapping is the main binary; take it first so it stays first in the result.
    if (this.mappings.length === 0 && m.mappings.length > 0) mapMapping(0);

    const nTypes = this.sampleTypes.length / 2;
    const nWords = 2 * nTypes;
    const values = m.values;
    const refs = m.locRefs;
    const locStart = m.sampleLocStart;
    const labelStart = m.sampleLabelStart;
    for (let s = 0; s < m.nSamples; s++) {
      const v0 = s * nWords;
      let zero = true;
      for (let k = 0; k < nWords; k++) {
        if (values[v0 + k] !== 0) {
          zero = false;
          break;
        }
      }
      const r0 = locStart[s]!;
      const r1 = locStart[s + 1]!;
      // go tool pprof -proto drops stackless samples when it writes a profile; profile.Merge and
      // -top keep them (they belong to no function, but to the total).
      if (zero || (r0 === r1 && this.options.dropStackless)) continue;
      const l0 = labelStart[s]!;
      const l1 = labelStart[s + 1]!;
      const keyLength = r1 - r0 + (l1 > l0 ? 1 + 5 * (l1 - l0) : 0);
      if (this.sampleKey.length < keyLength) this.sampleKey = new Uint32Array(keyLength * 2);
      const key = this.sampleKey;
      let h = HASH_SEED;
      let n = 0;
      for (let r = r0; r < r1; r++) {
        const loc = refs[r]!;
        let outId = locationMemo[loc]!;
        if (outId === 0) outId = locationMemo[loc] = this.mapLocation(m, loc, mapMapping, mapFunction);
        key[n++] = outId;
        h = mixHash(h, outId);
      }
      if (l1 > l0) {
        key[n++] = 0; // location ids are positive: nothing else looks like this separator
        h = mixHash(h, 0);
        n = this.labelKey(m, l0, l1, str, key, n);
        for (let i = r1 - r0 + 1; i < n; i++) h = mixHash(h, key[i]!);
      }
      const before = this.samples.size;
      const index = this.samples.intern(key, n, finishHash(h));
      const a0 = index * nWords;
      if (index === before) {
        if (this.values.length < a0 + nWords) this.values = grow(this.values, a0 + nWords);
        this.values.set(values.subarray(v0, v0 + nWords), a0);
        continue;
      }
      const acc = this.values;
      for (let k = 0; k < nWords; k += 2) {
        const lo = acc[a0 + k]! + values[v0 + k]!;
        acc[a0 + k] = lo; // stored modulo 2^32
        acc[a0 + k + 1] = acc[a0 + k + 1]! + values[v0 + k + 1]! + (lo >= TWO_32 ? 1 : 0);
      }
    }
  }

  /**
   * Writes the labels of a sample into `key` from `n` on, ordered by merged key (a stable sort,
   * keeping the order of repeated keys, as Go's map of value lists does).
   */
  private labelKey(m: MergeInput, l0: number, l1: number, str: (i: number) => number, key: Uint32Array, n: number): number {
    const labels = m.labels;
    const first = n;
    for (let l = l0; l < l1; l++) {
      const at = 5 * l;
      const k = str(labels[at]!);
      // Insertion sort by key: samples have a few labels.
      let p = n;
      while (p > first && key[p - 5]! > k) p -= 5;
      if (p < n) key.copyWithin(p + 5, p, n);
      key[p] = k;
      key[p + 1] = labels[at + 1] ? str(labels[at + 1]!) : 0;
      key[p + 2] = labels[at + 2]!;
      key[p + 3] = labels[at + 3]!;
      key[p + 4] = labels[at + 4] ? str(labels[at + 4]!) : 0;
      n += 5;
    }
    return n;
  }

  private dedup(s: string): number {
    let i = this.stringIds.get(s);
    if (i === undefined) {
      i = this.strings.push(s) - 1;
      this.stringIds.set(s, i);
    }
    return i;
  }

  private checkCompatible(m: MergeInput, source: string): void {
    const srcStrings = m.strings;
    const names: string[] = [];
    for (let i = 0; i < m.sampleTypes.length; i += 2) names.push(`${srcStrings[m.sampleTypes[i]!]}/${srcStrings[m.sampleTypes[i + 1]!]}`);
    const period = m.periodType ? `${srcStrings[m.periodType[0]]}/${srcStrings[m.periodType[1]]}` : '';
    if (this.count === 0) {
      this.firstSource = source;
      this.sampleTypeNames = names;
      this.periodTypeName = period;
      this.sampleTypes = m.sampleTypes.map((i) => this.dedup(srcStrings[i]!));
      if (m.periodType) this.periodType = [this.dedup(srcStrings[m.periodType[0]]!), this.dedup(srcStrings[m.periodType[1]]!)];
      return;
    }
    if (names.join(' ') !== this.sampleTypeNames.join(' ')) {
      throw new IncompatibleProfilesError(
        `cannot merge ${source} into ${this.firstSource}: sample types differ ([${names.join(' ')}] vs [${this.sampleTypeNames.join(' ')}])`,
      );
    }
    if (period !== this.periodTypeName) {
      throw new IncompatibleProfilesError(
        `cannot merge ${source} into ${this.firstSource}: period types differ (${period || 'none'} vs ${this.periodTypeName || 'none'})`,
      );
    }
  }

  private combineHeader(m: MergeInput, str: (i: number) => number): void {
    const t = m.timeNanos;
    if (t != 0 && (this.timeNanos == 0 || t < this.timeNanos)) this.timeNanos = t;
    this.durationNanos = addInt64(this.durationNanos, m.durationNanos);
    if (m.period > this.period) this.period = m.period;
    for (const c of m.comments) {
      const out = str(c);
      if (!this.seenComments.has(out)) {
        this.seenComments.add(out);
        this.comments.push(out);
      }
    }
    if (this.defaultSampleType === 0 && m.defaultSampleType) this.defaultSampleType = str(m.defaultSampleType);
    if (this.docUrl === 0 && m.docUrl) this.docUrl = str(m.docUrl);
    if (this.count === 1) {
      if (m.dropFrames) this.dropFrames = str(m.dropFrames);
      if (m.keepFrames) this.keepFrames = str(m.keepFrames);
    }
  }

  private mapMapping(m: MergeInput, i: number, str: (i: number) => number): MappedMapping {
    const src = m.mappings[i]!;
    const size = roundMappingSize(src.memoryStart, src.memoryLimit);
    const buildId = str(src.buildId);
    const file = str(src.filename);
    // A mapping with neither build id nor file is fake; all such mappings are one.
    const identity = buildId !== 0 ? `b${buildId}` : file !== 0 ? `f${file}` : '';
    const key = `${size}|${src.fileOffset}|${identity}`;
    const existing = this.mappingByKey.get(key);
    if (existing) {
      splitWords(subtract(existing.memoryStart, src.memoryStart));
      return { out: existing, offsetLo: words.lo, offsetHi: words.hi };
    }
    splitWords(src.memoryStart);
    const out: MergedMapping = {
      id: this.mappings.length + 1,
      memoryStart: src.memoryStart,
      memoryLimit: src.memoryLimit,
      fileOffset: src.fileOffset,
      filename: file,
      buildId,
      hasFunctions: src.hasFunctions,
      hasFilenames: src.hasFilenames,
      hasLineNumbers: src.hasLineNumbers,
      hasInlineFrames: src.hasInlineFrames,
      startLo: words.lo,
      startHi: words.hi,
    };
    this.mappings.push(out);
    this.mappingByKey.set(key, out);
    return { out, offsetLo: 0, offsetHi: 0 };
  }

  /** The merged id of source function `i`. */
  private mapFunction(m: MergeInput, i: number, str: (i: number) => number): number {
    const key = this.functionKey;
    key[0] = str(m.fnStrings[3 * i]!);
    key[1] = str(m.fnStrings[3 * i + 1]!);
    key[2] = str(m.fnStrings[3 * i + 2]!);
    key[3] = m.fnStartLine[2 * i]!;
    key[4] = m.fnStartLine[2 * i + 1]!;
    return this.functions.intern(key, 5, hashOf(key, 5)) + 1;
  }

  /** The merged id of source location `i`. */
  private mapLocation(
    m: MergeInput,
    i: number,
    mapMapping: (i: number) => MappedMapping,
    mapFunction: (i: number) => number,
  ): number {
    const mi = m.locMapping[i]!;
    const mm = mi >= 0 ? mapMapping(mi) : undefined;
    // uint64 arithmetic on words: the address shifted into the merged mapping, then made
    // relative to its start (Go: uint64(int64(address) + offset), then address - start).
    let addrLo = m.locAddress[2 * i]!;
    let addrHi = m.locAddress[2 * i + 1]!;
    let relLo = addrLo;
    let relHi = addrHi;
    if (mm) {
      const lo = addrLo + mm.offsetLo;
      addrLo = lo >>> 0;
      addrHi = (addrHi + mm.offsetHi + (lo >= TWO_32 ? 1 : 0)) >>> 0;
      const rlo = addrLo - mm.out.startLo;
      relLo = rlo >>> 0;
      relHi = (addrHi - mm.out.startHi - (rlo < 0 ? 1 : 0)) >>> 0;
    }
    const line0 = m.locLineStart[i]!;
    const line1 = m.locLineStart[i + 1]!;
    const length = 4 + 5 * (line1 - line0);
    if (this.locationKey.length < length) this.locationKey = new Uint32Array(length * 2);
    const key = this.locationKey;
    key[0] = mm ? mm.out.id : 0;
    key[1] = relLo;
    key[2] = relHi;
    key[3] = m.locFolded[i]!;
    let n = 4;
    const lw = m.lineWords;
    for (let j = line0; j < line1; j++) {
      const f = m.lineFunction[j]!;
      key[n++] = f >= 0 ? mapFunction(f) : 0;
      key[n++] = lw[4 * j]!;
      key[n++] = lw[4 * j + 1]!;
      key[n++] = lw[4 * j + 2]!;
      key[n++] = lw[4 * j + 3]!;
    }
    const before = this.locations.size;
    const index = this.locations.intern(key, n, hashOf(key, n));
    if (index === before) {
      if (this.locationAddress.length < 2 * index + 2) this.locationAddress = grow(this.locationAddress, 2 * index + 2);
      this.locationAddress[2 * index] = addrLo;
      this.locationAddress[2 * index + 1] = addrHi;
    }
    return index + 1;
  }

  private hasZeroSample(): boolean {
    const nWords = this.sampleTypes.length;
    const acc = this.values;
    for (let s = 0; s < this.samples.size; s++) {
      let zero = true;
      for (let k = s * nWords; k < (s + 1) * nWords; k++) {
        if (acc[k] !== 0) {
          zero = false;
          break;
        }
      }
      if (zero) return true;
    }
    return false;
  }

  private buildProfile(): Profile {
    const nTypes = this.sampleTypes.length / 2;
    const strings = new StringTable();
    for (let i = 1; i < this.strings.length; i++) strings.dedup(this.strings[i]!);
    const sampleType: ValueType[] = [];
    for (let i = 0; i < this.sampleTypes.length; i += 2) sampleType.push(new ValueType({ type: this.sampleTypes[i]!, unit: this.sampleTypes[i + 1]! }));
    const sample: Sample[] = [];
    for (let s = 0; s < this.samples.size; s++) {
      const key = this.samples.tuple(s);
      let nLocs = key.indexOf(0);
      if (nLocs < 0) nLocs = key.length;
      const label: Label[] = [];
      for (let i = nLocs + 1; i < key.length; i += 5) {
        label.push(new Label({ key: key[i]!, str: key[i + 1]!, num: int64FromWords(key[i + 2]!, key[i + 3]!), numUnit: key[i + 4]! }));
      }
      const value: Int64[] = [];
      for (let k = 0; k < nTypes; k++) value.push(int64FromWords(this.values[2 * (s * nTypes + k)]!, this.values[2 * (s * nTypes + k) + 1]!));
      sample.push(new Sample({ locationId: Array.from(key.subarray(0, nLocs)), value, label }));
    }
    const mapping = this.mappings.map((mp) => new Mapping(mp));
    const location: Location[] = [];
    for (let l = 0; l < this.locations.size; l++) {
      const key = this.locations.tuple(l);
      const line: Line[] = [];
      for (let i = 4; i < key.length; i += 5) {
        line.push(new Line({ functionId: key[i]!, line: int64FromWords(key[i + 1]!, key[i + 2]!), column: int64FromWords(key[i + 3]!, key[i + 4]!) }));
      }
      location.push(new Location({
        id: l + 1,
        mappingId: key[0]!,
        address: uint64FromWords(this.locationAddress[2 * l]!, this.locationAddress[2 * l + 1]!),
        line,
        isFolded: key[3] === 1,
      }));
    }
    const fn: PprofFunction[] = [];
    for (let f = 0; f < this.functions.size; f++) {
      const key = this.functions.tuple(f);
      fn.push(new PprofFunction({ id: f + 1, name: key[0]!, systemName: key[1]!, filename: key[2]!, startLine: int64FromWords(key[3]!, key[4]!) }));
    }
    return new Profile({
      sampleType,
      sample,
      mapping,
      location,
      function: fn,
      stringTable: strings,
      dropFrames: this.dropFrames,
      keepFrames: this.keepFrames,
      timeNanos: this.timeNanos,
      durationNanos: this.durationNanos,
      periodType: this.periodType ? new ValueType({ type: this.periodType[0], unit: this.periodType[1] }) : undefined,
      period: this.period,
      comment: this.comments.slice(),
      defaultSampleType: this.defaultSampleType,
      docUrl: this.docUrl,
    });
  }

  /** profile.proto bytes of the merged tables, field by field as pprof-format's Profile.encode writes them. */
  private writeProfile(): Uint8Array {
    const w = new ProtoWriter();
    const nTypes = this.sampleTypes.length / 2;
    for (let i = 0; i < this.sampleTypes.length; i += 2) {
      const at = w.beginMessage(0x0a);
      w.uint32Field(0x08, this.sampleTypes[i]!);
      w.uint32Field(0x10, this.sampleTypes[i + 1]!);
      w.endMessage(at);
    }
    const acc = this.values;
    for (let s = 0; s < this.samples.size; s++) {
      const key = this.samples.tuple(s);
      let nLocs = key.indexOf(0);
      if (nLocs < 0) nLocs = key.length;
      const at = w.beginMessage(0x12);
      if (nLocs > 0) {
        const ids = w.beginMessage(0x0a);
        for (let i = 0; i < nLocs; i++) w.varint32(key[i]!);
        w.endMessage(ids);
      }
      if (nTypes > 0) {
        const vs = w.beginMessage(0x12);
        for (let k = 2 * s * nTypes; k < 2 * (s + 1) * nTypes; k += 2) w.varint64(acc[k]!, acc[k + 1]!);
        w.endMessage(vs);
      }
      for (let i = nLocs + 1; i < key.length; i += 5) {
        const lb = w.beginMessage(0x1a);
        w.uint32Field(0x08, key[i]!);
        w.uint32Field(0x10, key[i + 1]!);
        w.int64Field(0x18, key[i + 2]!, key[i + 3]!);
        w.uint32Field(0x20, key[i + 4]!);
        w.endMessage(lb);
      }
      w.endMessage(at);
    }
    for (const mp of this.mappings) {
      const at = w.beginMessage(0x1a);
      w.uint32Field(0x08, mp.id);
      numericField(w, 0x10, mp.memoryStart);
      numericField(w, 0x18, mp.memoryLimit);
      numericField(w, 0x20, mp.fileOffset);
      w.uint32Field(0x28, mp.filename);
      w.uint32Field(0x30, mp.buildId);
      w.uint32Field(0x38, mp.hasFunctions ? 1 : 0);
      w.uint32Field(0x40, mp.hasFilenames ? 1 : 0);
      w.uint32Field(0x48, mp.hasLineNumbers ? 1 : 0);
      w.uint32Field(0x50, mp.hasInlineFrames ? 1 : 0);
      w.endMessage(at);
    }
    for (let l = 0; l < this.locations.size; l++) {
      const key = this.locations.tuple(l);
      const at = w.beginMessage(0x22);
      w.uint32Field(0x08, l + 1);
      w.uint32Field(0x10, key[0]!);
      w.int64Field(0x18, this.locationAddress[2 * l]!, this.locationAddress[2 * l + 1]!);
      for (let i = 4; i < key.length; i += 5) {
        const ln = w.beginMessage(0x22);
        w.uint32Field(0x08, key[i]!);
        w.int64Field(0x10, key[i + 1]!, key[i + 2]!);
        w.int64Field(0x18, key[i + 3]!, key[i + 4]!);
        w.endMessage(ln);
      }
      w.uint32Field(0x28, key[3]!);
      w.endMessage(at);
    }
    for (let f = 0; f < this.functions.size; f++) {
      const key = this.functions.tuple(f);
      const at = w.beginMessage(0x2a);
      w.uint32Field(0x08, f + 1);
      w.uint32Field(0x10, key[0]!);
      w.uint32Field(0x18, key[1]!);
      w.uint32Field(0x20, key[2]!);
      w.int64Field(0x28, key[3]!, key[4]!);
      w.endMessage(at);
    }
    const utf8 = new TextEncoder();
    for (const s of this.strings) w.bytesField(0x32, utf8.encode(s));
    w.uint32Field(0x38, this.dropFrames);
    w.uint32Field(0x40, this.keepFrames);
    numericField(w, 0x48, this.timeNanos);
    numericField(w, 0x50, this.durationNanos);
    if (this.periodType) {
      const at = w.beginMessage(0x5a);
      w.uint32Field(0x08, this.periodType[0]);
      w.uint32Field(0x10, this.periodType[1]);
      w.endMessage(at);
    }
    numericField(w, 0x60, this.period);
    if (this.comments.length > 0) {
      const at = w.beginMessage(0x6a);
      for (const c of this.comments) w.varint32(c);
      w.endMessage(at);
    }
    w.uint32Field(0x70, this.defaultSampleType);
    w.uint32Field(0x78, this.docUrl);
    return w.finish();
  }
}

/**
 * Merges profiles with google/pprof's profile.Merge semantics (see ProfileMerger).
 * `sources` (parallel to `profiles`) name the inputs in errors.
 */
export function mergeProfiles(profiles: readonly Profile[], sources?: readonly string[]): Profile {
  if (profiles.length === 0) throw new Error('no profiles to merge');
  const merger = new ProfileMerger();
  profiles.forEach((p, i) => merger.add(p, sources?.[i]));
  return merger.result();
}

function hashOf(key: Uint32Array, n: number): number {
  let h = HASH_SEED;
  for (let i = 0; i < n; i++) h = mixHash(h, key[i]!);
  return finishHash(h);
}

/** An int64 or uint64 field from a number or bigint, left out when zero. */
function numericField(w: ProtoWriter, tag: number, v: Numeric): void {
  splitWords(v);
  w.int64Field(tag, words.lo, words.hi);
}

function roundMappingSize(start: Numeric, limit: Numeric): Numeric {
  if (typeof limit === 'number' && typeof start === 'number') {
    const size = limit - start + MAPSIZE_ROUNDING - 1;
    return size - (size % MAPSIZE_ROUNDING);
  }
  const size = BigInt.asUintN(64, BigInt(limit) - BigInt(start) + BigInt(MAPSIZE_ROUNDING - 1));
  return size - (size % BigInt(MAPSIZE_ROUNDING));
}

function subtract(a: Numeric, b: Numeric): Numeric {
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  const r = BigInt(a) - BigInt(b);
  return r >= BigInt(Number.MIN_SAFE_INTEGER) && r <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(r) : r;
}
