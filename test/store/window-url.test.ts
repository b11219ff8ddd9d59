/**
 * Snapshots captured with `capture --url` carry a `url` label instead of `namespace` and `pod`:
 * a window averages them per URL (per process), as it averages a pod's, before summing.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { encodeProfile } from '../../src/pprof/index.js';
import { LocalStore } from '../../src/store/local/local-store.js';
import type { StoreLabel } from '../../src/store/store.js';
import { describeWindow, loadWindowProfile } from '../../src/store/window-query.js';
import { buildProfile, foldedStacks } from '../support/profile-builder.js';

const NOW = Date.now();
let dir: string;
let store: LocalStore;

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'window-url-'));
  store = await LocalStore.open(path.join(dir, 'store'));
  const snapshot = (n: number) =>
    encodeProfile(buildProfile({ sampleTypes: [['goroutine', 'count']], samples: [{ stack: 'main;x', values: [n] }], timeNanos: BigInt(NOW - 60_000) * 1_000_000n, durationNanos: 0 }));
  const url = (hostPort: string): StoreLabel[] => [{ key: 'from', value: 'kubectl-profefe' }, { key: 'url', value: hostPort }];
  // Process a: 10 then 20 goroutines (average 15); process b: 4 once.
  await store.upload({ service: 'api', type: 'goroutine', labels: url('10.0.0.1:6060'), body: snapshot(10) });
  await store.upload({ service: 'api', type: 'goroutine', labels: url('10.0.0.1:6060'), body: snapshot(20) });
  await store.upload({ service: 'api', type: 'goroutine', labels: url('10.0.0.2:6060'), body: snapshot(4) });
});

afterAll(async () => {
  await store?.close();
  await rm(dir, { recursive: true, force: true });
});

test('snapshots labelled url= are averaged per URL, then summed (15 + 4, not the mean of all three)', async () => {
  const w = await loadWindowProfile(store, { service: 'api', type: 'goroutine', from: new Date(NOW - 3_600_000), to: new Date(NOW + 60_000) });
  expect(foldedStacks(w!.profile)).toBe('main;x 19');
  expect(describeWindow(w!.summary)).toMatch(/ 2 pods$/);
});
