/**
 * Captures without a store URL share the local store: overlapping captures take turns indexing
 * (each holds the store only while it indexes), and while `serve` holds it, a capture indexes
 * through serve's API (found in the store's lock). Every saved profile ends up indexed, and no
 * message blames a serve that is not there.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startServeChild } from '../support/cli-child.js';
import { startGoTarget, type GoTarget } from '../support/go-target.js';
import { runCli } from '../support/run-cli.js';
import { startSandbox, type Sandbox } from '../support/sandbox/sandbox.js';

let go: GoTarget;
let go2: GoTarget;
let sandbox: Sandbox;
let dir: string;
let kubeconfig: string;

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'store-sharing-'));
  // Two processes: a Go program serves one CPU profile at a time.
  [go, go2] = await Promise.all([startGoTarget(), startGoTarget()]);
  sandbox = await startSandbox({
    pods: ['a', 'b'].map((name, i) => ({
      namespace: 'shared',
      name,
      annotations: { 'profefe.com/enable': 'true', 'profefe.com/service': `svc-${name}` },
      forward: { 6060: { host: '127.0.0.1', port: (i === 0 ? go : go2).port } },
    })),
  });
  kubeconfig = await sandbox.writeKubeconfig({ namespace: 'shared' });
}, 60_000);

afterAll(async () => {
  await sandbox?.close();
  await Promise.all([go?.close(), go2?.close()]);
  await rm(dir, { recursive: true, force: true });
});

const ids = (out: Buffer) => out.toString().trim().split('\n').filter(Boolean);

test('two overlapping captures both index every profile, with no warning', async () => {
  const env = { KUBECONFIG: kubeconfig, HOME: dir, KUBECTL_PROFEFE_HOME: path.join(dir, 'data-overlap') };
  const capture = (pod: string) => runCli(['capture', pod, '--type', 'cpu,heap', '--seconds', '1', '--output-dir', path.join(dir, 'out-overlap')], { env });
  const [a, b] = await Promise.all([capture('a'), capture('b')]);
  expect([a.code, a.stderr, b.code, b.stderr]).toEqual([0, '', 0, '']);
  for (const svc of ['svc-a', 'svc-b']) {
    const get = await runCli(['get', 'profiles', '--service', svc, '-o', 'name'], { env });
    expect(ids(get.stdout)).toHaveLength(2);
  }
}, 60_000);

test('while serve holds the local store, capture indexes through its API', async () => {
  const data = path.join(dir, 'data-serve');
  const serve = await startServeChild(path.join(data, 'store'), [], { PROFEFE_TOKEN: 'secret-token' });
  try {
    const env = { KUBECONFIG: kubeconfig, HOME: dir, KUBECTL_PROFEFE_HOME: data, PROFEFE_TOKEN: 'secret-token' };
    const run = await runCli(['capture', 'a', '--type', 'heap,goroutine', '--output-dir', path.join(dir, 'out-serve')], { env });
    expect([run.code, run.stderr]).toEqual([0, '']);
    const get = await runCli(['get', 'profiles', '--service', 'svc-a', '-o', 'name', '--profefe-hostport', serve.url], { env });
    expect(ids(get.stdout)).toHaveLength(2);
  } finally {
    serve.child.kill('SIGTERM');
    await serve.exited;
  }
}, 60_000);
