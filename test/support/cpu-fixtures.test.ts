/** The CPU fixtures' copies: stamped as taken now (windows relative to now find them), samples untouched. */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { decodeProfile } from '../../src/pprof/index.js';
import { copyCpuFixtures, cpuFixture, withTimeNanos } from './cpu-fixtures.js';

test('withTimeNanos changes time_nanos and nothing else', async () => {
  const bytes = await readFile(cpuFixture(1, 1));
  const before = decodeProfile(bytes);
  const after = decodeProfile(withTimeNanos(bytes, 1_234_567_890_123_456_789n));
  expect(after.timeNanos).toBe(1_234_567_890_123_456_789n);
  after.timeNanos = before.timeNanos;
  expect(Buffer.from(after.encode())).toEqual(Buffer.from(before.encode()));
});

test('copies are stamped takenAt, one second apart, the last at takenAt', async () => {
  const dir = await mkdtemp(path.join(tmpdir(), 'cpu-fixtures-'));
  try {
    const takenAt = new Date('2030-01-02T03:04:05Z');
    const files = await copyCpuFixtures(dir, [[1, 1], [2, 2], [3, 1]], takenAt);
    const times = await Promise.all(files.map(async (f) => BigInt(decodeProfile(await readFile(f)).timeNanos) / 1_000_000n));
    expect(times.map(Number)).toEqual([takenAt.getTime() - 2000, takenAt.getTime() - 1000, takenAt.getTime()]);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
