/**
 * pprof's report graph at function granularity (`go tool pprof -top`, the default granularity):
 * a port of driver.aggregate + profile.Aggregate(functions), graph.nodeInfo / NodeInfo /
 * CreateNodes / newGraph, report.computeTotal and the trimming of report.newTrimmedGraph,
 * with exact int64 values. top.ts, top-by-service.ts, diff.ts and flame.ts build on it.
 */
import type { Profile, Sample } from 'pprof-format';
import { IdMap } from './id-map.js';
import { absInt64, addInt64, compareInt64, int64FromFloat, int64ToFloat, type Int64, Int64Sum } from './int64.js';

/**
 * What identifies a node once pprof has aggregated a profile to functions (graph.NodeInfo with
 * Address, File and Lineno cleared by Aggregate): the function's name; for a location without
 * lines or a function with an empty name, the binary (mapping file) and the function's start line.
 */
export interface NodeInfo {
  readonly name: string;
  readonly startLine: Int64;
  readonly objfile: string;
}

/** The function nodes of a profile and, per location, the nodes of its lines. */
export interface FunctionNodes {
  readonly infos: readonly NodeInfo[];
  /** NodeInfo.PrintableName per node: the name, `[binary]` or `<unknown>`. Not unique. */
  readonly names: readonly string[];
  /** fmt.Sprint(NodeInfo) per node: unique, and pprof's last tie-breaker in sorts. */
  readonly keys: readonly string[];
  /** Per location id, its nodes in line order (pprof's: the innermost inlined function first). */
  readonly nodesOf: IdMap<Int32Array>;
}

/**
 * graph.NodeInfo.NameComponents at function granularity: the function name, else
 * `[basename(mapping file)]`, else `<unknown>`.
 */
export function printableName(info: NodeInfo): string {
  if (info.name !== '') return info.name;
  if (info.objfile !== '') return `[${goBase(info.objfile)}]`;
  return '<unknown>';
}

/** fmt.Sprint(graph.NodeInfo{...}) of an aggregated node: `{Name OrigName Address File StartLine Lineno Objfile}`. */
export function nodeKey(info: NodeInfo): string {
  return `{${info.name}  0  ${info.startLine} 0 ${info.objfile}}`;
}

/** Go's filepath.Base on a slash-separated path. */
export function goBase(p: string): string {
  if (p === '') return '.';
  p = p.replace(/\/+$/, '');
  if (p === '') return '/';
  return p.slice(p.lastIndexOf('/') + 1);
}

/**
 * The function nodes of a profile, as graph.CreateNodes makes them after Aggregate at
 * "functions": a line whose function has a name is that function's node; a location without
 * lines, a line without a function, or one whose function's name is empty is a node keyed by
 * the location's mapping file and (for a function) its start line, named like pprof does.
 */
export function functionNodes(p: Profile): FunctionNodes {
  const strings = p.stringTable.strings;
  const functions = IdMap.byId(p.function);
  const mappings = IdMap.byId(p.mapping);
  const infos: NodeInfo[] = [];
  const names: string[] = [];
  const keys: string[] = [];
  const byKey = new Map<string, number>();
  const byName = new Map<string, number>();
  const nodeOf = (info: NodeInfo): number => {
    const key = nodeKey(info);
    let n = byKey.get(key);
    if (n === undefined) {
      n = infos.length;
      infos.push(info);
      names.push(printableName(info));
      keys.push(key);
      byKey.set(key, n);
    }
    return n;
  };
  let maxId: number | bigint = 0;
  for (const l of p.location) if (l.id > maxId) maxId = l.id;
  const nodesOf = new IdMap<Int32Array>(p.location.length, maxId);
  for (const loc of p.location) {
    const m = loc.mappingId ? mappings.get(loc.mappingId) : undefined;
    const objfile = m ? (strings[Number(m.filename)] ?? '') : '';
    if (loc.line.length === 0) {
      nodesOf.set(loc.id, Int32Array.of(nodeOf({ name: '', startLine: 0, objfile })));
      continue;
    }
    const nodes = new Int32Array(loc.line.length);
    loc.line.forEach((ln, i) => {
      const fn = ln.functionId ? functions.get(ln.functionId) : undefined;
      if (!fn) {
        nodes[i] = nodeOf({ name: '', startLine: 0, objfile });
        return;
      }
      const name = strings[Number(fn.name)] ?? '';
      if (name !== '') {
        // The common case, without building a key string per line.
        let n = byName.get(name);
        if (n === undefined) {
          n = nodeOf({ name, startLine: 0, objfile: '' });
          byName.set(name, n);
        }
        nodes[i] = n;
      } else nodes[i] = nodeOf({ name: '', startLine: fn.startLine as Int64, objfile });
    });
    nodesOf.set(loc.id, nodes);
  }
  return { infos, names, keys, nodesOf };
}

/** Whether a sample is in the base of a diff: it has the string label `pprof::base=true` (Sample.DiffBaseSample). */
export function isDiffBaseSample(s: Sample, strings: readonly string[]): boolean {
  for (const l of s.label) if (strings[Number(l.key)] === 'pprof::base' && l.str && strings[Number(l.str)] === 'true') return true;
  return false;
}

/**
 * report.computeTotal: the sum of |value| over every sample (int64 arithmetic, as Go: |MinInt64|
 * stays negative, sums wrap); when some samples are a diff's base (pprof::base=true) and their
 * sum is > 0, that sum instead (a diff's percentages are of the base).
 */
export function computeTotal(p: Profile, sampleIndex: number): Int64 {
  const strings = p.stringTable.strings;
  const total = new Int64Sum();
  const base = new Int64Sum();
  for (const s of p.sample) {
    const v = absInt64(s.value[sampleIndex] as Int64);
    total.add(v);
    if (s.label.length > 0 && isDiffBaseSample(s, strings)) base.add(v);
  }
  const diffTotal = base.value;
  return diffTotal > 0 ? diffTotal : total.value;
}

/** One node of a report graph, its values exact. */
export interface GraphNode {
  /** Index into FunctionNodes. */
  readonly node: number;
  readonly flat: Int64;
  readonly cum: Int64;
  /** pprof's text marker: some in-edges are inlined calls (`partial-inline`), or all are (`inline`). */
  readonly inline?: 'inline' | 'partial-inline';
}

interface Accumulator {
  get(i: number): Int64;
  add(i: number, v: Int64): void;
}

/** Per-node sums: doubles while the column provably fits (Σ|w| < 2^53), else exact Int64s. */
function accumulator(size: number, fits: boolean): Accumulator {
  if (fits) {
    const a = new Float64Array(size);
    return { get: (i) => a[i]! + 0, add: (i, v) => void (a[i]! += v as number) };
  }
  const a = new Array<Int64>(size).fill(0);
  return { get: (i) => a[i]!, add: (i, v) => void (a[i] = addInt64(a[i]!, v)) };
}

/** Whether Σ|value| over the samples is a safe integer: then every sum of values is exact in doubles. */
export function columnFits(samples: readonly Sample[], sampleIndex: number): boolean {
  let bound = 0;
  for (const s of samples) {
    const v = s.value[sampleIndex]!;
    if (typeof v !== 'number') return false;
    bound += v < 0 ? -v : v;
  }
  return bound <= Number.MAX_SAFE_INTEGER;
}

/**
 * graph.newGraph at function granularity for one sample type: per sample, cum once to every node
 * on its stack, flat to the leaf node; edges (for the inline markers) once per sample. With
 * `kept`, only those nodes: the others are skipped, and a sample whose leaf-most frames were
 * skipped gives no flat (pprof's residual edges). Nodes whose flat and cum are both 0 are left out.
 */
export function buildGraph(p: Profile, fn: FunctionNodes, sampleIndex: number, opts: { kept?: Uint8Array; edges?: boolean; fits?: boolean } = {}): GraphNode[] {
  const count = fn.infos.length;
  const fits = opts.fits ?? columnFits(p.sample, sampleIndex);
  const flat = accumulator(count, fits);
  const cum = accumulator(count, fits);
  const seen = new Int32Array(count).fill(-1);
  const kept = opts.kept;
  // Edges parent -> child: weight (only its sign and size against a cutoff matter) and inline flag.
  const edgeIndex = opts.edges ? new Map<number, number>() : undefined;
  const edgeFrom: number[] = [];
  const edgeTo: number[] = [];
  const edgeInline: boolean[] = [];
  const edgeSeen: number[] = [];
  const edgeWeights: Int64[] = [];
  const nodesOf = fn.nodesOf;

  const samples = p.sample;
  for (let si = 0; si < samples.length; si++) {
    const s = samples[si]!;
    const w = s.value[sampleIndex] as Int64;
    if (w === 0) continue;
    let parent = -1;
    let residual = false;
    const ids = s.locationId;
    for (let i = ids.length - 1; i >= 0; i--) {
      const nodes = nodesOf.get(ids[i]!);
      if (!nodes) continue;
      for (let ni = nodes.length - 1; ni >= 0; ni--) {
        const n = nodes[ni]!;
        if (kept && kept[n] !== 1) {
          residual = true;
          continue;
        }
        if (seen[n] !== si) {
          seen[n] = si;
          cum.add(n, w);
        }
        if (edgeIndex && parent >= 0 && n !== parent) {
          const key = parent * count + n;
          const inline = ni !== nodes.length - 1;
          let e = edgeIndex.get(key);
          if (e === undefined) {
            e = edgeFrom.length;
            edgeIndex.set(key, e);
            edgeFrom.push(parent);
            edgeTo.push(n);
            edgeInline.push(inline);
            edgeSeen.push(si);
            edgeWeights.push(w);
          } else if (edgeSeen[e] !== si) {
            edgeSeen[e] = si;
            edgeWeights[e] = fits ? (edgeWeights[e] as number) + (w as number) : addInt64(edgeWeights[e]!, w);
            if (!inline) edgeInline[e] = false;
          }
        }
        parent = n;
        residual = false;
      }
    }
    if (parent >= 0 && !residual) flat.add(parent, w);
  }

  const out: GraphNode[] = [];
  const inlineIn = edgeIndex ? new Uint8Array(count) : undefined;
  if (inlineIn) {
    for (let e = 0; e < edgeFrom.length; e++) inlineIn[edgeTo[e]!]! |= edgeInline[e] ? 1 : 2;
  }
  for (let n = 0; n < count; n++) {
    const f = flat.get(n);
    const c = cum.get(n);
    if (f === 0 && c === 0) continue;
    const marks = inlineIn ? inlineIn[n]! : 0;
    out.push(marks & 1 ? { node: n, flat: f, cum: c, inline: marks & 2 ? 'partial-inline' : 'inline' } : { node: n, flat: f, cum: c });
  }
  (out as GraphNodes).edges = edgeIndex ? { from: edgeFrom, to: edgeTo, inline: edgeInline, weight: edgeWeights } : undefined;
  return out;
}

/** A graph's edges, kept beside its nodes for the trimming of the final -top graph. */
interface GraphEdges {
  readonly from: number[];
  readonly to: number[];
  readonly inline: boolean[];
  readonly weight: Int64[];
}
type GraphNodes = GraphNode[] & { edges?: GraphEdges };

/**
 * The inline markers after report.newTrimmedGraph's last TrimLowFrequencyEdges: edges with
 * |weight| < edgeCutoff are dropped first, so a small inlined call does not mark its callee.
 */
export function withTrimmedEdges(nodes: GraphNode[], edgeCutoff: Int64): GraphNode[] {
  const edges = (nodes as GraphNodes).edges;
  if (!edges) return nodes;
  const marks = new Map<number, number>();
  for (let e = 0; e < edges.from.length; e++) {
    if (compareInt64(absInt64(edges.weight[e]!), edgeCutoff) < 0) continue;
    const to = edges.to[e]!;
    marks.set(to, (marks.get(to) ?? 0) | (edges.inline[e] ? 1 : 2));
  }
  return nodes.map((n) => {
    const m = marks.get(n.node) ?? 0;
    const { inline: _old, ...plain } = n;
    return m & 1 ? { ...plain, inline: m & 2 ? 'partial-inline' : 'inline' } : plain;
  });
}

/** pprof's trimming cutoffs (nodes, edges, and the "Dropped" legend): abs64(int64(float64(value) * fraction)). */
export function fractionOf(value: Int64, fraction: number): Int64 {
  return absInt64(int64FromFloat(int64ToFloat(value) * fraction));
}

/** Go's string order: UTF-8 bytes, which is code point order (JS `<` compares UTF-16 units). */
export function compareStrings(a: string, b: string): number {
  if (a === b) return 0;
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x === y) continue;
    // Surrogates (astral code points) sort after every other BMP unit in UTF-8 order.
    const xs = x >= 0xd800 && x <= 0xdfff;
    const ys = y >= 0xd800 && y <= 0xdfff;
    if (xs !== ys) return xs ? 1 : -1;
    return x < y ? -1 : 1;
  }
  return a.length - b.length;
}

/**
 * graph.FlatNameOrder: |flat| descending (pprof's abs64, so |MinInt64| sorts lowest), then the
 * printable name, then |cum| descending, then fmt.Sprint of the NodeInfo.
 */
export function flatNameOrder(fn: Pick<FunctionNodes, 'names' | 'keys'>): (a: GraphNode, b: GraphNode) => number {
  return (a, b) =>
    compareInt64(absInt64(b.flat), absInt64(a.flat)) ||
    compareStrings(fn.names[a.node]!, fn.names[b.node]!) ||
    compareInt64(absInt64(b.cum), absInt64(a.cum)) ||
    compareStrings(fn.keys[a.node]!, fn.keys[b.node]!);
}
