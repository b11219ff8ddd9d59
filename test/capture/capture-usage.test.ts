/**
 * Usage against requests from real captures: pods of the sandbox API server whose containers set
 * requests and limits (as the API server stores them), port-forwarded to real Go programs. The
 * capture summary's cores and in-use bytes, and then `top`'s over what capture indexed, are
 * checked against the saved profiles' own sums computed here apart from our code: the totals of
 * the real `go tool pprof -top`, the duration_nanos read with pprof-format.
 */
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { Profile } from 'pprof-format';
import { formatCores, formatInuseBytes } from '../../src/report/usage-report.js';
import { goPprofTop } from '../support/go-pprof.js';
import { startGoTarget, type GoTarget } from '../support/go-target.js';
import { startSandbox, type Sandbox, type SandboxContainer, type SandboxPod } from '../support/sandbox/sandbox.js';
import { runCli } from '../support/run-cli.js';

const MI = 2 ** 20;
// One Go process per pod: Go serves one CPU profile at a time, and all pods are captured at once.
let targets: GoTarget[] = [];
let sandbox: Sandbox;
let kubeconfig: string;
let dir: string;
const started = new Date();

const pod = (name: string, service: string, target: GoTarget, resources?: SandboxContainer['resources']): SandboxPod => ({
  namespace: 'shop',
  name,
  labels: { app: service },
  annotations: { 'profefe.com/enable': 'true', 'profefe.com/service': service },
  containers: [{ name: 'app', ports: [{ name: 'pprof', containerPort: 6060 }], ...(resources ? { resources } : {}) }],
  forward: { 6060: { host: '127.0.0.1', port: target.port } },
});

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'capture-usage-'));
  targets = await Promise.all([startGoTarget(), startGoTarget(), startGoTarget(), startGoTarget()]);
  sandbox = await startSandbox({
    pods: [
      // Written as people write them; the sandbox stores them canonical ('0.25' -> '250m').
      pod('api-0', 'api', targets[0]!, { requests: { cpu: '0.25', memory: '64Mi' }, limits: { cpu: '1', memory: '256Mi' } }),
      pod('api-1', 'api', targets[1]!, { requests: { cpu: '250m', memory: '64Mi' }, limits: { cpu: '1', memory: '256Mi' } }),
      // A limit only: the API server defaults the request to it.
      pod('worker-0', 'worker', targets[2]!, { limits: { cpu: '500m', memory: '128Mi' } }),
      pod('bare-0', 'bare', targets[3]!),
    ],
  });
  kubeconfig = await sandbox.writeKubeconfig({ namespace: 'shop' });
}, 60_000);

afterAll(async () => {
  await sandbox?.close();
  await Promise.all(targets.map((t) => t.close()));
  await rm(dir, { recursive: true, force: true });
});

/** The capture's own numbers, apart from our code: go tool pprof's total, pprof-format's duration_nanos. */
async function ownSums(file: string): Promise<{ cpuNanos: number; durationNanos: number; inuseBytes?: number }> {
  const p = Profile.decode(gunzipSync(await readFile(file)));
  const types = p.sampleType.map((t) => p.stringTable.strings[Number(t.type)]);
  const durationNanos = Number(p.durationNanos);
  if (types.includes('cpu')) return { cpuNanos: (await goPprofTop([file], { sampleIndex: 'cpu' })).total, durationNanos };
  return { cpuNanos: 0, durationNanos, inuseBytes: (await goPprofTop([file], { sampleIndex: 'inuse_space' })).total };
}

interface CaptureJson {
  pod: string;
  service: string;
  type: string;
  ok: boolean;
  file: string;
  usage?: Record<string, number>;
}

describe('capture and top: usage against requests from real Go targets', () => {
  const home = () => path.join(dir, 'home');
  const env = () => ({ KUBECONFIG: kubeconfig, HOME: dir, KUBECTL_PROFEFE_HOME: home() });
  let captures: CaptureJson[];

  beforeAll(async () => {
    const run = await runCli(['capture', '--type', 'cpu,heap', '--seconds', '1', '--output-dir', path.join(dir, 'out'), '-o', 'json'], { env: env() });
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    captures = JSON.parse(run.stdout.toString()).captures;
  }, 60_000);

  test('capture -o json: cores over the profile\'s duration and in-use bytes, next to the container\'s requests and limits', async () => {
    expect(captures.map((c) => [c.pod, c.type, c.ok])).toEqual([
      ['api-0', 'cpu', true], ['api-0', 'heap', true], ['api-1', 'cpu', true], ['api-1', 'heap', true],
      ['bare-0', 'cpu', true], ['bare-0', 'heap', true], ['worker-0', 'cpu', true], ['worker-0', 'heap', true],
    ]);
    const expected: Record<string, { cpu: [number, number]; memory: [number, number] }> = {
      'api-0': { cpu: [0.25, 1], memory: [64 * MI, 256 * MI] },
      'api-1': { cpu: [0.25, 1], memory: [64 * MI, 256 * MI] },
      'worker-0': { cpu: [0.5, 0.5], memory: [128 * MI, 128 * MI] },
    };
    for (const c of captures) {
      const own = await ownSums(c.file);
      if (c.pod === 'bare-0') {
        // No requests, no limits: nothing to set the usage against.
        expect(c.usage).toBeUndefined();
        continue;
      }
      if (c.type === 'cpu') {
        expect(own.durationNanos).toBeGreaterThan(0);
        const cores = own.cpuNanos / own.durationNanos;
        const [request, limit] = expected[c.pod]!.cpu;
        expect(c.usage).toEqual({ cores, requestCores: request, limitCores: limit, usedOverRequest: cores / request, usedOverLimit: cores / limit });
      } else {
        const [request, limit] = expected[c.pod]!.memory;
        expect(own.inuseBytes).toBeGreaterThan(0);
        expect(c.usage).toEqual({ inuseBytes: own.inuseBytes, requestBytes: request, limitBytes: limit, usedOverRequest: own.inuseBytes! / request, usedOverLimit: own.inuseBytes! / limit });
      }
    }
  });

  test('the profiles were indexed with the resources as labels', async () => {
    const run = await runCli(['get', 'profiles', '--service', 'worker', '--type', 'cpu', '--from', started.toISOString(), '-o', 'json'], { env: env() });
    expect(run.code).toBe(0);
    const [item] = JSON.parse(run.stdout.toString()).items as { labels: Record<string, string> }[];
    // The limit only, as the API server stores it: the request defaulted to the limit.
    expect(item!.labels).toMatchObject({ cpu_request: '500m', cpu_limit: '500m', memory_request: String(128 * MI), memory_limit: String(128 * MI) });
  });

  test('top: cores and in-use bytes per service equal the captured profiles\' own sums', async () => {
    const to = new Date(Date.now() + 60_000).toISOString();
    const cpu = await runCli(['top', '--type', 'cpu', '--by-service', '--from', started.toISOString(), '--to', to, '-o', 'json'], { env: env() });
    expect(cpu.stderr).toBe('');
    const rows = JSON.parse(cpu.stdout.toString()) as ({ service: string; cores: number; requestCores?: number; limitCores?: number; pods: number })[];
    const perService = async (service: string) => {
      // Per pod its CPU over its profile's duration, summed over the pods in pod order (the cores rule).
      let cores = 0;
      for (const c of captures.filter((x) => x.service === service && x.type === 'cpu').sort((a, b) => (a.pod < b.pod ? -1 : 1))) {
        const own = await ownSums(c.file);
        cores += own.cpuNanos / own.durationNanos;
      }
      return cores;
    };
    const api = rows.find((r) => r.service === 'api')!;
    expect(api).toMatchObject({ cores: await perService('api'), requestCores: 0.5, limitCores: 2, pods: 2 });
    expect(rows.find((r) => r.service === 'worker')).toMatchObject({ cores: await perService('worker'), requestCores: 0.5, limitCores: 0.5, pods: 1 });
    expect(rows.find((r) => r.service === 'bare')).toEqual({ service: 'bare', cores: await perService('bare'), pods: 1, podsWithRequest: 0, podsWithLimit: 0 });

    const heap = await runCli(['top', '--type', 'heap', '--by-service', '--from', started.toISOString(), '--to', to, '-o', 'json'], { env: env() });
    const heapRows = JSON.parse(heap.stdout.toString()) as { service: string; inuseBytes: number; requestBytes?: number }[];
    let inuse = 0;
    for (const c of captures.filter((x) => x.service === 'api' && x.type === 'heap')) inuse += (await ownSums(c.file)).inuseBytes!;
    expect(heapRows.find((r) => r.service === 'api')).toMatchObject({ inuseBytes: inuse, requestBytes: 128 * MI });

    // The table's header line says the same for the services whose profiles carry requests.
    const table = await runCli(['top', '--type', 'cpu', '--from', started.toISOString(), '--to', to], { env: env() });
    const lines = table.stdout.toString().split('\n').filter((l) => l.startsWith('Usage: '));
    expect(lines.map((l) => l.split(':')[1]!.trim())).toEqual(['api', 'worker']);
    // The header shows the mean pod: half the two pods' cores, of each one's 0.25 requested.
    expect(lines[0]).toMatch(new RegExp(`^Usage: api: ${formatCores(api.cores / 2).replace('.', '\\.')} cores per pod of 0\\.25 requested \\(\\d+%\\), limit 1, 2 pods$`));
  }, 60_000);

  test('capture\'s table: a USAGE column, the share of the request computed from the profile', async () => {
    const run = await runCli(['capture', 'api-0', '--type', 'cpu,heap,goroutine', '--seconds', '1', '--output-dir', path.join(dir, 'table'), '--store-dir', path.join(dir, 'table-store')], { env: env() });
    expect(run.code).toBe(0);
    const lines = run.stdout.toString().split('\n');
    expect(lines[0]).toMatch(/^NAMESPACE\s+POD\s+SERVICE\s+TYPE\s+SIZE\s+SAMPLES\s+USAGE\s+RESULT$/);
    const cells = (type: string) => lines.find((l) => l.split(/\s{3,}/)[3] === type)!.split(/\s{3,}/);
    const cpu = cells('cpu');
    const own = await ownSums(path.join(dir, 'table', 'api', 'cpu', (await readdir(path.join(dir, 'table', 'api', 'cpu')))[0]!));
    const cores = own.cpuNanos / own.durationNanos;
    expect(cpu[6]).toBe(`${formatCores(cores)} cores of 0.25 requested (${Math.round((cores / 0.25) * 100)}%), limit 1`);
    const heapFile = path.join(dir, 'table', 'api', 'heap', (await readdir(path.join(dir, 'table', 'api', 'heap')))[0]!);
    const heapOwn = await ownSums(heapFile);
    expect(cells('heap')[6]).toBe(`${formatInuseBytes(heapOwn.inuseBytes!)} in use of 64Mi requested (${Math.round((heapOwn.inuseBytes! / (64 * MI)) * 100)}%), limit 256Mi`);
    expect(cells('goroutine')[6]).toBe('-');
  }, 60_000);
});
