/**
 * Merging stored blobs: in-process, and in BlobMergePool's worker threads (the built worker of
 * dist/, as serve runs it), which must give the same bytes and the same errors; the pool's
 * bounds (merges at once, merges waiting, then 503) and its shutdown.
 */
import { copyFile, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { profefeStatusOf } from '../../src/store/profefe/status.js';
import { StoreProblem } from '../../src/store/store.js';
import { decodeProfile, encodeProfile, ProfileMerger } from '../../src/pprof/index.js';
import { BlobMergePool, mergeBlobsInProcess, type StoredBlob } from '../../src/store/local/blob-merge.js';
import { cpuFixture } from '../support/cpu-fixtures.js';
import { buildProfile } from '../support/profile-builder.js';

const BUILT_WORKER = new URL('../../dist/blob-merge-worker.js', import.meta.url);

let dir: string;
const blobs: Record<string, StoredBlob> = {};

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'blob-merge-'));
  const blob = async (id: string, bytes: Uint8Array | string) => {
    const p = path.join(dir, `${id}.pb.gz`);
    if (typeof bytes === 'string') await copyFile(bytes, p);
    else await writeFile(p, bytes);
    blobs[id] = { id, path: p };
  };
  for (const seed of [1, 2, 3]) for (const n of [1, 2] as const) await blob(`cpu${seed}${n}`, cpuFixture(seed, n));
  await blob('heap', encodeProfile(buildProfile({ sampleTypes: [['inuse_space', 'bytes']], samples: [{ stack: 'main.main;alloc', values: [4096] }] })));
  await blob('damaged', Buffer.from('<html>not a profile</html>'));
  blobs.gone = { id: 'gone', path: path.join(dir, 'gone.pb.gz') };
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const cpu = () => ['cpu11', 'cpu12', 'cpu21', 'cpu22', 'cpu31', 'cpu32'].map((id) => blobs[id]!);

/** The bytes, or the store error's message and the status profefe's handlers give it. */
async function outcome(p: Promise<Uint8Array>): Promise<{ bytes: Buffer } | { status: number; message: string }> {
  try {
    return { bytes: Buffer.from(await p) };
  } catch (err) {
    if (!(err instanceof StoreProblem)) throw err;
    return { status: profefeStatusOf(err), message: err.message };
  }
}

const cases: [string, () => StoredBlob[]][] = [
  ['six real Go CPU profiles', cpu],
  ['one profile', () => [blobs.cpu11!]],
  ['a blob whose file has gone is skipped', () => [blobs.cpu11!, blobs.gone!, blobs.cpu12!]],
  ['only gone blobs', () => [blobs.gone!, blobs.gone!]],
  ['a damaged blob', () => [blobs.cpu11!, blobs.damaged!]],
  ['profiles of different sample types', () => [blobs.cpu11!, blobs.heap!]],
];

describe('mergeBlobsInProcess', () => {
  test('merges like ProfileMerger, in order, gzipped', async () => {
    const merger = new ProfileMerger();
    for (const b of cpu()) merger.add(decodeProfile(await import('node:fs/promises').then((f) => f.readFile(b.path))), b.id);
    expect(Buffer.from(await mergeBlobsInProcess(cpu())).equals(Buffer.from(encodeProfile(merger.result())))).toBe(true);
  });

  test.each([
    ['only gone blobs', () => [blobs.gone!, blobs.gone!], { status: 500, message: 'could not merge 0 profiles' }],
    ['a damaged blob', () => [blobs.cpu11!, blobs.damaged!], { status: 500, message: expect.stringMatching(/^could not merge 2 profiles: damaged: got an HTML page/) }],
    ['different sample types', () => [blobs.cpu11!, blobs.heap!], { status: 500, message: expect.stringMatching(/^could not merge 2 profiles: cannot merge .*sample types differ/) }],
  ])('fails with a 500 naming the blob: %s', async (_what, input, expected) => {
    expect(await outcome(mergeBlobsInProcess(input()))).toEqual(expected);
  });
});

describe('BlobMergePool with the built worker', () => {
  beforeAll(() => {
    // npm test builds dist/ first; this suite is about the worker threads, not the fallback.
    expect(fileURLToPath(BUILT_WORKER)).toMatch(/dist/);
  });

  test.each(cases)('gives the in-process answer, byte for byte: %s', async (_what, input) => {
    const pool = new BlobMergePool({ workers: 1, script: BUILT_WORKER });
    try {
      expect(await outcome(pool.merge(input()))).toEqual(await outcome(mergeBlobsInProcess(input())));
    } finally {
      await pool.close();
    }
  });

  test('decodes each blob within its decodeLimits (--max-inflated-size, --max-samples), as in-process', async () => {
    const limits = { maxSamples: 1 };
    const pool = new BlobMergePool({ workers: 1, script: BUILT_WORKER, decodeLimits: limits });
    try {
      const expected = { status: 500, message: expect.stringMatching(/^could not merge 6 profiles: cpu11: more than 1 samples \(the --max-samples limit\)$/) };
      expect(await outcome(mergeBlobsInProcess(cpu(), limits))).toEqual(expected);
      expect(await outcome(pool.merge(cpu()))).toEqual(expected);
    } finally {
      await pool.close();
    }
  });

  test('runs `workers` merges at once, queues `maxQueue` more and refuses the next with 503', async () => {
    const pool = new BlobMergePool({ workers: 1, maxQueue: 1, script: BUILT_WORKER });
    try {
      const first = pool.merge(cpu());
      // The first merge has started (it waits for its thread for many turns of the event loop).
      await new Promise(setImmediate);
      const second = pool.merge(cpu());
      const third = await outcome(pool.merge(cpu()));
      expect(third).toEqual({ status: 503, message: 'too many merges in progress, retry later' });
      const [a, b] = await Promise.all([outcome(first), outcome(second)]);
      expect('bytes' in a && 'bytes' in b && a.bytes.equals(b.bytes)).toBe(true);
      // A thread is kept for the next merge.
      expect('bytes' in (await outcome(pool.merge([blobs.cpu11!, blobs.cpu12!])))).toBe(true);
    } finally {
      await pool.close();
    }
  });

  test('close fails the merges under way and waiting with 503, and refuses new ones', async () => {
    const pool = new BlobMergePool({ workers: 1, script: BUILT_WORKER });
    const running = outcome(pool.merge(cpu()));
    await new Promise(setImmediate);
    const waiting = outcome(pool.merge(cpu()));
    await pool.close();
    const shuttingDown = { status: 503, message: 'the store is shutting down' };
    expect(await running).toEqual(shuttingDown);
    expect(await waiting).toEqual(shuttingDown);
    expect(await outcome(pool.merge(cpu()))).toEqual(shuttingDown);
  });
});
