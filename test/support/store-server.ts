import { LocalStore } from '../../src/store/local/local-store.js';
import { startProfefeServer, type ProfefeServer } from '../../src/store/profefe/server.js';

/** Our profefe-compatible server over a fresh local store, on 127.0.0.1. */
export interface TestStore {
  readonly store: LocalStore;
  readonly server: ProfefeServer;
  /** Stops the server, then closes the store. */
  close(): Promise<void>;
}

/** Starts `serve`'s server over a local store in `dir` (port 0: any free port). */
export async function startTestStore(dir: string, port = 0): Promise<TestStore> {
  const store = await LocalStore.open(dir);
  const server = await startProfefeServer({ store, host: '127.0.0.1', port });
  return {
    store,
    server,
    async close() {
      await server.close();
      await store.close();
    },
  };
}
