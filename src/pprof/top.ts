import type { Profile } from 'pprof-format';
import { IdMap } from './id-map.js';
import { resolveSampleIndex, sampleTypesOf, type SampleTypeName } from './sample-type.js';

/** One function's totals: `flat` is its own value, `cum` includes its callees. */
export interface TopRow {
  readonly function: string;
  readonly flat: number;
  readonly cum: number;
}

export interface TopReport {
  readonly sampleType: SampleTypeName;
  readonly sampleIndex: number;
  /** Sum of the absolute sample values, the 100% of `go tool pprof`. */
  readonly total: number;
  /** Every function, sorted like `go tool pprof -top`: |flat| desc, then name, then |cum| desc. */
  readonly rows: TopRow[];
}

/**
 * Per-function flat and cumulative totals, as `go tool pprof -top` computes them at function
 * granularity: flat goes to the leaf frame (the innermost inlined function of the first
 * location); cum goes once per sample to every function on the stack, however often it
 * recurses. Frames without function information are named by address.
 * `sampleType` is a type name or index; default: the profile's default sample type.
 */
export function computeTop(p: Profile, sampleType?: string): TopReport {
  const sampleIndex = resolveSampleIndex(p, sampleType);
  const strings = p.stringTable.strings;
  const functions = IdMap.byId(p.function);

  // Each location becomes its frame names, leaf first (pprof puts inlined callees first).
  const nodeIds = new Map<string, number>();
  const names: string[] = [];
  const nodeOf = (name: string): number => {
    let id = nodeIds.get(name);
    if (id === undefined) {
      id = names.length;
      names.push(name);
      nodeIds.set(name, id);
    }
    return id;
  };
  const framesOf = new Map<number | bigint, number[]>();
  for (const loc of p.location) {
    const frames =
      loc.line.length > 0
        ? loc.line.map((ln) => nodeOf(strings[Number(functions.get(ln.functionId)?.name ?? 0)] || '<unknown>'))
        : [nodeOf(loc.address ? `0x${loc.address.toString(16).padStart(16, '0')}` : '<unknown>')];
    framesOf.set(loc.id, frames);
  }

  const flat = new Float64Array(names.length);
  const cum = new Float64Array(names.length);
  const seenIn = new Int32Array(names.length).fill(-1);
  let total = 0;
  p.sample.forEach((s, sampleNo) => {
    const v = Number(s.value[sampleIndex]);
    if (v === 0) return;
    total += Math.abs(v);
    let leaf = true;
    for (const locId of s.locationId) {
      for (const node of framesOf.get(locId) ?? []) {
        if (leaf) {
          flat[node]! += v;
          leaf = false;
        }
        if (seenIn[node] !== sampleNo) {
          seenIn[node] = sampleNo;
          cum[node]! += v;
        }
      }
    }
  });

  const rows: TopRow[] = [];
  for (let i = 0; i < names.length; i++) {
    if (flat[i] !== 0 || cum[i] !== 0) rows.push({ function: names[i]!, flat: flat[i]!, cum: cum[i]! });
  }
  rows.sort(
    (a, b) =>
      Math.abs(b.flat) - Math.abs(a.flat) ||
      (a.function < b.function ? -1 : a.function > b.function ? 1 : 0) ||
      Math.abs(b.cum) - Math.abs(a.cum),
  );
  return { sampleType: sampleTypesOf(p)[sampleIndex]!, sampleIndex, total, rows };
}
