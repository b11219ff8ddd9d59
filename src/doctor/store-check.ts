/**
 * The store check of `doctor`: whether the store the other commands would use (the same flags)
 * can take profiles. A profefe store answers `GET /api/0/version` (docs/profefe-api.md); the local
 * store is a folder that must be writable, or creatable, by whoever captures.
 */
import { constants } from 'node:fs';
import { access, stat } from 'node:fs/promises';
import path from 'node:path';
import { StoreError } from '../errors.js';
import { describeStore, openStore, type StoreOptions } from '../store/open-store.js';
import type { Finding } from './findings.js';

/** How long the store may take, and how to stop. */
export interface StoreCheckOptions {
  /** One request to a profefe store, in ms (no retries: a doctor reports, it does not insist). */
  readonly timeoutMs: number;
  readonly signal?: AbortSignal;
}

/**
 * One finding about the store. profefe: ok with its version when /api/0/version answers, error
 * (with the store's own words) when it does not. Local: ok with the number of services when the
 * folder can be read and written; ok when it does not exist yet but its parent can take it
 * (capture creates it); error when it cannot be written or read, is a file, would have to be
 * made under a file, or cannot even be looked at (ELOOP, ENAMETOOLONG, EACCES).
 */
export async function checkStore(opts: StoreOptions, check: StoreCheckOptions): Promise<Finding> {
  const name = describeStore(opts);
  if (opts.hostport) {
    const { ProfefeClient } = await import('../store/profefe/client.js');
    const client = new ProfefeClient({ baseUrl: opts.hostport, token: opts.token, caFile: opts.caFile, timeoutMs: check.timeoutMs, retries: 0, signal: check.signal });
    try {
      const v = await client.version();
      const parts = [v.version ? `version ${v.version}` : 'no version (a build without one)', v.commit && `commit ${v.commit}`, v.go_version].filter(Boolean);
      return { check: 'store', severity: 'ok', code: 'store-ok', message: `${name} answers: ${parts.join(', ')}` };
    } catch (err) {
      if (check.signal?.aborted) throw check.signal.reason;
      if (!(err instanceof StoreError)) throw err;
      return {
        check: 'store',
        severity: 'error',
        code: 'store-unreachable',
        message: `${name}: ${err.message}`,
        fix: 'check --profefe-hostport (or PROFEFE_HOSTPORT) and --profefe-token, and that the store is reachable from here',
      };
    } finally {
      await client.close();
    }
  }
  const dir = path.resolve(opts.storeDir);
  const elsewhere = 'choose a folder you can write with --store-dir (or KUBECTL_PROFEFE_HOME), or upload to a profefe store (--profefe-hostport)';
  // ENOTDIR: a file stands where one of its parent folders would be (capture's mkdir fails the same way).
  const found = await stat(dir).then((s) => (s.isDirectory() ? 'folder' : 'file'), (err: NodeJS.ErrnoException) => (err.code === 'ENOENT' || err.code === 'ENOTDIR' ? 'none' : { failed: err.code ?? err.message }));
  // A symlink loop, a name too long, a parent not searchable: capture could not use it either.
  if (typeof found === 'object') return { check: 'store', severity: 'error', code: 'store-unwritable', message: `${name} cannot be used: ${found.failed}`, fix: elsewhere };
  if (found === 'file') return { check: 'store', severity: 'error', code: 'store-unwritable', message: `${name} is not a folder: a file is there`, fix: elsewhere };
  if (found === 'none') {
    const parent = await nearestExisting(path.dirname(dir));
    if (!(await stat(parent)).isDirectory()) return { check: 'store', severity: 'error', code: 'store-unwritable', message: `${name} cannot be made: ${parent} is not a folder`, fix: elsewhere };
    const writable = await access(parent, constants.W_OK).then(() => true, () => false);
    return writable
      ? { check: 'store', severity: 'ok', code: 'store-ok', message: `${name} does not exist yet: capture creates it` }
      : { check: 'store', severity: 'error', code: 'store-unwritable', message: `${name} does not exist, and ${parent} cannot be written to create it`, fix: elsewhere };
  }
  if (!(await access(dir, constants.W_OK | constants.R_OK).then(() => true, () => false))) {
    return { check: 'store', severity: 'error', code: 'store-unwritable', message: `${name} cannot be read and written by this user`, fix: `fix the folder's permissions, or choose another with --store-dir` };
  }
  try {
    const store = await openStore(opts, { readOnly: true });
    try {
      const services = await store.services();
      return { check: 'store', severity: 'ok', code: 'store-ok', message: `${name}: ${services.length} service${services.length === 1 ? '' : 's'} stored` };
    } finally {
      await store.close();
    }
  } catch (err) {
    if (!(err instanceof StoreError)) throw err;
    return { check: 'store', severity: 'error', code: 'store-unreadable', message: err.message, fix: 'look at the folder: its index file may be damaged' };
  }
}

/** `dir`, or its nearest ancestor that exists. */
async function nearestExisting(dir: string): Promise<string> {
  for (let d = dir; ; d = path.dirname(d)) {
    if (await stat(d).then(() => true, () => false)) return d;
    if (path.dirname(d) === d) return d;
  }
}
