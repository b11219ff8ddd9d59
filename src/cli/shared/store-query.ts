import { numberOption } from './usage-errors.js';
import type { Argv } from 'yargs';
import { UsageError } from '../../errors.js';
import { formatLabels, WINDOW_TYPES, type FindQuery, type StoreLabel, type WindowType } from '../../store/store.js';
import type { WindowQuery } from '../../store/window-query.js';
import { parseLabelArgs, resolveWindow } from './time-window.js';

/** The store query flags as yargs parses them (shared by get, merge and the commands after them). */
export interface QueryFlagArgs {
  service?: string;
  type?: string;
  from?: string;
  to?: string;
  label?: string[];
  limit?: number;
}

/** Adds --service, --type (alias --profile-type, kube-profefe's name), --from, --to, --label and --limit. */
export function withQueryFlags<T>(y: Argv<T>, serviceHelp: string) {
  return y.options({
    service: { type: 'string', requiresArg: true, describe: serviceHelp },
    type: {
      alias: 'profile-type',
      type: 'string',
      requiresArg: true,
      describe: `profile type: ${WINDOW_TYPES.join(', ')} (heap: the in-use snapshots; allocs: the allocation deltas, stored as heap with profile=allocs)`,
    },
    from: { type: 'string', requiresArg: true, describe: 'start of the window: 2h, 30m, 7d back, or a time (default: 24h before --to)' },
    to: { type: 'string', requiresArg: true, describe: 'end of the window (default: now)' },
    label: { alias: 'l', type: 'string', array: true, requiresArg: true, describe: 'only profiles with this label, key=value (repeatable: all must match)' },
    limit: numberOption({ flag: '--limit', whole: true, min: 0 }, { describe: 'at most N profiles (which N depends on the store: the newest on profefe with badger)' }),
  });
}

/** A store query from the flags: profefe's, except that --type may be `allocs` (see window-query). */
export type FlagQuery = Omit<FindQuery, 'type'> & { readonly type?: WindowType };

/** The store query from --service, --type, --from, --to, --label and --limit; throws UsageError naming the flag. */
export function resolveQuery(args: QueryFlagArgs, now: Date): FlagQuery {
  const type = args.type === undefined ? undefined : parseQueryType(args.type);
  if (args.limit !== undefined && (!Number.isInteger(args.limit) || args.limit < 0)) throw new UsageError(`--limit must be a whole number >= 0, got ${args.limit}`);
  const { from, to } = resolveWindow(args.from, args.to, now);
  return { service: String(args.service), type, from, to, labels: parseLabelArgs((args.label ?? []).map(String)), limit: args.limit };
}

/**
 * --type of a store query: one of profefe's types, or `allocs` (Go's allocs profiles, stored as
 * heap labelled profile=allocs: the allocs deltas); `profile` is accepted for cpu.
 */
export function parseQueryType(value: string): WindowType {
  const t = value.trim().toLowerCase();
  if (t === 'profile') return 'cpu';
  if (!(WINDOW_TYPES as readonly string[]).includes(t)) {
    throw new UsageError(`--type: unknown profile type "${value}" (choose from ${WINDOW_TYPES.join(', ')})`);
  }
  return t as WindowType;
}

/** How a command says why it needs one --type that is not trace (merging, opening or comparing profiles). */
export interface StoredTypeWording {
  /** Before "needs --type": `merging stored profiles`. */
  readonly needsType: string;
  /** What profiles of different types cannot be: `merged`. */
  readonly cannotBe: string;
  /** After "--type trace: ": `traces cannot be merged`. */
  readonly trace: string;
}

/**
 * --type of a command that reads one stored profile or window of them: required, and never
 * trace (traces are not pprof profiles). Throws UsageError in the command's words.
 */
export function resolveStoredType(value: string | undefined, wording: StoredTypeWording): Exclude<WindowType, 'trace'> {
  if (value === undefined) throw new UsageError(`${wording.needsType} needs --type (profiles of different types cannot be ${wording.cannotBe})`);
  const type = parseQueryType(value);
  if (type === 'trace') throw new UsageError(`--type trace: ${wording.trace}`);
  return type;
}

/** `heap profiles of service "auth" with version=1.2`: what a store query asks for, for messages. */
export function describeQueryProfiles(q: Pick<WindowQuery, 'type' | 'service' | 'labels'>): string {
  return `${q.type} profiles of service "${q.service}"${withLabels(q.labels)}`;
}

/** ` with a=1,b=2`, or nothing when there are no labels. */
export function withLabels(labels: readonly StoreLabel[] | undefined): string {
  return labels && labels.length > 0 ? ` with ${formatLabels(labels)}` : '';
}
