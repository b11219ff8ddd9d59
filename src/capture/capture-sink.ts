import { openStore, type StoreOptions } from '../store/open-store.js';
import type { ProfileStore } from '../store/store.js';
import { Spool } from '../store/spool.js';
import type { Sink } from './engine.js';
import { LocalIndexSink } from './local-index-sink.js';
import { StoreSink, type NotUploaded } from './store-sink.js';

/** Where a capture's profiles go, and what to do once the capture has ended. */
export interface CaptureSink {
  readonly sink: Sink;
  /** Indexes the saved files in the local store when that is where they go; returns warnings (one line each). */
  finish(): Promise<string[]>;
  /** Closes the profefe client, if one was opened. */
  close(): Promise<void>;
  /** The profiles captured but kept in the spool because the store could not take them. */
  notUploaded(): NotUploaded | undefined;
}

/**
 * The sink of `capture` (pods or --url): with a profefe URL in `store`, profiles are uploaded
 * (and spooled in `store.spoolDir` when that fails: still captured, counted in notUploaded()); without one they are saved as files under
 * `outputDir`, then indexed in the local store in one short visit at the end (so overlapping
 * captures take turns), so that get and merge find them. `labelsFromPod`: --label-from-pod.
 */
export async function openCaptureSink(store: StoreOptions, outputDir: string, labelsFromPod: readonly string[]): Promise<CaptureSink> {
  if (store.hostport) {
    const client: ProfileStore = await openStore(store);
    const sink = new StoreSink(client, new Spool(store.spoolDir), labelsFromPod, undefined, true);
    return { sink, finish: async () => [], close: () => client.close(), notUploaded: () => sink.notUploaded };
  }
  const indexer = new LocalIndexSink(outputDir, store, labelsFromPod);
  return { sink: indexer, finish: () => indexer.index(), close: async () => undefined, notUploaded: () => undefined };
}
