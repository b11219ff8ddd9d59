import { mkdir, readdir, readFile, rename, unlink } from 'node:fs/promises';
import path from 'node:path';
import { StoreStatusError } from '../errors.js';
import { writeFileAtomic } from '../files/atomic-write.js';
import type { ProfileStore, StoreLabel, StoreProfileType, UploadRequest } from './store.js';

/** One profile waiting in the spool: what to upload, and where it lies. */
export interface SpooledProfile {
  readonly name: string;
  readonly profileFile: string;
  readonly request: Omit<UploadRequest, 'body'>;
}

interface SpoolEntryJson {
  service: string;
  type: StoreProfileType;
  labels: StoreLabel[];
  createdAt?: string;
}

/**
 * Profiles that could not be uploaded, kept on disk so nothing is lost: `<name>.pb.gz` and a
 * `<name>.json` with the upload's service, type and labels. The JSON is written last, so an
 * entry exists only once both files are complete. Rejected profiles (the store said 4xx) go to
 * `rejected/`, where `push` does not retry them.
 */
export class Spool {
  constructor(readonly dir: string) {}

  /** Keeps a profile for a later `push`; returns the profile file's path. */
  async add(name: string, req: UploadRequest, opts: { rejected?: boolean } = {}): Promise<string> {
    const dir = opts.rejected ? path.join(this.dir, 'rejected') : this.dir;
    const profileFile = path.join(dir, `${name}.pb.gz`);
    await writeFileAtomic(profileFile, req.body);
    const entry: SpoolEntryJson = { service: req.service, type: req.type, labels: [...req.labels], createdAt: req.createdAt?.toISOString() };
    await writeFileAtomic(path.join(dir, `${name}.json`), Buffer.from(JSON.stringify(entry) + '\n'));
    return profileFile;
  }

  /** Entries waiting to be pushed, oldest name first. */
  async list(): Promise<SpooledProfile[]> {
    const names = await readdir(this.dir).catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') return [] as string[];
      throw err;
    });
    const out: SpooledProfile[] = [];
    for (const file of names.filter((n) => n.endsWith('.json')).sort()) {
      const name = file.slice(0, -'.json'.length);
      const e = JSON.parse(await readFile(path.join(this.dir, file), 'utf8')) as SpoolEntryJson;
      out.push({
        name,
        profileFile: path.join(this.dir, `${name}.pb.gz`),
        request: { service: e.service, type: e.type, labels: e.labels, createdAt: e.createdAt ? new Date(e.createdAt) : undefined },
      });
    }
    return out;
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
    const dir = path.join(this.dir, 'rejected');
    await mkdir(dir, { recursive: true });
    const target = path.join(dir, `${entry.name}.pb.gz`);
    await rename(entry.profileFile, target);
    await rename(path.join(this.dir, `${entry.name}.json`), path.join(dir, `${entry.name}.json`));
    return target;
  }
}

/** What happened to one spooled profile on a push. */
export interface PushOutcome {
  readonly name: string;
  readonly result: 'uploaded' | 'rejected' | 'kept';
  readonly detail: string;
}

/**
 * Uploads every spooled profile, oldest first: stored ones leave the spool, refused ones (4xx)
 * move to rejected/, and the rest (store down, 5xx) stay for the next push.
 */
export async function drainSpool(spool: Spool, store: ProfileStore): Promise<PushOutcome[]> {
  const outcomes: PushOutcome[] = [];
  for (const entry of await spool.list()) {
    try {
      const meta = await store.upload({ ...entry.request, body: await spool.read(entry) });
      await spool.remove(entry);
      outcomes.push({ name: entry.name, result: 'uploaded', detail: `profefe id ${meta.id}` });
    } catch (err) {
      if (err instanceof StoreStatusError && err.status >= 400 && err.status < 500) {
        outcomes.push({ name: entry.name, result: 'rejected', detail: `${err.message}; moved to ${await spool.reject(entry)}` });
      } else {
        outcomes.push({ name: entry.name, result: 'kept', detail: `${(err as Error).message}; still in ${entry.profileFile}` });
      }
    }
  }
  return outcomes;
}
