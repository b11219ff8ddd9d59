import type { Argv, CommandModule } from 'yargs';
import { UsageError } from '../errors.js';
import { writeFileAtomic } from '../files/atomic-write.js';
import { expandProfilePaths } from '../files/profile-files.js';
import { mergeProfileFiles } from '../merge/merge-files.js';
import { computeTop, encodeProfile, sampleTypesOf, type Profile } from '../pprof/index.js';
import { renderTopTable } from '../report/top-table.js';
import { formatSize } from '../report/units.js';
import type { CommandContext } from './context.js';
import { examples } from './help.js';
import { writeAll } from './io.js';

export interface MergeOptions {
  /** Profile files, directories or quoted globs. */
  readonly inputs: string[];
  /** Where the merged .pb.gz goes; undefined means stdout. */
  readonly output?: string;
  /** Print the top N functions instead of writing the profile. */
  readonly top?: number;
  /** Sample type for --top (name or index); default: the profile's default. */
  readonly sampleType?: string;
}

export interface MergeResult {
  readonly profile: Profile;
  readonly inputs: number;
}

interface MergeArgs {
  inputs?: string[];
  output?: string;
  top?: number;
  'sample-type'?: string;
}

/** `kubectl profefe merge`: yargs wiring only; the work is in resolveMergeOptions and runMerge. */
export function mergeCommand(ctx: CommandContext): CommandModule<object, MergeArgs> {
  return {
    command: 'merge [inputs..]',
    describe: 'Merge pprof profiles into one .pb.gz (stdout, or -o FILE)',
    builder: (y: Argv) =>
      y
        .usage(
          'Usage: kubectl profefe merge FILE|DIR|GLOB... [-o FILE] [--top N]\n\n' +
            'Merge pprof profiles (gzipped or raw protobuf) into one profile, like\n' +
            '`go tool pprof -proto`: samples with the same stack and labels are summed,\n' +
            'the earliest start time is kept and durations are added. All inputs must\n' +
            'have the same sample types (e.g. all CPU or all heap profiles).',
        )
        .positional('inputs', { describe: 'profile files, directories of profiles, or quoted globs', type: 'string', array: true, default: undefined })
        .option('output', { alias: 'o', type: 'string', describe: 'write the merged profile to FILE instead of stdout', requiresArg: true })
        .option('top', { type: 'number', describe: 'print the top N functions instead of the profile (0: all)', requiresArg: true })
        .option('sample-type', {
          alias: 'sample-index',
          type: 'string',
          describe: 'sample type for --top, e.g. alloc_space (default: as go tool pprof)',
          requiresArg: true,
        })
        .epilog(
          examples(
            ['Merge a directory of CPU profiles and read the result with pprof', 'kubectl profefe merge profiles/auth/cpu/ | go tool pprof -top -'],
            ['Merge a glob (quoted: expanded here, so any number of files works) into a file', "kubectl profefe merge 'profiles/**/heap/*.pb.gz' -o heap.pb.gz"],
            ['Show the 20 functions with the most flat time', 'kubectl profefe merge a.pb.gz b.pb.gz --top 20'],
            ['Show allocations instead of in-use memory', 'kubectl profefe merge heap/ --top 10 --sample-type alloc_space'],
          ),
        ) as Argv<MergeArgs>,
    handler: async (args) => {
      const opts = resolveMergeOptions(args, ctx);
      const result = await runMerge(opts, { signal: ctx.signal });
      await renderMerge(result, opts, ctx);
    },
  };
}

/** Completes and validates merge options; throws UsageError naming the flag at fault. */
export function resolveMergeOptions(args: MergeArgs, ctx: Pick<CommandContext, 'io'>): MergeOptions {
  const inputs = (args.inputs ?? []).filter((x) => x !== undefined && x !== '').map(String);
  if (inputs.length === 0) throw new UsageError('merge needs at least one profile file, directory or glob');
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
    throw new UsageError(
      'refusing to write a binary profile to the terminal; use -o FILE, redirect (> merged.pb.gz) or pipe (| go tool pprof -top -)',
    );
  }
  return { inputs, output: args.output, top: args.top, sampleType: args['sample-type'] };
}

/** Expands the inputs and merges them. */
export async function runMerge(opts: MergeOptions, deps: { signal?: AbortSignal }): Promise<MergeResult> {
  const files = await expandProfilePaths(opts.inputs);
  return mergeProfileFiles(files, { signal: deps.signal });
}

async function renderMerge(result: MergeResult, opts: MergeOptions, ctx: CommandContext): Promise<void> {
  const { io } = ctx;
  if (opts.top !== undefined) {
    let report;
    try {
      report = computeTop(result.profile, opts.sampleType);
    } catch (err) {
      throw new UsageError(`--sample-type: ${(err as Error).message}`);
    }
    const types = sampleTypesOf(result.profile).map((t) => t.type).join(', ');
    const header = [`Merged profiles: ${result.inputs}`, `Sample types: ${types}`];
    await writeAll(io.stdout, renderTopTable(report, opts.top, header));
    return;
  }
  const bytes = encodeProfile(result.profile);
  if (opts.output === undefined) {
    await writeAll(io.stdout, bytes);
    return;
  }
  await writeFileAtomic(opts.output, bytes);
  await writeAll(io.stderr, `merged ${result.inputs} profile${result.inputs === 1 ? '' : 's'} into ${opts.output} (${formatSize(bytes.length)})\n`);
}
