/**
 * Sharded collectors: three real `kubectl profefe collect --once` processes (the built CLI), one
 * per shard of three (two with --shard I/N, one with --shards N and its StatefulSet ordinal in
 * POD_NAME), against the sandbox API server and real Go pprof targets, uploading to one store.
 * Together they capture every annotated pod once: none twice, none missed.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { resolveCollectOptions } from '../../src/cli/collect.js';
import { runCollector } from '../../src/collect/collector.js';
import { CollectorMetrics } from '../../src/collect/metrics.js';
import { podShard } from '../../src/collect/shard.js';
import type { LocalStore } from '../../src/store/local/local-store.js';
import type { ProfefeServer } from '../../src/store/profefe/server.js';
import { startCli } from '../support/cli-child.js';
import { startGoTarget, type GoTarget } from '../support/go-target.js';
import { startSandbox, type Sandbox, type SandboxPod } from '../support/sandbox/sandbox.js';
import { startTestStore, type TestStore } from '../support/store-server.js';
import { quietIO } from '../support/json-lines-io.js';

/** Fixed names; their shards of 3 (podShard) are 0: cart-0, index-1; 1: cart-2, ledger-0, ledger-1; 2: cart-1, index-0. */
const NAMES = [['shop', 'cart-0'], ['shop', 'cart-1'], ['shop', 'cart-2'], ['billing', 'ledger-0'], ['billing', 'ledger-1'], ['search', 'index-0'], ['search', 'index-1']] as const;
const TYPES = ['heap', 'goroutine'];

let go: GoTarget[];
let sandbox: Sandbox;
let dir: string;
let kubeconfig: string;
let store: LocalStore;
let server: ProfefeServer;
let served: TestStore;

const pod = (namespace: string, name: string, target: GoTarget, annotated = true): SandboxPod => ({
  namespace,
  name,
  podIP: '127.0.0.1',
  annotations: annotated ? { 'profefe.com/enable': 'true', 'profefe.com/port': String(target.port), 'profefe.com/service': name.replace(/-\d+$/, '') } : {},
});

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'collect-shards-'));
  go = await Promise.all([startGoTarget(), startGoTarget()]);
  sandbox = await startSandbox({
    pods: [...NAMES.map(([ns, name], i) => pod(ns, name, go[i % 2]!)), pod('shop', 'plain-0', go[0]!, false)],
  });
  kubeconfig = await sandbox.writeKubeconfig({});
  served = await startTestStore(path.join(dir, 'store'));
  ({ store, server } = served);
}, 120_000);

afterAll(async () => {
  await served?.close();
  await sandbox?.close();
  await Promise.all((go ?? []).map((g) => g.close()));
  await rm(dir, { recursive: true, force: true });
});

test('the fixed names fall in every one of the 3 shards (what the test below relies on)', () => {
  expect(new Set(NAMES.map(([ns, name]) => podShard(ns, name, 3)))).toEqual(new Set([0, 1, 2]));
});

test('three collect --once processes, one per shard, capture every annotated pod once, each with one pods list', async () => {
  sandbox.requests.length = 0;
  const common = ['collect', '--once', '--connect', 'direct', '--type', TYPES.join(','), '--profefe-hostport', server.url];
  const env = (i: number, extra: NodeJS.ProcessEnv = {}) => ({ KUBECONFIG: kubeconfig, KUBECTL_PROFEFE_HOME: path.join(dir, `home-${i}`), ...extra });
  const children = [
    startCli([...common, '--shard', '0/3', '--spool-dir', path.join(dir, 'spool-0')], env(0)),
    // A StatefulSet replica: the shard is the ordinal at the end of its pod name.
    startCli([...common, '--shards', '3', '--spool-dir', path.join(dir, 'spool-1')], env(1, { POD_NAME: 'kubectl-profefe-collector-1' })),
    startCli([...common, '--shard', '2/3', '--spool-dir', path.join(dir, 'spool-2')], env(2)),
  ];
  const exits = await Promise.all(children.map((c) => c.exited));
  expect(exits.map((e, i) => ({ shard: i, code: e.code, stderr: children[i]!.stderr() }))).toEqual([0, 1, 2].map((shard) => ({ shard, code: 0, stderr: '' })));

  const records = children.map((c) => c.stdout().trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>));
  const taken = records.map((rs) => [...new Set(rs.filter((r) => r.type).map((r) => `${r.namespace}/${r.pod}`))].sort());
  const all = NAMES.map(([ns, name]) => `${ns}/${name}`).sort();
  // Each process took exactly its shard's pods, and captured each of them once per type.
  expect(taken).toEqual([0, 1, 2].map((shard) => all.filter((key) => podShard(key.split('/')[0]!, key.split('/')[1]!, 3) === shard)));
  expect(taken.flat().sort()).toEqual(all);
  for (const rs of records) {
    const captures = rs.filter((r) => r.type).map((r) => `${r.namespace}/${r.pod} ${r.type} ${r.result}`);
    expect(captures.length).toBe(new Set(captures).size);
    for (const c of captures) expect(c).toMatch(/ ok$/);
  }
  // The round lines say which shard each process is and how many pods it took, of how many listed.
  const rounds = records.map((rs) => rs.find((r) => r.event === 'round')!);
  expect(rounds.map((r) => ({ shard: r.shard, pods: r.pods, listed: r.listed, captured: r.captured, failed: r.failed }))).toEqual(
    taken.map((pods, i) => ({ shard: `${i}/3`, pods: pods.length, listed: NAMES.length, captured: pods.length * TYPES.length, failed: 0 })),
  );

  // The store holds each pod's profiles once.
  const stored: string[] = [];
  for (const service of await store.services()) {
    for (const meta of await store.find({ service, from: new Date(0), to: new Date(Date.now() + 3_600_000) })) {
      const label = (k: string) => meta.labels.find((l) => l.key === k)?.value;
      stored.push(`${label('namespace')}/${label('pod')} ${meta.type}`);
    }
  }
  expect(stored.sort()).toEqual(all.flatMap((key) => TYPES.map((t) => `${key} ${t}`)).sort());

  // One paged pods list per process, nothing else on the API.
  expect(sandbox.requests.filter((r) => r.path.startsWith('/api')).map((r) => `${r.method} ${r.path}`)).toEqual(Array(3).fill('GET /api/v1/pods'));
}, 300_000);

test('a shard whose share is empty, while other shards have pods, ends its --once round with exit 0', async () => {
  // With 8 shards, 7 pods leave at least one shard empty.
  const empty = [0, 1, 2, 3, 4, 5, 6, 7].find((i) => NAMES.every(([ns, name]) => podShard(ns, name, 8) !== i))!;
  const env = { KUBECONFIG: kubeconfig, HOME: dir };
  const opts = resolveCollectOptions({ once: true, connect: 'direct', type: TYPES, shard: `${empty}/8`, 'profefe-hostport': server.url, 'spool-dir': path.join(dir, 'spool-empty') } as never, env);
  const result = await runCollector(opts, { env, signal: new AbortController().signal, io: quietIO() });
  expect(result.rounds[0]).toMatchObject({ pods: 0, listed: NAMES.length, captured: 0 });
  expect(result.exitCode).toBe(0);
}, 120_000);

test('the metrics say which shard a collector is and how many pods it took', () => {
  const metrics = new CollectorMetrics({ index: 2, count: 3 });
  metrics.roundPods(2, 7);
  const text = metrics.render();
  expect(text).toMatch(/^kubectl_profefe_shard_info\{shard="2",shards="3"\} 1$/m);
  expect(text).toMatch(/^kubectl_profefe_round_pods 2$/m);
  expect(text).toMatch(/^kubectl_profefe_round_pods_listed 7$/m);
  expect(new CollectorMetrics().render()).toMatch(/^kubectl_profefe_shard_info\{shard="0",shards="1"\} 1$/m);
});
