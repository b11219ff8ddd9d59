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
 * With `createDirs: false` (a file the user named: --output-file) a missing folder is an error,
 * `FILE: No such file or directory` as a shell's redirect says it, and nothing is created.
 *
 * Why not the write-file-atomic package: it registers signal-exit handlers that re-raise
 * SIGTERM/SIGINT while a write is under way, which kills serve and collect instead of letting
 * them stop cleanly; and it does not fsync the folder.
 */
export async function writeFileAtomic(file: string, bytes: Uint8Array, opts: { createDirs?: boolean } = {}): Promise<void> {
  const dir = path.dirname(file);
  const tmp = path.join(dir, `.${path.basename(file)}.${process.pid}.${counter++}${TEMP_SUFFIX}`);
  try {
    if (opts.createDirs !== false) await mkdir(dir, { recursive: true });
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
    if (opts.createDirs === false && e.code !== undefined && SHELL_WORDS[e.code]) throw new InputError(`${file}: ${SHELL_WORDS[e.code]}`);
    throw new InputError(`${file}: cannot write (${e.code ?? e.message})`);
  }
}

/** strerror's words for what a user's file name can run into, as a shell prints them. */
const SHELL_WORDS: Readonly<Record<string, string>> = {
  ENOENT: 'No such file or directory',
  ENOTDIR: 'Not a directory',
  EISDIR: 'Is a directory',
  EACCES: 'Permission denied',
  EPERM: 'Operation not permitted',
  EROFS: 'Read-only file system',
  ENOSPC: 'No space left on device',
  ENAMETOOLONG: 'File name too long',
};

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
