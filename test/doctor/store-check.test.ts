/**
 * doctor's store check on local store folders that capture could not use: a file where the
 * folder would be, a folder that would have to be made under a file, a symlink loop, a name too
 * long. Real files in a temp
 * folder; the check must say so as a finding, not call it ok and not throw.
 */
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { checkStore } from '../../src/doctor/store-check.js';
import { openStore } from '../../src/store/open-store.js';

let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'store-check-'));
  await writeFile(path.join(dir, 'a-file'), 'not a folder\n');
  await mkdir(path.join(dir, 'folder'));
  await symlink(path.join(dir, 'loop'), path.join(dir, 'loop'));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('checkStore, local', () => {
  test.each([
    ['a file where the folder would be', 'a-file', { severity: 'error', code: 'store-unwritable' }, /is not a folder/],
    ['a folder to be made under a file', 'a-file/store', { severity: 'error', code: 'store-unwritable' }, /cannot be made: .*a-file is not a folder/],
    ['a symlink that points at itself', 'loop', { severity: 'error', code: 'store-unwritable' }, /cannot be used: ELOOP$/],
    ['a folder name longer than the file system takes', 'x'.repeat(300), { severity: 'error', code: 'store-unwritable' }, /cannot be used: ENAMETOOLONG$/],
    ['a folder to be made under a folder', 'folder/new/store', { severity: 'ok', code: 'store-ok' }, /does not exist yet: capture creates it$/],
  ])('%s', async (_what, where, want, message) => {
    const opts = { storeDir: path.join(dir, where), spoolDir: path.join(dir, 'spool') };
    const finding = await checkStore(opts, { timeoutMs: 1000 });
    expect(finding).toMatchObject({ check: 'store', ...want });
    expect(finding.message).toMatch(message);
    if (want.severity === 'error') {
      // What doctor warns of is what capture meets: the store cannot be opened for writing there.
      await expect(openStore(opts)).rejects.toThrow();
    }
  });
});
