/**
 * The local store's lock: a `.lock` file naming the process that has the store open (its pid,
 * command and, for `serve`, the URL others can upload through). One writing process at a time
 * (readers take no lock: LocalStore.open's `readOnly`); the lock of a process that has died is
 * taken over.
 */
import { randomBytes } from 'node:crypto';
import { link, mkdir, readFile, unlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { StoreError } from '../../errors.js';
import { writeFileAtomic } from '../../files/atomic-write.js';

const LOCK_FILE = '.lock';

/** Store directories this process has open, so that a stale lock with our own pid (a restarted container's pid 1) is recognised. */
const openDirs = new Set<string>();

/** Who has a store open, as its `.lock` file says (older versions wrote only the pid). */
export interface LockHolder {
  readonly pid: number;
  /** The kubectl-profefe command: `serve`, `capture`, ... */
  readonly command?: string;
  /** For `serve`: where its profefe API listens, so that others can upload through it. */
  readonly url?: string;
}

/** The store is open in another live process; says which, and where to reach it when it is `serve`. */
export class StoreLockedError extends StoreError {
  override readonly name: string = 'StoreLockedError';
  constructor(
    readonly dir: string,
    readonly holder: LockHolder,
  ) {
    const who = holder.command ? `'kubectl profefe ${holder.command}' (pid ${holder.pid})` : `process ${holder.pid}`;
    super(
      holder.command === 'serve' && holder.url
        ? `local store ${dir} is in use by ${who}: use that server, --profefe-hostport ${holder.url}`
        : `local store ${dir} is in use by ${who}`,
    );
  }
}

/** How long {@link acquireLock} polls a lock held by a live process. */
const LOCK_POLL_MS = 100;

/**
 * Takes the store's lock: a `.lock` file made whole, then linked into place (so no reader ever sees
 * it empty), holding the owner's pid, command and URL. A lock of a dead process is taken over; one
 * of a live process is waited for up to `waitMs` (not when it is `serve`), then StoreLockedError.
 */
export async function acquireLock(root: string, holder: Omit<LockHolder, 'pid'>, waitMs: number): Promise<void> {
  const lock = path.join(root, LOCK_FILE);
  const deadline = Date.now() + waitMs;
  while (openDirs.has(root)) {
    if (Date.now() >= deadline) throw new StoreError(`local store ${root} is already open in this process`);
    await sleep(LOCK_POLL_MS);
  }
  // Taken in the same tick as the check, so two opens in this process cannot both pass it.
  openDirs.add(root);
  try {
    await mkdir(root, { recursive: true });
    const mine = path.join(root, `.lock.${process.pid}.${randomBytes(4).toString('hex')}`);
    await writeFile(mine, lockText({ pid: process.pid, ...holder }));
    try {
      for (;;) {
        try {
          await link(mine, lock);
          break;
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
          const other = parseLock(await readFile(lock, 'utf8').catch(() => ''));
          if (other && other.pid !== process.pid && isAlive(other.pid)) {
            // serve holds a store for as long as it runs: waiting for it is pointless.
            if (other.command === 'serve' || Date.now() >= deadline) throw new StoreLockedError(root, other);
            await sleep(LOCK_POLL_MS);
            continue;
          }
          await unlink(lock).catch(() => undefined); // stale: its process has gone
        }
      }
    } finally {
      await unlink(mine).catch(() => undefined);
    }
  } catch (err) {
    openDirs.delete(root);
    if (err instanceof StoreError) throw err;
    const e = err as NodeJS.ErrnoException;
    throw new StoreError(`local store ${root}: cannot use the directory (${e.code ?? e.message})`);
  }
}

function lockText(h: LockHolder): string {
  return `${JSON.stringify(h)}\n`;
}

/** A lock file's holder: JSON, or the bare pid older versions wrote; undefined when unreadable. */
function parseLock(text: string): LockHolder | undefined {
  const t = text.trim();
  if (/^\d+$/.test(t)) return { pid: Number(t) };
  try {
    const h = JSON.parse(t) as Partial<LockHolder>;
    if (typeof h.pid !== 'number' || h.pid <= 0) return undefined;
    return { pid: h.pid, command: typeof h.command === 'string' ? h.command : undefined, url: typeof h.url === 'string' ? h.url : undefined };
  } catch {
    return undefined;
  }
}

/** Releases the lock taken by acquireLock (nothing when this process does not hold it). */
export async function releaseLock(root: string): Promise<void> {
  if (!openDirs.delete(root)) return;
  await unlink(path.join(root, LOCK_FILE)).catch(() => undefined);
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Records in the lock where this process serves the store (`serve`, once it listens). */
export async function announceLockHolder(root: string, holder: Omit<LockHolder, 'pid'>): Promise<void> {
  await writeFileAtomic(path.join(root, LOCK_FILE), Buffer.from(lockText({ pid: process.pid, ...holder })));
}
