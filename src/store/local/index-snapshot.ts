/**
 * The local store's index as it is on disk, read without opening the store: no lock taken, nothing
 * truncated, swept or cleaned, so it can run beside a `serve` or `capture` that has the store open
 * (shell completion does). A line being appended at that moment is torn and left out; expired
 * profiles not yet swept are still listed.
 */
import path from 'node:path';
import { readIndexFile } from './index-file.js';
import type { IndexEntry } from './profile-index.js';

/** The index file's name in the store directory (local-store.ts's layout). */
const INDEX_FILE = 'index.jsonl';

/** Every entry of the index file in `dir`, in file order; [] when there is no store there. */
export async function readIndexSnapshot(dir: string): Promise<IndexEntry[]> {
  return (await readIndexFile(path.join(dir, INDEX_FILE))).entries;
}
