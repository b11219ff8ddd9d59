/**
 * deltaProfile against hand-built profiles, and against `go tool pprof -base` on two real
 * cumulative profiles fetched from a Go process (the same bytes on both sides).
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { deltaProfile } from '../../src/pprof/delta.js';
import { decodeProfile, encodeProfile } from '../../src/pprof/index.js';
import { goPprofTop } from '../support/go-pprof.js';
import { fetchProfile, startGoTarget, type GoTarget } from '../support/go-target.js';
import { buildProfile, foldedStacks } from '../support/profile-builder.js';

describe('deltaProfile (hand-built)', () => {
  test('end minus start; samples that did not change are dropped; time is the end’s, duration the difference', () => {
    const start = buildProfile({ timeNanos: 1_000, durationNanos: 0, samples: [{ stack: 'm;a', values: [10, 20] }, { stack: 'm;b', values: [5, 5] }] });
    const end = buildProfile({ timeNanos: 4_000, durationNanos: 0, samples: [{ stack: 'm;a', values: [15, 30] }, { stack: 'm;b', values: [5, 5] }, { stack: 'm;c', values: [1, 2] }] });
    const d = deltaProfile(start, end);
    expect(foldedStacks(d)).toBe(['m;a 5,10', 'm;c 1,2'].join('\n'));
    expect(d.timeNanos).toBe(4_000);
    expect(d.durationNanos).toBe(3_000);
  });

  test('profiles without time_nanos take the fetch times', () => {
    const start = buildProfile({ timeNanos: 0, samples: [{ stack: 'm;a', values: [1, 1] }] });
    const end = buildProfile({ timeNanos: 0, samples: [{ stack: 'm;a', values: [2, 2] }] });
    const d = deltaProfile(start, end, { start: 10_000n, end: 25_000n });
    expect(d.timeNanos).toBe(25_000);
    expect(d.durationNanos).toBe(15_000);
  });
});

describe('deltaProfile (real Go profiles)', () => {
  let go: GoTarget;
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'delta-'));
    go = await startGoTarget();
  });
  afterAll(async () => {
    await go?.close();
    await rm(dir, { recursive: true, force: true });
  });

  test.each([
    ['allocs', ['alloc_space', 'alloc_objects']],
    ['block', ['delay', 'contentions']],
    ['mutex', ['delay', 'contentions']],
  ])('%s: the same as go tool pprof -base on the two cumulative profiles', async (type, sampleTypes) => {
    const startFile = path.join(dir, `${type}-start.pb.gz`);
    const endFile = path.join(dir, `${type}-end.pb.gz`);
    const deltaFile = path.join(dir, `${type}-delta.pb.gz`);
    const start = await fetchProfile(go.url, type);
    await new Promise((r) => setTimeout(r, 300));
    const end = await fetchProfile(go.url, type);
    await Promise.all([writeFile(startFile, start), writeFile(endFile, end)]);
    const delta = deltaProfile(decodeProfile(start), decodeProfile(end));
    await writeFile(deltaFile, encodeProfile(delta));
    for (const sampleIndex of sampleTypes) {
      const ours = await goPprofTop([deltaFile], { sampleIndex });
      const go = await goPprofTop([endFile], { sampleIndex, extraArgs: [`-base=${startFile}`] });
      expect(ours.rows).toEqual(go.rows);
      expect(ours.total).toBe(go.total);
    }
  }, 30_000);
});
