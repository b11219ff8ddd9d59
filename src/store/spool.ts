import { createHash } from 'node:crypto';
import { mkdir, readdir, readFile, rename, stat, unlink } from 'node:fs/promises';
import path from 'node:path';
import { TEMP_FILE_PATTERN, writeFileAtomic } from '../files/atomic-write.js';
import { ProfileRejected, STORE_PROFILE_TYPES, StoreAccessDenied, StoreProblem, StoreUnavailable, UPLOAD_ID_LABEL, type ProfileStore, type StoreLabel, type StoreProfileType, type UploadRequest } from './store.js';

export { UPLOAD_ID_LABEL };

/** The upload id of a profile's bytes (see {@link UPLOAD_ID_LABEL}). */
export function uploadIdOf(body: Uint8Array): string {
  return createHash('sha256').update(body).digest('hex').slice(0, 32);
}

/** The request's upload id label, or undefined. */
export function uploadIdLabel(labels: readonly StoreLabel[]): string | undefined {
  return labels.find((l) => l.key === UPLOAD_ID_LABEL)?.value;
}

/**
 * Whether a store's refusal means "this profile is invalid" (ProfileRejected: unparsable, no
 * samples, too large for that store), so retrying it is pointless. Everything else (a refused
 * token, a wrong address, a busy, failing or unreachable store) is the store's or the setup's
 * problem: the profile stays in the spool.
 */
export function isProfileRefusal(err: unknown): boolean {
  return err instanceof ProfileRejected;
}

/** One profile waiting in the spool: what to upload, and where it lies. */
export interface SpooledProfile {
  readonly name: string;
  readonly profileFile: string;
  readonly request: Omit<UploadRequest, 'body'>;
  /** The upload id recorded when the entry was spooled (older entries: computed from the bytes at push). */
  readonly uploadId?: string;
}

/** A spool file that is not a complete entry, moved to `quarantine/` (or a temporary file removed). */
export interface SpoolProblem {
  readonly file: string;
  readonly why: string;
  /** Where it went: the quarantine path, or undefined for a removed temporary file. */
  readonly movedTo?: string;
}

interface SpoolEntryJson {
  service: string;
  type: StoreProfileType;
  labels: StoreLabel[];
  createdAt?: string;
  uploadId?: string;
}

/**
 * How old a half entry (a profile without its description, a temporary file) must be before it
 * is taken for the leftover of a crash: younger, another process may be writing it right now.
 */
export const HALF_ENTRY_AGE_MS = 60_000;

const QUARANTINE = 'quarantine';
const REJECTED = 'rejected';

/**
 * Profiles that could not be uploaded, kept on disk so nothing is lost: `<name>.pb.gz` and a
 * `<name>.json` with the upload's service, type, labels and upload id. Both are written
 * atomically and fsynced, the JSON last, so an entry exists only once both files are complete.
 * Names carry the upload id, so two profiles never share one. Rejected profiles (the store said
 * the profile is invalid) go to `rejected/`, where `push` does not retry them; files that are no
 * complete entry (a torn JSON, a profile without its JSON) go to `quarantine/`, and are reported.
 */
export class Spool {
  constructor(readonly dir: string) {}

  /**
   * Keeps a profile for a later `push`; returns the profile file's path. `name` must be one safe
   * file-name segment; the upload id (from the labels, else the bytes) is appended to it.
   */
  async add(name: string, req: UploadRequest, opts: { rejected?: boolean } = {}): Promise<string> {
    const dir = opts.rejected ? path.join(this.dir, REJECTED) : this.dir;
    const uploadId = uploadIdLabel(req.labels) ?? uploadIdOf(req.body);
    const full = `${name}.${uploadId}`;
    const profileFile = path.join(dir, `${full}.pb.gz`);
    await writeFileAtomic(profileFile, req.body);
    const entry: SpoolEntryJson = { service: req.service, type: req.type, labels: [...req.labels], createdAt: req.createdAt?.toISOString(), uploadId };
    await writeFileAtomic(path.join(dir, `${full}.json`), Buffer.from(JSON.stringify(entry) + '\n'));
    return profileFile;
  }

  /**
   * Entries waiting to be pushed, oldest name first. Files that are no complete entry are
   * moved to `quarantine/` (a torn or invalid JSON, a JSON without its profile, a profile
   * without its JSON older than {@link HALF_ENTRY_AGE_MS}); temporary files of a crashed write
   * older than that are removed. Both are returned as `problems`, never thrown.
   */
  async list(now = Date.now()): Promise<{ entries: SpooledProfile[]; problems: SpoolProblem[] }> {
    const names = await readdir(this.dir).catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') return [] as string[];
      throw err;
    });
    const present = new Set(names);
    const entries: SpooledProfile[] = [];
    const problems: SpoolProblem[] = [];
    const old = async (file: string) => {
      const s = await stat(path.join(this.dir, file)).catch(() => undefined);
      return s !== undefined && s.isFile() && now - s.mtimeMs > HALF_ENTRY_AGE_MS;
    };
    for (const file of [...names].sort()) {
      if (file.endsWith('.json')) {
        const name = file.slice(0, -'.json'.length);
        const profileFile = path.join(this.dir, `${name}.pb.gz`);
        if (!present.has(`${name}.pb.gz`)) {
          problems.push(await this.quarantine(file, 'a description without its profile'));
          continue;
        }
        const request = parseEntry(await readFile(path.join(this.dir, file), 'utf8').catch(() => ''));
        if (typeof request === 'string') {
          problems.push(await this.quarantine(file, request));
          problems.push(await this.quarantine(`${name}.pb.gz`, `its description ${file} ${request}`));
          continue;
        }
        entries.push({ name, profileFile, request: request.request, uploadId: request.uploadId });
      } else if (file.endsWith('.pb.gz')) {
        if (!present.has(`${file.slice(0, -'.pb.gz'.length)}.json`) && (await old(file))) {
          problems.push(await this.quarantine(file, 'a profile without its description (service, type, labels)'));
        }
      } else if (TEMP_FILE_PATTERN.test(file) && (await old(file))) {
        await unlink(path.join(this.dir, file)).catch(() => undefined);
        problems.push({ file: path.join(this.dir, file), why: 'a temporary file left by a write that did not finish' });
      }
    }
    return { entries, problems };
  }

  async read(entry: SpooledProfile): Promise<Uint8Array> {
    return readFile(entry.profileFile);
  }

  /** Removes an entry after a successful upload (the JSON first: no half entry is left listed). */
  async remove(entry: SpooledProfile): Promise<void> {
    await unlink(path.join(this.dir, `${entry.name}.json`));
    await unlink(entry.profileFile).catch(() => undefined);
  }

  /** Moves an entry the store refused to `rejected/`, so it is kept but not retried. */
  async reject(entry: SpooledProfile): Promise<string> {
    const dir = path.join(this.dir, REJECTED);
    await mkdir(dir, { recursive: true });
    const target = path.join(dir, `${entry.name}.pb.gz`);
    await rename(entry.profileFile, target);
    await rename(path.join(this.dir, `${entry.name}.json`), path.join(dir, `${entry.name}.json`));
    return target;
  }

  private async quarantine(file: string, why: string): Promise<SpoolProblem> {
    const dir = path.join(this.dir, QUARANTINE);
    await mkdir(dir, { recursive: true });
    const movedTo = path.join(dir, file);
    await rename(path.join(this.dir, file), movedTo);
    return { file: path.join(this.dir, file), why, movedTo };
  }
}

/** The upload request of a spool JSON, or why it is not one. */
function parseEntry(text: string): { request: Omit<UploadRequest, 'body'>; uploadId?: string } | string {
  if (text.trim() === '') return 'is empty (a write cut short)';
  let e: Partial<SpoolEntryJson>;
  try {
    e = JSON.parse(text) as Partial<SpoolEntryJson>;
  } catch {
    return 'is not valid JSON (a write cut short?)';
  }
  const labelsOk = Array.isArray(e?.labels) && e.labels.every((l) => typeof l?.key === 'string' && typeof l.value === 'string');
  if (typeof e !== 'object' || e === null || typeof e.service !== 'string' || !(STORE_PROFILE_TYPES as readonly string[]).includes(e.type as string) || !labelsOk) {
    return 'does not describe an upload (service, type, labels)';
  }
  const createdAt = typeof e.createdAt === 'string' ? new Date(e.createdAt) : undefined;
  if (createdAt && Number.isNaN(createdAt.getTime())) return 'has an invalid createdAt';
  return {
    request: { service: e.service, type: e.type!, labels: e.labels!.map((l) => ({ key: l.key, value: l.value })), createdAt },
    uploadId: typeof e.uploadId === 'string' ? e.uploadId : undefined,
  };
}

/** What happened to one spooled profile on a push. */
export interface PushOutcome {
  readonly name: string;
  /**
   * uploaded (or found already stored: a re-push is idempotent), rejected (the store says the
   * profile is invalid; moved to rejected/), kept (for the next push), quarantined (no complete
   * entry; moved to quarantine/, never pushed).
   */
  readonly result: 'uploaded' | 'rejected' | 'kept' | 'quarantined';
  readonly detail: string;
}

/** Options of {@link drainSpool}. */
export interface DrainOptions {
  /** When it fires, the entries not tried yet stay in the spool (the push's own time budget). */
  readonly deadline?: AbortSignal;
  /** The clock, for the age of half entries. */
  readonly now?: () => number;
  /** What `spool.list()` returned, when the caller listed already (listing moves half entries away). */
  readonly listed?: Awaited<ReturnType<Spool['list']>>;
}

/** How far around a spooled profile's time the store is asked whether it already has it. */
const ALREADY_STORED_WINDOW_MS = 10 * 60_000;

/**
 * Uploads every spooled profile, oldest first, each at most once in the store:
 * - before uploading, the store is asked for profiles of that service and type around its time,
 *   and one carrying the same upload id means it was stored before (a push killed between the
 *   upload and the removal, an upload that timed out after the store kept it): it leaves the spool;
 * - stored ones leave the spool; profiles the store calls invalid (see {@link isProfileRefusal})
 *   move to rejected/;
 * - any other failure (unreachable, busy or failing, a refused token) keeps the profile, and stops the
 *   push: the rest are kept untried, since the store would refuse them the same way;
 * - half entries are quarantined and reported.
 */
export async function drainSpool(spool: Spool, store: ProfileStore, opts: DrainOptions = {}): Promise<PushOutcome[]> {
  const outcomes: PushOutcome[] = [];
  const { entries, problems } = opts.listed ?? (await spool.list((opts.now ?? Date.now)()));
  for (const p of problems) {
    outcomes.push({ name: path.basename(p.file), result: 'quarantined', detail: p.movedTo ? `${p.why}; moved to ${p.movedTo}` : `${p.why}; removed` });
  }
  let stopped: string | undefined;
  for (const entry of entries) {
    if (!stopped && opts.deadline?.aborted) stopped = 'the push ran out of time';
    if (stopped) {
      outcomes.push({ name: entry.name, result: 'kept', detail: `not tried (${stopped}); still in ${entry.profileFile}` });
      continue;
    }
    try {
      const body = await spool.read(entry);
      const uploadId = entry.uploadId ?? uploadIdOf(body);
      const labels = uploadIdLabel(entry.request.labels) ? entry.request.labels : [...entry.request.labels, { key: UPLOAD_ID_LABEL, value: uploadId }];
      const existing = await findStored(store, { ...entry.request, labels }, uploadId);
      const id = existing ?? (await store.upload({ ...entry.request, labels, body })).id;
      await spool.remove(entry);
      outcomes.push({ name: entry.name, result: 'uploaded', detail: existing ? `already stored as profefe id ${id}` : `profefe id ${id}` });
    } catch (err) {
      const message = (err as Error).message;
      if (isProfileRefusal(err)) {
        outcomes.push({ name: entry.name, result: 'rejected', detail: `${message}; moved to ${await spool.reject(entry)}` });
      } else {
        outcomes.push({ name: entry.name, result: 'kept', detail: `${message}; still in ${entry.profileFile}` });
        stopped = err instanceof StoreProblem ? `the store failed: ${err.summary}` : 'the spool could not be read';
      }
    }
  }
  return outcomes;
}

/**
 * The id of a stored profile with this upload id, if the store has one around the request's time.
 * A store that is down or refuses the credentials fails here as it would on the upload; a store
 * that cannot answer finds (a proxy allowing only uploads, say) is simply not asked.
 */
async function findStored(store: ProfileStore, req: Omit<UploadRequest, 'body'>, uploadId: string): Promise<string | undefined> {
  if (!req.createdAt) return undefined;
  const t = req.createdAt.getTime();
  try {
    // No label filter: profefe's badger store can miss label matches (docs/profefe-api.md, "Known bugs").
    const metas = await store.find({ service: req.service, type: req.type, from: new Date(t - ALREADY_STORED_WINDOW_MS), to: new Date(t + ALREADY_STORED_WINDOW_MS) });
    return metas.find((m) => uploadIdLabel(m.labels) === uploadId)?.id;
  } catch (err) {
    if (err instanceof StoreUnavailable || err instanceof StoreAccessDenied) throw err;
    return undefined;
  }
}
