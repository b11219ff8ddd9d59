/**
 * A synthetic day of stored profiles for `trend` (tests and BENCH=trend): two services, CPU
 * profiles every `cpuEveryMinutes` from two pods each and heap snapshots every 20 minutes, with
 * created_at spread over the 24 h from DAY_START, every value a fixed function of the index (no
 * randomness, no clock). In `checkout`, cache.lookup's CPU grows steadily and db.query's shrinks;
 * (*Cache).put's in-use memory grows with the age of its process, which restarts in place at
 * noon (same pod, its alloc_* counts start again from 0), and auth's sessions grow steadily,
 * with noise, over the whole day (less steeply, but never dropping). storeAsCollected stores
 * them through collect's own sink.
 */
import { StoreSink } from '../../src/capture/store-sink.js';
import { encodeProfile } from '../../src/pprof/encode.js';
import type { ProfileStore, StoreLabel, StoreProfileType } from '../../src/store/store.js';
import { buildProfile, type SampleSpec } from './profile-builder.js';

/** The first instant of the day (UTC midnight); the day is [DAY_START, DAY_START + 24 h]. */
export const DAY_START = new Date('2026-11-01T00:00:00Z');
export const DAY_END = new Date('2026-11-02T00:00:00Z');

/** One upload, as collect makes it. */
export interface DayUpload {
  readonly service: string;
  readonly type: StoreProfileType;
  readonly labels: StoreLabel[];
  readonly createdAt: Date;
  readonly body: Uint8Array;
}

const MS = 1_000_000;
const KB = 1024;

function labels(service: string, pod: string, extra: Record<string, string> = {}): StoreLabel[] {
  const all: Record<string, string> = { from: 'kubectl-profefe', namespace: 'shop', pod, ...extra };
  return Object.entries(all)
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .map(([key, value]) => ({ key, value }));
}

function cpuSamples(service: string, i: number): SampleSpec[] {
  const ns = (ms: number) => [ms / 10, ms * MS];
  if (service === 'auth') {
    return [
      { stack: 'main.main;auth.handler;crypto/sha256.block', values: ns(200 + (i % 3) * 10) },
      { stack: 'main.main;auth.handler;encoding/json.Marshal', values: ns(100) },
      { stack: 'runtime.gcBgMarkWorker;runtime.scanobject', values: ns(30 + (i % 2) * 10) },
    ];
  }
  return [
    { stack: 'main.main;checkout.serve;checkout.(*Cache).lookup', values: ns(10 + 2 * i) },
    { stack: 'main.main;checkout.serve;database/sql.(*DB).query', values: ns(400 - i) },
    { stack: 'main.main;checkout.serve;encoding/json.Marshal', values: ns(50) },
    { stack: 'runtime.gcBgMarkWorker;runtime.scanobject', values: ns(20 + (i % 4) * 10) },
  ];
}

/** [alloc_objects, alloc_space, inuse_objects, inuse_space] of a stack whose in-use is `inuse` bytes in objects of 1 KiB. */
function heapValues(inuse: number, allocObjects: number): number[] {
  return [allocObjects, allocObjects * KB, Math.round(inuse / KB), inuse];
}

function heapSamples(service: string, i: number, age: number): SampleSpec[] {
  if (service === 'auth') {
    return [
      { stack: 'main.main;auth.newSession;auth.(*Store).add', values: heapValues(4096 * KB + i * 40 * KB + (i % 5) * 30 * KB, 1000 + 100 * i) },
      { stack: 'main.main;auth.loadKeys', values: heapValues(16384 * KB + (i % 3) * 100 * KB, 500 + 10 * i) },
    ];
  }
  return [
    { stack: 'main.main;checkout.serve;checkout.(*Cache).put', values: heapValues(1024 * KB + age * 200 * KB, 100 + 300 * age) },
    { stack: 'main.main;checkout.loadCatalog', values: heapValues(20480 * KB + (i % 4) * 100 * KB, 200 + 20 * age) },
    { stack: 'main.main;checkout.serve;database/sql.(*DB).conn', values: heapValues(2048 * KB - (i % 2) * 64 * KB, 50 + 5 * age) },
  ];
}

/**
 * The day's uploads, oldest first: per service a CPU profile every `cpuEveryMinutes` (pods
 * alternating between SERVICE-0 and SERVICE-1, each profile 10 s long) and, with `heap`, a heap
 * snapshot every 20 minutes (auth from auth-0 and auth-1 alternating; checkout from checkout-0
 * alone, restarted at noon), and with `goroutine` checkout's goroutine profiles every 20 minutes
 * (checkout-0, replaced by checkout-1 at noon; its (*Pool).worker goroutines grow by 3 a
 * snapshot). `cpuEveryMinutes` 10 gives 144 CPU profiles a service; BENCH=trend uses smaller
 * steps for its 10,000.
 */
export function syntheticDay(opts: { cpuEveryMinutes?: number; heap?: boolean; goroutine?: boolean } = {}): DayUpload[] {
  const every = opts.cpuEveryMinutes ?? 10;
  const uploads: DayUpload[] = [];
  const dayMs = DAY_END.getTime() - DAY_START.getTime();
  for (const service of ['auth', 'checkout']) {
    const cpuCount = Math.round(dayMs / (every * 60_000));
    for (let i = 0; i < cpuCount; i++) {
      // A few seconds into each slot, so no profile sits on a bucket's edge by accident.
      const createdAt = new Date(DAY_START.getTime() + i * every * 60_000 + 7_000);
      const cpuScale = (every * 60_000) / 600_000; // the same CPU per hour whatever the spacing
      const samples = cpuSamples(service, Math.floor(i * cpuScale)).map((s) => ({ ...s, values: s.values.map((v) => Math.round(Number(v) * cpuScale)) }));
      const profile = buildProfile({ samples, timeNanos: BigInt(createdAt.getTime()) * 1_000_000n, durationNanos: 10_000_000_000 });
      uploads.push({ service, type: 'cpu', labels: labels(service, `${service}-${i % 2}`), createdAt, body: encodeProfile(profile) });
    }
    if (opts.heap === false) continue;
    for (let i = 0; i < 72; i++) {
      const createdAt = new Date(DAY_START.getTime() + i * 20 * 60_000 + 13_000);
      const age = service === 'checkout' && i >= 36 ? i - 36 : i;
      const pod = service === 'auth' ? `auth-${i % 2}` : 'checkout-0';
      const profile = buildProfile({
        sampleTypes: [['alloc_objects', 'count'], ['alloc_space', 'bytes'], ['inuse_objects', 'count'], ['inuse_space', 'bytes']],
        periodType: ['space', 'bytes'],
        period: 512 * KB,
        samples: heapSamples(service, i, age),
        timeNanos: BigInt(createdAt.getTime()) * 1_000_000n,
        durationNanos: 0,
      });
      uploads.push({ service, type: 'heap', labels: labels(service, pod), createdAt, body: encodeProfile(profile) });
    }
  }
  if (opts.goroutine !== false) {
    for (let i = 0; i < 72; i++) {
      const createdAt = new Date(DAY_START.getTime() + i * 20 * 60_000 + 17_000);
      // A rollout at noon: checkout-0 is replaced by checkout-1, whose workers start from none again.
      const pod = i < 36 ? 'checkout-0' : 'checkout-1';
      const age = i < 36 ? i : i - 36;
      const profile = buildProfile({
        sampleTypes: [['goroutine', 'count']],
        periodType: ['goroutine', 'count'],
        period: 1,
        samples: [
          { stack: 'runtime.goexit;checkout.(*Pool).worker;runtime.chanrecv1;runtime.chanrecv;runtime.gopark', values: [4 + 3 * age] },
          { stack: 'runtime.goexit;net/http.(*conn).serve;net/http.(*conn).readRequest;internal/poll.(*FD).Read;runtime.gopark', values: [50 + (i % 7)] },
          { stack: 'runtime.goexit;main.main;sync.(*WaitGroup).Wait;sync.runtime_Semacquire;runtime.gopark', values: [1] },
        ],
        timeNanos: BigInt(createdAt.getTime()) * 1_000_000n,
        durationNanos: 0,
      });
      uploads.push({ service: 'checkout', type: 'goroutine', labels: labels('checkout', pod), createdAt, body: encodeProfile(profile) });
    }
  }
  return uploads.sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime());
}

/**
 * Stores the uploads the way `collect` does: each as the profile a capture of its pod returned,
 * handed to collect's own sink (StoreSink: collect's labels, upload id, created_at).
 */
export async function storeAsCollected(store: ProfileStore, uploads: readonly DayUpload[]): Promise<void> {
  const sink = new StoreSink(store, undefined);
  for (const u of uploads) {
    const pod = u.labels.find((l) => l.key === 'pod')!.value;
    const target = { namespace: 'shop', pod, service: u.service, port: 6060, path: '/debug/pprof', labels: {}, annotations: {} };
    await sink.write({ target, type: u.type as 'cpu' | 'heap' | 'goroutine', bytes: u.body, takenAt: u.createdAt, samples: 1 });
  }
}
