import { Function as PprofFunction, Label, Line, Location, Mapping, Profile, Sample, StringTable, ValueType } from 'pprof-format';

/** One sample for buildProfile: its stack root first (`main.main;main.handler;json.Marshal`). */
export interface SampleSpec {
  readonly stack: string;
  /** int64 values: numbers, or bigints beyond 2^53 (canonical: a bigint only where a number cannot hold it). */
  readonly values: (number | bigint)[];
  readonly labels?: Record<string, string | number | bigint>;
}

export interface ProfileSpec {
  readonly sampleTypes?: [type: string, unit: string][];
  readonly periodType?: [type: string, unit: string];
  readonly period?: number;
  readonly timeNanos?: number | bigint;
  readonly durationNanos?: number;
  readonly comments?: string[];
  readonly dropFrames?: string;
  readonly keepFrames?: string;
  readonly samples: SampleSpec[];
  /** Mapping of the main binary; locations get addresses inside it. */
  readonly mapping?: { start: number; limit: number; file: string; buildId?: string };
}

/**
 * Builds a small but complete pprof profile from folded stacks, root first, with one location
 * per distinct frame (address = base + 0x100 x location index) so tests can state profiles
 * readably. A frame is a function name, or:
 * - `a+b+c`: one location whose lines are a, calling b, calling c, inlined (pprof lists them c, b, a);
 * - `@0x461010`: an address-only location (no lines) in the main mapping; `@@0x7f0000001000`: one
 *   with no mapping at all;
 * - `#12`: a location whose function has an empty name and start line 12.
 */
export function buildProfile(spec: ProfileSpec): Profile {
  const strings = new StringTable();
  const sampleTypes = spec.sampleTypes ?? [['samples', 'count'], ['cpu', 'nanoseconds']];
  const mappingSpec = spec.mapping ?? { start: 0x400000, limit: 0x800000, file: '/app/server' };
  const mapping = new Mapping({
    id: 1,
    memoryStart: mappingSpec.start,
    memoryLimit: mappingSpec.limit,
    filename: strings.dedup(mappingSpec.file),
    buildId: strings.dedup(mappingSpec.buildId ?? ''),
    hasFunctions: true,
  });
  const functions: PprofFunction[] = [];
  const functionByName = new Map<string, PprofFunction>();
  const functionFor = (name: string, startLine = 0): PprofFunction => {
    const key = `${name}\0${startLine}`;
    let fn = functionByName.get(key);
    if (!fn) {
      fn = new PprofFunction({ id: functions.length + 1, name: strings.dedup(name), systemName: strings.dedup(name), filename: strings.dedup('main.go'), startLine });
      functions.push(fn);
      functionByName.set(key, fn);
    }
    return fn;
  };
  const locations: Location[] = [];
  const locationByName = new Map<string, Location>();
  const locationFor = (frame: string): Location => {
    let loc = locationByName.get(frame);
    if (!loc) {
      const id = locations.length + 1;
      if (frame.startsWith('@@')) loc = new Location({ id, mappingId: 0, address: BigInt(frame.slice(2)) });
      else if (frame.startsWith('@')) loc = new Location({ id, mappingId: 1, address: BigInt(frame.slice(1)) });
      else {
        const lines = frame.startsWith('#')
          ? [new Line({ functionId: functionFor('', Number(frame.slice(1))).id, line: 10 })]
          : frame.split('+').reverse().map((name) => new Line({ functionId: functionFor(name).id, line: 10 }));
        loc = new Location({ id, mappingId: 1, address: mappingSpec.start + 0x100 * id, line: lines });
      }
      if (typeof loc.address === 'bigint' && loc.address <= BigInt(Number.MAX_SAFE_INTEGER)) loc.address = Number(loc.address);
      locations.push(loc);
      locationByName.set(frame, loc);
    }
    return loc;
  };
  const samples = spec.samples.map((s) => {
    const leafFirst = s.stack.split(';').reverse();
    const label = Object.entries(s.labels ?? {}).map(([k, v]) =>
      typeof v === 'string' ? new Label({ key: strings.dedup(k), str: strings.dedup(v) }) : new Label({ key: strings.dedup(k), num: v }),
    );
    return new Sample({ locationId: leafFirst.map((n) => locationFor(n).id), value: s.values, label });
  });
  const [pt, pu] = spec.periodType ?? sampleTypes[sampleTypes.length - 1]!;
  return new Profile({
    sampleType: sampleTypes.map(([t, u]) => new ValueType({ type: strings.dedup(t), unit: strings.dedup(u) })),
    sample: samples,
    mapping: [mapping],
    location: locations,
    function: functions,
    stringTable: strings,
    timeNanos: spec.timeNanos ?? 1_700_000_000_000_000_000,
    durationNanos: spec.durationNanos ?? 10_000_000_000,
    periodType: new ValueType({ type: strings.dedup(pt), unit: strings.dedup(pu) }),
    period: spec.period ?? 10_000_000,
    comment: (spec.comments ?? []).map((c) => strings.dedup(c)),
    dropFrames: spec.dropFrames ? strings.dedup(spec.dropFrames) : 0,
    keepFrames: spec.keepFrames ? strings.dedup(spec.keepFrames) : 0,
  });
}

/**
 * A profile as readable folded stacks, one line per sample, sorted: `a;b;c 10,20 {k=v}`.
 * Two profiles with the same samples give the same text whatever their ids and order.
 */
export function foldedStacks(p: Profile): string {
  const s = p.stringTable.strings;
  const fn = new Map(p.function.map((f) => [f.id, s[Number(f.name)]]));
  const loc = new Map(p.location.map((l) => [l.id, l.line.map((ln) => fn.get(ln.functionId)).reverse().join(';')]));
  return p.sample
    .map((smp) => {
      const stack = smp.locationId.map((id) => loc.get(id)).reverse().join(';');
      const labels = smp.label.map((l) => `${s[Number(l.key)]}=${l.str ? s[Number(l.str)] : String(l.num)}`).sort();
      return `${stack} ${smp.value.join(',')}${labels.length ? ` {${labels.join(',')}}` : ''}`;
    })
    .sort()
    .join('\n');
}
