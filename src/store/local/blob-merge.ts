/**
 * Merging stored profiles (the local store's blobs) into one gzipped pprof, for the merge routes
 * (`/api/0/profiles/merge`, `/api/0/profiles/id+id`). In-process for the CLI's own use of the
 * store; for `serve`, in worker threads (BlobMergePool): a merge of a thousand profiles decodes
 * for seconds, and on the event loop every other request, /healthz included, would wait for it.
 * The main thread then only hands over file paths and sends the bytes that come back.
 */
import { readFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import pLimit, { type LimitFunction } from 'p-limit';
import { decodeProfile, encodeProfile, IncompatibleProfilesError, ProfileMerger, type DecodeLimits } from '../../pprof/index.js';
import { IncompatibleProfiles, NothingToMerge, StoreFailed, StoreUnavailable, type StoreProblem } from '../store.js';

/** A stored profile to merge: its id (errors name it) and the path of its blob. */
export interface StoredBlob {
  readonly id: string;
  readonly path: string;
}

/**
 * Merges these blobs, in order, into one gzipped pprof (google/pprof's Merge). A blob whose file
 * has gone is skipped, like an unknown id. Errors: IncompatibleProfiles `could not merge N
 * profiles: …` (different sample types, a trace), StoreFailed for a blob that does not decode or
 * cannot be read (`could not merge N profiles: <id>: <why>`, `failed to read profile <id>: …`),
 * NothingToMerge `could not merge 0 profiles` (none left); StoreUnavailable when a pool has too
 * many merges waiting or is shutting down.
 */
export type MergeBlobs = (blobs: readonly StoredBlob[]) => Promise<Uint8Array>;

/** Blobs read ahead of the one being merged: overlaps disk reads with decoding, memory stays bounded. */
const READ_AHEAD = 4;

/**
 * {@link MergeBlobs} on the calling thread, one decoded profile in memory at a time, each blob
 * decoded within `limits` (--max-inflated-size, --max-samples; default DEFAULT_DECODE_LIMITS).
 */
export async function mergeBlobsInProcess(blobs: readonly StoredBlob[], limits: Partial<DecodeLimits> = {}): Promise<Uint8Array> {
  const what = `could not merge ${blobs.length} profiles`;
  const merger = new ProfileMerger();
  const reads: (Promise<Uint8Array | undefined> | undefined)[] = [];
  const startRead = (i: number) => {
    if (i >= blobs.length) return;
    const p = readBlob(blobs[i]!);
    p.catch(() => undefined); // an early exit must not leave read-aheads' errors unhandled
    reads[i] = p;
  };
  for (let i = 0; i < READ_AHEAD; i++) startRead(i);
  for (let i = 0; i < blobs.length; i++) {
    const bytes = await reads[i];
    reads[i] = undefined;
    startRead(i + READ_AHEAD);
    if (!bytes) continue;
    const id = blobs[i]!.id;
    try {
      merger.add(decodeProfile(bytes, undefined, limits), id);
    } catch (err) {
      // IncompatibleProfilesError already names both ids; anything else is a damaged blob.
      if (err instanceof IncompatibleProfilesError) throw new IncompatibleProfiles(`${what}: ${err.message}`);
      throw new StoreFailed(`${what}: ${id}: ${(err as Error).message}`);
    }
  }
  if (merger.count === 0) throw new NothingToMerge('could not merge 0 profiles');
  return encodeProfile(merger.result());
}

/** The blob's bytes, or undefined when its file has gone (treated like an unknown id). */
async function readBlob(blob: StoredBlob): Promise<Uint8Array | undefined> {
  try {
    return await readFile(blob.path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new StoreFailed(`failed to read profile ${blob.id}: ${(err as Error).message}`);
  }
}

/** What blob-merge-worker.ts posts back. */
export type BlobMergeReply =
  | { readonly ok: true; readonly bytes: Uint8Array }
  | { readonly ok: false; readonly problem: ProblemKind; readonly message: string };

/** Which of the store's errors a merge in a thread ended with, as a message can carry it. */
export type ProblemKind = 'incompatible' | 'nothing' | 'unavailable' | 'failed';

/** The kind of a merge's error, for the thread's reply. */
export function problemKind(err: unknown): ProblemKind {
  if (err instanceof NothingToMerge) return 'nothing';
  if (err instanceof IncompatibleProfiles) return 'incompatible';
  if (err instanceof StoreUnavailable) return 'unavailable';
  return 'failed';
}

/** The store error a thread's reply names. */
export function problemOf(kind: ProblemKind, message: string): StoreProblem {
  if (kind === 'nothing') return new NothingToMerge(message);
  if (kind === 'incompatible') return new IncompatibleProfiles(message);
  if (kind === 'unavailable') return new StoreUnavailable(message);
  return new StoreFailed(message);
}

/** Options of {@link BlobMergePool}. */
export interface BlobMergePoolOptions {
  /** Merges run at once, each in a thread of its own. */
  readonly workers: number;
  /** Merges waiting for a thread at most; one more is refused with StoreUnavailable (default 16). */
  readonly maxQueue?: number;
  /** A thread idle this long ends, giving back what its last merge left in its heap (default 30 s). */
  readonly idleMs?: number;
  /** What each stored profile may inflate to and hold (default: DEFAULT_DECODE_LIMITS). */
  readonly decodeLimits?: Partial<DecodeLimits>;
  /** The worker script (default: blob-merge-worker.js beside this module; tests pass the built one). */
  readonly script?: URL;
}

const WORKER_SCRIPT = new URL('./blob-merge-worker.js', import.meta.url);

/**
 * {@link MergeBlobs} in worker threads: at most `workers` merges at once (p-limit), at most
 * `maxQueue` waiting, the rest refused (StoreUnavailable). Threads start when needed and are kept for the
 * next merge until idle for `idleMs`. A thread that dies (out of memory, a crash) fails only its
 * merge (500). Where the compiled worker script does not exist (a TypeScript test runner, the
 * single executable), merges run in-process.
 */
export class BlobMergePool {
  private readonly limit: LimitFunction;
  private readonly maxQueue: number;
  private readonly idleMs: number;
  private readonly inProcess: boolean;
  private readonly script: URL;
  private readonly decodeLimits: Partial<DecodeLimits>;
  private readonly idle: { worker: Worker; timer: NodeJS.Timeout }[] = [];
  private readonly busy = new Set<Worker>();
  private closed = false;

  constructor(opts: BlobMergePoolOptions) {
    this.limit = pLimit({ concurrency: Math.max(1, opts.workers), rejectOnClear: true });
    this.maxQueue = opts.maxQueue ?? 16;
    this.idleMs = opts.idleMs ?? 30_000;
    this.script = opts.script ?? WORKER_SCRIPT;
    this.decodeLimits = { ...opts.decodeLimits };
    this.inProcess = !existsSync(fileURLToPath(this.script));
  }

  readonly merge: MergeBlobs = (blobs) => {
    if (this.closed) return Promise.reject(new StoreUnavailable('the store is shutting down'));
    if (this.inProcess) return mergeBlobsInProcess(blobs, this.decodeLimits);
    if (this.limit.pendingCount >= this.maxQueue) return Promise.reject(new StoreUnavailable('too many merges in progress, retry later'));
    return this.limit(() => this.run(blobs)).catch((err: unknown) => {
      // rejectOnClear: close() dropped it from the queue.
      if ((err as { name?: unknown } | undefined)?.name === 'AbortError') throw new StoreUnavailable('the store is shutting down');
      throw err;
    });
  };

  /** Drops waiting merges (StoreUnavailable), ends the threads (merges under way fail) and resolves once they have gone. */
  async close(): Promise<void> {
    this.closed = true;
    this.limit.clearQueue();
    const workers = [...this.busy, ...this.idle.map((i) => (clearTimeout(i.timer), i.worker))];
    this.idle.length = 0;
    await Promise.all(workers.map((w) => w.terminate()));
  }

  private run(blobs: readonly StoredBlob[]): Promise<Uint8Array> {
    if (this.closed) return Promise.reject(new StoreUnavailable('the store is shutting down'));
    const reused = this.idle.pop();
    if (reused) clearTimeout(reused.timer);
    const worker = reused?.worker ?? this.spawn();
    this.busy.add(worker);
    return new Promise<Uint8Array>((resolve, reject) => {
      const settle = () => {
        worker.off('message', onMessage);
        worker.off('error', onDied);
        worker.off('exit', onExit);
        this.busy.delete(worker);
      };
      const onMessage = (reply: BlobMergeReply) => {
        settle();
        this.park(worker);
        if (reply.ok) resolve(reply.bytes);
        else reject(problemOf(reply.problem, reply.message));
      };
      const onDied = (err: Error) => {
        settle();
        void worker.terminate();
        reject(this.closed ? new StoreUnavailable('the store is shutting down') : new StoreFailed(`could not merge ${blobs.length} profiles: the merging thread stopped (${err.message})`));
      };
      const onExit = (code: number) => onDied(new Error(`exit code ${code}`));
      worker.on('message', onMessage);
      worker.on('error', onDied);
      worker.on('exit', onExit);
      worker.postMessage({ blobs, decodeLimits: this.decodeLimits });
    });
  }

  private spawn(): Worker {
    const worker = new Worker(this.script);
    worker.unref();
    // A merge's own listeners report its thread's death; an idle thread's is only forgotten.
    worker.on('error', () => undefined);
    worker.on('exit', () => {
      const i = this.idle.findIndex((x) => x.worker === worker);
      if (i >= 0) clearTimeout(this.idle.splice(i, 1)[0]!.timer);
    });
    return worker;
  }

  /** Keeps an idle thread for the next merge, ending it after `idleMs`. */
  private park(worker: Worker): void {
    if (this.closed) {
      void worker.terminate();
      return;
    }
    const timer = setTimeout(() => {
      const i = this.idle.findIndex((x) => x.worker === worker);
      if (i >= 0) this.idle.splice(i, 1);
      void worker.terminate();
    }, this.idleMs);
    timer.unref();
    this.idle.push({ worker, timer });
  }
}
