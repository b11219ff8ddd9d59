/**
 * mergeFilesInProcess reads inputs ahead and inflates the larger ones on libuv's pool while it
 * merges: the result and the error must not depend on what finishes first.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { mergeFilesInProcess } from '../../src/merge/merge-files.js';
import { decodeProfile, encodeProfile, mergeProfiles } from '../../src/pprof/index.js';
import { largeHeapProfile } from '../support/pprof-bombs.js';
import { buildProfile } from '../support/profile-builder.js';

let dir: string;
let small: string[];
let large: string;
let truncated: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'merge-pipeline-'));
  const heap = [['alloc_objects', 'count'], ['alloc_space', 'bytes'], ['inuse_objects', 'count'], ['inuse_space', 'bytes']] as [string, string][];
  small = [];
  for (let i = 0; i < 12; i++) {
    const file = path.join(dir, `small-${i}.pb.gz`);
    const p = buildProfile({ sampleTypes: heap, periodType: ['space', 'bytes'], samples: [{ stack: `main;f${i % 5}`, values: [1, 4096 + i, 1, 4096], labels: { bytes: 4096 } }] });
    await writeFile(file, encodeProfile(p));
    small.push(file);
  }
  const { gzipped } = largeHeapProfile(1); // about 0.3 MB compressed: inflated on the pool
  large = path.join(dir, 'large.pb.gz');
  await writeFile(large, gzipped);
  truncated = path.join(dir, 'truncated.pb.gz');
  await writeFile(truncated, gzipped.subarray(0, gzipped.length >> 1));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

describe('mergeFilesInProcess', () => {
  test('gives the bytes of merging the decoded files in order, however far it reads ahead', async () => {
    const files = [small[0]!, large, ...small.slice(1, 6), large, ...small.slice(6)];
    const expected = Buffer.from(mergeProfiles(await Promise.all(files.map(async (f) => decodeProfile(await readFile(f), f))), files).encode());
    for (const readAhead of [1, 3, 8, 64]) {
      const merged = await mergeFilesInProcess(files, { readAhead });
      expect(merged.inputs).toBe(files.length);
      expect(Buffer.from(gunzipSync(merged.bytes)).equals(expected)).toBe(true);
    }
  });

  test('the first bad file in order ends the merge, whichever fails first', async () => {
    const missing = path.join(dir, 'missing.pb.gz');
    // The missing file fails while it is read ahead, before the truncated one has inflated.
    await expect(mergeFilesInProcess([small[0]!, truncated, missing, ...small])).rejects.toThrow(`${truncated}: truncated gzip data`);
    await expect(mergeFilesInProcess([small[0]!, missing, truncated, ...small])).rejects.toThrow(`${missing}: cannot read (no such file)`);
  });

  test('an abort ends the merge', async () => {
    const controller = new AbortController();
    controller.abort(new Error('interrupted'));
    await expect(mergeFilesInProcess([...small, large], { signal: controller.signal })).rejects.toThrow('interrupted');
  });
});
