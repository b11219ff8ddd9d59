/**
 * The worker-thread path of mergeProfileFiles, run from a bundle built as dist/ is (the worker
 * script exists only there, written beside the chunks), against the in-process path on the same inputs.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { buildBundle } from '../../scripts/build.mjs';
import { generateProfiles } from '../support/go-target.js';
import { foldedStacks } from '../support/profile-builder.js';

type MergeModule = typeof import('../../src/merge/merge-files.js');
let dist: MergeModule;

let dir: string;
let files: string[];
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'merge-files-'));
  await buildBundle({ outdir: path.join(dir, 'bundle'), entries: { 'merge-files': 'src/merge/merge-files.ts' } });
  dist = (await import(path.join(dir, 'bundle', 'merge-files.js'))) as MergeModule;
  files = await generateProfiles('heap', 48, path.join(dir, 'heap'), { seed: 11 });
}, 120_000);
afterAll(() => rm(dir, { recursive: true, force: true }));

describe('mergeProfileFiles', () => {
  test('worker threads give the same samples, times and durations as one thread', async () => {
    const one = await dist.mergeFilesInProcess(files);
    const two = await dist.mergeProfileFiles(files, { workers: 2 });
    expect(two.inputs).toBe(48);
    expect(foldedStacks(two.profile)).toBe(foldedStacks(one.profile));
    expect(two.profile.timeNanos).toBe(one.profile.timeNanos);
    expect(two.profile.durationNanos).toBe(one.profile.durationNanos);
  });

  test('an error inside a worker names the file', async () => {
    const bad = path.join(dir, 'heap', 'heap-0040.pb.gz');
    await writeFile(bad, 'heap profile: 1: 2 [3: 4] @ heap/1048576\n');
    await expect(dist.mergeProfileFiles(files, { workers: 2 })).rejects.toThrow(
      `${bad}: got a text profile (debug=1 or debug=2 output), not a pprof protobuf`,
    );
    await expect(dist.mergeProfileFiles(files, { workers: 2 })).rejects.toHaveProperty('name', 'ProfileFormatError');
  });
});
