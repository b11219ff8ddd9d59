/**
 * `top` against requests, over fixed profiles with chosen CPU nanoseconds, duration_nanos and
 * in-use bytes, uploaded through the profefe API by collect's own sink (StoreSink) for pods whose
 * containers set requests and limits (targetFromPod reads them as the API server stores them):
 * the cores and in-use bytes equal the profiles' own sums, computed here from the samples (in
 * JSON; the table and header show the mean pod, the sums over the pods).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { StoreSink } from '../../src/capture/store-sink.js';
import { targetFromPod, type CaptureTarget } from '../../src/kube/pods.js';
import { encodeProfile } from '../../src/pprof/encode.js';
import { ProfefeClient } from '../../src/store/profefe/client.js';
import { buildProfile } from '../support/profile-builder.js';
import { startTestStore, type TestStore } from '../support/store-server.js';
import { runCli } from '../support/run-cli.js';

const MI = 2 ** 20;
const WINDOW = ['--from', '2026-11-01T00:00:00Z', '--to', '2026-11-01T01:00:00Z'];
const at = (minute: number) => new Date(Date.UTC(2026, 10, 1, 0, minute));

/** A pod of `service` whose container `app` requests and is limited as given (Kubernetes quantities), or sets nothing. */
function target(service: string, pod: string, resources?: { requests?: Record<string, string>; limits?: Record<string, string> }): CaptureTarget {
  return targetFromPod({
    metadata: { namespace: 'shop', name: pod, annotations: { 'profefe.com/service': service } },
    spec: { containers: [{ name: 'app', ...(resources ? { resources } : {}) }] },
    status: { phase: 'Running' },
  }) as CaptureTarget;
}

/** A CPU profile: per stack, its CPU nanoseconds (samples at 10 ms). */
interface CpuUpload {
  readonly target: CaptureTarget;
  readonly minute: number;
  readonly durationNanos: number;
  readonly stacks: readonly (readonly [stack: string, cpuNanos: number])[];
}

/** A heap snapshot: per stack, its in-use bytes. */
interface HeapUpload {
  readonly target: CaptureTarget;
  readonly minute: number;
  readonly stacks: readonly (readonly [stack: string, inuseBytes: number])[];
}

const small = { requests: { cpu: '250m', memory: '128Mi' }, limits: { cpu: '1', memory: '256Mi' } };
const api0 = target('api', 'api-0', small);
const api1 = target('api', 'api-1', small);
// Only a limit: the API server defaults the request to it (targetFromPod does too).
const worker0 = target('worker', 'worker-0', { limits: { cpu: '2' } });
const legacy0 = target('legacy', 'legacy-0');

const cpuUploads: CpuUpload[] = [
  { target: api0, minute: 1, durationNanos: 10e9, stacks: [['main.main;api.handle', 1.5e9], ['main.main;api.encode', 0.5e9]] },
  { target: api0, minute: 2, durationNanos: 10e9, stacks: [['main.main;api.handle', 2e9], ['main.main;api.encode', 1e9]] },
  { target: api1, minute: 1, durationNanos: 10e9, stacks: [['main.main;api.handle', 4e9], ['main.main;api.encode', 1e9]] },
  { target: worker0, minute: 3, durationNanos: 20e9, stacks: [['main.main;worker.run', 3e9], ['main.main;api.encode', 1e9]] },
  { target: legacy0, minute: 4, durationNanos: 10e9, stacks: [['main.main;legacy.loop', 9e9]] },
];
const heapUploads: HeapUpload[] = [
  { target: api0, minute: 1, stacks: [['main.main;api.cache', 80 * MI], ['main.main;api.buffers', 20 * MI]] },
  { target: api0, minute: 2, stacks: [['main.main;api.cache', 160 * MI], ['main.main;api.buffers', 40 * MI]] },
  { target: api1, minute: 1, stacks: [['main.main;api.cache', 50 * MI]] },
];

/** The profiles' own sums, from the chosen values: per pod its CPU nanoseconds over its duration_nanos, summed over the pods. */
function expectedCores(service: string): number {
  const pods = new Map<string, { cpu: number; duration: number }>();
  for (const u of cpuUploads.filter((u) => u.target.service === service)) {
    const p = pods.get(u.target.pod) ?? { cpu: 0, duration: 0 };
    p.cpu += u.stacks.reduce((a, [, ns]) => a + ns, 0);
    p.duration += u.durationNanos;
    pods.set(u.target.pod, p);
  }
  return [...pods.keys()].sort().reduce((a, pod) => a + pods.get(pod)!.cpu / pods.get(pod)!.duration, 0);
}

/** Per pod the average of its snapshots' in-use bytes, summed over the pods. */
function expectedInuse(service: string): number {
  const pods = new Map<string, number[]>();
  for (const u of heapUploads.filter((u) => u.target.service === service)) {
    pods.set(u.target.pod, [...(pods.get(u.target.pod) ?? []), u.stacks.reduce((a, [, b]) => a + b, 0)]);
  }
  return [...pods.values()].reduce((a, v) => a + v.reduce((x, y) => x + y, 0) / v.length, 0);
}

let dir: string;
let served: TestStore;
let env: NodeJS.ProcessEnv;

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'top-usage-'));
  served = await startTestStore(path.join(dir, 'store'));
  const client = new ProfefeClient({ baseUrl: served.server.url });
  const sink = new StoreSink(client, undefined);
  try {
    for (const u of cpuUploads) {
      const profile = buildProfile({ samples: u.stacks.map(([stack, ns]) => ({ stack, values: [ns / 1e7, ns] })), timeNanos: BigInt(at(u.minute).getTime()) * 1_000_000n, durationNanos: u.durationNanos });
      await sink.write({ target: u.target, type: 'cpu', bytes: encodeProfile(profile), takenAt: at(u.minute), samples: u.stacks.length });
    }
    for (const u of heapUploads) {
      const profile = buildProfile({
        sampleTypes: [['alloc_objects', 'count'], ['alloc_space', 'bytes'], ['inuse_objects', 'count'], ['inuse_space', 'bytes']],
        samples: u.stacks.map(([stack, bytes]) => ({ stack, values: [bytes / 1024, bytes * 3, bytes / 1024, bytes] })),
        timeNanos: BigInt(at(u.minute).getTime()) * 1_000_000n,
        durationNanos: 0,
      });
      await sink.write({ target: u.target, type: 'heap', bytes: encodeProfile(profile), takenAt: at(u.minute), samples: u.stacks.length });
    }
  } finally {
    await client.close();
  }
  env = { HOME: dir, KUBECTL_PROFEFE_HOME: path.join(dir, 'home'), PROFEFE_HOSTPORT: served.server.url };
}, 60_000);

afterAll(async () => {
  await served?.close();
  await rm(dir, { recursive: true, force: true });
});

describe('top: usage against requests', () => {
  test('the uploads carry the containers\' requests and limits', async () => {
    const metas = await served.store.find({ service: 'worker', type: 'cpu', from: at(0), to: at(60) });
    expect(metas[0]!.labels).toEqual(expect.arrayContaining([{ key: 'cpu_request', value: '2' }, { key: 'cpu_limit', value: '2' }]));
    const legacy = await served.store.find({ service: 'legacy', type: 'cpu', from: at(0), to: at(60) });
    expect(legacy[0]!.labels.map((l) => l.key)).not.toContain('cpu_request');
  });

  test('CPU: cores against requests for two services in the header, equal to the profiles\' own sums; the functions unchanged', async () => {
    const run = await runCli(['top', '--type', 'cpu', ...WINDOW, '--nodes', '0'], { env });
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(expectedCores('api')).toBe(0.75);
    expect(expectedCores('worker')).toBe(0.2);
    const lines = run.stdout.toString().split('\n').filter((l) => l.startsWith('Usage: '));
    // legacy's profiles carry no requests: no line for it. api's 2 pods: the mean pod, 0.75 / 2 cores of 0.5 / 2.
    expect(lines).toEqual([
      'Usage: api: 0.38 cores per pod of 0.25 requested (150%), limit 1, 2 pods',
      'Usage: worker: 0.20 cores of 2 requested (10%), limit 2, 1 pod',
    ]);
    // The functions as before: each service's flat the sum of its stacks' values.
    const json = JSON.parse((await runCli(['top', '--type', 'cpu', ...WINDOW, '--nodes', '0', '-o', 'json'], { env })).stdout.toString()) as { function: string; flat: number; services: Record<string, number> }[];
    const sum = (service: string, fn: string) => cpuUploads.filter((u) => u.target.service === service).flatMap((u) => u.stacks).filter(([s]) => s.endsWith(`;${fn}`)).reduce((a, [, ns]) => a + ns, 0);
    expect(json.find((r) => r.function === 'api.encode')).toEqual({ function: 'api.encode', flat: 3.5e9, cum: 3.5e9, services: { api: sum('api', 'api.encode'), legacy: 0, worker: sum('worker', 'api.encode') } });
    expect(json.find((r) => r.function === 'api.handle')!.services.api).toBe(sum('api', 'api.handle'));
  });

  test('--by-service -o json: cores over request per service, highest share first, equal to the profiles\' own sums', async () => {
    const run = await runCli(['top', '--type', 'cpu', '--by-service', ...WINDOW, '-o', 'json'], { env });
    expect(run.stderr).toBe('');
    expect(JSON.parse(run.stdout.toString())).toEqual([
      { service: 'api', cores: expectedCores('api'), requestCores: 0.5, limitCores: 2, usedOverRequest: expectedCores('api') / 0.5, usedOverLimit: expectedCores('api') / 2, pods: 2, podsWithRequest: 2, podsWithLimit: 2 },
      { service: 'worker', cores: expectedCores('worker'), requestCores: 2, limitCores: 2, usedOverRequest: expectedCores('worker') / 2, usedOverLimit: expectedCores('worker') / 2, pods: 1, podsWithRequest: 1, podsWithLimit: 1 },
      // Without requests: after those with, with its cores.
      { service: 'legacy', cores: expectedCores('legacy'), pods: 1, podsWithRequest: 0, podsWithLimit: 0 },
    ]);
  });

  test('--by-service as a table of services', async () => {
    const run = await runCli(['top', '--type', 'cpu', '--by-service', ...WINDOW], { env });
    expect(run.code).toBe(0);
    expect(run.stdout.toString()).toBe(
      [
        'Type: cpu   Window: 2026-11-01T00:00:00.000Z to 2026-11-01T01:00:00.000Z',
        'SERVICE   PODS   CORES/POD   REQUEST/POD   USED/REQUEST   LIMIT/POD',
        'api       2      0.38        0.25          150%           1',
        'worker    1      0.20        2             10%            2',
        'legacy    1      0.90        -             -              -',
        '',
      ].join('\n'),
    );
  });

  test('heap: in-use bytes (snapshots averaged per pod, summed) against the memory requests', async () => {
    const run = await runCli(['top', '--type', 'heap', '--by-service', ...WINDOW, '-o', 'json'], { env });
    expect(run.stderr).toBe('');
    // api-0: (100Mi + 200Mi) / 2, api-1: 50Mi.
    expect(expectedInuse('api')).toBe(200 * MI);
    expect(JSON.parse(run.stdout.toString())).toEqual([
      { service: 'api', inuseBytes: expectedInuse('api'), requestBytes: 256 * MI, limitBytes: 512 * MI, usedOverRequest: 200 / 256, usedOverLimit: 200 / 512, pods: 2, podsWithRequest: 2, podsWithLimit: 2 },
    ]);
    const table = await runCli(['top', '--type', 'heap', ...WINDOW], { env });
    expect(table.stdout.toString()).toContain('\nUsage: api: 100Mi in use per pod of 128Mi requested (78%), limit 256Mi, 2 pods\n');
  });

  test.each([
    ['--by-service with a type without requests', ['--type', 'goroutine', '--by-service'], /^error: --by-service ranks CPU or heap usage against requests: use it with --type cpu or heap, not goroutine$/m],
    ['--by-service with --sample-type', ['--type', 'heap', '--by-service', '--sample-type', 'alloc_space'], /^error: --by-service ranks cores \(cpu\) or in-use bytes \(heap\) whatever the sample type: leave out --sample-type$/m],
  ])('refuses %s', async (_name, args, message) => {
    const run = await runCli(['top', ...args, ...WINDOW], { env });
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(message);
  });
});
