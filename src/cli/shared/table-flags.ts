/** The function-table flags of `top` and `diff`: --nodes and -o table|wide|json|yaml. */
import { UsageError } from '../../errors.js';
import { pprofTextOptions, type TopOptions as PprofTopOptions } from '../../pprof/top.js';

/** Output formats of `top` (`diff` has no `wide`: DIFF_TABLE_FORMATS). */
export const FUNCTION_TABLE_FORMATS = ['table', 'wide', 'json', 'yaml'] as const;
/** Output formats of `diff`. */
export const DIFF_TABLE_FORMATS = ['table', 'json', 'yaml'] as const;
/**
 * `table` for people (top: long service names shortened in the column headers), `wide` the
 * same with every name whole, `json` and `yaml` (raw values in the sample type's unit) for scripts.
 */
export type FunctionTableFormat = (typeof FUNCTION_TABLE_FORMATS)[number];

/**
 * Which nodes a top or diff report holds: the table's are `go tool pprof -top -nodecount=N`'s
 * (its default node and edge fractions drop the smallest); JSON is for scripts: the first N
 * of every function (-nodefraction=0), so no function disappears for being small.
 */
export function reportOptions(format: FunctionTableFormat, nodes: number): PprofTopOptions {
  return format === 'json' || format === 'yaml' ? { nodeCount: nodes } : pprofTextOptions(nodes);
}

/** --nodes: a whole number >= 0 (0: all); default 10. */
export function resolveNodes(nodes: number | undefined): number {
  if (nodes === undefined) return 10;
  if (!Number.isInteger(nodes) || nodes < 0) throw new UsageError(`--nodes must be a whole number >= 0, got ${nodes}`);
  return nodes;
}

/** -o/--output of top (or, with DIFF_TABLE_FORMATS, of diff): table by default. */
export function resolveFormat(output: string | undefined, formats: readonly FunctionTableFormat[] = FUNCTION_TABLE_FORMATS): FunctionTableFormat {
  const format = output ?? 'table';
  if (!(formats as readonly string[]).includes(format)) {
    throw new UsageError(`-o/--output: unknown output format "${output}" (choose from ${formats.join(', ')})`);
  }
  return format as FunctionTableFormat;
}
