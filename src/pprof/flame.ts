import type { Profile, Sample } from 'pprof-format';
import { DIFF_BASE_LABEL } from './diff.js';
import { IdMap } from './id-map.js';
import { defaultSampleIndex, sampleTypesOf, type SampleTypeName } from './sample-type.js';
import type { TopReport, TopRow } from './top.js';

// Module-level aliases: hot loops below run millions of times, and a global lookup (`Math`,
// `Number`) is slow where the global object is a proxy (Node's vm contexts, as under jest).
const { abs, imul } = Math;
const toNumber = (v: number | bigint | undefined): number => (typeof v === 'number' ? v : v === undefined ? 0 : Number(v));

/** The name of a call tree's root frame, as in pprof's own flame graph. */
export const ROOT_FRAME = 'root';

/**
 * A profile's samples aggregated by stack, at function granularity: one node per distinct path
 * of function names from the root, carrying every sample type at once. This is what a flame
 * graph draws, and it is far smaller than the samples: a merge of hundreds of profiles has
 * millions of samples but only thousands of distinct stacks.
 *
 * Nodes are in depth-first preorder with siblings sorted by name (byte order), so the same
 * profile always gives the same tree; node 0 is the root.
 */
export interface CallTree {
  /** The profile's sample types, in order; `self` and `total` are indexed like them. */
  readonly sampleTypes: SampleTypeName[];
  /** The sample type `go tool pprof` shows by default (see defaultSampleIndex). */
  readonly defaultSampleIndex: number;
  /** Distinct function names, after `names[0]`, the root's (`root`, even if a function has that name too). */
  readonly names: string[];
  /** Per node, its frame name as an index into `names`. */
  readonly nameIndex: Int32Array;
  /** Per node, its parent's index; -1 for the root. A parent always comes before its children. */
  readonly parent: Int32Array;
  /** Per node, its depth: 0 for the root, 1 for the outermost frames (usually `runtime.main`...). */
  readonly depth: Int32Array;
  /** `self[t][i]`: sample type t summed over the samples whose stack ends at node i. */
  readonly self: Float64Array[];
  /** `total[t][i]`: node i's self plus that of all its descendants (a frame's width); `total[t][0]` sums the whole profile. */
  readonly total: Float64Array[];
  /** Per sample type, the sum of the samples' absolute values: the 100% of `go tool pprof`. */
  readonly absoluteTotal: number[];
}

/**
 * Builds the call tree of a profile. Frames are named like `go tool pprof` names them at function
 * granularity: the function of every line of a location (inlined callees are frames of their
 * own), or the address when a location has no lines. A recursive call is a deeper node, as in
 * any flame graph. Values are summed as they are (Go's profiles are never negative); samples
 * without a location count at the root. A profile without samples gives a lone root.
 */
export function buildCallTree(p: Profile): CallTree {
  const sampleTypes = sampleTypesOf(p);
  const { names, nameIndex, parent, depth, self, total, absolute } = aggregateStacks(p, 1);
  return { sampleTypes, defaultSampleIndex: defaultSampleIndex(p), names, nameIndex, parent, depth, self, total, absoluteTotal: absolute };
}

/** One side of a diff in a DiffCallTree: its values as in its own profile, per sample type and node. */
export interface CallTreeSide {
  /** `self[t][i]`: like CallTree.self, for this side's samples only. */
  readonly self: Float64Array[];
  /** `total[t][i]`: like CallTree.total, for this side's samples only. */
  readonly total: Float64Array[];
}

/**
 * The call tree of a diff profile (diffProfiles, or `go tool pprof -proto -diff_base`) with both
 * sides kept apart in every node. As a CallTree it is the diff itself: `self` and `total` are
 * target minus base, and `absoluteTotal` is pprof's 100% for a diff (diffTotal: the base's
 * total), so topFromCallTree gives computeDiffTop's report.
 */
export interface DiffCallTree extends CallTree {
  /** The base (samples labelled `pprof::base=true`), with the sign of the base profile (positive). */
  readonly base: CallTreeSide;
  /** The target (every other sample). */
  readonly target: CallTreeSide;
}

/**
 * Builds the call tree of a diff profile, nodes and names as buildCallTree's for the same
 * profile. A node present on one side only has zeros on the other. Samples labelled
 * `pprof::base=true` are the base (their negated values are negated back); all others are the
 * target. A profile with no such label is all target: the base is zero everywhere.
 */
export function buildDiffCallTree(diff: Profile): DiffCallTree {
  const sampleTypes = sampleTypesOf(diff);
  const typeCount = sampleTypes.length;
  const strings = diff.stringTable.strings;
  const isBase = (s: Sample) => s.label.some((l) => strings[Number(l.key)] === DIFF_BASE_LABEL && strings[Number(l.str)] === 'true');
  // Columns [0, typeCount) hold the target, [typeCount, 2 typeCount) the base as it is in the diff (negated).
  const { names, nameIndex, parent, depth, self, total, absolute } = aggregateStacks(diff, 2, (s) => (isBase(s) ? 1 : 0));
  const negate = (a: Float64Array) => a.map((v) => 0 - v); // 0 - v: no -0
  const base = { self: self.slice(typeCount).map(negate), total: total.slice(typeCount).map(negate) };
  const target = { self: self.slice(0, typeCount), total: total.slice(0, typeCount) };
  const minus = (t: Float64Array[], b: Float64Array[]) => t.map((tt, k) => tt.map((v, i) => v - b[k]![i]!));
  return {
    sampleTypes,
    defaultSampleIndex: defaultSampleIndex(diff),
    names,
    nameIndex,
    parent,
    depth,
    self: minus(target.self, base.self),
    total: minus(target.total, base.total),
    // diffTotal: the base's absolute sum, or everything's when the base is empty.
    absoluteTotal: sampleTypes.map((_, t) => (absolute[typeCount + t]! > 0 ? absolute[typeCount + t]! : absolute[t]! + absolute[typeCount + t]!)),
    base,
    target,
  };
}

/** A profile's stacks as a preordered trie, with `sides` columns of sample-type values per node. */
interface AggregatedStacks {
  readonly names: string[];
  readonly nameIndex: Int32Array;
  readonly parent: Int32Array;
  readonly depth: Int32Array;
  /** Per column (side * typeCount + type), per node. */
  readonly self: Float64Array[];
  readonly total: Float64Array[];
  /** Per column, the sum of the absolute values of the samples. */
  readonly absolute: number[];
}

/**
 * The trie of the profile's stacks with each sample's values summed into the columns of the
 * side `sideOf` puts it on (default: side 0). Shared by buildCallTree and buildDiffCallTree so
 * both give the same nodes for the same profile.
 */
function aggregateStacks(p: Profile, sides: number, sideOf?: (s: Sample) => number): AggregatedStacks {
  const typeCount = p.sampleType.length;
  const columns = typeCount * sides;
  const strings = p.stringTable.strings;
  const functions = IdMap.byId(p.function);

  // The root's name is not in the map: a function called "root" is a frame of its own.
  const nameIds = new Map<string, number>();
  const names: string[] = [ROOT_FRAME];
  const nameOf = (name: string): number => {
    let id = nameIds.get(name);
    if (id === undefined) {
      id = names.length;
      names.push(name);
      nameIds.set(name, id);
    }
    return id;
  };
  // Each location's frames, caller first (pprof lists a location's inlined lines callee first).
  const framesOf = new IdMap<Int32Array>(p.location.length, p.location.reduce<number | bigint>((m, l) => (l.id > m ? l.id : m), 0));
  for (const loc of p.location) {
    const frames =
      loc.line.length > 0
        ? loc.line.map((ln) => nameOf(strings[Number(functions.get(ln.functionId)?.name ?? 0)] || '<unknown>')).reverse()
        : [nameOf(loc.address ? `0x${loc.address.toString(16).padStart(16, '0')}` : '<unknown>')];
    framesOf.set(loc.id, Int32Array.from(frames));
  }

  // A trie keyed by (parent, name): the key fits a double exactly while nodes x names < 2^53.
  const nameCount = names.length;
  const childOf = new Map<number, number>();
  const nodeName: number[] = [0];
  const nodeParent: number[] = [-1];
  const walk = (locationIds: ArrayLike<number | bigint>): number => {
    let node = 0;
    for (let i = locationIds.length - 1; i >= 0; i--) {
      const frames = framesOf.get(locationIds[i]!);
      if (!frames) continue;
      for (const name of frames) {
        const key = node * nameCount + name;
        let child = childOf.get(key);
        if (child === undefined) {
          child = nodeName.length;
          nodeName.push(name);
          nodeParent.push(node);
          childOf.set(key, child);
        }
        node = child;
      }
    }
    return node;
  };

  // Merged profiles repeat stacks (the same stack with other labels, e.g. heap object sizes):
  // each distinct stack walks the trie once, later ones cost one hash lookup.
  const stacksByHash = new Map<number, number>();
  const stacks: ArrayLike<number | bigint>[] = [];
  const stackLeaf: number[] = [];
  const sameHashNext: number[] = [];
  const leafOf = (locationIds: ArrayLike<number | bigint>): number => {
    const hash = hashIds(locationIds);
    const first = stacksByHash.get(hash);
    for (let k = first ?? -1; k >= 0; k = sameHashNext[k]!) if (sameIds(stacks[k]!, locationIds)) return stackLeaf[k]!;
    const k = stacks.length;
    stacks.push(locationIds);
    stackLeaf.push(walk(locationIds));
    sameHashNext.push(first ?? -1);
    stacksByHash.set(hash, k);
    return stackLeaf[k]!;
  };

  let self = new Float64Array(Math.max(columns, 1) * 1024);
  const absolute = new Array<number>(columns).fill(0);
  const values = new Float64Array(typeCount);
  for (const s of p.sample) {
    const offset = sideOf === undefined ? 0 : sideOf(s) * typeCount;
    let any = false;
    for (let t = 0; t < typeCount; t++) {
      const v = toNumber(s.value[t]);
      values[t] = v;
      absolute[offset + t] += abs(v);
      if (v !== 0) any = true;
    }
    if (!any) continue;
    const leaf = leafOf(s.locationId);
    if ((nodeName.length + 1) * columns > self.length) {
      const grown = new Float64Array(Math.max(self.length * 2, (nodeName.length + 1) * columns));
      grown.set(self);
      self = grown;
    }
    for (let t = 0; t < typeCount; t++) self[leaf * columns + offset + t]! += values[t]!;
  }

  return { names, absolute, ...toPreorder(names, nodeName, nodeParent, self, columns) };
}

/** Lays the trie out in preorder with siblings sorted by name, and sums the totals. */
function toPreorder(
  names: string[],
  nodeName: number[],
  nodeParent: number[],
  selfByNode: Float64Array,
  columns: number,
): Pick<AggregatedStacks, 'nameIndex' | 'parent' | 'depth' | 'self' | 'total'> {
  const n = nodeName.length;
  const children: number[][] = Array.from({ length: n }, () => []);
  for (let i = 1; i < n; i++) children[nodeParent[i]!]!.push(i);
  const byName = (a: number, b: number) => {
    const x = names[nodeName[a]!]!;
    const y = names[nodeName[b]!]!;
    return x < y ? -1 : x > y ? 1 : 0;
  };

  const nameIndex = new Int32Array(n);
  const parent = new Int32Array(n);
  const depth = new Int32Array(n);
  const self = Array.from({ length: columns }, () => new Float64Array(n));
  // Iterative DFS: real stacks are hundreds of frames deep, too deep for comfort in recursion.
  const stack: [oldIndex: number, newParent: number, depth: number][] = [[0, -1, 0]];
  let next = 0;
  while (stack.length > 0) {
    const [old, newParent, d] = stack.pop()!;
    const at = next++;
    nameIndex[at] = nodeName[old]!;
    parent[at] = newParent;
    depth[at] = d;
    for (let c = 0; c < columns; c++) self[c]![at] = selfByNode[old * columns + c]!;
    const kids = children[old]!.sort(byName);
    for (let k = kids.length - 1; k >= 0; k--) stack.push([kids[k]!, at, d + 1]);
  }

  const total = self.map((s) => Float64Array.from(s));
  for (let i = n - 1; i > 0; i--) {
    for (let c = 0; c < columns; c++) total[c]![parent[i]!]! += total[c]![i]!;
  }
  return { nameIndex, parent, depth, self, total };
}

function hashIds(ids: ArrayLike<number | bigint>): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < ids.length; i++) h = imul(h ^ toNumber(ids[i]), 0x01000193);
  return h;
}

function sameIds(a: ArrayLike<number | bigint>, b: ArrayLike<number | bigint>): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * The per-function flat and cum totals of one sample type, read off the call tree; the same
 * report as computeTop on the profile (rows, order and total), for the cost of one pass over
 * the tree instead of one over every sample's stack. flat sums the self values of a function's
 * frames; cum sums the totals of its outermost frames on each path (a recursive call is already
 * inside its caller's width). Throws a RangeError for a sample index the tree does not have.
 */
export function topFromCallTree(tree: CallTree, sampleIndex: number): TopReport {
  const self = tree.self[sampleIndex];
  const total = tree.total[sampleIndex];
  if (!self || !total) throw new RangeError(`sample index ${sampleIndex} out of range (the profile has ${tree.sampleTypes.length} sample types)`);
  const flat = new Float64Array(tree.names.length);
  const cum = new Float64Array(tree.names.length);
  // How often each name is on the path from the root to the current node.
  const onPath = new Int32Array(tree.names.length);
  const path: number[] = [];
  for (let i = 1; i < tree.nameIndex.length; i++) {
    const depth = tree.depth[i]!;
    while (path.length >= depth) onPath[path.pop()!]!--;
    const name = tree.nameIndex[i]!;
    flat[name]! += self[i]!;
    if (onPath[name] === 0) cum[name]! += total[i]!;
    onPath[name]!++;
    path.push(name);
  }
  const rows: TopRow[] = [];
  for (let n = 1; n < tree.names.length; n++) {
    if (flat[n] !== 0 || cum[n] !== 0) rows.push({ function: tree.names[n]!, flat: flat[n]!, cum: cum[n]! });
  }
  // computeTop's order: |flat| desc, then name, then |cum| desc.
  rows.sort(
    (a, b) =>
      abs(b.flat) - abs(a.flat) ||
      (a.function < b.function ? -1 : a.function > b.function ? 1 : 0) ||
      abs(b.cum) - abs(a.cum),
  );
  return { sampleType: tree.sampleTypes[sampleIndex]!, sampleIndex, total: tree.absoluteTotal[sampleIndex]!, rows };
}
