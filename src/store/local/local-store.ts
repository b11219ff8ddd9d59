/**
 * The embedded profile store: a directory of blobs plus an append-only index file, with the
 * semantics of profefe's badger store (validation, created_at, newest-N limit, TTL from write
 * time), minus its label-filter bug (docs/profefe-api.md, "Known bugs"). Used when no profefe URL is given,
 * and served over HTTP by `kubectl profefe serve`.
 *
 * Layout of the directory:
 *   index.jsonl                     one JSON line per stored profile (see IndexLine)
 *   blobs/<2 chars>/<id>.pb.gz      the bytes exactly as uploaded (.pb when not gzipped, .trace);
 *                                   `kubectl profefe merge <dir>/blobs` reads them as they are
 *   .lock                           pid of the process that has the store open for writing (lock.ts)
 *
 * index-file.ts reads and writes index.jsonl, lock.ts the lock; this module is the store itself.
 */
import { constants } from 'node:fs';
import { mkdir, open, readdir, readFile, rm, truncate, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { StoreError } from '../../errors.js';
import { syncDir, TEMP_FILE_PATTERN, writeFileAtomic } from '../../files/atomic-write.js';
import type { DecodeLimits } from '../../pprof/index.js';
import { mergeBlobsInProcess, type MergeBlobs } from './blob-merge.js';
import { readIndexFile, serializeEntry, withMeta } from './index-file.js';
import { acquireLock, announceLockHolder, releaseLock, type LockHolder } from './lock.js';
import { inProcessValidator, type ValidateProfile } from './profile-validator.js';
import { compareUtf8, ProfileIndex, type IndexEntry } from './profile-index.js';
import { newProfileId } from './profile-id.js';
import {
  IncompatibleProfiles,
  NothingToMerge,
  ProfileNotFound,
  ProfileRejected,
  STORE_PROFILE_TYPES,
  StoreFailed,
  TypeWithoutMerge,
  UPLOAD_ID_LABEL,
  type FindQuery,
  type ProfileMeta,
  type ProfileStore,
  type StoreLabel,
  type StoreProfileType,
  type UploadRequest,
} from '../store.js';

export { StoreLockedError, type LockHolder } from './lock.js';

/** profefe's default badger TTL (`-badger.data-ttl=120h`), for callers that want the same. */
export const DEFAULT_RETENTION_MS = 120 * 3600 * 1000;

/** Options of {@link LocalStore.open}. */
export interface LocalStoreOptions {
  /**
   * Profiles uploaded longer ago than this are dropped, like badger's TTL (which counts from
   * write time, not from created_at). Undefined or 0: keep forever.
   */
  readonly retentionMs?: number;
  /** The clock, for tests. */
  readonly now?: () => Date;
  /** How often expired profiles are deleted from disk while open (default 5 min, badger's GC period; 0: only at open and on `sweep()`). Expired profiles are hidden from reads at once either way. */
  readonly sweepIntervalMs?: number;
  /** How uploads are checked (default: in-process, with `decodeLimits`; `serve` passes a worker pool). */
  readonly validate?: ValidateProfile;
  /** Limits for decoding uploads (unless `validate` is given) and stored profiles to merge (unless `mergeBlobs` is given) (default: DEFAULT_DECODE_LIMITS). */
  readonly decodeLimits?: Partial<DecodeLimits>;
  /** How stored profiles are merged (default: in-process, with `decodeLimits`; `serve` passes a worker pool). */
  readonly mergeBlobs?: MergeBlobs;
  /** Written into the lock, so that others can say who holds the store (and reach `serve`). */
  readonly holder?: Omit<LockHolder, 'pid'>;
  /** How long to wait for a store another live process has open (default 0: fail at once). */
  readonly lockWaitMs?: number;
  /**
   * Opens for reading only (get, merge, top, open, diff): no lock, so reading works while `serve`
   * or a capture writes; nothing on disk is changed (no truncation, no clean-up, no sweep); the
   * index is read once, as it was at open; upload fails. See {@link LocalStore.open}.
   */
  readonly readOnly?: boolean;
}

/** What {@link LocalStore.open} found left behind by a process that died mid-write, and removed. */
export interface StoreCleanup {
  /** Blobs no index line names (written, then the process died before indexing them). */
  readonly orphanBlobs: number;
  /** Temporary files of writes that never finished. */
  readonly tempFiles: number;
}

interface PendingAppend {
  entry: IndexEntry;
  resolve(): void;
  reject(err: unknown): void;
}

const INDEX_FILE = 'index.jsonl';
const DEFAULT_SWEEP_INTERVAL_MS = 5 * 60 * 1000;
const GZIP = [0x1f, 0x8b];

/**
 * A ProfileStore kept in a local directory.
 *
 * - Find never scans files: the whole index lives in memory (loaded at open, under 1 s per 100k
 *   profiles) and answers from per-service, per-(service, type) and per-(service, label)
 *   arrays sorted by created_at (see ProfileIndex).
 * - Uploads are validated like profefe's collector and may run concurrently: index lines are
 *   appended in batches by one writer, and an upload resolves once its line is written.
 * - Crash safety: blobs are written via rename, fsynced; index lines are fsynced before an
 *   upload is acknowledged; a torn last index line is dropped at open, and blobs no line names
 *   (a kill between the two writes) and temporary files are removed at open (cleanedAtOpen).
 * - Idempotent: an upload carrying the upload_id label of a stored profile (same service, type
 *   and size) returns that profile's meta instead of a second copy.
 * - One writer at a time: a `.lock` file holds the owner's pid; a lock of a dead process is
 *   taken over. Readers (`readOnly`) take no lock and may be many, beside the writer.
 */
export class LocalStore implements ProfileStore {
  private readonly index = new ProfileIndex();
  private readonly pending: PendingAppend[] = [];
  private flushScheduled = false;
  /** Serialises index-file writes (appends and rewrites). */
  private tail: Promise<unknown> = Promise.resolve();
  private indexBytes = 0;
  private timer: NodeJS.Timeout | undefined;
  private closed = false;
  /** Uploads under way, which close() lets finish. */
  private readonly uploading = new Set<Promise<unknown>>();
  /** Uploads under way by upload_id label, so that a second copy waits for the first and gets its meta. */
  private readonly uploadingIds = new Map<string, Promise<ProfileMeta>>();
  private dropped = 0;
  private cleanup: StoreCleanup = { orphanBlobs: 0, tempFiles: 0 };
  private validate: ValidateProfile = inProcessValidator({});
  private decodeLimits: Partial<DecodeLimits> = {};
  private mergeBlobs: MergeBlobs = (blobs) => mergeBlobsInProcess(blobs, this.decodeLimits);
  /** Blob folders known to exist. */
  private readonly blobDirs = new Set<string>();

  private constructor(
    /** The store directory, resolved. */
    readonly dir: string,
    /** The index file open for appending; undefined when opened read-only. */
    private handle: FileHandle | undefined,
    private readonly retentionMs: number,
    private readonly now: () => Date,
  ) {}

  /**
   * Opens (creating it if needed) the store in `dir`: takes the lock, loads the index, deletes
   * expired profiles and starts the periodic sweep. Throws StoreError when another live
   * process has the store open or the directory cannot be used.
   *
   * With `readOnly`, takes no lock and writes nothing: it reads index.jsonl as it is now, which a
   * writer may be appending to. That is safe because a writer only ever appends whole lines after
   * their blob is on disk (so a complete line names a complete blob), replaces the file only by
   * rename (a sweep), and writes no blob in place: bytes after the last newline are an append in
   * progress (or torn) and are left out, without being cut off. A store that does not exist reads
   * as empty.
   */
  static async open(dir: string, opts: LocalStoreOptions = {}): Promise<LocalStore> {
    const root = path.resolve(dir);
    if (opts.readOnly) return LocalStore.openReadOnly(root, opts);
    await acquireLock(root, opts.holder ?? {}, opts.lockWaitMs ?? 0);
    let handle: FileHandle | undefined;
    try {
      const indexPath = path.join(root, INDEX_FILE);
      const { entries, dropped, goodBytes, tornBytes } = await readIndexFile(indexPath);
      // Later appends must not be glued onto a torn line.
      if (tornBytes > 0) await truncate(indexPath, goodBytes);
      handle = await open(indexPath, 'a');
      const store = new LocalStore(root, handle, opts.retentionMs ?? 0, opts.now ?? (() => new Date()));
      store.indexBytes = goodBytes;
      store.dropped = dropped;
      store.decodeLimits = { ...opts.decodeLimits };
      store.validate = opts.validate ?? inProcessValidator(store.decodeLimits);
      if (opts.mergeBlobs) store.mergeBlobs = opts.mergeBlobs;
      for (const e of entries) store.index.add(e, true);
      store.index.finishBulk();
      // We hold the lock: whatever no index line names was left by a process that died mid-write.
      store.cleanup = await removeLeftovers(root, new Set(entries.map((e) => e.file)));
      await store.sweep();
      const every = opts.sweepIntervalMs ?? DEFAULT_SWEEP_INTERVAL_MS;
      if (store.retentionMs > 0 && every > 0) {
        store.timer = setInterval(() => void store.sweep().catch(() => undefined), every);
        store.timer.unref();
      }
      return store;
    } catch (err) {
      await handle?.close().catch(() => undefined);
      await releaseLock(root);
      if (err instanceof StoreError) throw err;
      const e = err as NodeJS.ErrnoException;
      throw new StoreError(`local store ${root}: cannot open (${e.code ?? e.message})`);
    }
  }

  private static async openReadOnly(root: string, opts: LocalStoreOptions): Promise<LocalStore> {
    let read: Awaited<ReturnType<typeof readIndexFile>>;
    try {
      read = await readIndexFile(path.join(root, INDEX_FILE));
    } catch (err) {
      const e = err as NodeJS.ErrnoException;
      throw new StoreError(`local store ${root}: cannot read (${e.code ?? e.message})`);
    }
    const store = new LocalStore(root, undefined, opts.retentionMs ?? 0, opts.now ?? (() => new Date()));
    // A line being appended right now is no damage.
    store.dropped = read.dropped - (read.tornBytes > 0 ? 1 : 0);
    store.decodeLimits = { ...opts.decodeLimits };
    if (opts.mergeBlobs) store.mergeBlobs = opts.mergeBlobs;
    for (const e of read.entries) store.index.add(e, true);
    store.index.finishBulk();
    return store;
  }

  /** Opened with `readOnly`: no lock held, nothing written. */
  get readOnly(): boolean {
    return this.handle === undefined;
  }

  /**
   * Stores a profile, validated like profefe's collector, in this order: a service, a known
   * type, then (except for traces, stored unparsed) a parsable pprof with samples. Errors are
   * ProfileRejected with profefe's messages, StoreFailed when the disk write fails.
   * created_at is the profile's time_nanos; `req.createdAt` (default: now) only counts for
   * traces and profiles without time_nanos.
   */
  upload(req: UploadRequest): Promise<ProfileMeta> {
    try {
      this.checkOpen();
      if (this.readOnly) throw new StoreError(`local store ${this.dir} is open for reading only`);
    } catch (err) {
      return Promise.reject(err);
    }
    // The same profile again (a retried push): the first copy's meta, nothing stored twice. Same
    // service, type and size, so a label copied onto other bytes is not taken for a duplicate.
    const uploadId = req.labels.find((l) => l.key === UPLOAD_ID_LABEL)?.value;
    if (uploadId !== undefined) {
      const stored = this.index.getByUploadId(uploadId);
      if (stored && !this.isExpired(stored) && stored.service === req.service && stored.type === req.type && stored.size === req.body.length) {
        return Promise.resolve(toMeta(stored));
      }
      const inFlight = this.uploadingIds.get(uploadId);
      if (inFlight) return inFlight.catch(() => this.upload(req));
    }
    const p = this.writeProfile(req);
    this.uploading.add(p);
    if (uploadId !== undefined) this.uploadingIds.set(uploadId, p);
    const forget = () => {
      this.uploading.delete(p);
      if (uploadId !== undefined && this.uploadingIds.get(uploadId) === p) this.uploadingIds.delete(uploadId);
    };
    p.then(forget, forget);
    return p;
  }

  /** Index lines that could not be read at open: a torn last line after a crash, or damage. */
  get droppedIndexLines(): number {
    return this.dropped;
  }

  /** What open removed: leftovers of a process killed mid-write (see {@link StoreCleanup}). */
  get cleanedAtOpen(): StoreCleanup {
    return this.cleanup;
  }

  private async writeProfile(req: UploadRequest): Promise<ProfileMeta> {
    if (req.service === '') throw new ProfileRejected('bad request: missing "service"');
    if (!(STORE_PROFILE_TYPES as readonly string[]).includes(req.type)) {
      throw new ProfileRejected('bad request: unknown profile type');
    }
    let createdNs: bigint | undefined;
    let body = req.body;
    if (req.type !== 'trace') {
      const check = await this.validate(body);
      body = check.body;
      if (check.timeNanos > 0n) createdNs = check.timeNanos;
    }
    const uploadedAt = this.now();
    const fallback = req.createdAt ?? uploadedAt;
    if (createdNs === undefined && Number.isNaN(fallback.getTime())) throw new ProfileRejected('bad request: invalid created_at');
    createdNs ??= BigInt(fallback.getTime()) * 1_000_000n;

    const id = newProfileId(uploadedAt);
    const ext = req.type === 'trace' ? '.trace' : body[0] === GZIP[0] && body[1] === GZIP[1] ? '.pb.gz' : '.pb';
    // Characters 16-17 come from the counter, so consecutive uploads spread over 1024 directories.
    const file = `blobs/${id.slice(16, 18)}/${id}${ext}`;
    const createdMs = Number(floorDiv(createdNs, 1_000_000n));
    const entry = withMeta({
      id,
      service: req.service,
      type: req.type,
      labels: sortLabels((req.labels ?? []).filter((l) => l.key !== '')),
      createdMs,
      createdSubMs: Number(createdNs - BigInt(createdMs) * 1_000_000n),
      uploadedMs: uploadedAt.getTime(),
      file,
      size: body.length,
    });
    const blob = path.join(this.dir, file);
    try {
      await this.writeBlob(blob, body);
      await this.append(entry);
    } catch (err) {
      await rm(blob, { force: true }).catch(() => undefined);
      throw new StoreFailed(`failed to collect profile (${(err as Error).message})`);
    }
    return toMeta(entry);
  }

  /**
   * Metas of the non-expired profiles matching the query, oldest first (badger's newest N when
   * limited). The metas are shared between answers: do not modify them (their Dates included).
   */
  async find(query: FindQuery): Promise<ProfileMeta[]> {
    this.checkOpen();
    return this.findEntries(query).map(toMeta);
  }

  /** The stored bytes, unchanged. ProfileNotFound (`nothing found`) for an unknown or expired id. */
  async get(id: string): Promise<Uint8Array> {
    this.checkOpen();
    const entry = this.index.get(id);
    if (!entry || this.isExpired(entry)) throw new ProfileNotFound();
    const bytes = await this.readBlob(entry);
    if (!bytes) throw new ProfileNotFound();
    return bytes;
  }

  /**
   * The profiles matching the query merged into one gzipped pprof; a single match comes back
   * as its stored bytes, as from profefe. Errors: TypeWithoutMerge for trace (or an unknown
   * type), ProfileNotFound, IncompatibleProfiles for different sample types, StoreFailed for a
   * damaged blob.
   */
  async mergeQuery(query: FindQuery & { type: StoreProfileType }): Promise<Uint8Array> {
    this.checkOpen();
    if (query.type === 'trace' || !(STORE_PROFILE_TYPES as readonly string[]).includes(query.type)) {
      throw new TypeWithoutMerge(`can't merge profiles of ${query.type === 'trace' ? 'trace' : 'unknown'} type`);
    }
    const entries = this.findEntries(query);
    if (entries.length === 0) throw new ProfileNotFound();
    if (entries.length === 1) return this.get(entries[0]!.id);
    return this.mergeEntries(entries);
  }

  /**
   * These profiles merged into one gzipped pprof, as profefe's GET /profiles/{id1}+{id2}: one
   * id returns its stored bytes (ProfileNotFound when unknown); with several, unknown and
   * expired ids are skipped and none known is NothingToMerge (`could not merge 0 profiles`). A
   * trace among them, or profiles of different sample types, are IncompatibleProfiles.
   */
  async mergeIds(ids: readonly string[]): Promise<Uint8Array> {
    this.checkOpen();
    if (ids.length === 1) return this.get(ids[0]!);
    const entries: IndexEntry[] = [];
    for (const id of ids) {
      const e = this.index.get(id);
      if (e && !this.isExpired(e)) entries.push(e);
    }
    return this.mergeEntries(entries);
  }

  /** Names of the services with non-expired profiles, sorted (byte order, like Go). */
  async services(): Promise<string[]> {
    this.checkOpen();
    return this.index.services(this.expiredUpTo());
  }

  /**
   * Deletes the profiles older than the retention (by upload time): rewrites the index without
   * them, then removes their blobs. Runs at open and periodically; returns how many went.
   */
  async sweep(): Promise<number> {
    if (this.retentionMs <= 0 || this.closed || this.readOnly) return 0;
    return this.exclusive(async () => {
      const cutoff = this.expiredUpTo();
      const removed = this.index.removeWhere((e) => e.uploadedMs <= cutoff);
      if (removed.length === 0) return 0;
      await this.rewriteIndex();
      // The index no longer names them: a crash from here on leaves orphan files, never dangling entries.
      for (let i = 0; i < removed.length; i += 64) {
        await Promise.all(removed.slice(i, i + 64).map((e) => rm(path.join(this.dir, e.file), { force: true })));
      }
      return removed.length;
    });
  }

  /** Records in the lock where this process serves the store (`serve`, once it listens). */
  async announce(holder: Omit<LockHolder, 'pid'>): Promise<void> {
    this.checkOpen();
    if (this.readOnly) throw new StoreError(`local store ${this.dir} is open for reading only`);
    await announceLockHolder(this.dir, holder);
  }

  /** Lets uploads under way finish, stops the sweep timer, closes the index and releases the lock. Idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.timer) clearInterval(this.timer);
    if (this.readOnly) return;
    await Promise.allSettled([...this.uploading]);
    await this.exclusive(() => this.handle!.close());
    await releaseLock(this.dir);
  }

  private checkOpen(): void {
    if (this.closed) throw new StoreError(`local store ${this.dir} is closed`);
  }

  private expiredUpTo(): number {
    return this.retentionMs > 0 ? this.now().getTime() - this.retentionMs : -Infinity;
  }

  private isExpired(e: IndexEntry): boolean {
    return e.uploadedMs <= this.expiredUpTo();
  }

  private findEntries(query: FindQuery): IndexEntry[] {
    const fromMs = query.from.getTime();
    const toMs = query.to.getTime();
    if (Number.isNaN(fromMs) || Number.isNaN(toMs)) throw new ProfileRejected('bad request: invalid from or to time');
    return this.index.find({
      service: query.service,
      type: query.type,
      fromMs,
      toMs,
      labels: query.labels,
      selector: query.selector,
      limit: query.limit,
      expiredUpTo: this.expiredUpTo(),
    });
  }

  /** The blob's bytes, or undefined when its file has gone (treated like an unknown id). */
  private async readBlob(e: IndexEntry): Promise<Uint8Array | undefined> {
    try {
      return await readFile(path.join(this.dir, e.file));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw new StoreFailed(`failed to read profile ${e.id}: ${(err as Error).message}`);
    }
  }

  /** Merges the entries' blobs (see MergeBlobs for the errors); a trace among them is IncompatibleProfiles. */
  private async mergeEntries(entries: readonly IndexEntry[]): Promise<Uint8Array> {
    const trace = entries.find((e) => e.type === 'trace');
    if (trace) throw new IncompatibleProfiles(`could not merge ${entries.length} profiles: ${trace.id} is a trace, not a pprof profile`);
    return this.mergeBlobs(entries.map((e) => ({ id: e.id, path: path.join(this.dir, e.file) })));
  }

  /**
   * Writes a new blob under its final name, its data on disk when the write returns (O_DSYNC)
   * and its folder fsynced after. No temporary file and rename as for files read by name: only
   * an index line makes a blob visible, appended after this, so a crash mid-write leaves a blob
   * no line names, which open removes. Folders are made once (fewer calls per upload: with 16
   * uploads in flight, libuv's 4 file-system threads are what uploads wait for).
   */
  private async writeBlob(file: string, bytes: Uint8Array): Promise<void> {
    const dir = path.dirname(file);
    const flags = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | (constants.O_DSYNC ?? 0);
    if (!this.blobDirs.has(dir)) {
      await mkdir(dir, { recursive: true });
      this.blobDirs.add(dir);
    }
    let handle: FileHandle;
    try {
      handle = await open(file, flags);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      await mkdir(dir, { recursive: true }); // removed by hand since
      handle = await open(file, flags);
    }
    try {
      await handle.writeFile(bytes);
      if (constants.O_DSYNC === undefined) await handle.datasync();
    } finally {
      await handle.close();
    }
    await syncDir(dir);
  }

  /** Queues an index line; one writer appends everything queued meanwhile in a single write. */
  private append(entry: IndexEntry): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.pending.push({ entry, resolve, reject });
      if (this.flushScheduled) return;
      this.flushScheduled = true;
      void this.exclusive(async () => {
        this.flushScheduled = false;
        const batch = this.pending.splice(0);
        const text = batch.map((p) => serializeEntry(p.entry)).join('');
        try {
          await this.handle!.appendFile(text);
          // An upload is acknowledged once its line is on disk (one fsync per batch).
          await this.handle!.sync();
          this.indexBytes += Buffer.byteLength(text);
        } catch (err) {
          // Cut off a partial write so that the next append starts on a line of its own.
          await this.handle!.truncate(this.indexBytes).catch(() => undefined);
          for (const p of batch) p.reject(err);
          return;
        }
        for (const p of batch) {
          this.index.add(p.entry);
          p.resolve();
        }
      });
    });
  }

  /** Replaces the index file with the current entries (temporary file and rename). */
  private async rewriteIndex(): Promise<void> {
    const lines: string[] = [];
    for (const e of this.index.entries()) lines.push(serializeEntry(e));
    const text = lines.join('');
    const indexPath = path.join(this.dir, INDEX_FILE);
    await writeFileAtomic(indexPath, Buffer.from(text));
    await this.handle!.close();
    this.handle = await open(indexPath, 'a');
    this.indexBytes = Buffer.byteLength(text);
  }

  private exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.tail.then(fn, fn);
    this.tail = run.catch(() => undefined);
    return run;
  }
}

/**
 * Removes what a process killed mid-write left in the store: blobs no index line names (the
 * blob was renamed into place, the index line never appended) and temporary files. Only called
 * with the lock held, so no other process can be writing.
 */
async function removeLeftovers(root: string, indexed: ReadonlySet<string>): Promise<StoreCleanup> {
  let orphanBlobs = 0;
  let tempFiles = 0;
  const remove = async (rel: string, temp: boolean) => {
    await rm(path.join(root, rel), { force: true });
    if (temp) tempFiles++;
    else orphanBlobs++;
  };
  for (const name of await readdir(root).catch(() => [] as string[])) {
    if (TEMP_FILE_PATTERN.test(name)) await remove(name, true);
  }
  const blobs = path.join(root, 'blobs');
  for (const sub of await readdir(blobs).catch(() => [] as string[])) {
    for (const name of await readdir(path.join(blobs, sub)).catch(() => [] as string[])) {
      const rel = `blobs/${sub}/${name}`;
      if (TEMP_FILE_PATTERN.test(name)) await remove(rel, true);
      else if (!indexed.has(rel)) await remove(rel, false);
    }
  }
  return { orphanBlobs, tempFiles };
}

/** Sorted by key in byte order, stable for repeated keys (Go's sort.Sort is not, which makes its order arbitrary). */
function sortLabels(labels: readonly StoreLabel[]): StoreLabel[] {
  return labels.map((l) => ({ key: l.key, value: l.value })).sort((a, b) => compareUtf8(a.key, b.key));
}

function toMeta(e: IndexEntry): ProfileMeta {
  return e.meta;
}

function floorDiv(a: bigint, b: bigint): bigint {
  const q = a / b;
  return a % b < 0n ? q - 1n : q;
}
