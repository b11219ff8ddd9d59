/**
 * allocs, block and mutex are captured as deltas over the capture window: Go's own
 * (`?seconds=N`, labelled delta=server), or, from a pod that serves cumulative profiles for
 * `?seconds` (Go < 1.16) or refuses the window (a WriteTimeout shorter than it), computed by us
 * (delta=client). Real Go processes behind the sandbox API server; the client deltas are checked
 * with `go tool pprof -base` on the very profiles the pod served (the target dumps them).
 */
import { mkdir, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { runCli } from '../support/run-cli.js';
import { goPprofTop } from '../support/go-pprof.js';
import { startGoTarget, type GoTarget } from '../support/go-target.js';
import { startSandbox, type Sandbox, type SandboxPod } from '../support/sandbox/sandbox.js';
import { startTestStore, type TestStore } from '../support/store-server.js';
import { decodeProfile } from '../../src/pprof/index.js';
import { resolveCaptureOptions, runCapture } from '../../src/cli/capture.js';
import { resolveKubeAccess } from '../../src/kube/kubeconfig.js';

let dir: string;
let modern: GoTarget;
let legacy: GoTarget;
let strict: GoTarget;
let sandbox: Sandbox;
let kubeconfig: string;
let served: TestStore;

const dumps = (name: string) => path.join(dir, 'dumps', name);

const pod = (name: string, target: GoTarget): SandboxPod => ({
  namespace: 'shop',
  name,
  labels: { app: name },
  annotations: { 'profefe.com/enable': 'true', 'profefe.com/service': name.replace(/-\d+$/, '') },
  containers: [{ name: 'app', ports: [{ name: 'pprof', containerPort: 6060 }] }],
  forward: { 6060: { host: '127.0.0.1', port: target.port } },
});

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'deltas-'));
  await Promise.all(['legacy', 'strict'].map((d) => mkdir(dumps(d), { recursive: true })));
  [modern, legacy, strict] = await Promise.all([
    startGoTarget(),
    startGoTarget({ legacySeconds: true, dumpDir: dumps('legacy') }),
    startGoTarget({ writeTimeoutMs: 500, dumpDir: dumps('strict') }),
  ]);
  sandbox = await startSandbox({ pods: [pod('modern-1', modern), pod('legacy-1', legacy), pod('strict-1', strict)] });
  kubeconfig = await sandbox.writeKubeconfig({ namespace: 'shop' });
  served = await startTestStore(path.join(dir, 'store'));
}, 60_000);

afterAll(async () => {
  await served?.close();
  await sandbox?.close();
  await Promise.all([modern?.close(), legacy?.close(), strict?.close()]);
  await rm(dir, { recursive: true, force: true });
});

const env = () => ({ KUBECONFIG: kubeconfig, HOME: dir, KUBECTL_PROFEFE_HOME: path.join(dir, 'home') });
const SAMPLE_TYPES: Record<string, string[]> = { allocs: ['alloc_space', 'alloc_objects'], block: ['delay', 'contentions'], mutex: ['delay', 'contentions'] };

async function savedFiles(outDir: string, service: string): Promise<Map<string, string>> {
  const files = new Map<string, string>();
  for (const type of ['allocs', 'block', 'mutex']) {
    const names = (await readdir(path.join(outDir, service, type))).filter((f) => f.endsWith('.pb.gz'));
    expect(names).toHaveLength(1);
    files.set(type, path.join(outDir, service, type, names[0]!));
  }
  return files;
}

describe('deltas of cumulative profiles', () => {
  test('Go >= 1.16 serves them: the files say delta-server, and each covers the window', async () => {
    const outDir = path.join(dir, 'out-modern');
    const run = await runCli(['capture', 'modern-1', '--type', 'allocs,block,mutex', '--seconds', '1', '--output-dir', outDir], { env: env() });
    expect(run.code).toBe(0);
    for (const [, file] of await savedFiles(outDir, 'modern')) {
      expect(path.basename(file)).toMatch(/\.delta-server\.pb\.gz$/);
      // serveDeltaProfile sets the duration to the time between its two readings: about a second.
      const p = decodeProfile(await readFile(file));
      expect(Number(p.durationNanos)).toBeGreaterThanOrEqual(1e9);
    }
  }, 30_000);

  test.each([
    ['ignores ?seconds (Go < 1.16)', 'legacy-1', 'legacy'],
    ['refuses the window (WriteTimeout shorter than it: 400)', 'strict-1', 'strict'],
  ])('a pod that %s gets a client delta: end minus start, as go tool pprof -base computes it', async (_name, podName, service) => {
    const outDir = path.join(dir, `out-${service}`);
    const run = await runCli(['capture', podName, '--type', 'allocs,block,mutex', '--seconds', '1', '--output-dir', outDir], { env: env() });
    expect(run.code).toBe(0);
    for (const [type, file] of await savedFiles(outDir, service)) {
      expect(path.basename(file)).toMatch(/\.delta-client\.pb\.gz$/);
      // The two cumulative profiles the pod served, in order (the 400 is not dumped).
      const served = (await readdir(dumps(service))).filter((f) => f.startsWith(`${type}-`)).sort();
      expect(served).toEqual([`${type}-001.pb.gz`, `${type}-002.pb.gz`]);
      const [start, end] = served.map((f) => path.join(dumps(service), f)) as [string, string];
      for (const sampleIndex of SAMPLE_TYPES[type]!) {
        const ours = await goPprofTop([file], { sampleIndex });
        const go = await goPprofTop([end], { sampleIndex, extraArgs: [`-base=${start}`] });
        expect({ type, sampleIndex, rows: ours.rows, total: ours.total }).toEqual({ type, sampleIndex, rows: go.rows, total: go.total });
      }
    }
  }, 30_000);

  test('a server delta may take the whole window plus the grace time, like a CPU profile', async () => {
    // The grace is shorter than the window: before deltas had their own timeout, a delta request
    // was allowed only max(grace, window), which a server delta (the window and a little) always
    // outlasts. Window plus grace leaves 4.5 s for that little, even on a loaded machine.
    const opts = resolveCaptureOptions({ pods: ['modern-1'], type: ['allocs'], seconds: 5, 'output-dir': path.join(dir, 'out-grace') }, env());
    const result = await runCapture({ ...opts, graceMs: 4500 }, { env: env(), access: resolveKubeAccess(opts.kube, env()) });
    expect(result.outcomes).toMatchObject([{ type: 'allocs', ok: true }]);
  }, 60_000);

  test('uploads say which delta they are: delta=server or delta=client, and allocs also profile=allocs', async () => {
    const run = await runCli(['capture', 'modern-1', 'legacy-1', '--type', 'allocs,block,heap', '--seconds', '1', '--profefe-hostport', served.server.url], { env: env() });
    expect(run.code).toBe(0);
    const found = async (service: string) =>
      (await served.store.find({ service, from: new Date(0), to: new Date(Date.now() + 60_000) })).map((m) => ({
        type: m.type,
        labels: Object.fromEntries(m.labels.filter((l) => l.key === 'delta' || l.key === 'profile').map((l) => [l.key, l.value])),
      }));
    const expected = (delta: string) =>
      expect.arrayContaining([
        { type: 'heap', labels: { delta, profile: 'allocs' } },
        { type: 'block', labels: { delta } },
        { type: 'heap', labels: {} },
      ]);
    expect(await found('modern')).toEqual(expected('server'));
    expect(await found('legacy')).toEqual(expected('client'));
    expect(await found('modern')).toHaveLength(3);
  }, 30_000);
});
