import type { Argv, CommandModule } from 'yargs';
import { StoreError, UsageError } from '../errors.js';
import { LIST_FORMATS, renderNames, renderProfiles, type ListFormat } from '../report/store-report.js';
import { describeStore, openStore, type StoreOptions } from '../store/open-store.js';
import { ProfileNotFound, type ProfileMeta } from '../store/store.js';
import { PROFILE_LABEL, storeTypeOfWindow, WINDOW_TYPES } from '../store/window-query.js';
import type { CommandContext } from './shared/context.js';
import { examples } from './shared/help.js';
import { writeAll } from './shared/io.js';
import { escapeTerminal } from '../report/terminal-text.js';
import { checkProfileIds } from './shared/profile-source.js';
import { resolveQuery, withQueryFlags, type FlagQuery, type QueryFlagArgs } from './shared/store-query.js';
import { resolveStoreOptions, withStoreFlags, type StoreFlagArgs } from './shared/store-flags.js';
import { PROGRESS_FLAG, progressContext, type ProgressFlagArgs } from './shared/progress-flag.js';
import { withProgress } from '../report/progress.js';
import { writeFileAtomic } from '../files/atomic-write.js';

type Resource = 'profiles' | 'profile' | 'services' | 'types';

export type GetOptions =
  | { readonly resource: 'profiles'; readonly query: FlagQuery; readonly format: ListFormat; readonly store: StoreOptions }
  | { readonly resource: 'services' | 'types'; readonly format: ListFormat; readonly store: StoreOptions }
  | { readonly resource: 'profile'; readonly id: string; readonly outputFile?: string; readonly store: StoreOptions };

interface GetArgs extends StoreFlagArgs, QueryFlagArgs, ProgressFlagArgs {
  resource?: string;
  id?: string;
  output?: string;
}

const RESOURCE_NAMES: Record<string, Resource> = {
  profiles: 'profiles',
  profile: 'profile',
  prof: 'profile',
  services: 'services',
  service: 'services',
  svc: 'services',
  types: 'types',
  type: 'types',
  'profile-types': 'types',
};

export function getCommand(ctx: CommandContext): CommandModule<object, GetArgs> {
  return {
    command: 'get [resource] [id]',
    describe: 'List profiles, services and types in the store; download a profile',
    builder: (y: Argv) =>
      withStoreFlags(
        withQueryFlags(y, 'service name (required for profiles)')
          .usage(
            'Usage: kubectl profefe get [profiles] --service NAME [--type TYPE] [--from TIME] [--to TIME] [--label K=V]...\n' +
              '       kubectl profefe get services | types\n' +
              '       kubectl profefe get profile ID [-o FILE]\n\n' +
              'Queries the profile store: a profefe collector (--profefe-hostport or PROFEFE_HOSTPORT),\n' +
              'else the local store that capture fills. Times are a duration back from now (2h, 30m, 7d)\n' +
              'or a time (2026-11-25T10:00:00Z); the default window is the last 24 hours.',
          )
          .positional('resource', { type: 'string', describe: 'profiles (default), profile, services or types' })
          .positional('id', { type: 'string', describe: 'with "profile": the profile id to download' })
          .option('output', { alias: 'o', type: 'string', requiresArg: true, describe: `format: ${LIST_FORMATS.join('|')}; with "profile ID": the file to write` })
          .options(PROGRESS_FLAG)
          .group(['service', 'type', 'from', 'to', 'label', 'limit', 'output', 'progress', 'help'], 'Options:')
          .epilog(
            examples(
              ['CPU profiles of the auth service from the last two hours', 'kubectl profefe get --service auth --type cpu --from 2h'],
              ['Profiles of one version, with their labels', 'kubectl profefe get profiles --service auth -l version=1.4.2 -o wide'],
              ['The services that have profiles', 'kubectl profefe get services'],
              ['Download one profile and read it', 'kubectl profefe get profile dc2v00b8di1ecttsn9f0 -o cpu.pb.gz && go tool pprof -top cpu.pb.gz'],
            ),
          ),
      ),
    handler: async (args) => {
      const opts = resolveGetOptions(args, ctx);
      // A store that takes more than a second to answer gets a progress line meanwhile.
      await withProgress(progressContext(ctx, args), `asking ${escapeTerminal(describeStore(opts.store))}`, 1000, () => runGet(opts, ctx));
    },
  };
}

/** Completes and validates get options; throws UsageError naming the flag at fault. */
export function resolveGetOptions(args: GetArgs, ctx: Pick<CommandContext, 'env' | 'io'>, now = new Date()): GetOptions {
  const resource = RESOURCE_NAMES[(args.resource ?? 'profiles').toLowerCase()];
  if (!resource) throw new UsageError(`unknown resource "${args.resource}" (choose profiles, profile, services or types)`);
  const store = resolveStoreOptions(args, ctx.env);
  if (resource === 'profile') {
    if (!args.id) throw new UsageError('get profile needs the profile ID (find ids with: kubectl profefe get profiles --service NAME)');
    checkProfileIds([args.id]);
    if (args.output === undefined && ctx.io.stdoutIsTTY) {
      throw new UsageError('refusing to write a binary profile to the terminal; use -o FILE or redirect (> profile.pb.gz)');
    }
    return { resource, id: args.id, outputFile: args.output, store };
  }
  if (args.id) throw new UsageError(`unexpected argument "${args.id}" after "${args.resource}"`);
  const format = (args.output ?? 'table') as ListFormat;
  if (!LIST_FORMATS.includes(format)) throw new UsageError(`-o/--output must be one of ${LIST_FORMATS.join(', ')}, got "${args.output}"`);
  if (resource !== 'profiles') return { resource, format, store };
  if (!args.service) throw new UsageError("get profiles needs --service (list them with 'kubectl profefe get services')");
  return { resource, format, store, query: resolveQuery(args, now) };
}

/** Runs the query and writes the result. */
export async function runGet(opts: GetOptions, ctx: Pick<CommandContext, 'io'>): Promise<void> {
  if (opts.resource === 'types') {
    await writeAll(ctx.io.stdout, renderNames('type', WINDOW_TYPES, opts.format));
    return;
  }
  const store = await openStore(opts.store, { readOnly: true });
  try {
    switch (opts.resource) {
      case 'services': {
        const names = await store.services();
        if (names.length === 0 && opts.format === 'table') {
          await writeAll(ctx.io.stderr, `No services found in ${describeStore(opts.store)}.\n`);
        } else await writeAll(ctx.io.stdout, renderNames('service', names, opts.format));
        return;
      }
      case 'profile': {
        const bytes = await store.get(opts.id).catch((err: unknown) => {
          if (err instanceof ProfileNotFound) throw new StoreError(`profile "${opts.id}" not found in ${describeStore(opts.store)}`);
          throw err;
        });
        if (opts.outputFile) await writeFileAtomic(opts.outputFile, bytes);
        else await writeAll(ctx.io.stdout, bytes);
        return;
      }
      case 'profiles': {
        const q = opts.query;
        let metas: ProfileMeta[] = await store.find({ ...q, type: q.type === undefined ? undefined : storeTypeOfWindow(q.type) });
        // allocs are heap profiles with a label: told apart here (a label filter on profefe's badger store can miss some: docs/profefe-api.md, "Known bugs").
        if (q.type === 'allocs') metas = metas.filter((m) => m.labels.some((l) => l.key === PROFILE_LABEL && l.value === 'allocs'));
        if (metas.length === 0 && (opts.format === 'table' || opts.format === 'wide')) {
          await writeAll(ctx.io.stderr, `No profiles found for service "${escapeTerminal(opts.query.service)}" between ${opts.query.from.toISOString()} and ${opts.query.to.toISOString()} in ${describeStore(opts.store)}.\n`);
          return;
        }
        await writeAll(ctx.io.stdout, renderProfiles(metas, opts.format, new Date()));
        return;
      }
    }
  } finally {
    await store.close();
  }
}
