import { readFile } from 'node:fs/promises';
import { describeStore, openStore, type StoreOptions } from '../store/open-store.js';
import type { ProfileStore, UploadRequest } from '../store/store.js';
import type { CapturedProfile, Sink } from './engine.js';
import { LocalSink } from './local-sink.js';
import { storeTypeOf, uploadLabels } from './store-sink.js';

/** How long a capture waits for another process (another capture indexing) to release the local store. */
export const LOCAL_STORE_WAIT_MS = 30_000;

/**
 * Saves profiles as files (a LocalSink) and remembers them; `index()` then adds them all to the
 * local store in one short visit. Captures that overlap therefore hold the store only while they
 * index, one after the other, instead of the first holding it for the whole capture and the
 * second indexing nothing. When `serve` has the store open, the profiles go through its API.
 */
export class LocalIndexSink implements Sink {
  private readonly files: LocalSink;
  private readonly saved: { file: string; request: Omit<UploadRequest, 'body'> }[] = [];

  constructor(
    outputDir: string,
    private readonly store: StoreOptions,
    private readonly labelsFromPod: readonly string[],
  ) {
    this.files = new LocalSink(outputDir);
  }

  async write(p: CapturedProfile): Promise<string> {
    const file = await this.files.write(p);
    this.saved.push({ file, request: { service: p.target.service, type: storeTypeOf(p.type), labels: uploadLabels(p, this.labelsFromPod), createdAt: p.takenAt } });
    return file;
  }

  /**
   * Indexes every saved profile; returns warnings (one line per reason) for those the store did
   * not take. Waits up to {@link LOCAL_STORE_WAIT_MS} for a store held by another capture.
   */
  async index(): Promise<string[]> {
    if (this.saved.length === 0) return [];
    const { LocalStore, StoreLockedError } = await import('../store/local/local-store.js');
    let store: ProfileStore;
    let where = describeStore(this.store);
    try {
      store = await LocalStore.open(this.store.storeDir, { holder: { command: 'capture' }, lockWaitMs: LOCAL_STORE_WAIT_MS, decodeLimits: this.store.decodeLimits });
    } catch (err) {
      const holder = err instanceof StoreLockedError ? err.holder : undefined;
      if (holder?.command !== 'serve' || !holder.url) {
        return [`the ${this.saved.length} profiles are saved as files but not indexed in the local store: ${(err as Error).message}`];
      }
      store = await openStore({ ...this.store, hostport: holder.url });
      where = `the local store through 'kubectl profefe serve' at ${holder.url}`;
    }
    const refused = new Map<string, number>();
    try {
      for (const { file, request } of this.saved) {
        try {
          await store.upload({ ...request, body: await readFile(file) });
        } catch (err) {
          const why = (err as Error).message;
          refused.set(why, (refused.get(why) ?? 0) + 1);
        }
      }
    } finally {
      await store.close();
    }
    return [...refused].map(([why, n]) => `${n} of ${this.saved.length} profiles are saved as files but not indexed in ${where}: ${why}`);
  }
}
