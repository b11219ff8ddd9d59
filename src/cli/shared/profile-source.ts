/**
 * Where the profiles of merge, open and diff come from: local files, store ids or a store query.
 * One rule tells a file from an id (isFileTarget), one function checks ids, one builds the
 * source from the flags, one merges a source. The merge and store code is imported only when a
 * source needs it (`get` and a merge's --help load neither).
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { StoreError, UsageError } from '../../errors.js';
import { expandProfilePaths, PROFILE_FILE_NAME } from '../../files/profile-files.js';
import type { DecodeLimits, Profile } from '../../pprof/index.js';
import { describeStore, type StoreOptions } from '../../store/open-store.js';
import { ProfileNotFound } from '../../store/store.js';
import { escapeTerminal } from '../../report/terminal-text.js';
import type { WindowQuery } from '../../store/window-query.js';
import { describeQueryProfiles, resolveQuery, resolveStoredType, type QueryFlagArgs, type StoredTypeWording } from './store-query.js';

/** What to read: local files, a store query (a window of one type, allocs included), or store ids. */
export type ProfileSource =
  | { readonly kind: 'files'; readonly inputs: string[] }
  | { readonly kind: 'query'; readonly query: WindowQuery; readonly store: StoreOptions }
  | { readonly kind: 'ids'; readonly ids: string[]; readonly store: StoreOptions };

/**
 * Whether a command-line target means local files rather than a store id: it exists, is a glob,
 * has a path separator or a leading `~`, or a profile file's name (PROFILE_FILE_NAME). profefe's
 * ids have none of these; ids that look like paths (S3 keys) are given with --id.
 */
export function isFileTarget(target: string, exists: (p: string) => boolean = existsSync): boolean {
  return exists(target) || /[*?[\]{}]/.test(target) || target.includes('/') || target.includes(path.sep) || target.startsWith('~') || PROFILE_FILE_NAME.test(target);
}

/**
 * Checks ids given on the command line: profefe joins ids with `+` in its merge URL
 * (`/api/0/profiles/ID+ID`), so no id contains one. `flag` prefixes the message (`--id`).
 * Returns the ids; throws UsageError.
 */
export function checkProfileIds(ids: readonly string[], flag?: string): string[] {
  const bad = ids.find((id) => id.includes('+'));
  if (bad !== undefined) throw new UsageError(`${flag ? `${flag}: ` : ''}profile ids never contain "+" (profefe joins ids with it): "${bad}"`);
  return [...ids];
}

/** What a command was given, once its own combination rules have passed. */
export interface SourceChoice {
  readonly files: string[];
  readonly ids: string[];
  /** --id when the ids came from it (named in the message about "+"). */
  readonly idFlag?: string;
  /** The query flags; a source from the store when `service` is set. */
  readonly query: QueryFlagArgs;
  /** The store to read ids or a query from (called only for those). */
  readonly store: () => StoreOptions;
  readonly now: Date;
  /** The command's words for a missing --type or a trace. */
  readonly wording: StoredTypeWording;
}

/** The source from a command's choice: ids when there are any, else a query with --service, else the files. Throws UsageError. */
export function resolveProfileSource(choice: SourceChoice): ProfileSource {
  if (choice.ids.length > 0) return { kind: 'ids', ids: checkProfileIds(choice.ids, choice.idFlag), store: choice.store() };
  if (choice.query.service !== undefined) {
    const type = resolveStoredType(choice.query.type, choice.wording);
    return { kind: 'query', query: { ...resolveQuery(choice.query, choice.now), type }, store: choice.store() };
  }
  return { kind: 'files', inputs: choice.files };
}

/**
 * A merged profile: as the store sent it (gzipped pprof), or from local files, where both the
 * decoded profile and the gzipped bytes are there, each made on first use.
 */
export interface MergedProfile {
  readonly profile?: Profile;
  readonly bytes?: Uint8Array;
  /** Number of merged inputs, when known (a store does not say how many ids it found). */
  readonly inputs?: number;
  /** What the user should know about a store window (one line each), e.g. that it holds no deltas. */
  readonly warnings?: readonly string[];
  /** A store window's snapshots among the inputs (summed, as pprof merges them), and their pods. */
  readonly snapshots?: { readonly count: number; readonly pods: number };
}

/**
 * Merges a source: files here (expanded: directories, globs), ids by the store, a query's
 * window by mergeWindow (a sum, as pprof merges). Errors: InputError for files, StoreError
 * for a window with no profiles, the store's errors for ids.
 */
export async function mergeProfileSource(source: ProfileSource, opts: { signal?: AbortSignal; decodeLimits?: Partial<DecodeLimits>; dropStackless?: boolean }): Promise<MergedProfile> {
  if (source.kind === 'files') {
    const files = await expandProfilePaths(source.inputs);
    const { mergeProfileFiles } = await import('../../merge/merge-files.js');
    return mergeProfileFiles(files, { signal: opts.signal, decodeLimits: opts.decodeLimits, dropStackless: opts.dropStackless });
  }
  const { describeStore, openStore } = await import('../../store/open-store.js');
  const { mergeWindow } = await import('../../store/window-query.js');
  const store = await openStore(source.store, { readOnly: true });
  try {
    if (source.kind === 'ids') return { bytes: await store.mergeIds(source.ids).catch((err: unknown) => Promise.reject(clearIdError(err, source.ids, describeStore(source.store)))) };
    const merged = await mergeWindow(store, source.query, { signal: opts.signal, decodeLimits: opts.decodeLimits });
    if (!merged) throw new StoreError(noProfilesMessage(source.query, describeStore(source.store)));
    return merged;
  } finally {
    await store.close();
  }
}

/**
 * What a command is doing with a source, for its progress line (escaped for the terminal):
 * `merging profiles from 3 inputs`, `merging cpu profiles of service "api" from the local store in DIR`,
 * `merging 2 stored profiles from profefe at URL`.
 */
export function describeSourceWork(verb: string, source: ProfileSource): string {
  if (source.kind === 'files') return escapeTerminal(`${verb} profiles from ${source.inputs.length === 1 ? source.inputs[0] : `${source.inputs.length} inputs`}`);
  const what = source.kind === 'ids' ? `${source.ids.length} stored profile${source.ids.length === 1 ? '' : 's'}` : describeQueryProfiles(source.query);
  return escapeTerminal(`${verb} ${what} from ${describeStore(source.store)}`);
}

/** "no heap profiles of service "auth" with version=1.2 between … and … in profefe at …". */
export function noProfilesMessage(q: WindowQuery, where: string): string {
  return `no ${describeQueryProfiles(q)} between ${q.from.toISOString()} and ${q.to.toISOString()} in ${where}`;
}

/**
 * A store's "not found" for ids (profefe's bare `nothing found`), said in terms of the ids the
 * user gave and the store asked; other errors unchanged.
 */
function clearIdError(err: unknown, ids: readonly string[], where: string): unknown {
  if (!(err instanceof ProfileNotFound)) return err;
  if (ids.length === 1) return new StoreError(`no profile with id "${escapeTerminal(ids[0]!)}" in ${where}`);
  return new StoreError(`none of the profile ids ${ids.map((id) => `"${escapeTerminal(id)}"`).join(', ')} is in ${where}`);
}
