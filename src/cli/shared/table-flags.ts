/** The function-table flags of `top` and `diff`: --nodes and -o table|json. */
import { UsageError } from '../../errors.js';
import { pprofTextOptions, type TopOptions as PprofTopOptions } from '../../pprof/top.js';

/** Output formats of `top` and `diff`. */
export const FUNCTION_TABLE_FORMATS = ['table', 'json'] as const;
/** `table` for people, `json` (raw values in the sample type's unit) for scripts. */
export type FunctionTableFormat = (typeof FUNCTION_TABLE_FORMATS)[number];

/**
 * Which nodes a top or diff report holds: the table's are `go tool pprof -top -nodecount=N`'s
 * (its default node and edge fractions drop the smallest); JSON is for scripts: the first N
 * of every function (-nodefraction=0), so no function disappears for being small.
 */
export function reportOptions(format: FunctionTableFormat, nodes: number): PprofTopOptions {
  return format === 'json' ? { nodeCount: nodes } : pprofTextOptions(nodes);
}

/** --nodes: a whole number >= 0 (0: all); default 10. */
export function resolveNodes(nodes: number | undefined): number {
  if (nodes === undefined) return 10;
  if (!Number.isInteger(nodes) || nodes < 0) throw new UsageError(`--nodes must be a whole number >= 0, got ${nodes}`);
  return nodes;
}

/** -o/--output of top and diff: table (default) or json. */
export function resolveFormat(output: string | undefined): FunctionTableFormat {
  const format = output ?? 'table';
  if (!(FUNCTION_TABLE_FORMATS as readonly string[]).includes(format)) {
    throw new UsageError(`-o/--output must be one of ${FUNCTION_TABLE_FORMATS.join(', ')}, got "${output}"`);
  }
  return format as FunctionTableFormat;
}
