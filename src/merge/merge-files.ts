import { decodeProfile, ProfileMerger, type Profile } from '../pprof/index.js';
import { readProfileFile } from '../files/profile-files.js';

export interface MergeFilesOptions {
  /** How many files are read ahead of the one being merged (bounds memory and open files). */
  readonly readAhead?: number;
  readonly signal?: AbortSignal;
  /** Called after each input is merged. */
  readonly onProgress?: (merged: number, total: number) => void;
}

export interface MergeFilesResult {
  readonly profile: Profile;
  readonly inputs: number;
}

/**
 * Merges profile files in the given order (so the same inputs give the same bytes). Files
 * are read a few at a time and each is released once merged, so thousands of inputs need
 * neither thousands of descriptors nor memory for all of them. The first unreadable or
 * invalid file ends the merge with an error that names it.
 */
export async function mergeProfileFiles(files: readonly string[], opts: MergeFilesOptions = {}): Promise<MergeFilesResult> {
  const readAhead = Math.max(1, opts.readAhead ?? 8);
  const merger = new ProfileMerger();
  const pending: Promise<Uint8Array>[] = [];
  let next = 0;
  const fill = () => {
    while (pending.length < readAhead && next < files.length) {
      const read = readProfileFile(files[next++]!);
      read.catch(() => undefined); // surfaced when awaited in order below
      pending.push(read);
    }
  };
  for (let i = 0; i < files.length; i++) {
    opts.signal?.throwIfAborted();
    fill();
    const bytes = await pending.shift()!;
    merger.add(decodeProfile(bytes, files[i]), files[i]);
    opts.onProgress?.(i + 1, files.length);
  }
  return { profile: merger.result(), inputs: merger.count };
}
