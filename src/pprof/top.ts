import type { Profile } from 'pprof-format';
import {
  buildGraph,
  columnFits,
  computeTotal,
  flatNameOrder,
  fractionOf,
  functionNodes,
  withTrimmedEdges,
  type FunctionNodes,
  type GraphNode,
} from './graph.js';
import { absInt64, addInt64, compareInt64, type Int64 } from './int64.js';
import { removeUninteresting } from './prune.js';
import { resolveSampleIndex, sampleTypesOf, type SampleTypeName } from './sample-type.js';

/** One function's totals, exact int64s: `flat` is its own value, `cum` includes its callees. */
export interface TopRow {
  /** pprof's printable name: the function, `[binary]` for frames without one, or `<unknown>`. Not unique. */
  readonly function: string;
  readonly flat: Int64;
  readonly cum: Int64;
  /** pprof's marker in text tables: some (`partial-inline`) or all (`inline`) calls to it were inlined. */
  readonly inline?: 'inline' | 'partial-inline';
}

export interface TopReport {
  readonly sampleType: SampleTypeName;
  readonly sampleIndex: number;
  /** pprof's 100% (report.computeTotal): Σ|value| of every sample, or of a diff's base samples. */
  readonly total: Int64;
  /** The nodes shown, in pprof's order (graph.FlatNameOrder: |flat| desc, name, |cum| desc). */
  readonly rows: TopRow[];
  /** Nodes left out because their |cum| is under nodeFraction of the flat sum (pprof's "Dropped N nodes"). */
  readonly droppedNodes: number;
  /** Nodes after that cut, before `nodeCount` (pprof's "Showing top N nodes out of M"). */
  readonly nodesBeforeCount: number;
  /** The options the rows were selected with. */
  readonly nodeFraction: number;
  readonly nodeCount: number;
  /** Why the profile's drop_frames / keep_frames were not applied, when they were not. */
  readonly warnings: readonly string[];
}

/** How computeTop selects nodes; the defaults keep every node. */
export interface TopOptions {
  /** pprof's -nodecount: only the first N nodes (0: all). */
  readonly nodeCount?: number;
  /** pprof's -nodefraction: drop nodes with |cum| under this share of the flat sum (`go tool pprof -top`: 0.005). */
  readonly nodeFraction?: number;
  /** pprof's -edgefraction: calls under this share do not count for the inline markers (`-top`: 0.001). */
  readonly edgeFraction?: number;
}

/** The options of `go tool pprof -top -nodecount=N`: pprof's default node and edge fractions. */
export function pprofTextOptions(nodeCount: number): TopOptions {
  return { nodeCount, nodeFraction: 0.005, edgeFraction: 0.001 };
}

/**
 * Per-function flat and cum as `go tool pprof -top` computes them (report.TextItems): after
 * profile.RemoveUninteresting (the profile's drop_frames / keep_frames), at function granularity
 * (graph.newGraph: flat to the leaf frame, the innermost inlined function of the first location;
 * cum once per sample to every function on the stack), trimmed like report.newTrimmedGraph with
 * `opts` (default: nothing trimmed), sorted by graph.FlatNameOrder. Values and the total
 * (report.computeTotal, the base's for a diff) are exact int64s with Go's wrap-around.
 * `sampleType` is a type name or index (default: the profile's default); an unknown one throws
 * an Error listing the valid names.
 */
export function computeTop(p: Profile, sampleType?: string, opts: TopOptions = {}): TopReport {
  return computeTopWithKeys(p, sampleType, opts).report;
}

/** computeTop, and per row the node's identity (fmt.Sprint of pprof's NodeInfo: unique where names are not). */
export function computeTopWithKeys(p: Profile, sampleType?: string, opts: TopOptions = {}): { report: TopReport; keys: string[] } {
  const sampleIndex = resolveSampleIndex(p, sampleType);
  const { profile, warning } = removeUninteresting(p);
  const fn = functionNodes(profile);
  const graph = rankNodes(profile, fn, sampleIndex, opts);
  const report: TopReport = {
    sampleType: sampleTypesOf(p)[sampleIndex]!,
    sampleIndex,
    total: computeTotal(profile, sampleIndex),
    rows: graph.nodes.map((n) => (n.inline ? { function: fn.names[n.node]!, flat: n.flat, cum: n.cum, inline: n.inline } : { function: fn.names[n.node]!, flat: n.flat, cum: n.cum })),
    droppedNodes: graph.droppedNodes,
    nodesBeforeCount: graph.nodesBeforeCount,
    nodeFraction: opts.nodeFraction ?? 0,
    nodeCount: opts.nodeCount ?? 0,
    warnings: warning ? [warning] : [],
  };
  return { report, keys: graph.nodes.map((n) => fn.keys[n.node]!) };
}

/** report.newTrimmedGraph (non-visual, not a call tree) over function nodes. */
export function rankNodes(
  profile: Profile,
  fn: FunctionNodes,
  sampleIndex: number,
  opts: TopOptions,
): { nodes: GraphNode[]; droppedNodes: number; nodesBeforeCount: number } {
  const fits = columnFits(profile.sample, sampleIndex);
  const build = (kept?: Uint8Array) => buildGraph(profile, fn, sampleIndex, { kept, edges: true, fits });
  const order = flatNameOrder(fn);
  let g = build();
  let flatSum: Int64 = 0;
  for (const n of g) flatSum = addInt64(flatSum, n.flat);
  const nodeCutoff = fractionOf(flatSum, opts.nodeFraction ?? 0);
  const edgeCutoff = fractionOf(flatSum, opts.edgeFraction ?? 0);

  let droppedNodes = 0;
  if (compareInt64(nodeCutoff, 0) > 0) {
    const kept = g.filter((n) => !(compareInt64(absInt64(n.cum), nodeCutoff) < 0));
    if (kept.length !== g.length) {
      droppedNodes = g.length - kept.length;
      g = build(keptSet(fn, kept));
    }
  }
  const nodesBeforeCount = g.length;
  g.sort(order);
  const nodeCount = opts.nodeCount ?? 0;
  if (nodeCount > 0 && nodeCount < g.length) {
    g = build(keptSet(fn, g.slice(0, nodeCount)));
    g.sort(order);
  }
  return { nodes: withTrimmedEdges(g, edgeCutoff).sort(order), droppedNodes, nodesBeforeCount };
}

function keptSet(fn: FunctionNodes, nodes: readonly GraphNode[]): Uint8Array {
  const kept = new Uint8Array(fn.infos.length);
  for (const n of nodes) kept[n.node] = 1;
  return kept;
}
