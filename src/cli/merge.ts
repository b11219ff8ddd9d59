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
import { mergeProfileSource, resolveProfileSource, type MergedProfile, type ProfileSource } from './shared/profile-source.js';
import { withQueryFlags, type QueryFlagArgs } from './shared/store-query.js';
import { resolveStoreOptions, withStoreFlags, type StoreFlagArgs } from './shared/store-flags.js';

// What only a store merge or --top needs is imported when it is used: a merge of files loads
// neither the store nor the report code (about 40 ms of start-up).

export interface MergeOptions {
  readonly source: ProfileSource;
  /** Where the merged .pb.gz goes; undefined means stdout. */
  readonly output?: string;
  /** Print the top N functions instead of writing the profile. */
  readonly top?: number;
  /** Sample type for --top (name or index); default: the profile's default. */
  readonly sampleType?: string;
  /** --max-inflated-size and --max-samples, for every profile read (default: DEFAULT_DECODE_LIMITS). */
  readonly decodeLimits?: Partial<DecodeLimits>;
}

/** A merged profile: decoded (local merges) or as the store sent it (gzipped pprof). */
export type MergeResult = MergedProfile;

interface MergeArgs extends StoreFlagArgs, QueryFlagArgs, DecodeLimitArgs {
  inputs?: string[];
  output?: string;
  top?: number;
  'sample-type'?: string;
  id?: string[];
}

/** `kubectl profefe merge`: yargs wiring only; the work is in resolveMergeOptions and runMerge. */
export function mergeCommand(ctx: CommandContext): CommandModule<object, MergeArgs> {
  return {
    command: 'merge [inputs..]',
    describe: 'Merge profiles (files, or from the store) into one .pb.gz (stdout, or -o FILE)',
    builder: (y: Argv) =>
      withStoreFlags(
        withQueryFlags(y, 'merge stored profiles of this service (then --type is required)')
          .usage(
            'Usage: kubectl profefe merge FILE|DIR|GLOB... [-o FILE] [--top N]\n' +
              '       kubectl profefe merge --service NAME --type TYPE [--from TIME] [--to TIME] [--label K=V]...\n' +
              '       kubectl profefe merge --id ID [--id ID]...\n\n' +
              'Merge pprof profiles into one profile, like `go tool pprof -proto`: samples with the\n' +
              'same stack and labels are summed, the earliest start time is kept and durations are\n' +
              'added. All inputs must have the same sample types (e.g. all CPU or all heap profiles).\n' +
              'A file named twice (directly, or again through a directory or glob) is read once.\n' +
              'With --service or --id the profiles come from the store (profefe merges them by id; the\n' +
              'local store is merged here); the window defaults to the last 24 hours. --type heap takes the\n' +
              'heap snapshots (never also the allocs deltas, which read the same memory), --type allocs,\n' +
              'block and mutex their deltas. The merge is a sum, as in pprof: 12 heap snapshots of a pod\n' +
              'give 12 times its memory (top, open and diff show the average per pod instead).',
          )
          .positional('inputs', { describe: 'profile files, directories of profiles, or quoted globs', type: 'string', array: true, default: undefined })
          .option('output', { alias: 'o', type: 'string', describe: 'write the merged profile to FILE instead of stdout', requiresArg: true })
          .option('top', numberOption({ flag: '--top', whole: true, min: 0 }, { describe: 'print the top N functions instead of the profile (0: all)' }))
          .option('sample-type', { alias: 'sample-index', type: 'string', describe: 'sample type for --top, e.g. alloc_space (default: as go tool pprof)', requiresArg: true })
          .option('id', { type: 'string', array: true, requiresArg: true, describe: 'merge these stored profiles (repeatable)' })
          .options(DECODE_LIMIT_FLAGS)
          .group(['output', 'top', 'sample-type', 'service', 'type', 'from', 'to', 'label', 'limit', 'id', ...DECODE_LIMIT_FLAG_NAMES, 'help'], 'Options:')
          .epilog(
            examples(
              ['Merge a directory of CPU profiles and read the result with pprof', 'kubectl profefe merge profiles/auth/cpu/ -o auth-cpu.pb.gz && go tool pprof -top auth-cpu.pb.gz'],
              ['Merge a glob (quoted: expanded here, so any number of files works) into a file', "kubectl profefe merge 'profiles/**/heap/*.pb.gz' -o heap.pb.gz"],
              ['Show the 20 functions with the most flat time', 'kubectl profefe merge a.pb.gz b.pb.gz --top 20'],
              ['Merge the last hour of CPU profiles of a service from the store', 'kubectl profefe merge --service auth --type cpu --from 1h -o auth.pb.gz'],
              ['Show allocations instead of in-use memory', 'kubectl profefe merge heap/ --top 10 --sample-type alloc_space'],
            ),
          ),
      ),
    handler: async (args) => {
      const opts = await resolveMergeOptions(args, ctx);
      const result = await runMerge(opts, { signal: ctx.signal });
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
  if (args.top !== undefined && (!Number.isInteger(args.top) || args.top < 0)) {
    throw new UsageError(`--top must be a whole number >= 0, got ${args.top}`);
  }
  if (args.top !== undefined && args.output !== undefined) {
    throw new UsageError('--top prints a table; it cannot be combined with -o/--output');
  }
  if (args['sample-type'] !== undefined && args.top === undefined) {
    throw new UsageError('--sample-type only applies to --top (a merged profile keeps every sample type)');
  }
  if (args.top === undefined && args.output === undefined && ctx.io.stdoutIsTTY) {
    throw new UsageError('refusing to write a binary profile to the terminal; use -o FILE, or redirect (> merged.pb.gz)');
  }
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
  return { source, output: args.output, top: args.top, sampleType: args['sample-type'], decodeLimits };
}

/**
 * Merges from the chosen source (see mergeProfileSource). Files merged into a profile leave out
 * samples without a stack, as `go tool pprof -proto` writes them; --top counts them, as -top does.
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
      report = computeTop(profile, opts.sampleType, pprofTextOptions(opts.top));
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
    await writeAll(io.stdout, renderTopTable(report, header));
    return;
  }
  const bytes = result.bytes ?? (await import('../pprof/encode.js')).encodeProfile(result.profile!);
  if (opts.output === undefined) {
    await writeAll(io.stdout, bytes);
    return;
  }
  await writeFileAtomic(opts.output, bytes);
  const what = result.inputs !== undefined ? `merged ${result.inputs} profile${result.inputs === 1 ? '' : 's'}` : 'wrote the merged profile';
  await writeAll(io.stderr, `${what} into ${opts.output} (${formatSize(bytes.length)})\n`);
}
