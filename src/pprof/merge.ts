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
import { IncompatibleProfilesError } from './errors.js';
import { IdMap } from './id-map.js';
import { addInt64, type Int64 } from './int64.js';

type Numeric = number | bigint;

/** Rounds mapping sizes like google/pprof so that ASLR and small size differences still match. */
const MAPSIZE_ROUNDING = 0x1000;

interface MappedMapping {
  readonly out: Mapping;
  /** out.memoryStart - src.memoryStart: shifts addresses into the merged mapping's space. */
  readonly offset: Numeric;
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
 *   2^63 - 1; samples whose values are all zero are dropped, and so are samples without a
 *   stack, as `go tool pprof -proto` drops them (Go's threadcreate profiles have such samples).
 *
 * Inputs are only read; each can be released as soon as `add` returns, so memory is bounded
 * by the merged profile, not by the number of inputs. One deliberate difference from Go:
 * a profile without time_nanos does not reset the merged time to zero.
 */
export class ProfileMerger {
  private readonly strings = new StringTable();
  private sampleTypes: ValueType[] = [];
  private sampleTypeNames: string[] = [];
  private periodTypeName = '';
  private periodType: ValueType | undefined;
  private firstSource = '';
  private timeNanos: Numeric = 0;
  private durationNanos: Numeric = 0;
  private period: Int64 = 0;
  /** Per sample type, the sum of |value| over every sample added: while all are safe integers, so is every sum. */
  private valueBounds = new Float64Array(0);
  /** Whether sample values are summed as plain doubles (exact: see valueBounds), else with addInt64. */
  private valuesFit = true;
  private readonly comments: number[] = [];
  private readonly seenComments = new Set<number>();
  private defaultSampleType = 0;
  private docUrl = 0;
  private dropFrames = 0;
  private keepFrames = 0;

  private readonly functions: PprofFunction[] = [];
  private readonly functionByKey = new Map<string, PprofFunction>();
  private readonly mappings: Mapping[] = [];
  private readonly mappingByKey = new Map<string, Mapping>();
  private readonly locations: Location[] = [];
  private readonly locationByKey = new Map<string, Location>();
  private readonly samples: Sample[] = [];
  /** Identity of each merged sample (location ids, then labels), parallel to `samples`. */
  private readonly sampleKeys: Int64[][] = [];
  /** Hash of (stack, labels) -> index into `samples`, or several indexes on a collision. */
  private readonly sampleBuckets = new Map<number, number | number[]>();

  /** How many profiles were added. */
  count = 0;

  /** Adds one decoded profile. `source` names it in errors (a file name or store id). */
  add(src: Profile, source = `profile #${this.count + 1}`): void {
    const srcStrings = src.stringTable.strings;
    this.checkCompatible(src, srcStrings, source);
    this.count++;

    const stringMap = new Int32Array(srcStrings.length).fill(-1);
    const str = (i: Numeric): number => {
      const idx = Number(i);
      let out = stringMap[idx]!;
      if (out < 0) {
        out = this.strings.dedup(srcStrings[idx]!);
        stringMap[idx] = out;
      }
      return out;
    };
    this.combineHeader(src, str);

    const srcMappings = IdMap.byId(src.mapping);
    const srcFunctions = IdMap.byId(src.function);
    const srcLocations = IdMap.byId(src.location);
    const mappingMemo = new Map<Numeric, MappedMapping>();
    const functionMemo = new Map<Numeric, PprofFunction>();
    // Samples name the same few locations over and over: remember each source location's
    // merged id (0: not mapped yet), in a typed array when the source ids are dense.
    let maxLocationId = 0;
    for (const l of src.location) if (typeof l.id === 'number' && l.id > maxLocationId) maxLocationId = l.id;
    const outIdByDenseId = new Uint32Array(maxLocationId <= src.location.length * 2 + 1024 ? maxLocationId + 1 : 0);
    const outIdById = new Map<Numeric, number>();

    const mapMapping = (id: Numeric): MappedMapping | undefined => {
      if (id === 0) return undefined;
      let mm = mappingMemo.get(id);
      if (!mm) {
        mm = this.mapMapping(srcMappings.get(id)!, str);
        mappingMemo.set(id, mm);
      }
      return mm;
    };
    const mapFunction = (id: Numeric): PprofFunction => {
      let f = functionMemo.get(id);
      if (!f) {
        f = this.mapFunction(srcFunctions.get(id)!, str);
        functionMemo.set(id, f);
      }
      return f;
    };
    const mapLocation = (id: Numeric): number => {
      if (typeof id === 'number' && id < outIdByDenseId.length) {
        const cached = outIdByDenseId[id]!;
        if (cached !== 0) return cached;
        return (outIdByDenseId[id] = this.mapLocation(srcLocations.get(id)!, mapMapping, mapFunction).id as number);
      }
      let outId = outIdById.get(id);
      if (outId === undefined) {
        outId = this.mapLocation(srcLocations.get(id)!, mapMapping, mapFunction).id as number;
        outIdById.set(id, outId);
      }
      return outId;
    };

    // The first mapping is the main binary; take it first so it stays first in the result.
    if (this.mappings.length === 0 && src.mapping.length > 0) mapMapping(src.mapping[0]!.id);
    const valuesFit = this.valuesFit && this.boundValues(src.sample);
    this.valuesFit = valuesFit;

    // Most samples of a merge repeat a stack already seen: build each sample's identity
    // (merged location ids, then its labels in canonical order) in scratch space and allocate
    // only for samples that are new.
    let scratch: Int64[] = [];
    for (const s of src.sample) {
      // go tool pprof drops stackless samples when it writes a profile (its focus filter keeps
      // samples with at least one matching frame); they belong to no function anyway.
      if (isZero(s.value) || s.locationId.length === 0) continue;
      const ids = s.locationId;
      const labels = s.label;
      const keyLength = ids.length + (labels.length > 0 ? 1 + 4 * labels.length : 0);
      if (scratch.length < keyLength) scratch = new Array<Int64>(keyLength * 2);
      let hash = 0x811c9dc5;
      let n = 0;
      for (; n < ids.length; n++) {
        const outId = mapLocation(ids[n]!);
        scratch[n] = outId;
        hash = Math.imul(hash ^ outId, 0x01000193);
      }
      if (labels.length > 0) {
        scratch[n++] = -1; // location ids are positive: nothing else looks like this separator
        // Stable sort by key keeps the order of repeated keys, as Go's map of value lists does.
        const ordered = labels.length > 1 ? [...labels].sort((a, b) => str(a.key) - str(b.key)) : labels;
        for (const l of ordered) {
          // An Int64, exact: span ids and the like are often above 2^53.
          const num = l.num as Int64;
          const key = str(l.key);
          const strIndex = l.str ? str(l.str) : 0;
          const unit = l.numUnit ? str(l.numUnit) : 0;
          scratch[n++] = key;
          scratch[n++] = strIndex;
          scratch[n++] = num;
          scratch[n++] = unit;
          hash = Math.imul(hash ^ key, 0x01000193);
          hash = Math.imul(hash ^ strIndex, 0x01000193);
          hash = Math.imul(hash ^ (typeof num === 'number' ? (num | 0) ^ ((num / 4294967296) | 0) : hashBigInt64(num)), 0x01000193);
          hash = Math.imul(hash ^ unit, 0x01000193);
        }
      }
      const existing = this.findSample(hash, scratch, n);
      if (existing !== undefined) {
        if (valuesFit) {
          const acc = existing.value as number[];
          const v = s.value as number[];
          for (let i = 0; i < acc.length; i++) acc[i] = acc[i]! + v[i]!;
        } else {
          const acc = existing.value as Int64[];
          const v = s.value as Int64[];
          for (let i = 0; i < acc.length; i++) acc[i] = addInt64(acc[i]!, v[i]!);
        }
        continue;
      }
      const label: Label[] = [];
      for (let i = ids.length + 1; i < n; i += 4) {
        label.push(new Label({ key: scratch[i]!, str: scratch[i + 1]!, num: scratch[i + 2]!, numUnit: scratch[i + 3]! }));
      }
      const index = this.samples.length;
      this.samples.push(new Sample({ locationId: scratch.slice(0, ids.length), value: (s.value as Int64[]).slice(), label }));
      this.sampleKeys.push(scratch.slice(0, n));
      const bucket = this.sampleBuckets.get(hash);
      if (bucket === undefined) this.sampleBuckets.set(hash, index);
      else if (typeof bucket === 'number') this.sampleBuckets.set(hash, [bucket, index]);
      else bucket.push(index);
    }
  }

  /**
   * The merged profile. Throws when nothing was added. Calling `add` afterwards is allowed
   * but the returned profile shares structure with the merger, so treat it as read-only.
   */
  result(): Profile {
    if (this.count === 0) throw new Error('no profiles to merge');
    const merged = new Profile({
      sampleType: this.sampleTypes,
      sample: this.samples,
      mapping: this.mappings,
      location: this.locations,
      function: this.functions,
      stringTable: this.strings,
      dropFrames: this.dropFrames,
      keepFrames: this.keepFrames,
      timeNanos: this.timeNanos,
      durationNanos: this.durationNanos,
      periodType: this.periodType,
      period: this.period,
      comment: this.comments,
      defaultSampleType: this.defaultSampleType,
      docUrl: this.docUrl,
    });
    // Values that cancelled out (e.g. negative diff samples) are dropped the way Go does it:
    // a second merge of the result skips zero samples and keeps only what is still used.
    if (this.samples.some((s) => isZero(s.value))) {
      const again = new ProfileMerger();
      again.add(merged, this.firstSource);
      const cleaned = again.result();
      return cleaned;
    }
    return merged;
  }

  private checkCompatible(src: Profile, srcStrings: string[], source: string): void {
    const names = src.sampleType.map((st) => `${srcStrings[Number(st.type)]}/${srcStrings[Number(st.unit)]}`);
    const period = src.periodType
      ? `${srcStrings[Number(src.periodType.type)]}/${srcStrings[Number(src.periodType.unit)]}`
      : '';
    if (this.count === 0) {
      this.firstSource = source;
      this.sampleTypeNames = names;
      this.periodTypeName = period;
      this.sampleTypes = src.sampleType.map(
        (st) => new ValueType({ type: this.strings.dedup(srcStrings[Number(st.type)]!), unit: this.strings.dedup(srcStrings[Number(st.unit)]!) }),
      );
      if (src.periodType) {
        this.periodType = new ValueType({
          type: this.strings.dedup(srcStrings[Number(src.periodType.type)]!),
          unit: this.strings.dedup(srcStrings[Number(src.periodType.unit)]!),
        });
      }
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

  private combineHeader(src: Profile, str: (i: Numeric) => number): void {
    const t = src.timeNanos;
    if (t != 0 && (this.timeNanos == 0 || t < this.timeNanos)) this.timeNanos = t;
    this.durationNanos = addInt64(this.durationNanos, src.durationNanos);
    if (src.period > this.period) this.period = src.period as Int64;
    for (const c of src.comment) {
      const out = str(c);
      if (!this.seenComments.has(out)) {
        this.seenComments.add(out);
        this.comments.push(out);
      }
    }
    if (this.defaultSampleType === 0 && src.defaultSampleType) this.defaultSampleType = str(src.defaultSampleType);
    if (this.docUrl === 0 && src.docUrl) this.docUrl = str(src.docUrl);
    if (this.count === 1) {
      if (src.dropFrames) this.dropFrames = str(src.dropFrames);
      if (src.keepFrames) this.keepFrames = str(src.keepFrames);
    }
  }

  private mapMapping(src: Mapping, str: (i: Numeric) => number): MappedMapping {
    const size = roundMappingSize(src);
    const buildId = str(src.buildId);
    const file = str(src.filename);
    // A mapping with neither build id nor file is fake; all such mappings are one.
    const identity = buildId !== 0 ? `b${buildId}` : file !== 0 ? `f${file}` : '';
    const key = `${size}|${src.fileOffset}|${identity}`;
    const existing = this.mappingByKey.get(key);
    if (existing) return { out: existing, offset: subtract(existing.memoryStart, src.memoryStart) };
    const out = new Mapping({
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
    });
    this.mappings.push(out);
    this.mappingByKey.set(key, out);
    return { out, offset: 0 };
  }

  private mapFunction(src: PprofFunction, str: (i: Numeric) => number): PprofFunction {
    const name = str(src.name);
    const systemName = str(src.systemName);
    const filename = str(src.filename);
    const key = `${name},${systemName},${filename},${src.startLine}`;
    let out = this.functionByKey.get(key);
    if (!out) {
      out = new PprofFunction({ id: this.functions.length + 1, name, systemName, filename, startLine: src.startLine });
      this.functions.push(out);
      this.functionByKey.set(key, out);
    }
    return out;
  }

  private mapLocation(
    src: Location,
    mapMapping: (id: Numeric) => MappedMapping | undefined,
    mapFunction: (id: Numeric) => PprofFunction,
  ): Location {
    const mm = mapMapping(src.mappingId);
    const address = mm && mm.offset !== 0 ? add(src.address, mm.offset) : src.address;
    const lines = src.line.map(
      (ln) => new Line({ functionId: ln.functionId === 0 ? 0 : mapFunction(ln.functionId).id, line: ln.line, column: ln.column }),
    );
    let key = mm ? `${mm.out.id}|${subtract(address, mm.out.memoryStart)}` : `0|${address}`;
    if (src.isFolded) key += '|F';
    for (const ln of lines) key += `|${ln.functionId}:${ln.line}:${ln.column}`;
    let out = this.locationByKey.get(key);
    if (!out) {
      out = new Location({
        id: this.locations.length + 1,
        mappingId: mm ? mm.out.id : 0,
        address,
        line: lines,
        isFolded: src.isFolded,
      });
      this.locations.push(out);
      this.locationByKey.set(key, out);
    }
    return out;
  }

  /**
   * Adds the source's |values| to valueBounds; false once a bound is no longer a safe integer
   * (or a value is a bigint): from then on sums need addInt64.
   */
  private boundValues(samples: readonly Sample[]): boolean {
    const n = this.sampleTypes.length;
    if (this.valueBounds.length !== n) this.valueBounds = new Float64Array(n);
    const bounds = this.valueBounds;
    for (let k = 0; k < samples.length; k++) {
      const v = samples[k]!.value;
      for (let i = 0; i < n; i++) {
        const x = v[i];
        if (typeof x !== 'number') return false;
        bounds[i] += x < 0 ? -x : x;
      }
    }
    for (let i = 0; i < n; i++) if (!(bounds[i]! <= Number.MAX_SAFE_INTEGER)) return false;
    return true;
  }

  /** The merged sample whose identity is `key[0..n)`, if there is one. */
  private findSample(hash: number, key: Int64[], n: number): Sample | undefined {
    const bucket = this.sampleBuckets.get(hash);
    if (bucket === undefined) return undefined;
    if (typeof bucket === 'number') return this.sameSample(bucket, key, n) ? this.samples[bucket] : undefined;
    for (const index of bucket) if (this.sameSample(index, key, n)) return this.samples[index];
    return undefined;
  }

  private sameSample(index: number, key: Int64[], n: number): boolean {
    const other = this.sampleKeys[index]!;
    if (other.length !== n) return false;
    for (let i = 0; i < n; i++) if (other[i] !== key[i]) return false;
    return true;
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

/** 32 bits of a bigint Int64 for hashing (numbers are hashed inline; Int64s are canonical, so equal values hash equally). */
function hashBigInt64(v: bigint): number {
  return Number(BigInt.asIntN(32, v ^ (v >> 32n)));
}

function isZero(values: readonly Numeric[]): boolean {
  for (const v of values) if (v !== 0) return false;
  return true;
}

function roundMappingSize(m: Mapping): Numeric {
  if (typeof m.memoryLimit === 'number' && typeof m.memoryStart === 'number') {
    const size = m.memoryLimit - m.memoryStart + MAPSIZE_ROUNDING - 1;
    return size - (size % MAPSIZE_ROUNDING);
  }
  const size = BigInt.asUintN(64, BigInt(m.memoryLimit) - BigInt(m.memoryStart) + BigInt(MAPSIZE_ROUNDING - 1));
  return size - (size % BigInt(MAPSIZE_ROUNDING));
}

/** uint64 arithmetic on addresses, in plain numbers while they stay exact. */
function add(a: Numeric, b: Numeric): Numeric {
  if (typeof a === 'number' && typeof b === 'number') {
    const r = a + b;
    if (Number.isSafeInteger(r) && r >= 0) return r;
  }
  const r = BigInt.asUintN(64, BigInt(a) + BigInt(b));
  return r <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(r) : r;
}

function subtract(a: Numeric, b: Numeric): Numeric {
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  const r = BigInt(a) - BigInt(b);
  return r >= BigInt(Number.MIN_SAFE_INTEGER) && r <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(r) : r;
}
