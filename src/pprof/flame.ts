import type { Profile } from 'pprof-format';
import { computeTotal, flatNameOrder, functionNodes, isDiffBaseSample, type GraphNode } from './graph.js';
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
  const agg = aggregateStacks(profile, false);
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
    absoluteTotal: agg.absoluteTotal,
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
  // Columns [0, typeCount) hold the target, [typeCount, 2 typeCount) the base as it is in the diff (negated).
  const agg = aggregateStacks(profile, true);
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
    absoluteTotal: agg.absoluteTotal,
    base,
    target,
    warnings: warning ? [warning] : [],
  };
}

/** A profile's stacks as a preordered trie, with one or two sides of sample-type values per node. */
interface AggregatedStacks {
  readonly names: string[];
  readonly keys: string[];
  readonly nameIndex: Int32Array;
  readonly parent: Int32Array;
  readonly depth: Int32Array;
  /** Per column (side * typeCount + type), per node. */
  readonly self: Int64Column[];
  readonly total: Int64Column[];
  /** Per sample type, report.computeTotal over every sample. */
  readonly absoluteTotal: Int64[];
}

/**
 * The trie of the profile's stacks with each sample's values summed into the columns of its
 * side: with `split`, samples labelled `pprof::base=true` on side 1, the others on side 0; else
 * all on side 0. Shared by buildCallTree and buildDiffCallTree so both give the same nodes for
 * the same profile.
 *
 * One pass over the samples finds each sample's distinct stack (a hash set of location id
 * lists: merged profiles repeat stacks, with other labels) and sums its values there in doubles,
 * along with each type's Σ|value|: while that stays below 2^53 every sum is exact, and it is
 * pprof's total. Types beyond it (or with values beyond 2^53) are summed again exactly. Only the
 * distinct stacks walk the trie.
 */
function aggregateStacks(p: Profile, split: boolean): AggregatedStacks {
  const typeCount = p.sampleType.length;
  const columns = typeCount * (split ? 2 : 1);
  const strings = p.stringTable.strings;
  // Only a profile with this string can have diff base samples (Sample.DiffBaseSample).
  const mayHaveBase = strings.includes('pprof::base');

  const stacks = new StackSet();
  let stackSelf = new Float64Array(Math.max(columns, 1) * 1024);
  const magnitude = new Float64Array(typeCount);
  const baseMagnitude = new Float64Array(typeCount);
  const numeric = new Uint8Array(typeCount).fill(1);
  // Indexed loops: for-of allocates an iterator result per sample where V8 does not optimize it away.
  const samples = p.sample;
  for (let j = 0; j < samples.length; j++) {
    const s = samples[j]!;
    const v = s.value as ArrayLike<Int64>;
    const isBase = mayHaveBase && s.label.length > 0 && isDiffBaseSample(s, strings);
    let any = false;
    for (let t = 0; t < typeCount; t++) {
      const x = v[t]!;
      if (x !== 0) any = true;
      if (typeof x !== 'number') numeric[t] = 0;
      else {
        const m = x < 0 ? -x : x;
        magnitude[t] += m;
        if (isBase) baseMagnitude[t] += m;
      }
    }
    if (!any) continue;
    const k = stacks.add(s.locationId);
    if ((k + 1) * columns > stackSelf.length) stackSelf = grow(stackSelf, (k + 1) * columns);
    const at = k * columns + (split && isBase ? typeCount : 0);
    for (let t = 0; t < typeCount; t++) {
      const x = v[t]!;
      if (typeof x === 'number') stackSelf[at + t] += x;
    }
  }
  const fits = Array.from({ length: typeCount }, (_, t) => numeric[t] === 1 && magnitude[t]! <= Number.MAX_SAFE_INTEGER);
  // computeTotal: Σ|value|, or the diff base's when it has one.
  const absoluteTotal = fits.map((f, t): Int64 => (f ? (baseMagnitude[t]! > 0 ? baseMagnitude[t]! : magnitude[t]!) : computeTotal(p, t)));

  // The exact sums of the types that do not fit doubles, per stack and column.
  let exact: Map<number, Int64> | undefined;
  if (!fits.every(Boolean)) {
    exact = new Map();
    for (let j = 0; j < samples.length; j++) {
      const s = samples[j]!;
      const v = s.value as ArrayLike<Int64>;
      const k = stacks.find(s.locationId);
      if (k < 0) continue; // all zero
      const at = k * columns + (split && mayHaveBase && s.label.length > 0 && isDiffBaseSample(s, strings) ? typeCount : 0);
      for (let t = 0; t < typeCount; t++) if (!fits[t] && v[t] !== 0) exact.set(at + t, addInt64(exact.get(at + t) ?? 0, v[t]!));
    }
  }

  const trie = stackTrie(p, stacks);
  const n = trie.nodeName.length;
  // Per trie node and column, the sum of its stacks.
  const nodeSelf = new Float64Array(n * columns);
  const nodeExact = exact && new Map<number, Int64>();
  for (let k = 0; k < stacks.size; k++) {
    const leaf = trie.leafOf[k]!;
    for (let c = 0; c < columns; c++) {
      if (fits[c % typeCount]) nodeSelf[leaf * columns + c] += stackSelf[k * columns + c]!;
      else {
        const v = exact!.get(k * columns + c);
        if (v !== undefined) nodeExact!.set(leaf * columns + c, addInt64(nodeExact!.get(leaf * columns + c) ?? 0, v));
      }
    }
  }

  const { order, nameIndex, parent, depth } = toPreorder(trie.names, trie.keys, trie.nodeName, trie.nodeParent);
  const self: Int64Column[] = Array.from({ length: columns }, (_, c) => {
    if (fits[c % typeCount]) {
      const col = new Float64Array(n);
      for (let i = 0; i < n; i++) col[i] = nodeSelf[order[i]! * columns + c]!;
      return col;
    }
    return Array.from(order, (old) => nodeExact!.get(old * columns + c) ?? 0);
  });
  const total = self.map((s) => (s instanceof Float64Array ? Float64Array.from(s) : [...s]));
  for (const col of total) {
    if (col instanceof Float64Array) for (let i = n - 1; i > 0; i--) col[parent[i]!]! += col[i]!;
    else for (let i = n - 1; i > 0; i--) col[parent[i]!] = addInt64(col[parent[i]!]!, col[i]!);
  }
  return { names: trie.names, keys: trie.keys, nameIndex, parent, depth, self, total, absoluteTotal };
}

/**
 * The distinct location id lists of a profile's samples, numbered in the order they are added:
 * an open-addressing hash set whose ids are copied into one pool, so that comparing a sample's
 * stack reads contiguous memory instead of another array somewhere in the heap (at a million
 * samples this set is most of a call tree's cost; a Map of arrays costs twice as much).
 */
class StackSet {
  /** Per slot, a stack's number + 1; 0 is empty. */
  private slots = new Int32Array(1 << 12);
  private hashes = new Int32Array(1 << 11);
  /** Per stack, where its ids start in the pool (-1 when one is a bigint: compared in `stacks`), and how many. */
  private offsets = new Int32Array(1 << 11);
  private lengths = new Int32Array(1 << 11);
  private pool = new Float64Array(1 << 14);
  private used = 0;
  readonly stacks: ArrayLike<number | bigint>[] = [];

  get size(): number {
    return this.stacks.length;
  }

  /** The number of the stack, added when it is new. */
  add(ids: ArrayLike<number | bigint>): number {
    const hash = hashIds(ids);
    const mask = this.slots.length - 1;
    let slot = hash & mask;
    for (let e = this.slots[slot]!; e !== 0; e = this.slots[slot]!) {
      if (this.hashes[e - 1] === hash && this.isStack(e - 1, ids)) return e - 1;
      slot = (slot + 1) & mask;
    }
    const k = this.stacks.length;
    this.stacks.push(ids);
    if (k >= this.hashes.length) {
      this.hashes = grow(this.hashes, k + 1);
      this.offsets = grow(this.offsets, k + 1);
      this.lengths = grow(this.lengths, k + 1);
    }
    this.hashes[k] = hash;
    this.offsets[k] = this.copy(ids);
    this.lengths[k] = ids.length;
    this.slots[slot] = k + 1;
    // At most half full, so probes stay short.
    if (2 * (k + 1) > this.slots.length) this.rehash(this.slots.length * 2);
    return k;
  }

  /** The number of a stack that was added, or -1. */
  find(ids: ArrayLike<number | bigint>): number {
    const hash = hashIds(ids);
    const mask = this.slots.length - 1;
    for (let slot = hash & mask, e = this.slots[slot]!; e !== 0; slot = (slot + 1) & mask, e = this.slots[slot]!) {
      if (this.hashes[e - 1] === hash && this.isStack(e - 1, ids)) return e - 1;
    }
    return -1;
  }

  private isStack(k: number, ids: ArrayLike<number | bigint>): boolean {
    const n = this.lengths[k]!;
    if (n !== ids.length) return false;
    const at = this.offsets[k]!;
    if (at < 0) return sameIds(this.stacks[k]!, ids);
    const pool = this.pool;
    // A bigint never equals the pool's doubles: such a sample's stack is one stored in `stacks`.
    for (let i = 0; i < n; i++) if (pool[at + i] !== ids[i]) return false;
    return true;
  }

  /** Copies number ids into the pool and returns where; -1 (not copied) when one is a bigint. */
  private copy(ids: ArrayLike<number | bigint>): number {
    for (let i = 0; i < ids.length; i++) if (typeof ids[i] !== 'number') return -1;
    if (this.used + ids.length > this.pool.length) this.pool = grow(this.pool, this.used + ids.length);
    const at = this.used;
    for (let i = 0; i < ids.length; i++) this.pool[at + i] = ids[i] as number;
    this.used += ids.length;
    return at;
  }

  private rehash(size: number): void {
    const slots = new Int32Array(size);
    const mask = size - 1;
    for (let k = 0; k < this.stacks.length; k++) {
      let slot = this.hashes[k]! & mask;
      while (slots[slot] !== 0) slot = (slot + 1) & mask;
      slots[slot] = k + 1;
    }
    this.slots = slots;
  }
}

/** A typed array at least `size` long (doubling), with the contents of `a`. */
function grow<T extends Int32Array | Float64Array>(a: T, size: number): T {
  const grown = new (a.constructor as new (n: number) => T)(Math.max(size, a.length * 2));
  grown.set(a);
  return grown;
}

/** The trie of function-node paths of the distinct stacks: per trie node its name and parent, per stack its leaf. */
function stackTrie(p: Profile, stacks: StackSet): { names: string[]; keys: string[]; nodeName: Int32Array; nodeParent: Int32Array; leafOf: Int32Array } {
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
  const trie = new Trie(nameCount);
  const leafOf = new Int32Array(stacks.size);
  for (let k = 0; k < stacks.size; k++) {
    const locationIds = stacks.stacks[k]!;
    let node = 0;
    for (let i = locationIds.length - 1; i >= 0; i--) {
      const frames = framesOf.get(locationIds[i]!);
      if (!frames) continue;
      for (let f = 0; f < frames.length; f++) node = trie.child(node, frames[f]!);
    }
    leafOf[k] = node;
  }
  return { names, keys, nodeName: trie.name.subarray(0, trie.size), nodeParent: trie.parent.subarray(0, trie.size), leafOf };
}

/** Trie nodes keyed by (parent, name) in an open-addressing table; node 0 is the root. */
class Trie {
  /** Per node, its name and parent. */
  name = new Int32Array(1 << 12);
  parent = new Int32Array(1 << 12).fill(-1, 0, 1);
  size = 1;
  /** Per slot, a node + 1 (0: empty), and its key: parent x nameCount + name, exact while nodes x names < 2^53. */
  private slots = new Int32Array(1 << 13);
  private keys = new Float64Array(1 << 13);

  constructor(private readonly nameCount: number) {}

  /** The child of `node` named `name`, added when it is new. */
  child(node: number, name: number): number {
    const key = node * this.nameCount + name;
    const mask = this.slots.length - 1;
    let slot = imul(node, 0x9e3779b1) ^ name;
    for (slot &= mask; this.slots[slot] !== 0; slot = (slot + 1) & mask) if (this.keys[slot] === key) return this.slots[slot]! - 1;
    const child = this.size++;
    if (child >= this.name.length) {
      this.name = grow(this.name, child + 1);
      this.parent = grow(this.parent, child + 1);
    }
    this.name[child] = name;
    this.parent[child] = node;
    this.slots[slot] = child + 1;
    this.keys[slot] = key;
    if (2 * this.size > this.slots.length) this.rehash();
    return child;
  }

  private rehash(): void {
    const size = this.slots.length * 2;
    const slots = new Int32Array(size);
    const keys = new Float64Array(size);
    const mask = size - 1;
    for (let c = 1; c < this.size; c++) {
      let slot = (imul(this.parent[c]!, 0x9e3779b1) ^ this.name[c]!) & mask;
      while (slots[slot] !== 0) slot = (slot + 1) & mask;
      slots[slot] = c + 1;
      keys[slot] = this.parent[c]! * this.nameCount + this.name[c]!;
    }
    this.slots = slots;
    this.keys = keys;
  }
}

/**
 * Lays the trie out in preorder with siblings sorted by name (then key): `order[i]` is the trie
 * node at preorder position i. Linear in the nodes: names are ranked once, and a bucket pass
 * by rank fills each node's children in order.
 */
function toPreorder(names: string[], keys: string[], nodeName: Int32Array, nodeParent: Int32Array): { order: Int32Array; nameIndex: Int32Array; parent: Int32Array; depth: Int32Array } {
  const n = nodeName.length;
  const nameCount = names.length;
  const byName = Array.from({ length: nameCount }, (_, i) => i).sort((a, b) => {
    const x = names[a]!;
    const y = names[b]!;
    if (x !== y) return x < y ? -1 : 1;
    const kx = keys[a]!;
    const ky = keys[b]!;
    return kx < ky ? -1 : kx > ky ? 1 : 0;
  });
  // Nodes bucketed by their name's rank (counting sort), then appended to their parent's children.
  const rankStart = new Int32Array(nameCount + 1);
  const rank = new Int32Array(nameCount);
  byName.forEach((name, r) => (rank[name] = r));
  for (let i = 1; i < n; i++) rankStart[rank[nodeName[i]!]! + 1]!++;
  for (let r = 0; r < nameCount; r++) rankStart[r + 1]! += rankStart[r]!;
  const byRank = new Int32Array(Math.max(n - 1, 0));
  const fill = rankStart.slice(0, nameCount);
  for (let i = 1; i < n; i++) byRank[fill[rank[nodeName[i]!]!]!++] = i;
  const childStart = new Int32Array(n + 1);
  for (let i = 1; i < n; i++) childStart[nodeParent[i]! + 1]!++;
  for (let i = 0; i < n; i++) childStart[i + 1]! += childStart[i]!;
  const children = new Int32Array(Math.max(n - 1, 0));
  const next = childStart.slice(0, n);
  for (let r = 0; r < byRank.length; r++) children[next[nodeParent[byRank[r]!]!]!++] = byRank[r]!;

  const order = new Int32Array(n);
  const nameIndex = new Int32Array(n);
  const parent = new Int32Array(n);
  const depth = new Int32Array(n);
  // Iterative DFS (real stacks are hundreds of frames deep): pushed as (trie node, new parent).
  const stackNode = new Int32Array(n);
  const stackParent = new Int32Array(n);
  let top = 0;
  stackNode[0] = 0;
  stackParent[0] = -1;
  top = 1;
  let at = 0;
  while (top > 0) {
    top--;
    const old = stackNode[top]!;
    const newParent = stackParent[top]!;
    order[at] = old;
    nameIndex[at] = nodeName[old]!;
    parent[at] = newParent;
    depth[at] = newParent < 0 ? 0 : depth[newParent]! + 1;
    for (let c = childStart[old + 1]! - 1; c >= childStart[old]!; c--) {
      stackNode[top] = children[c]!;
      stackParent[top] = at;
      top++;
    }
    at++;
  }
  return { order, nameIndex, parent, depth };
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
