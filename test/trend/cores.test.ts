/**
 * One rule for CPU cores (src/trend/cores.ts): per pod, its CPU nanoseconds over the nanoseconds
 * its profiles cover, summed over the pods; trend and collect --influx-url give the same number
 * for the same profiles.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { RoundTop } from '../../src/collect/round-top.js';
import { resolveTrendOptions, runTrend } from '../../src/cli/trend.js';
import { encodeProfile } from '../../src/pprof/encode.js';
import { LocalStore } from '../../src/store/local/local-store.js';
import { coresOf } from '../../src/trend/cores.js';
import { storeAsCollected, type DayUpload } from '../support/synthetic-day.js';
import { buildProfile } from '../support/profile-builder.js';

describe('coresOf', () => {
  test('each pod over what its profiles cover, summed; the fallback for a pod without duration_nanos', () => {
    // 10 s profiles: 5 s of CPU is half a core, whatever the bucket's length.
    expect(coresOf([{ pod: 'a', cpuNanos: 5e9, durationNanos: 10e9 }], 3600e9)).toBe(0.5);
    expect(coresOf([{ pod: 'a', cpuNanos: 5e9, durationNanos: 10e9 }, { pod: 'b', cpuNanos: 3n, durationNanos: 0 }], 6)).toBe(0.5 + 3 / 6);
    expect(coresOf([], 1)).toBe(0);
    // top --from T --to T: a profile without duration_nanos has no time to spread over.
    expect(coresOf([{ pod: 'a', cpuNanos: 5e9, durationNanos: 10e9 }, { pod: 'b', cpuNanos: 3n, durationNanos: 0 }], 0)).toBe(0.5);
  });

  test('the sum runs in pod order, whatever order the pods come in', () => {
    const pods = [0.1, 0.2, 0.3, 1e-17, 7].map((c, i) => ({ pod: `p${i}`, cpuNanos: Math.round(c * 1e9 * 3) || 1, durationNanos: 3e9 }));
    expect(coresOf([...pods].reverse(), 1)).toBe(coresOf(pods, 1));
  });
});

describe('trend and collect --influx-url: the same cores for the same profiles', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'cores-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  test('one round of two pods (10 s and 7 s profiles) read back by trend as one bucket equals the round’s points', async () => {
    const at = new Date('2026-11-01T00:00:30Z');
    const profiles = [
      { pod: 'api-0', durationNanos: 10_000_000_000, stacks: [['main.main;api.handle', 4_000_000_000], ['main.main;api.encode', 1_000_000_000]] as const },
      { pod: 'api-1', durationNanos: 7_000_000_000, stacks: [['main.main;api.handle', 3_500_000_000], ['main.main;api.encode', 700_000_000]] as const },
    ];
    const uploads: DayUpload[] = profiles.map((p) => {
      const profile = buildProfile({ samples: p.stacks.map(([stack, ns]) => ({ stack, values: [ns / 1e7, ns] })), timeNanos: BigInt(at.getTime()) * 1_000_000n, durationNanos: p.durationNanos });
      const labels = [{ key: 'from', value: 'kubectl-profefe' }, { key: 'namespace', value: 'shop' }, { key: 'pod', value: p.pod }];
      return { service: 'api', type: 'cpu', labels, createdAt: at, body: encodeProfile(profile) };
    });
    const round = new RoundTop();
    for (const u of uploads) {
      const pod = u.labels.find((l) => l.key === 'pod')!.value;
      round.add({ target: { namespace: 'shop', pod, service: 'api', port: 6060, path: '/debug/pprof', labels: {}, annotations: {} }, type: 'cpu', bytes: u.body, takenAt: at, samples: 1 } as Parameters<RoundTop['add']>[0]);
    }
    // The capture window (60 s) is only the fallback: both profiles carry duration_nanos.
    const points = round.points(10, at.getTime(), 60);
    expect(points.map((p) => [p.function, p.value])).toEqual([
      ['api.handle', 4e9 / 10e9 + 3.5e9 / 7e9],
      ['api.encode', 1e9 / 10e9 + 0.7e9 / 7e9],
    ]);
    const storeDir = path.join(dir, 'store');
    const store = await LocalStore.open(storeDir);
    try {
      await storeAsCollected(store, uploads);
    } finally {
      await store.close();
    }
    const opts = resolveTrendOptions({ from: '2026-11-01T00:00:00Z', to: '2026-11-01T00:01:00Z', step: '1m', 'store-dir': storeDir, nodes: 0 }, { env: { HOME: dir } });
    const { trend } = await runTrend(opts);
    expect(trend.unit).toBe('cores');
    expect(trend.functions.map((f) => [f.function, f.values[0]])).toEqual(points.map((p) => [p.function, p.value]));
    expect(trend.serviceTrends[0]!.values[0]).toBe(5e9 / 10e9 + 4.2e9 / 7e9);
  }, 60_000);
});
