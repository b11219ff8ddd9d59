import { mkdir, open, rename, unlink } from 'node:fs/promises';
import path from 'node:path';
import { InputError } from '../errors.js';

let counter = 0;

/** Suffix of the temporary files {@link writeFileAtomic} leaves behind when the process dies mid-write. */
export const TEMP_SUFFIX = '.tmp';

/** `.<name>.<pid>.<n>.tmp`, the temporary sibling of a file being written. */
export const TEMP_FILE_PATTERN = /^\..+\.\d+\.\d+\.tmp$/;

/**
 * Writes a file via a temporary sibling and a rename, so that a crash, a power loss or a full
 * disk never leaves half a file under the final name: the data is fsynced before the rename, and
 * the folder after it, so that a rename that was reported is also on disk. Creates missing
 * parent directories. A process killed mid-write leaves only a `.<name>.<pid>.<n>.tmp` file
 * (see {@link TEMP_FILE_PATTERN}), which the store and the spool remove when they open.
 *
 * Why not the write-file-atomic package: it registers signal-exit handlers that re-raise
 * SIGTERM/SIGINT while a write is under way, which kills serve and collect instead of letting
 * them stop cleanly; and it does not fsync the folder.
 */
export async function writeFileAtomic(file: string, bytes: Uint8Array): Promise<void> {
  const dir = path.dirname(file);
  const tmp = path.join(dir, `.${path.basename(file)}.${process.pid}.${counter++}${TEMP_SUFFIX}`);
  try {
    await mkdir(dir, { recursive: true });
    const handle = await open(tmp, 'w');
    try {
      await handle.writeFile(bytes);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(tmp, file);
    await syncDir(dir);
  } catch (err) {
    await unlink(tmp).catch(() => undefined);
    const e = err as NodeJS.ErrnoException;
    throw new InputError(`${file}: cannot write (${e.code ?? e.message})`);
  }
}

/** fsyncs a folder, so that renames and new files in it survive a power loss (a no-op where folders cannot be opened). */
export async function syncDir(dir: string): Promise<void> {
  let handle;
  try {
    handle = await open(dir, 'r');
  } catch {
    return; // Windows cannot open a folder
  }
  try {
    await handle.sync().catch((err: NodeJS.ErrnoException) => {
      if (err.code !== 'EINVAL' && err.code !== 'EPERM' && err.code !== 'EISDIR') throw err;
    });
  } finally {
    await handle.close();
  }
}
