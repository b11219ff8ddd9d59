import { numberOption } from './shared/usage-errors.js';
import type { Argv, CommandModule } from 'yargs';
import { UsageError } from '../errors.js';
import { writeFileAtomic } from '../files/atomic-write.js';
import type { DecodeLimits } from '../pprof/index.js';
import { formatSize } from '../report/units.js';
import { escapeTerminal } from '../report/terminal-text.js';
import type { CommandContext } from './shared/context.js';
import { examples } from './shared/help.js';
import { writeAll } from './shared/io.js';
import { DECODE_LIMIT_FLAGS, DECODE_LIMIT_FLAG_NAMES, resolveDecodeLimits, type DecodeLimitArgs } from './shared/limit-flags.js';
import { describeSourceWork, mergeProfileSource, resolveProfileSource, type MergedProfile, type ProfileSource } from './shared/profile-source.js';
import { withQueryFlags, type QueryFlagArgs } from './shared/store-query.js';
import { OUTPUT_FILE_OPTION, refuseBinaryOnTerminal, resolveOutputFlags, type OutputFlagArgs } from './shared/output-flags.js';
import { resolveStoreOptions, withStoreFlags, type StoreFlagArgs } from './shared/store-flags.js';
import { PROGRESS_FLAG, progressContext, type ProgressFlagArgs } from './shared/progress-flag.js';
import { withProgress } from '../report/progress.js';

// What only a store merge or the top (--nodes) needs is imported when it is used: a merge of files loads
// neither the store nor the report code (about 40 ms of start-up).

/** -o of merge: the merged profile (pprof), or its top functions as a table, JSON or YAML. */
export const MERGE_FORMATS = ['pprof', 'table', 'json', 'yaml'] as const;
export type MergeFormat = (typeof MERGE_FORMATS)[number];

export interface MergeOptions {
  readonly source: ProfileSource;
  /** pprof: the merged profile; table, json, yaml: its top `nodes` functions. */
  readonly format: MergeFormat;
  /** Where the merged .pb.gz goes (--output-file); undefined means stdout. */
  readonly output?: string;
  /** Rows of the top (0: all); set for every format but pprof. */
  readonly top?: number;
  /** Sample type for the top (name or index); default: the profile's default. */
  readonly sampleType?: string;
  /** Deprecations to show on stderr (--top, -o FILE). */
  readonly warnings?: readonly string[];
  /** --max-inflated-size and --max-samples, for every profile read (default: DEFAULT_DECODE_LIMITS). */
  readonly decodeLimits?: Partial<DecodeLimits>;
}

/** A merged profile: decoded (local merges) or as the store sent it (gzipped pprof). */
export type MergeResult = MergedProfile;

interface MergeArgs extends StoreFlagArgs, QueryFlagArgs, DecodeLimitArgs, OutputFlagArgs, ProgressFlagArgs {
  inputs?: string[];
  nodes?: number;
  top?: number;
  'sample-type'?: string;
  id?: string[];
}

/** `kubectl profefe merge`: yargs wiring only; the work is in resolveMergeOptions and runMerge. */
export function mergeCommand(ctx: CommandContext): CommandModule<object, MergeArgs> {
  return {
    command: 'merge [inputs..]',
    describe: 'Merge profiles (files, or from the store) into one .pb.gz (stdout, or --output-file FILE)',
    builder: (y: Argv) =>
      withStoreFlags(
        withQueryFlags(y, 'merge stored profiles of this service (then --type is required)')
          .usage(
            'Usage: kubectl profefe merge FILE|DIR|GLOB... [--output-file FILE] [options]\n' +
              'Usage: kubectl profefe merge --service NAME --type TYPE [--from TIME] [options]\n' +
              'Usage: kubectl profefe merge --id ID [--id ID]...\n\n' +
              'Merge pprof profiles into one profile, like `go tool pprof -proto`: samples with the ' +
              'same stack and labels are summed, the earliest start time is kept and durations are ' +
              'added. All inputs must have the same sample types (e.g. all CPU or all heap profiles). ' +
              'A file named twice (directly, or again through a directory or glob) is read once. ' +
              'With --service or --id the profiles come from the store (profefe merges them by id; the ' +
              'local store is merged here); the window defaults to the last 24 hours. --type heap takes the ' +
              'heap snapshots (never also the allocs deltas, which read the same memory), --type allocs, ' +
              'block and mutex their deltas. The merge is a sum, as in pprof: 12 heap snapshots of a pod ' +
              'give 12 times its memory (top, open and diff show the average per pod instead).',
          )
          .positional('inputs', { describe: 'profile files, directories of profiles, or quoted globs', type: 'string', array: true, default: undefined })
          .option('output', { alias: 'o', type: 'string', requiresArg: true, describe: `format: ${MERGE_FORMATS.join('|')} (pprof: the merged profile, the default; the others: its top functions)` })
          .option('output-file', { ...OUTPUT_FILE_OPTION, describe: 'write the merged profile to FILE instead of stdout' })
          .option('nodes', numberOption({ flag: '--nodes', whole: true, min: 0 }, { describe: 'print the top N functions instead of the profile (0: all; default with -o table|json|yaml: 10)' }))
          .option('top', { ...numberOption({ flag: '--top', whole: true, min: 0 }, { describe: 'deprecated: --nodes' }), hidden: true })
          .option('sample-type', { alias: 'sample-index', type: 'string', describe: 'sample type of the top, e.g. alloc_space (default: as go tool pprof)', requiresArg: true })
          .option('id', { type: 'string', array: true, requiresArg: true, describe: 'merge these stored profiles (repeatable)' })
          .options(DECODE_LIMIT_FLAGS)
          .options(PROGRESS_FLAG)
          .group(['output', 'output-file', 'nodes', 'sample-type', 'service', 'type', 'from', 'to', 'selector', 'label', 'limit', 'id', ...DECODE_LIMIT_FLAG_NAMES, 'progress', 'help'], 'Options:')
          .epilog(
            examples(
              ['Merge a directory of CPU profiles and read the result with pprof', 'kubectl profefe merge profiles/auth/cpu/ --output-file auth-cpu.pb.gz && go tool pprof -top auth-cpu.pb.gz'],
              ['Merge a glob (quoted: expanded here, so any number of files works) into a file', "kubectl profefe merge 'profiles/**/heap/*.pb.gz' --output-file heap.pb.gz"],
              ['Show the 20 functions with the most flat time', 'kubectl profefe merge a.pb.gz b.pb.gz --nodes 20'],
              ['Merge the last hour of CPU profiles of one version of a service from the store', 'kubectl profefe merge --service auth --type cpu --from 1h -l version=1.4.2 --output-file auth.pb.gz'],
              ['Show allocations instead of in-use memory, as JSON', 'kubectl profefe merge heap/ --nodes 10 --sample-type alloc_space -o json'],
            ),
          ),
      ),
    handler: async (args) => {
      const opts = await resolveMergeOptions(args, ctx);
      for (const w of opts.warnings ?? []) await writeAll(ctx.io.stderr, `${w}\n`);
      const result = await withProgress(progressContext(ctx, args), describeSourceWork('merging', opts.source), 1000, () => runMerge(opts, { signal: ctx.signal }));
      await renderMerge(result, opts, ctx);
    },
  };
}

/** Completes and validates merge options; rejects with a UsageError naming the flag at fault. */
export async function resolveMergeOptions(args: MergeArgs, ctx: Pick<CommandContext, 'io' | 'env'>, now = new Date()): Promise<MergeOptions> {
  const inputs = (args.inputs ?? []).filter((x) => x !== undefined && x !== '').map(String);
  const ids = (args.id ?? []).map(String).filter(Boolean);
  const fromStore = args.service !== undefined || ids.length > 0;
  if (fromStore && inputs.length > 0) throw new UsageError('give either files or --service/--id, not both');
  if (args.service !== undefined && ids.length > 0) throw new UsageError('--service and --id cannot be combined');
  if (!fromStore && inputs.length === 0) throw new UsageError('merge needs profile files, a directory, a glob, --service or --id');
  const warnings: string[] = [];
  if (args.top !== undefined) {
    if (args.nodes !== undefined) throw new UsageError('--top is the deprecated name of --nodes; give only --nodes');
    warnings.push('Flag --top has been deprecated, use --nodes instead');
  }
  const nodesArg = args.nodes ?? args.top;
  const nodesFlag = args.nodes === undefined && args.top !== undefined ? '--top' : '--nodes';
  if (nodesArg !== undefined && (!Number.isInteger(nodesArg) || nodesArg < 0)) {
    throw new UsageError(`${nodesFlag} must be a whole number >= 0, got ${nodesArg}`);
  }
  const choice = resolveOutputFlags(args, { formats: MERGE_FORMATS, default: 'pprof', fileFormats: ['pprof'] }, nodesArg !== undefined ? 'table' : 'pprof');
  warnings.push(...choice.warnings);
  if (choice.format === 'pprof' && nodesArg !== undefined) {
    throw new UsageError(`${nodesFlag} prints the top functions (-o table|json|yaml); it cannot be combined with the merged profile (-o pprof, --output-file)`);
  }
  if (args['sample-type'] !== undefined && choice.format === 'pprof') {
    throw new UsageError('--sample-type only applies to the top (--nodes, -o table|json|yaml); a merged profile keeps every sample type');
  }
  refuseBinaryOnTerminal(choice, ctx.io.stdoutIsTTY, 'merged.pb.gz');
  const decodeLimits = resolveDecodeLimits(args);
  const source = resolveProfileSource({
    files: inputs,
    ids,
    idFlag: '--id',
    query: args,
    store: () => ({ ...resolveStoreOptions(args, ctx.env), decodeLimits }),
    now,
    wording: { needsType: 'merging stored profiles', cannotBe: 'merged', trace: 'traces cannot be merged' },
  });
  const top = choice.format === 'pprof' ? undefined : (nodesArg ?? 10);
  return { source, format: choice.format, output: choice.file, top, sampleType: args['sample-type'], decodeLimits, warnings };
}

/**
 * Merges from the chosen source (see mergeProfileSource). Files merged into a profile leave out
 * samples without a stack, as `go tool pprof -proto` writes them; the top (--nodes) counts them, as -top does.
 */
export function runMerge(opts: MergeOptions, deps: { signal?: AbortSignal }): Promise<MergeResult> {
  return mergeProfileSource(opts.source, { signal: deps.signal, decodeLimits: opts.decodeLimits, dropStackless: opts.top === undefined });
}

/** Says that a window's snapshots were summed, as pprof merges them, and where their average is. */
function sumOfSnapshots(s: { count: number; pods: number }): string {
  const pods = s.pods === 1 ? '1 pod' : `${s.pods} pods`;
  return `The sum of ${s.count} snapshots of ${pods}, as pprof merges them (top and open show the average per pod)`;
}

async function renderMerge(result: MergeResult, opts: MergeOptions, ctx: CommandContext): Promise<void> {
  const { io } = ctx;
  for (const w of result.warnings ?? []) await writeAll(io.stderr, `warning: ${escapeTerminal(w)}\n`);
  if (opts.top !== undefined) {
    const { computeTop, decodeProfile, pprofTextOptions, sampleTypesOf } = await import('../pprof/index.js');
    const { renderTopTable } = await import('../report/top-table.js');
    const profile = result.profile ?? decodeProfile(result.bytes!, 'the merged profile from the store', opts.decodeLimits);
    let report;
    try {
      // The table shows pprof -top's nodes; JSON and YAML (for scripts) the first N of every function, as top's.
      report = computeTop(profile, opts.sampleType, opts.format === 'table' ? pprofTextOptions(opts.top) : { nodeCount: opts.top });
    } catch (err) {
      throw new UsageError(`--sample-type: ${(err as Error).message}`);
    }
    // Sample type names are strings of the profile, which came from a pod.
    const types = escapeTerminal(sampleTypesOf(profile).map((t) => t.type).join(', '));
    const header = [
      ...(result.inputs !== undefined ? [`Merged profiles: ${result.inputs}`] : []),
      ...(result.snapshots && result.snapshots.count > 1 ? [sumOfSnapshots(result.snapshots)] : []),
      `Type: ${escapeTerminal(report.sampleType.type)}`,
      `Sample types: ${types}`,
    ];
    for (const w of report.warnings) await writeAll(io.stderr, `warning: ${escapeTerminal(w)}\n`);
    if (opts.format === 'table') await writeAll(io.stdout, renderTopTable(report, header));
    else {
      // As diff's -o json: raw values in the sample type's unit, exact int64s.
      const rows = report.rows.map((r) => ({ function: r.function, flat: r.flat, cum: r.cum }));
      if (opts.format === 'json') await writeAll(io.stdout, (await import('../report/json.js')).stringifyJson(rows) + '\n');
      else await writeAll(io.stdout, (await import('../report/yaml.js')).renderYaml(rows));
    }
    return;
  }
  const bytes = result.bytes ?? (await import('../pprof/encode.js')).encodeProfile(result.profile!);
  if (opts.output === undefined) {
    await writeAll(io.stdout, bytes);
    return;
  }
  await writeFileAtomic(opts.output, bytes, { createDirs: false });
  const what = result.inputs !== undefined ? `merged ${result.inputs} profile${result.inputs === 1 ? '' : 's'}` : 'wrote the merged profile';
  await writeAll(io.stderr, `${what} into ${opts.output} (${formatSize(bytes.length)})\n`);
}
