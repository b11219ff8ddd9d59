/**
 * One profile as ProfileMerger consumes it: its tables in typed arrays, every reference resolved
 * to an index, every int64 as two uint32 words (int64-words.ts). Filled either straight from
 * profile.proto bytes ({@link readMergeInput}: no object per sample, location or line) or from a
 * decoded Profile ({@link mergeInputFromProfile}). One MergeInput is reused for every input of a
 * merge, so its arrays grow to the largest input and are then only overwritten.
 */
import type { Profile } from 'pprof-format';
import { IdMap } from './id-map.js';
import type { Int64 } from './int64.js';
import { int64FromWords, splitWords, uint64FromWords, words } from './int64-words.js';
import type { ProfileCountLimits } from './profile-reader.js';
import { grow } from './tuple-set.js';

type Numeric = number | bigint;

export interface InputMapping {
  memoryStart: Numeric;
  memoryLimit: Numeric;
  fileOffset: Numeric;
  filename: number;
  buildId: number;
  hasFunctions: boolean;
  hasFilenames: boolean;
  hasLineNumbers: boolean;
  hasInlineFrames: boolean;
}

export class MergeInput {
  strings: string[] = [];
  /** String indexes, two per sample type: type, unit. */
  sampleTypes: number[] = [];
  periodType: [type: number, unit: number] | undefined;
  timeNanos: Int64 = 0;
  durationNanos: Int64 = 0;
  period: Int64 = 0;
  comments: number[] = [];
  defaultSampleType = 0;
  docUrl = 0;
  dropFrames = 0;
  keepFrames = 0;

  mappings: InputMapping[] = [];

  nFunctions = 0;
  /** Three string indexes per function: name, system name, file name. */
  fnStrings = new Uint32Array(3 * 16);
  /** Start line words, two per function. */
  fnStartLine = new Uint32Array(2 * 16);

  nLocations = 0;
  /** Index into `mappings`, or -1. */
  locMapping = new Int32Array(16);
  /** Address words, two per location. */
  locAddress = new Uint32Array(2 * 16);
  locFolded = new Uint8Array(16);
  /** Location i has lines locLineStart[i] .. locLineStart[i + 1]. */
  locLineStart = new Uint32Array(17);
  nLines = 0;
  /** Index of the line's function, or -1 (function_id 0). */
  lineFunction = new Int32Array(16);
  /** Four words per line: line (low, high), column (low, high). */
  lineWords = new Uint32Array(4 * 16);

  nSamples = 0;
  /** Sample i's stack is locRefs[sampleLocStart[i] .. sampleLocStart[i + 1]) (location indexes). */
  sampleLocStart = new Uint32Array(17);
  locRefs = new Int32Array(64);
  /** Value words, two per value, one value per sample type for each sample. */
  values = new Uint32Array(64);
  /** Sample i's labels are labels[5 * labelStart[i] .. 5 * labelStart[i + 1]). */
  sampleLabelStart = new Uint32Array(17);
  /** Five words per label: key, str, num (low, high), num unit. */
  labels = new Uint32Array(5 * 16);

  get nSampleTypes(): number {
    return this.sampleTypes.length / 2;
  }

  reset(): void {
    this.strings = [];
    this.sampleTypes = [];
    this.periodType = undefined;
    this.timeNanos = this.durationNanos = this.period = 0;
    this.comments = [];
    this.defaultSampleType = this.docUrl = this.dropFrames = this.keepFrames = 0;
    this.mappings = [];
    this.nFunctions = this.nLocations = this.nLines = this.nSamples = 0;
  }

  // Room for one more function, location, line or sample (the reader fills it in place).
  roomForFunction(): void {
    const n = this.nFunctions + 1;
    if (3 * n > this.fnStrings.length) this.fnStrings = grow(this.fnStrings, 3 * n);
    if (2 * n > this.fnStartLine.length) this.fnStartLine = grow(this.fnStartLine, 2 * n);
  }

  roomForLocation(): void {
    const n = this.nLocations + 1;
    if (n > this.locMapping.length) {
      this.locMapping = grow(this.locMapping, n);
      const folded = new Uint8Array(this.locMapping.length);
      folded.set(this.locFolded);
      this.locFolded = folded;
    }
    if (2 * n > this.locAddress.length) this.locAddress = grow(this.locAddress, 2 * n);
    if (n + 1 > this.locLineStart.length) this.locLineStart = grow(this.locLineStart, n + 1);
  }

  roomForLine(): void {
    const n = this.nLines + 1;
    if (n > this.lineFunction.length) this.lineFunction = grow(this.lineFunction, n);
    if (4 * n > this.lineWords.length) this.lineWords = grow(this.lineWords, 4 * n);
  }

  roomForSample(): void {
    const n = this.nSamples + 2;
    if (n > this.sampleLocStart.length) {
      this.sampleLocStart = grow(this.sampleLocStart, n);
      this.sampleLabelStart = grow(this.sampleLabelStart, n);
    }
  }

  roomForLocRefs(n: number): void {
    if (n > this.locRefs.length) this.locRefs = grow(this.locRefs, n);
  }

  roomForValues(nWords: number): void {
    if (nWords > this.values.length) this.values = grow(this.values, nWords);
  }

  roomForLabels(nLabels: number): void {
    if (5 * nLabels > this.labels.length) this.labels = grow(this.labels, 5 * nLabels);
  }
}

/**
 * Fills `into` from a decoded Profile (any: ids sparse or beyond 2^53, values bigints). The
 * profile is trusted to be valid, as decodeProfile and our own builders leave it.
 */
export function mergeInputFromProfile(p: Profile, into: MergeInput): void {
  const m = into;
  m.reset();
  m.strings = p.stringTable.strings;
  for (const st of p.sampleType) m.sampleTypes.push(Number(st.type), Number(st.unit));
  if (p.periodType) m.periodType = [Number(p.periodType.type), Number(p.periodType.unit)];
  m.timeNanos = p.timeNanos as Int64;
  m.durationNanos = p.durationNanos as Int64;
  m.period = p.period as Int64;
  m.comments = p.comment.map(Number);
  m.defaultSampleType = Number(p.defaultSampleType);
  m.docUrl = Number(p.docUrl);
  m.dropFrames = Number(p.dropFrames);
  m.keepFrames = Number(p.keepFrames);

  const mappingIndex = indexById(p.mapping);
  for (const mp of p.mapping) {
    m.mappings.push({
      memoryStart: mp.memoryStart, memoryLimit: mp.memoryLimit, fileOffset: mp.fileOffset,
      filename: Number(mp.filename), buildId: Number(mp.buildId),
      hasFunctions: mp.hasFunctions, hasFilenames: mp.hasFilenames, hasLineNumbers: mp.hasLineNumbers, hasInlineFrames: mp.hasInlineFrames,
    });
  }
  const functionIndex = indexById(p.function);
  for (const f of p.function) {
    m.roomForFunction();
    const i = m.nFunctions++;
    m.fnStrings[3 * i] = Number(f.name);
    m.fnStrings[3 * i + 1] = Number(f.systemName);
    m.fnStrings[3 * i + 2] = Number(f.filename);
    splitWords(f.startLine);
    m.fnStartLine[2 * i] = words.lo;
    m.fnStartLine[2 * i + 1] = words.hi;
  }
  const locationIndex = indexById(p.location);
  for (const l of p.location) {
    m.roomForLocation();
    const i = m.nLocations++;
    m.locMapping[i] = l.mappingId === 0 ? -1 : mappingIndex.get(l.mappingId)!;
    splitWords(l.address);
    m.locAddress[2 * i] = words.lo;
    m.locAddress[2 * i + 1] = words.hi;
    m.locFolded[i] = l.isFolded ? 1 : 0;
    m.locLineStart[i] = m.nLines;
    for (const ln of l.line) {
      m.roomForLine();
      const j = m.nLines++;
      m.lineFunction[j] = ln.functionId === 0 ? -1 : functionIndex.get(ln.functionId)!;
      splitWords(ln.line);
      m.lineWords[4 * j] = words.lo;
      m.lineWords[4 * j + 1] = words.hi;
      splitWords(ln.column);
      m.lineWords[4 * j + 2] = words.lo;
      m.lineWords[4 * j + 3] = words.hi;
    }
  }
  m.locLineStart[m.nLocations] = m.nLines;

  let nRefs = 0;
  let nValues = 0;
  let nLabels = 0;
  for (const s of p.sample) {
    m.roomForSample();
    const i = m.nSamples++;
    m.sampleLocStart[i] = nRefs;
    m.sampleLabelStart[i] = nLabels;
    m.roomForLocRefs(nRefs + s.locationId.length);
    for (const id of s.locationId) m.locRefs[nRefs++] = locationIndex.get(id)!;
    m.roomForValues(2 * (nValues + s.value.length));
    for (const v of s.value) {
      splitWords(v);
      m.values[2 * nValues] = words.lo;
      m.values[2 * nValues + 1] = words.hi;
      nValues++;
    }
    m.roomForLabels(nLabels + s.label.length);
    for (const l of s.label) {
      const at = 5 * nLabels++;
      splitWords(l.num);
      m.labels[at] = Number(l.key);
      m.labels[at + 1] = Number(l.str);
      m.labels[at + 2] = words.lo;
      m.labels[at + 3] = words.hi;
      m.labels[at + 4] = Number(l.numUnit);
    }
  }
  m.sampleLocStart[m.nSamples] = nRefs;
  m.sampleLabelStart[m.nSamples] = nLabels;
}

/** Position of each item by its id. */
function indexById(items: readonly { id: Numeric }[]): IdMap<number> {
  let maxId: Numeric = 0;
  for (const it of items) if (it.id > maxId) maxId = it.id;
  const map = new IdMap<number>(items.length, maxId);
  items.forEach((it, i) => map.set(it.id, i));
  return map;
}

const WIRE_VARINT = 0;
const WIRE_FIXED64 = 1;
const WIRE_BYTES = 2;
const WIRE_FIXED32 = 5;
const TWO_32 = 4294967296;

/** Thrown inside the reader when the input is not in the shape it reads; never escapes. */
const NOT_FAST = new Error('not on the fast path');

/**
 * Reads profile.proto bytes (not gzipped) straight into `into`, checking everything decodeProfile
 * checks (the limits, the wire format, checkAndNormalize's references and counts). Returns false,
 * with `into` in an unspecified state, when the bytes are invalid or merely unusual (ids beyond
 * 2^31 or sparse, unpacked or unknown scalar encodings, ...): the caller then decodes them with
 * decodeProfile, which names the problem or returns the profile for {@link mergeInputFromProfile}.
 * True means decodeProfile would accept the bytes and return the same tables.
 */
export function readMergeInput(buf: Uint8Array, limits: ProfileCountLimits, into: MergeInput): boolean {
  into.reset();
  const reader = new WireReader(buf, into);
  try {
    reader.profile(limits);
    return reader.resolve();
  } catch (err) {
    if (err === NOT_FAST) return false;
    throw err;
  }
}

/** Maps ids to indexes in an array when they are small (they are dense from 1 in Go's profiles). */
function denseIndex(n: number, maxId: number): Int32Array | undefined {
  if (maxId > n * 2 + 1024) return undefined;
  return new Int32Array(maxId + 1).fill(-1);
}

const asciiDecoder = new TextDecoder('latin1');
const utf8Decoder = new TextDecoder();

class WireReader {
  private pos = 0;
  /** Words of the last {@link int64Words}. */
  private lo = 0;
  private hi = 0;
  private nRefs = 0;
  private nValues = 0;
  private nLabels = 0;
  /** How many values every sample has so far, -1 once two samples differ. */
  private valuesPerSample = 0;
  /** Raw ids, parallel to the input's tables; resolved to indexes at the end. */
  private mappingIds: number[] = [];
  private functionIds = new Int32Array(16);
  private locationIds = new Int32Array(16);

  constructor(private readonly buf: Uint8Array, private readonly m: MergeInput) {}

  profile(limits: ProfileCountLimits): void {
    const buf = this.buf;
    const m = this.m;
    const end = buf.length;
    let unknownBytes = 0;
    let timeSeen = false;
    let nStrings = 0;
    while (this.pos < end) {
      const start = this.pos;
      const tag = this.tag();
      const field = tag >>> 3;
      const wire = tag & 7;
      switch (field) {
        case 1: {
          const stop = this.messageEnd(wire);
          this.valueType(stop, m.sampleTypes);
          break;
        }
        case 2:
          if (m.nSamples >= limits.maxSamples) throw NOT_FAST;
          this.sample(this.messageEnd(wire));
          break;
        case 3:
          if (m.mappings.length >= limits.maxMappings) throw NOT_FAST;
          this.mapping(this.messageEnd(wire));
          break;
        case 4:
          if (m.nLocations >= limits.maxLocations) throw NOT_FAST;
          this.location(this.messageEnd(wire));
          break;
        case 5:
          if (m.nFunctions >= limits.maxFunctions) throw NOT_FAST;
          this.function(this.messageEnd(wire));
          break;
        case 6: {
          if (++nStrings > limits.maxStrings) throw NOT_FAST;
          const stop = this.messageEnd(wire);
          m.strings.push(decodeString(buf, this.pos, stop));
          this.pos = stop;
          break;
        }
        case 7: m.dropFrames = this.index(wire); break;
        case 8: m.keepFrames = this.index(wire); break;
        case 9:
          if (timeSeen) throw NOT_FAST; // two profiles glued together
          timeSeen = true;
          m.timeNanos = this.int64(wire);
          break;
        case 10: m.durationNanos = this.int64(wire); break;
        case 11: {
          const pair: number[] = [];
          this.valueType(this.messageEnd(wire), pair);
          m.periodType = [pair[0]!, pair[1]!];
          break;
        }
        case 12: m.period = this.int64(wire); break;
        case 13:
          if (wire === WIRE_VARINT) m.comments.push(this.index(wire));
          else {
            const stop = this.messageEnd(wire);
            while (this.pos < stop) m.comments.push(this.smallVarint());
            if (this.pos !== stop) throw NOT_FAST;
          }
          break;
        case 14: m.defaultSampleType = this.index(wire); break;
        case 15: m.docUrl = this.index(wire); break;
        default:
          this.skip(wire);
          unknownBytes += this.pos - start;
          if (unknownBytes > limits.maxUnknownFieldBytes) throw NOT_FAST;
      }
    }
    if (m.strings.length === 0) m.strings.push('');
    m.sampleLocStart[m.nSamples] = this.nRefs;
    m.sampleLabelStart[m.nSamples] = this.nLabels;
    m.locLineStart[m.nLocations] = m.nLines;
  }

  /**
   * Replaces raw ids by indexes and checks every reference and count as decodeProfile's
   * checkAndNormalize does; false when one fails.
   */
  resolve(): boolean {
    const m = this.m;
    const nStrings = m.strings.length;
    if (m.strings[0] !== '') return false;
    const badString = (i: number) => i >= nStrings;
    for (const s of m.sampleTypes) if (badString(s)) return false;
    const nTypes = m.nSampleTypes;
    if (nTypes === 0 && m.nSamples > 0) return false;
    if (m.periodType && (badString(m.periodType[0]) || badString(m.periodType[1]))) return false;
    for (const c of m.comments) if (badString(c)) return false;
    if (badString(m.defaultSampleType) || badString(m.dropFrames) || badString(m.keepFrames) || badString(m.docUrl)) return false;

    const mappingIndex = this.indexIds(this.mappingIds, this.mappingIds.length);
    if (!mappingIndex) return false;
    for (const mp of m.mappings) if (badString(mp.filename) || badString(mp.buildId)) return false;
    const functionIndex = this.indexIds(this.functionIds, m.nFunctions);
    if (!functionIndex) return false;
    for (let i = 0; i < 3 * m.nFunctions; i++) if (badString(m.fnStrings[i]!)) return false;
    const locationIndex = this.indexIds(this.locationIds, m.nLocations);
    if (!locationIndex) return false;
    for (let i = 0; i < m.nLocations; i++) {
      const id = m.locMapping[i]!;
      if (id !== 0) {
        const index = id < mappingIndex.length ? mappingIndex[id]! : -1;
        if (index < 0) return false;
        m.locMapping[i] = index;
      } else m.locMapping[i] = -1;
    }
    for (let j = 0; j < m.nLines; j++) {
      const id = m.lineFunction[j]!;
      if (id !== 0) {
        const index = id < functionIndex.length ? functionIndex[id]! : -1;
        if (index < 0) return false;
        m.lineFunction[j] = index;
      } else m.lineFunction[j] = -1;
    }

    if (m.nSamples > 0 && this.valuesPerSample !== nTypes) return false;
    const refs = m.locRefs;
    const nLocIds = locationIndex.length;
    for (let r = 0; r < this.nRefs; r++) {
      const id = refs[r]!;
      const index = id < nLocIds ? locationIndex[id]! : -1;
      if (index < 0) return false;
      refs[r] = index;
    }
    const labels = m.labels;
    for (let i = 0; i < 5 * this.nLabels; i += 5) {
      if (badString(labels[i]!) || badString(labels[i + 1]!) || badString(labels[i + 4]!)) return false;
    }
    return true;
  }

  /** id -> index for ids that are dense, positive and unique; undefined otherwise. */
  private indexIds(ids: ArrayLike<number>, n: number): Int32Array | undefined {
    let maxId = 0;
    for (let i = 0; i < n; i++) if (ids[i]! > maxId) maxId = ids[i]!;
    const index = denseIndex(n, maxId);
    if (!index) return undefined;
    for (let i = 0; i < n; i++) {
      const id = ids[i]!;
      if (id === 0 || index[id] !== -1) return undefined;
      index[id] = i;
    }
    return index;
  }

  private valueType(end: number, out: number[]): void {
    let type = 0;
    let unit = 0;
    while (this.pos < end) {
      const tag = this.tag();
      if (tag === 0x08) type = this.smallVarint();
      else if (tag === 0x10) unit = this.smallVarint();
      else this.skip(tag & 7);
    }
    if (this.pos !== end) throw NOT_FAST;
    out.push(type, unit);
  }

  private sample(end: number): void {
    const m = this.m;
    const buf = this.buf;
    m.roomForSample();
    const i = m.nSamples++;
    m.sampleLocStart[i] = this.nRefs;
    m.sampleLabelStart[i] = this.nLabels;
    const valuesBefore = this.nValues;
    while (this.pos < end) {
      const tag = buf[this.pos++]!;
      if (tag === 0x0a) {
        // Packed location ids: at most one per byte.
        const stop = this.messageEnd(WIRE_BYTES);
        m.roomForLocRefs(this.nRefs + (stop - this.pos));
        const refs = m.locRefs;
        let n = this.nRefs;
        let pos = this.pos;
        while (pos < stop) {
          const b = buf[pos++]!;
          if (b < 0x80) refs[n++] = b;
          else {
            this.pos = pos - 1;
            refs[n++] = this.smallVarint();
            pos = this.pos;
          }
        }
        this.nRefs = n;
        this.pos = pos;
        if (pos !== stop) throw NOT_FAST;
      } else if (tag === 0x12) {
        const stop = this.messageEnd(WIRE_BYTES);
        m.roomForValues(2 * (this.nValues + (stop - this.pos)));
        const values = m.values;
        let n = this.nValues;
        while (this.pos < stop) {
          const b = buf[this.pos]!;
          if (b < 0x80) {
            this.pos++;
            values[2 * n] = b;
            values[2 * n + 1] = 0;
          } else {
            this.int64Words();
            values[2 * n] = this.lo;
            values[2 * n + 1] = this.hi;
          }
          n++;
        }
        this.nValues = n;
        if (this.pos !== stop) throw NOT_FAST;
      } else if (tag === 0x1a) {
        this.label(this.messageEnd(WIRE_BYTES));
      } else if (tag === 0x08) {
        m.roomForLocRefs(this.nRefs + 1);
        m.locRefs[this.nRefs++] = this.smallVarint();
      } else if (tag === 0x10) {
        m.roomForValues(2 * (this.nValues + 1));
        this.int64Words();
        m.values[2 * this.nValues] = this.lo;
        m.values[2 * this.nValues + 1] = this.hi;
        this.nValues++;
      } else {
        this.pos--;
        const t = this.tag();
        if ((t >>> 3) <= 3) throw NOT_FAST; // a known field with another wire type
        this.skip(t & 7);
      }
    }
    if (this.pos !== end) throw NOT_FAST;
    const count = this.nValues - valuesBefore;
    if (i === 0) this.valuesPerSample = count;
    else if (count !== this.valuesPerSample) this.valuesPerSample = -1;
  }

  private label(end: number): void {
    let key = 0;
    let str = 0;
    let unit = 0;
    let lo = 0;
    let hi = 0;
    while (this.pos < end) {
      const tag = this.tag();
      switch (tag) {
        case 0x08: key = this.smallVarint(); break;
        case 0x10: str = this.smallVarint(); break;
        case 0x18: this.int64Words(); lo = this.lo; hi = this.hi; break;
        case 0x20: unit = this.smallVarint(); break;
        default:
          if ((tag >>> 3) <= 4) throw NOT_FAST; // a known field with another wire type
          this.skip(tag & 7);
      }
    }
    if (this.pos !== end) throw NOT_FAST;
    const m = this.m;
    m.roomForLabels(this.nLabels + 1);
    const at = 5 * this.nLabels++;
    m.labels[at] = key;
    m.labels[at + 1] = str;
    m.labels[at + 2] = lo;
    m.labels[at + 3] = hi;
    m.labels[at + 4] = unit;
  }

  private mapping(end: number): void {
    let id = 0;
    let start: Numeric = 0;
    let limit: Numeric = 0;
    let offset: Numeric = 0;
    let filename = 0;
    let buildId = 0;
    const flags = [false, false, false, false];
    while (this.pos < end) {
      const tag = this.tag();
      const field = tag >>> 3;
      if ((tag & 7) !== WIRE_VARINT) {
        if (field >= 1 && field <= 10) throw NOT_FAST;
        this.skip(tag & 7);
        continue;
      }
      switch (field) {
        case 1: id = this.smallVarint(); break;
        case 2: start = this.uint64(); break;
        case 3: limit = this.uint64(); break;
        case 4: offset = this.uint64(); break;
        case 5: filename = this.smallVarint(); break;
        case 6: buildId = this.smallVarint(); break;
        case 7: case 8: case 9: case 10: flags[field - 7] = this.flag(); break;
        default: this.skip(WIRE_VARINT);
      }
    }
    if (this.pos !== end) throw NOT_FAST;
    this.mappingIds.push(id);
    this.m.mappings.push({
      memoryStart: start, memoryLimit: limit, fileOffset: offset, filename, buildId,
      hasFunctions: flags[0]!, hasFilenames: flags[1]!, hasLineNumbers: flags[2]!, hasInlineFrames: flags[3]!,
    });
  }

  private location(end: number): void {
    const m = this.m;
    m.roomForLocation();
    const i = m.nLocations++;
    if (i >= this.locationIds.length) this.locationIds = grow(this.locationIds, i + 1);
    m.locLineStart[i] = m.nLines;
    let id = 0;
    let mappingId = 0;
    let lo = 0;
    let hi = 0;
    let folded = 0;
    while (this.pos < end) {
      const tag = this.tag();
      switch (tag) {
        case 0x08: id = this.smallVarint(); break;
        case 0x10: mappingId = this.smallVarint(); break;
        case 0x18: this.int64Words(); lo = this.lo; hi = this.hi; break;
        case 0x22: this.line(this.messageEnd(WIRE_BYTES)); break;
        case 0x28: folded = this.flag() ? 1 : 0; break;
        default:
          if ((tag >>> 3) <= 5) throw NOT_FAST;
          this.skip(tag & 7);
      }
    }
    if (this.pos !== end) throw NOT_FAST;
    this.locationIds[i] = id;
    m.locMapping[i] = mappingId; // resolved later
    m.locAddress[2 * i] = lo;
    m.locAddress[2 * i + 1] = hi;
    m.locFolded[i] = folded;
  }

  private line(end: number): void {
    const m = this.m;
    m.roomForLine();
    const j = m.nLines++;
    let functionId = 0;
    let lineLo = 0;
    let lineHi = 0;
    let colLo = 0;
    let colHi = 0;
    while (this.pos < end) {
      const tag = this.tag();
      switch (tag) {
        case 0x08: functionId = this.smallVarint(); break;
        case 0x10: this.int64Words(); lineLo = this.lo; lineHi = this.hi; break;
        case 0x18: this.int64Words(); colLo = this.lo; colHi = this.hi; break;
        default:
          if ((tag >>> 3) <= 3) throw NOT_FAST;
          this.skip(tag & 7);
      }
    }
    if (this.pos !== end) throw NOT_FAST;
    m.lineFunction[j] = functionId; // resolved later
    const w = m.lineWords;
    w[4 * j] = lineLo;
    w[4 * j + 1] = lineHi;
    w[4 * j + 2] = colLo;
    w[4 * j + 3] = colHi;
  }

  private function(end: number): void {
    const m = this.m;
    m.roomForFunction();
    const i = m.nFunctions++;
    if (i >= this.functionIds.length) this.functionIds = grow(this.functionIds, i + 1);
    let id = 0;
    let name = 0;
    let systemName = 0;
    let filename = 0;
    let lo = 0;
    let hi = 0;
    while (this.pos < end) {
      const tag = this.tag();
      switch (tag) {
        case 0x08: id = this.smallVarint(); break;
        case 0x10: name = this.smallVarint(); break;
        case 0x18: systemName = this.smallVarint(); break;
        case 0x20: filename = this.smallVarint(); break;
        case 0x28: this.int64Words(); lo = this.lo; hi = this.hi; break;
        default:
          if ((tag >>> 3) <= 5) throw NOT_FAST;
          this.skip(tag & 7);
      }
    }
    if (this.pos !== end) throw NOT_FAST;
    this.functionIds[i] = id;
    m.fnStrings[3 * i] = name;
    m.fnStrings[3 * i + 1] = systemName;
    m.fnStrings[3 * i + 2] = filename;
    m.fnStartLine[2 * i] = lo;
    m.fnStartLine[2 * i + 1] = hi;
  }

  // ---- wire primitives: anything unusual is NOT_FAST ----

  /** A field tag (at most 5 bytes, as decodeProfile reads it). */
  private tag(): number {
    const b = this.buf[this.pos]!;
    if (b < 0x80) {
      this.pos++;
      return b;
    }
    const v = this.smallVarint();
    return v;
  }

  /** A length-delimited field's end, checked against the input. */
  private messageEnd(wire: number): number {
    if (wire !== WIRE_BYTES) throw NOT_FAST;
    const len = this.smallVarint();
    const end = this.pos + len;
    if (end > this.buf.length) throw NOT_FAST;
    return end;
  }

  /**
   * A varint below 2^31 (ids, string indexes, lengths): what a valid profile within the limits
   * holds there. Anything longer is left to decodeProfile.
   */
  private smallVarint(): number {
    const buf = this.buf;
    let pos = this.pos;
    if (pos >= buf.length) throw NOT_FAST;
    let b = buf[pos++]!;
    let v = b & 0x7f;
    if (b >= 0x80) {
      if (pos >= buf.length) throw NOT_FAST;
      b = buf[pos++]!;
      v |= (b & 0x7f) << 7;
      if (b >= 0x80) {
        if (pos >= buf.length) throw NOT_FAST;
        b = buf[pos++]!;
        v |= (b & 0x7f) << 14;
        if (b >= 0x80) {
          if (pos >= buf.length) throw NOT_FAST;
          b = buf[pos++]!;
          v |= (b & 0x7f) << 21;
          if (b >= 0x80) {
            if (pos >= buf.length) throw NOT_FAST;
            b = buf[pos++]!;
            if (b >= 0x08) throw NOT_FAST; // 2^31 or more
            v |= b << 28;
          }
        }
      }
    }
    this.pos = pos;
    return v;
  }

  /** A bool field (any varint; non-zero is true, as decodeProfile reads it). */
  private flag(): boolean {
    this.int64Words();
    return this.lo !== 0 || this.hi !== 0;
  }

  /** An index field (drop_frames, ...) sent as a varint. */
  private index(wire: number): number {
    if (wire !== WIRE_VARINT) throw NOT_FAST;
    return this.smallVarint();
  }

  private int64(wire: number): Int64 {
    if (wire !== WIRE_VARINT) throw NOT_FAST;
    this.int64Words();
    return int64FromWords(this.lo, this.hi);
  }

  private uint64(): Numeric {
    this.int64Words();
    return uint64FromWords(this.lo, this.hi);
  }

  /** Any varint, as the words of its low 64 bits (a 10-byte varint of a negative int64 included). */
  private int64Words(): void {
    const buf = this.buf;
    const len = buf.length;
    let pos = this.pos;
    let lo = 0;
    let hi = 0;
    let b = 0;
    // Bytes 0-3: bits 0-27 of lo.
    for (let shift = 0; shift < 28; shift += 7) {
      if (pos >= len) throw NOT_FAST;
      b = buf[pos++]!;
      lo |= (b & 0x7f) << shift;
      if (b < 0x80) {
        this.pos = pos;
        this.lo = lo >>> 0;
        this.hi = 0;
        return;
      }
    }
    // Byte 4: bits 28-31 of lo, bits 0-2 of hi.
    if (pos >= len) throw NOT_FAST;
    b = buf[pos++]!;
    lo |= (b & 0x0f) << 28;
    hi = (b & 0x7f) >> 4;
    if (b >= 0x80) {
      // Bytes 5-9: bits 3-34 of hi (beyond 64 bits dropped, as Go's decoder does).
      let shift = 3;
      for (let i = 5; ; i++) {
        if (i === 10 || pos >= len) throw NOT_FAST;
        b = buf[pos++]!;
        if (shift < 32) hi |= (b & 0x7f) << shift;
        shift += 7;
        if (b < 0x80) break;
      }
    }
    this.pos = pos;
    this.lo = lo >>> 0;
    this.hi = hi >>> 0;
  }

  private skip(wire: number): void {
    const len = this.buf.length;
    switch (wire) {
      case WIRE_VARINT: this.int64Words(); return;
      case WIRE_FIXED64: this.pos += 8; break;
      case WIRE_BYTES: this.pos = this.messageEnd(wire); return;
      case WIRE_FIXED32: this.pos += 4; break;
      default: throw NOT_FAST;
    }
    if (this.pos > len) throw NOT_FAST;
  }
}

/** A string_table entry, decoded as decodeProfile's TextDecoder does (ASCII without it). */
function decodeString(buf: Uint8Array, start: number, end: number): string {
  for (let i = start; i < end; i++) {
    if (buf[i]! >= 0x80) return utf8Decoder.decode(buf.subarray(start, end));
  }
  return end - start < 16 ? asciiString(buf, start, end) : asciiDecoder.decode(buf.subarray(start, end));
}

function asciiString(buf: Uint8Array, start: number, end: number): string {
  let s = '';
  for (let i = start; i < end; i++) s += String.fromCharCode(buf[i]!);
  return s;
}

export { TWO_32 };
