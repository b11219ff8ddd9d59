import type { Profile, Sample } from 'pprof-format';
import { columnFits, computeTotal, flatNameOrder, functionNodes, isDiffBaseSample, type GraphNode } from './graph.js';
import { IdMap } from './id-map.js';
import { addInt64, negInt64, type Int64 } from './int64.js';
import { removeUninteresting } from './prune.js';
import { defaultSampleIndex, sampleTypesOf, type SampleTypeName } from './sample-type.js';
import type { TopReport, TopRow } from './top.js';

// Module-level alias: hot loops below run millions of times, and a global lookup (`Math`) is
// slow where the global object is a proxy (Node's vm contexts, as under jest).
const { imul } = Math;

/** The name of a call tree's root frame, as in pprof's own flame graph. */
export const ROOT_FRAME = 'root';

/**
 * Per node, the exact int64 values of one sample type: a Float64Array when the type's values
 * provably fit doubles (the sum of their magnitudes is below 2^53, so every sum is exact),
 * else an array of Int64 (numbers, and bigints beyond 2^53).
 */
export type Int64Column = Float64Array | Int64[];

/**
 * A profile's samples aggregated by stack, at pprof's function granularity: one node per
 * distinct path of function nodes from the root (graph.newTree keyed by NodeInfo), carrying
 * every sample type at once. This is what a flame graph draws, and it is far smaller than the
 * samples: a merge of hundreds of profiles has millions of samples but only thousands of
 * distinct stacks. Built from the profile after profile.RemoveUninteresting, as pprof's.
 *
 * Nodes are in depth-first preorder with siblings sorted by name (then node identity), so the
 * same profile always gives the same tree; node 0 is the root.
 */
export interface CallTree {
  /** The profile's sample types, in order; `self` and `total` are indexed like them. */
  readonly sampleTypes: SampleTypeName[];
  /** The sample type `go tool pprof` shows by default (see defaultSampleIndex). */
  readonly defaultSampleIndex: number;
  /**
   * Per function node, pprof's printable name (`names[0]` is the root's, `root`, even if a
   * function has that name too). Two nodes can share a name (`[app]` for two nameless functions).
   */
  readonly names: string[];
  /** Per function node, its identity (fmt.Sprint of pprof's NodeInfo; '' for the root). */
  readonly keys: string[];
  /** Per tree node, its function node: an index into `names`. */
  readonly nameIndex: Int32Array;
  /** Per node, its parent's index; -1 for the root. A parent always comes before its children. */
  readonly parent: Int32Array;
  /** Per node, its depth: 0 for the root, 1 for the outermost frames (usually `runtime.main`...). */
  readonly depth: Int32Array;
  /** `self[t][i]`: sample type t summed over the samples whose stack ends at node i. */
  readonly self: Int64Column[];
  /** `total[t][i]`: node i's self plus that of all its descendants (a frame's width); `total[t][0]` sums the whole profile. */
  readonly total: Int64Column[];
  /** Per sample type, pprof's 100% (report.computeTotal): Σ|value|, or a diff's base's. */
  readonly absoluteTotal: Int64[];
  /** Why drop_frames / keep_frames were not applied, when they were not. */
  readonly warnings: readonly string[];
}

/**
 * Builds the call tree of a profile. Frames are pprof's function nodes: the function of every
 * line of a location (inlined callees are frames of their own), or `[binary]` / `<unknown>`
 * for locations without symbols. A recursive call is a deeper node, as in any flame graph.
 * Values are summed as they are, exactly (Go's profiles are never negative); samples without
 * a location count at the root. A profile without samples gives a lone root.
 */
export function buildCallTree(p: Profile): CallTree {
  const { profile, warning } = removeUninteresting(p);
  const sampleTypes = sampleTypesOf(profile);
  const agg = aggregateStacks(profile, 1);
  return {
    sampleTypes,
    defaultSampleIndex: defaultSampleIndex(profile),
    names: agg.names,
    keys: agg.keys,
    nameIndex: agg.nameIndex,
    parent: agg.parent,
    depth: agg.depth,
    self: agg.self,
    total: agg.total,
    absoluteTotal: sampleTypes.map((_, t) => computeTotal(profile, t)),
    warnings: warning ? [warning] : [],
  };
}

/** One side of a diff in a DiffCallTree: its values as in its own profile, per sample type and node. */
export interface CallTreeSide {
  /** `self[t][i]`: like CallTree.self, for this side's samples only. */
  readonly self: Int64Column[];
  /** `total[t][i]`: like CallTree.total, for this side's samples only. */
  readonly total: Int64Column[];
}

/**
 * The call tree of a diff profile (diffProfiles, or `go tool pprof -proto -diff_base`) with both
 * sides kept apart in every node. As a CallTree it is the diff itself: `self` and `total` are
 * target minus base, and `absoluteTotal` is pprof's 100% for a diff (the base's total), so
 * topFromCallTree gives computeDiffTop's report.
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
  const { profile, warning } = removeUninteresting(diff);
  const sampleTypes = sampleTypesOf(profile);
  const typeCount = sampleTypes.length;
  const strings = profile.stringTable.strings;
  // Columns [0, typeCount) hold the target, [typeCount, 2 typeCount) the base as it is in the diff (negated).
  const agg = aggregateStacks(profile, 2, (s) => (s.label.length > 0 && isDiffBaseSample(s, strings) ? 1 : 0));
  const base = { self: agg.self.slice(typeCount).map(negateColumn), total: agg.total.slice(typeCount).map(negateColumn) };
  const target = { self: agg.self.slice(0, typeCount), total: agg.total.slice(0, typeCount) };
  return {
    sampleTypes,
    defaultSampleIndex: defaultSampleIndex(profile),
    names: agg.names,
    keys: agg.keys,
    nameIndex: agg.nameIndex,
    parent: agg.parent,
    depth: agg.depth,
    // target - base is the sum of both columns as they are in the diff (the base negated).
    self: target.self.map((col, t) => addColumns(col, agg.self[typeCount + t]!)),
    total: target.total.map((col, t) => addColumns(col, agg.total[typeCount + t]!)),
    absoluteTotal: sampleTypes.map((_, t) => computeTotal(profile, t)),
    base,
    target,
    warnings: warning ? [warning] : [],
  };
}

/** A profile's stacks as a preordered trie, with `sides` columns of sample-type values per node. */
interface AggregatedStacks {
  readonly names: string[];
  readonly keys: string[];
  readonly nameIndex: Int32Array;
  readonly parent: Int32Array;
  readonly depth: Int32Array;
  /** Per column (side * typeCount + type), per node. */
  readonly self: Int64Column[];
  readonly total: Int64Column[];
}

/**
 * The trie of the profile's stacks with each sample's values summed into the columns of the
 * side `sideOf` puts it on (default: side 0). Shared by buildCallTree and buildDiffCallTree so
 * both give the same nodes for the same profile.
 */
function aggregateStacks(p: Profile, sides: number, sideOf?: (s: Sample) => number): AggregatedStacks {
  const typeCount = p.sampleType.length;
  const columns = typeCount * sides;
  const fn = functionNodes(p);
  // Tree names: the root, then function node n at n + 1.
  const names = [ROOT_FRAME, ...fn.names];
  const keys = ['', ...fn.keys];
  const nameCount = names.length;
  // Each location's frames, caller first (pprof lists a location's lines innermost first).
  let maxId: number | bigint = 0;
  for (const l of p.location) if (l.id > maxId) maxId = l.id;
  const framesOf = new IdMap<Int32Array>(p.location.length, maxId);
  for (const loc of p.location) {
    const nodes = fn.nodesOf.get(loc.id)!;
    const frames = new Int32Array(nodes.length);
    for (let i = 0; i < nodes.length; i++) frames[i] = nodes[nodes.length - 1 - i]! + 1;
    framesOf.set(loc.id, frames);
  }

  // A trie keyed by (parent, name): the key fits a double exactly while nodes x names < 2^53.
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

  // Every column of a type is exact in doubles when Σ|value| of the type is (sides split it).
  const fits = Array.from({ length: typeCount }, (_, t) => columnFits(p.sample, t));
  const allFit = fits.every(Boolean);
  let self = new Float64Array(Math.max(columns, 1) * 1024);
  const exact = allFit ? undefined : new Map<number, Int64>();
  for (const s of p.sample) {
    const v = s.value as Int64[];
    let any = false;
    for (let t = 0; t < typeCount; t++) if (v[t] !== 0) any = true;
    if (!any) continue;
    const offset = sideOf === undefined ? 0 : sideOf(s) * typeCount;
    const leaf = leafOf(s.locationId);
    if ((nodeName.length + 1) * columns > self.length) {
      const grown = new Float64Array(Math.max(self.length * 2, (nodeName.length + 1) * columns));
      grown.set(self);
      self = grown;
    }
    for (let t = 0; t < typeCount; t++) {
      const at = leaf * columns + offset + t;
      if (fits[t]) self[at]! += v[t] as number;
      else exact!.set(at, addInt64(exact!.get(at) ?? 0, v[t]!));
    }
  }

  return { names, keys, ...toPreorder(names, keys, nodeName, nodeParent, (at, c) => (fits[c % typeCount] ? self[at]! + 0 : (exact!.get(at) ?? 0)), columns, (c) => fits[c % typeCount]!) };
}

/** Lays the trie out in preorder with siblings sorted by name, and sums the totals. */
function toPreorder(
  names: string[],
  keys: string[],
  nodeName: number[],
  nodeParent: number[],
  selfAt: (at: number, column: number) => Int64,
  columns: number,
  fits: (column: number) => boolean,
): Pick<AggregatedStacks, 'nameIndex' | 'parent' | 'depth' | 'self' | 'total'> {
  const n = nodeName.length;
  const children: number[][] = Array.from({ length: n }, () => []);
  for (let i = 1; i < n; i++) children[nodeParent[i]!]!.push(i);
  const byName = (a: number, b: number) => {
    const x = names[nodeName[a]!]!;
    const y = names[nodeName[b]!]!;
    if (x !== y) return x < y ? -1 : 1;
    const kx = keys[nodeName[a]!]!;
    const ky = keys[nodeName[b]!]!;
    return kx < ky ? -1 : kx > ky ? 1 : 0;
  };

  const nameIndex = new Int32Array(n);
  const parent = new Int32Array(n);
  const depth = new Int32Array(n);
  const self: Int64Column[] = Array.from({ length: columns }, (_, c) => (fits(c) ? new Float64Array(n) : new Array<Int64>(n).fill(0)));
  // Iterative DFS: real stacks are hundreds of frames deep, too deep for comfort in recursion.
  const stack: [oldIndex: number, newParent: number, depth: number][] = [[0, -1, 0]];
  let next = 0;
  while (stack.length > 0) {
    const [old, newParent, d] = stack.pop()!;
    const at = next++;
    nameIndex[at] = nodeName[old]!;
    parent[at] = newParent;
    depth[at] = d;
    for (let c = 0; c < columns; c++) self[c]![at] = selfAt(old * columns + c, c);
    const kids = children[old]!.sort(byName);
    for (let k = kids.length - 1; k >= 0; k--) stack.push([kids[k]!, at, d + 1]);
  }

  const total = self.map((s) => (s instanceof Float64Array ? Float64Array.from(s) : [...s]));
  for (const col of total) {
    if (col instanceof Float64Array) for (let i = n - 1; i > 0; i--) col[parent[i]!]! += col[i]!;
    else for (let i = n - 1; i > 0; i--) col[parent[i]!] = addInt64(col[parent[i]!]!, col[i]!);
  }
  return { nameIndex, parent, depth, self, total };
}

function negateColumn(col: Int64Column): Int64Column {
  return col instanceof Float64Array ? col.map((v) => 0 - v) : col.map(negInt64); // 0 - v: no -0
}

function addColumns(a: Int64Column, b: Int64Column): Int64Column {
  if (a instanceof Float64Array && b instanceof Float64Array) return a.map((v, i) => v + b[i]!);
  return Array.from({ length: a.length }, (_, i) => addInt64(a[i]!, b[i]!));
}

/** The values of a column as plain Int64s. */
export function columnValues(col: Int64Column): Int64[] {
  return col instanceof Float64Array ? Array.from(col, (v) => v + 0) : col;
}

function hashIds(ids: ArrayLike<number | bigint>): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < ids.length; i++) {
    const id = ids[i]!;
    h = imul(h ^ (typeof id === 'number' ? id : Number(id & 0xffffffffn)), 0x01000193);
  }
  return h;
}

function sameIds(a: ArrayLike<number | bigint>, b: ArrayLike<number | bigint>): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** A top row read off a call tree, with the function node it is for. */
export interface CallTreeTopRow extends TopRow {
  /** The row's function node: an index into the tree's `names` and `keys`. */
  readonly nameIndex: number;
}

/**
 * The per-function flat and cum totals of one sample type, read off the call tree; the same
 * numbers, rows and order as computeTop on the profile (untrimmed; without the inline marker),
 * for the cost of one pass over the tree instead of one over every sample's stack. flat sums
 * the self values of a function's frames; cum sums the totals of its outermost frames on each
 * path (a recursive call is already inside its caller's width). Throws a RangeError for a
 * sample index the tree does not have.
 */
export function topFromCallTree(tree: CallTree, sampleIndex: number): Omit<TopReport, 'rows'> & { rows: CallTreeTopRow[] } {
  const self = tree.self[sampleIndex];
  const total = tree.total[sampleIndex];
  if (!self || !total) throw new RangeError(`sample index ${sampleIndex} out of range (the profile has ${tree.sampleTypes.length} sample types)`);
  const count = tree.names.length;
  const flat: Int64[] = new Array<Int64>(count).fill(0);
  const cum: Int64[] = new Array<Int64>(count).fill(0);
  const fits = self instanceof Float64Array;
  // How often each name is on the path from the root to the current node.
  const onPath = new Int32Array(count);
  const path: number[] = [];
  for (let i = 1; i < tree.nameIndex.length; i++) {
    const depth = tree.depth[i]!;
    while (path.length >= depth) onPath[path.pop()!]!--;
    const name = tree.nameIndex[i]!;
    flat[name] = fits ? (flat[name] as number) + (self[i] as number) : addInt64(flat[name]!, self[i]!);
    if (onPath[name] === 0) cum[name] = fits ? (cum[name] as number) + (total[i] as number) : addInt64(cum[name]!, total[i]!);
    onPath[name]!++;
    path.push(name);
  }
  const nodes: GraphNode[] = [];
  for (let n = 1; n < count; n++) if (flat[n] !== 0 || cum[n] !== 0) nodes.push({ node: n - 1, flat: flat[n]!, cum: cum[n]! });
  // computeTop's order (graph.FlatNameOrder), on the tree's function nodes.
  nodes.sort(flatNameOrder({ names: tree.names.slice(1), keys: tree.keys.slice(1) }));
  const rows = nodes.map((n) => ({ function: tree.names[n.node + 1]!, flat: n.flat, cum: n.cum, nameIndex: n.node + 1 }));
  return {
    sampleType: tree.sampleTypes[sampleIndex]!,
    sampleIndex,
    total: tree.absoluteTotal[sampleIndex]!,
    rows,
    droppedNodes: 0,
    nodesBeforeCount: rows.length,
    nodeFraction: 0,
    nodeCount: 0,
    warnings: tree.warnings,
  };
}
