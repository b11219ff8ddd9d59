import { numberOption } from './usage-errors.js';
import type { Argv } from 'yargs';
import { UsageError } from '../../errors.js';
import { resolveSampleIndex, type Profile } from '../../pprof/index.js';
import { describeStore, type StoreOptions } from '../../store/open-store.js';
import { formatLabels, WINDOW_TYPES, type FindQuery, type StoreLabel, type WindowType } from '../../store/store.js';
import type { WindowQuery } from '../../store/window-query.js';
import { formatSelector, parseSelector, SelectorParseError, type LabelSelector } from '../../labels/selector.js';
import { parseLabelArgs, resolveWindow } from './time-window.js';

/** The store query flags as yargs parses them (shared by get, merge and the commands after them). */
export interface QueryFlagArgs {
  service?: string;
  type?: string;
  from?: string;
  to?: string;
  selector?: string | string[];
  label?: string[];
  limit?: number;
}

/** -l/--selector: a Kubernetes label selector on store labels (repeatable: ANDed, as its commas are). */
export const SELECTOR_OPTION = {
  alias: 'l',
  type: 'string',
  requiresArg: true,
  describe: "label selector on the stored profiles' labels, as kubectl's: k=v, k!=v, 'k in (a,b)', 'k notin (a)', k, !k (comma: AND)",
} as const;

/** --label K=V: profefe's exact filter, kept from before -l became a selector: any value (url=10.0.0.1:6060), repeatable (AND). */
export const LABEL_OPTION = {
  type: 'string',
  array: true,
  requiresArg: true,
  describe: 'only profiles with this exact label, K=V; the value verbatim, even where -l could not spell it (url=10.0.0.1:6060); repeatable (AND)',
} as const;

/**
 * The selector of -l/--selector (or of another flag, `flag` names it): each value parsed with
 * labels.Parse's grammar and validation, all ANDed. Throws UsageError with apimachinery's words.
 */
export function resolveSelector(values: string | readonly string[] | undefined, flag = '-l/--selector'): LabelSelector | undefined {
  if (values === undefined) return undefined;
  const list = (Array.isArray(values) ? values : [values]).map(String);
  const selector: LabelSelector[number][] = [];
  for (const value of list) {
    try {
      selector.push(...parseSelector(value));
    } catch (err) {
      if (err instanceof SelectorParseError) throw new UsageError(`${flag} ${JSON.stringify(value)}: ${err.message}`);
      throw err;
    }
  }
  return selector.length > 0 ? selector : undefined;
}

/**
 * A label selector for the API server (capture's -l, collect's -l and --namespace-selector):
 * checked here with labels.Parse's rules, so a mistake is a usage error before any request,
 * and sent as given (several values joined with `,`: AND). Undefined for none.
 */
export function resolveApiSelector(values: string | readonly string[] | undefined, flag = '-l/--selector'): string | undefined {
  if (values === undefined) return undefined;
  const list = (Array.isArray(values) ? values : [values]).map(String).filter((v) => v.trim() !== '');
  resolveSelector(list, flag);
  return list.length > 0 ? list.join(',') : undefined;
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
    selector: SELECTOR_OPTION,
    label: LABEL_OPTION,
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
  const selector = resolveSelector(args.selector);
  return { service: String(args.service), type, from, to, labels: parseLabelArgs((args.label ?? []).map(String)), ...(selector ? { selector } : {}), limit: args.limit };
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

/** `heap profiles of service "auth" with version=1.2 matching env!=prod`: what a store query asks for, for messages. */
export function describeQueryProfiles(q: Pick<WindowQuery, 'type' | 'service' | 'labels' | 'selector'>): string {
  return `${q.type} profiles of service "${q.service}"${withLabels(q.labels, q.selector)}`;
}

/** ` with a=1,b=2` (--label) and ` matching x!=y` (-l), or nothing when there are neither. */
export function withLabels(labels: readonly StoreLabel[] | undefined, selector?: LabelSelector): string {
  const exact = labels && labels.length > 0 ? ` with ${formatLabels(labels)}` : '';
  return exact + (selector && selector.length > 0 ? ` matching ${formatSelector(selector)}` : '');
}

/** --sample-type checked against a loaded profile: a UsageError naming the flag when it has no such type. */
export function checkSampleType(profile: Profile, sampleType: string | undefined): void {
  try {
    resolveSampleIndex(profile, sampleType);
  } catch (err) {
    throw new UsageError(`--sample-type: ${(err as Error).message}`);
  }
}

/**
 * What a window of several services (top, trend) says when it found nothing: no services at all, or
 * no profiles of the type, labels and window for the services named (`services`) or any of `names`.
 */
export function noProfilesMessage(
  opts: { readonly store: StoreOptions; readonly services?: readonly string[]; readonly query: Pick<FindQuery, 'labels' | 'selector' | 'from' | 'to'> & { readonly type: WindowType } },
  names: readonly string[],
): string {
  const where = describeStore(opts.store);
  if (names.length === 0) return `no services in ${where}`;
  const q = opts.query;
  const labels = withLabels(q.labels, q.selector);
  const who = opts.services
    ? `service${names.length === 1 ? '' : 's'} ${names.map((n) => `"${n}"`).join(', ')}`
    : `any of the ${names.length} service${names.length === 1 ? '' : 's'}`;
  return `no ${q.type} profiles${labels} from ${q.from.toISOString()} to ${q.to.toISOString()} for ${who} in ${where}`;
}
