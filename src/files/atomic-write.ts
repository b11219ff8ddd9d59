import { mkdir, rename, unlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { InputError } from '../errors.js';

let counter = 0;

/**
 * Writes a file via a temporary sibling and a rename, so that a crash or a full disk never
 * leaves half a profile under the final name. Creates missing parent directories.
 */
export async function writeFileAtomic(file: string, bytes: Uint8Array): Promise<void> {
  const dir = path.dirname(file);
  const tmp = path.join(dir, `.${path.basename(file)}.${process.pid}.${counter++}.tmp`);
  try {
    await mkdir(dir, { recursive: true });
    await writeFile(tmp, bytes);
    await rename(tmp, file);
  } catch (err) {
    await unlink(tmp).catch(() => undefined);
    const e = err as NodeJS.ErrnoException;
    throw new InputError(`${file}: cannot write (${e.code ?? e.message})`);
  }
}
