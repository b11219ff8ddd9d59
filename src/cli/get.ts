import type { Argv, CommandModule } from 'yargs';
import { StoreError, UsageError } from '../errors.js';
import { LIST_FORMATS, renderNames, renderProfiles, type ListFormat } from '../report/store-report.js';
import { describeStore, openStore, type StoreOptions } from '../store/open-store.js';
import { ProfileNotFound, type ProfileMeta } from '../store/store.js';
import { storeTypeOfWindow, windowTypeOf, WINDOW_TYPES } from '../store/window-query.js';
import type { CommandContext } from './shared/context.js';
import { examples } from './shared/help.js';
import { writeAll } from './shared/io.js';
import { escapeTerminal } from '../report/terminal-text.js';
import { checkProfileIds } from './shared/profile-source.js';
import { resolveQuery, withLabels, withQueryFlags, type FlagQuery, type QueryFlagArgs } from './shared/store-query.js';
import { OUTPUT_FILE_OPTION, refuseBinaryOnTerminal, resolveOutputFlags, type OutputFlagArgs } from './shared/output-flags.js';
import { resolveWindow } from './shared/time-window.js';
import { resolveStoreOptions, withStoreFlags, type StoreFlagArgs } from './shared/store-flags.js';
import { PROGRESS_FLAG, progressContext, type ProgressFlagArgs } from './shared/progress-flag.js';
import { withProgress } from '../report/progress.js';
import { writeFileAtomic } from '../files/atomic-write.js';

type Resource = 'profiles' | 'profile' | 'services' | 'types';

export type GetOptions = (
  | { readonly resource: 'profiles'; readonly query: FlagQuery; readonly format: ListFormat; readonly store: StoreOptions }
  | { readonly resource: 'services'; readonly format: ListFormat; readonly store: StoreOptions }
  /** The types stored in the window: of one service, or of every service when `service` is undefined. */
  | { readonly resource: 'types'; readonly format: ListFormat; readonly store: StoreOptions; readonly service?: string; readonly from: Date; readonly to: Date }
  | { readonly resource: 'profile'; readonly id: string; readonly outputFile?: string; readonly store: StoreOptions }
) & {
  /** Deprecations to show on stderr (-o FILE). */
  readonly warnings?: readonly string[];
};

interface GetArgs extends StoreFlagArgs, QueryFlagArgs, OutputFlagArgs, ProgressFlagArgs {
  resource?: string;
  id?: string;
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
            'Usage: kubectl profefe get [profiles] --service NAME [--type TYPE] [options]\n' +
              'Usage: kubectl profefe get services\n' +
              'Usage: kubectl profefe get types [--service NAME] [--from TIME] [--to TIME]\n' +
              'Usage: kubectl profefe get profile ID [--output-file FILE]\n\n' +
              'Queries the profile store: a profefe collector (--profefe-hostport or PROFEFE_HOSTPORT), ' +
              'else the local store that capture fills. Times are a duration back from now (2h, 30m, 7d) ' +
              'or a time (2026-11-25T10:00:00Z); the default window is the last 24 hours. "types" lists the ' +
              'types stored in the window (of one service with --service). -l selects by the stored ' +
              "profiles' labels with kubectl's label selectors; -o json and yaml print a kind: List.",
          )
          .positional('resource', { type: 'string', describe: 'profiles (default), profile, services or types' })
          .positional('id', { type: 'string', describe: 'with "profile": the profile id to download' })
          .option('output', { alias: 'o', type: 'string', requiresArg: true, describe: `format: ${LIST_FORMATS.join('|')}; with "profile ID": pprof` })
          .option('output-file', { ...OUTPUT_FILE_OPTION, describe: 'with "profile ID": write the profile to FILE instead of stdout' })
          .options(PROGRESS_FLAG)
          .group(['service', 'type', 'from', 'to', 'selector', 'label', 'limit', 'output', 'output-file', 'progress', 'help'], 'Options:')
          .epilog(
            examples(
              ['CPU profiles of the auth service from the last two hours', 'kubectl profefe get --service auth --type cpu --from 2h'],
              ['Profiles of one version, with their labels', 'kubectl profefe get profiles --service auth -l version=1.4.2 -o wide'],
              ['Profiles of every environment but production, as YAML', "kubectl profefe get profiles --service auth -l 'env notin (prod),!canary' -o yaml"],
              ['The services that have profiles', 'kubectl profefe get services'],
              ['The types stored for a service in the last week', 'kubectl profefe get types --service auth --from 7d'],
              ['Download one profile and read it', 'kubectl profefe get profile dc2v00b8di1ecttsn9f0 --output-file cpu.pb.gz && go tool pprof -top cpu.pb.gz'],
            ),
          ),
      ),
    handler: async (args) => {
      const opts = resolveGetOptions(args, ctx);
      for (const w of opts.warnings ?? []) await writeAll(ctx.io.stderr, `${w}\n`);
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
    const choice = resolveOutputFlags(args, { formats: ['pprof'], default: 'pprof', fileFormats: ['pprof'] });
    refuseBinaryOnTerminal(choice, ctx.io.stdoutIsTTY, 'profile.pb.gz');
    return { resource, id: args.id, outputFile: choice.file, store, warnings: choice.warnings };
  }
  if (args.id) throw new UsageError(`unexpected argument "${args.id}" after "${args.resource}"`);
  if (args['output-file'] !== undefined) throw new UsageError(`--output-file writes a profile (get profile ID); a list prints to stdout (redirect it: > FILE)`);
  const format = resolveOutputFlags(args, { formats: LIST_FORMATS, default: 'table', fileFormats: [] }).format;
  if (resource === 'services') return { resource, format, store };
  if (resource === 'types') {
    const { from, to } = resolveWindow(args.from, args.to, now);
    return { resource, format, store, from, to, ...(args.service !== undefined ? { service: String(args.service) } : {}) };
  }
  if (!args.service) throw new UsageError("get profiles needs --service (list them with 'kubectl profefe get services')");
  return { resource, format, store, query: resolveQuery(args, now) };
}

/** Runs the query and writes the result. */
export async function runGet(opts: GetOptions, ctx: Pick<CommandContext, 'io'>): Promise<void> {
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
      case 'types': {
        const services = opts.service !== undefined ? [opts.service] : await store.services();
        const stored = new Set<string>();
        for (const service of services) for (const m of await store.find({ service, from: opts.from, to: opts.to })) stored.add(windowTypeOf(m));
        // In --type's order (cpu, heap, allocs, ...), not the order found.
        const types = WINDOW_TYPES.filter((t) => stored.has(t));
        if (types.length === 0 && (opts.format === 'table' || opts.format === 'wide')) {
          const whose = opts.service !== undefined ? ` for service "${escapeTerminal(opts.service)}"` : '';
          await writeAll(ctx.io.stderr, `No profiles${whose} between ${opts.from.toISOString()} and ${opts.to.toISOString()} in ${describeStore(opts.store)}, so no types.\n`);
        } else await writeAll(ctx.io.stdout, renderNames('type', types, opts.format));
        return;
      }
      case 'profile': {
        const bytes = await store.get(opts.id).catch((err: unknown) => {
          if (err instanceof ProfileNotFound) throw new StoreError(`profile "${opts.id}" not found in ${describeStore(opts.store)}`);
          throw err;
        });
        if (opts.outputFile) await writeFileAtomic(opts.outputFile, bytes, { createDirs: false });
        else await writeAll(ctx.io.stdout, bytes);
        return;
      }
      case 'profiles': {
        const q = opts.query;
        let metas: ProfileMeta[] = await store.find({ ...q, type: q.type === undefined ? undefined : storeTypeOfWindow(q.type) });
        // allocs are heap profiles with a label: told apart here (a label filter on profefe's badger store can miss some:
        // docs/profefe-api.md, "Known bugs"), so that --type heap lists the in-use snapshots only, as merge, top and open take them.
        if (q.type !== undefined) metas = metas.filter((m) => windowTypeOf(m) === q.type);
        if (metas.length === 0 && (opts.format === 'table' || opts.format === 'wide')) {
          const what = `${q.type !== undefined ? `${q.type} ` : ''}profiles`;
          await writeAll(ctx.io.stderr, `No ${what} found for service "${escapeTerminal(q.service)}"${escapeTerminal(withLabels(q.labels, q.selector))} between ${q.from.toISOString()} and ${q.to.toISOString()} in ${describeStore(opts.store)}.\n`);
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
