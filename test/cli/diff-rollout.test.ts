/**
 * `kubectl profefe diff --rollout` end to end: workloads rolled out in the sandbox API server (its
 * Deployments, StatefulSets and DaemonSets, as the controllers leave them), whose pods are
 * port-forwarded to real Go targets; profiles captured from them by `capture` (so their revision
 * labels are the ones really uploaded) into our store behind `serve`'s server. The rollout diff is
 * checked against `diff` over the same label sets and windows, on the same stored profiles.
 *
 * Times: revision 1 is rolled out ten minutes back, its pods captured, then revision 2 is rolled
 * out at the whole second of that moment (creationTimestamps have second precision) and its pods
 * captured. Every profile of revision 1 is then at or before the rollout and every one of revision
 * 2 at or after it, whatever the machine's speed.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { embeddedData } from '../report/browser.js';
import { startGoTarget, type GoTarget } from '../support/go-target.js';
import { runCli } from '../support/run-cli.js';
import { startSandbox, type Sandbox, type SandboxPodTemplate, type SandboxRevision } from '../support/sandbox/sandbox.js';
import { startTestStore, type TestStore } from '../support/store-server.js';

interface JsonRow {
  function: string;
  flat: number;
  cum: number;
}

interface RolloutSide {
  revision: number;
  object: string;
  label: { key: string; value: string };
  images: string[];
  from: string;
  to: string;
  services: string[];
  serviceSource: string;
  profiles: number;
}

interface RolloutJson {
  rollout: { kind: string; namespace: string; name: string; base: RolloutSide; target: RolloutSide };
  rows: JsonRow[];
}

let dir: string;
let sandbox: Sandbox;
let served: TestStore;
let env: NodeJS.ProcessEnv;
const targets: GoTarget[] = [];
let web1: SandboxRevision;
let web2: SandboxRevision;
let db1: SandboxRevision;
let db2: SandboxRevision;
let agent1: SandboxRevision;
let agent2: SandboxRevision;

const TEN_MINUTES = 10 * 60_000;
/** A revision's start: the whole second of now (a creationTimestamp has no fractions; the store's created_at neither). */
const thisSecond = () => new Date(Math.floor(Date.now() / 1000) * 1000);
const store = () => ['--profefe-hostport', served.server.url];

const template = (app: string, image: string, annotations: Record<string, string> = {}): SandboxPodTemplate => ({
  labels: { app },
  annotations: { 'profefe.com/enable': 'true', ...annotations },
  containers: [{ name: 'app', image, ports: [{ name: 'pprof', containerPort: 6060 }] }],
});
const forwardTo = (t: GoTarget) => ({ forward: { 6060: { host: '127.0.0.1', port: t.port } } });

async function start(opts: Parameters<typeof startGoTarget>[0]): Promise<GoTarget> {
  const t = await startGoTarget(opts);
  targets.push(t);
  return t;
}

/** Captures every profile of `type` of the app's running pods into the store; fails the test on any error. */
async function capture(app: string, type: string): Promise<void> {
  const run = await runCli(['capture', '-l', `app=${app}`, '--type', type, '--seconds', '2', ...store(), '-o', 'json'], { env });
  const summary = JSON.parse(run.stdout.toString()) as { captures: { ok: boolean }[] };
  expect({ code: run.code, stderr: run.stderr }).toEqual({ code: 0, stderr: '' });
  expect(summary.captures.length).toBeGreaterThan(0);
  expect(summary.captures.every((c) => c.ok)).toBe(true);
}

async function rolloutJson(args: string[]): Promise<RolloutJson> {
  const run = await runCli(['diff', ...args, ...store(), '-o', 'json', '--nodes', '0'], { env });
  expect(run.stderr).toBe('');
  expect(run.code).toBe(0);
  return JSON.parse(run.stdout.toString()) as RolloutJson;
}

/** `diff` over the label sets and windows a rollout diff says it compared. */
async function plainDiff(r: RolloutJson, type: string, service: string, extra: string[] = []): Promise<JsonRow[]> {
  const { base, target } = r.rollout;
  const label = (s: RolloutSide) => [`namespace=${r.rollout.namespace}`, `${s.label.key}=${s.label.value}`];
  const run = await runCli(
    [
      'diff', '--service', service, '--type', type,
      ...label(base).flatMap((l) => ['--base-label', l]), '--base-from', base.from, '--base-to', base.to,
      ...label(target).flatMap((l) => ['--label', l]), '--from', target.from, '--to', target.to,
      ...store(), '-o', 'json', '--nodes', '0', ...extra,
    ],
    { env },
  );
  expect(run.stderr).toBe('');
  expect(run.code).toBe(0);
  return JSON.parse(run.stdout.toString()) as JsonRow[];
}

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'diff-rollout-'));
  served = await startTestStore(path.join(dir, 'store'));
  sandbox = await startSandbox();
  env = { KUBECONFIG: await sandbox.writeKubeconfig({ dir, namespace: 'shop' }), HOME: dir };
  const tenMinutesAgo = new Date(Date.now() - TEN_MINUTES);

  // Deployment web: revision 1 spreads a little CPU over four functions (hashWork the most, 8/15);
  // revision 2 is "a build that spends more CPU in one function": the same, and main.hotPath for
  // sixty times hashWork's time, over 95% of its CPU. No chance in the ranking: hotPath's growth is
  // many times any other change, however the machine shares its cores.
  const v1 = await Promise.all([start({ load: 0.1 }), start({ load: 0.1 })]);
  web1 = sandbox.addDeployment({ namespace: 'shop', name: 'web', template: template('web', 'registry.example/web:1.0', { 'profefe.com/service': 'web' }),
    replicas: 2, at: tenMinutesAgo, pods: ({ index }) => forwardTo(v1[index]!) });
  // StatefulSet db and DaemonSet agent: each pod its own service (no annotation), idle targets, goroutine snapshots.
  const idle = await start({ load: 0 });
  db1 = sandbox.addStatefulSet({ namespace: 'shop', name: 'db', template: template('db', 'registry.example/db:1.0'), replicas: 1, at: tenMinutesAgo, pods: () => forwardTo(idle) });
  agent1 = sandbox.addDaemonSet({ namespace: 'shop', name: 'agent', template: template('agent', 'registry.example/agent:1.0'), at: tenMinutesAgo, pods: () => forwardTo(idle) });
  await Promise.all([capture('web', 'cpu'), capture('db', 'goroutine'), capture('agent', 'goroutine')]);
  await Promise.all(v1.map((t) => t.close()));

  const rolledAt = thisSecond();
  const v2 = await Promise.all([start({ load: 0.1, hotLoad: 60 }), start({ load: 0.1, hotLoad: 60 })]);
  web2 = sandbox.rollDeployment('shop', 'web', template('web', 'registry.example/web:2.0', { 'profefe.com/service': 'web' }), { at: rolledAt, pods: ({ index }) => forwardTo(v2[index]!) });
  db2 = sandbox.rollStatefulSet('shop', 'db', template('db', 'registry.example/db:2.0'), { at: rolledAt, pods: () => forwardTo(idle) });
  agent2 = sandbox.rollDaemonSet('shop', 'agent', template('agent', 'registry.example/agent:2.0'), { at: rolledAt, pods: () => forwardTo(idle) });
  await Promise.all([capture('web', 'cpu'), capture('db', 'goroutine'), capture('agent', 'goroutine')]);
  await Promise.all(v2.map((t) => t.close()));

  // Workloads for the failures: one revision only; two, with nothing stored of either.
  sandbox.addDeployment({ namespace: 'shop', name: 'once', template: template('once', 'registry.example/once:1.0'), at: tenMinutesAgo });
  sandbox.addDeployment({ namespace: 'shop', name: 'quiet', template: template('quiet', 'registry.example/quiet:1.0', { 'profefe.com/service': 'quiet' }), at: tenMinutesAgo });
  sandbox.rollDeployment('shop', 'quiet', template('quiet', 'registry.example/quiet:2.0', { 'profefe.com/service': 'quiet' }), { at: rolledAt });
}, 180_000);

afterAll(async () => {
  await Promise.all(targets.map((t) => t.close()));
  await sandbox?.close();
  await served?.close();
  await rm(dir, { recursive: true, force: true });
});

describe('diff --rollout', () => {
  test('capture uploads each profile with its pod revision label', async () => {
    const metas = await served.store.find({ service: 'web', type: 'cpu', from: new Date(0), to: new Date(Date.now() + 60_000) });
    const hashes = metas.map((m) => m.labels.find((l) => l.key === 'pod-template-hash')?.value).sort();
    expect(hashes).toEqual([web1.hash, web1.hash, web2.hash, web2.hash].sort());
    const db = await served.store.find({ service: 'db-0', type: 'goroutine', from: new Date(0), to: new Date(Date.now() + 60_000) });
    expect(db.map((m) => m.labels.find((l) => l.key === 'controller-revision-hash')?.value).sort()).toEqual([db1.hash, db2.hash].sort());
    // A DaemonSet's pods carry the bare hash, not the ControllerRevision's name.
    expect(agent1.hash).not.toBe(agent1.name);
  });

  test('ranks the function the new build spends its CPU in first, with the numbers of diff over the same label sets and windows', async () => {
    const rollout = await rolloutJson(['--rollout', 'deployment/web']);
    expect(rollout.rollout).toMatchObject({
      kind: 'Deployment', namespace: 'shop', name: 'web',
      base: { revision: 1, object: web1.name, label: { key: 'pod-template-hash', value: web1.hash }, images: ['registry.example/web:1.0'], services: ['web'], serviceSource: 'annotation', profiles: 2 },
      target: { revision: 2, object: web2.name, label: { key: 'pod-template-hash', value: web2.hash }, images: ['registry.example/web:2.0'], services: ['web'], serviceSource: 'annotation', profiles: 2 },
    });
    // The hour before the rollout (revision 1 started ten minutes before it), and from the rollout to now.
    expect(rollout.rollout.base.from).toBe(web1.at.replace('Z', '.000Z'));
    expect(rollout.rollout.base.to).toBe(web2.at.replace('Z', '.000Z'));
    expect(rollout.rollout.target.from).toBe(web2.at.replace('Z', '.000Z'));

    expect(rollout.rows[0]!.function).toBe('main.hotPath');
    expect(rollout.rows[0]!.flat).toBeGreaterThan(0);
    // Revision 1 never ran it: all of its flat is the target's, and it outweighs any other change by far.
    const others = rollout.rows.slice(1).map((r) => Math.abs(r.flat));
    expect(rollout.rows[0]!.flat).toBeGreaterThan(3 * Math.max(...others));

    expect(rollout.rows).toEqual(await plainDiff(rollout, 'cpu', 'web'));
  }, 60_000);

  test('the workload as `kubectl get -o name` prints it (deployment.apps/web) is the same rollout', async () => {
    const r = await rolloutJson(['--rollout', 'deployment.apps/web']);
    expect(r.rollout).toMatchObject({ kind: 'Deployment', name: 'web', base: { revision: 1, object: web1.name }, target: { revision: 2, object: web2.name } });
    expect(r.rows).toEqual((await rolloutJson(['--rollout', 'deployment/web'])).rows);
  }, 60_000);

  test('--revision 2 (kubectl rollout history\'s one number): 2 against the revision before it, as the default here', async () => {
    const one = await rolloutJson(['--rollout', 'deployment/web', '--revision', '2']);
    const both = await rolloutJson(['--rollout', 'deployment/web', '--revision', '1..2']);
    expect([one.rollout.base.revision, one.rollout.target.revision]).toEqual([1, 2]);
    expect(one.rows).toEqual(both.rows);
  }, 60_000);

  test('--revision 2..1 swaps the sides: the same changes, negated', async () => {
    const forward = await rolloutJson(['--rollout', 'deployment/web', '--normalize=false']);
    const back = await rolloutJson(['--rollout', 'deploy/web', '--revision', '2..1', '--normalize=false']);
    expect(back.rollout.base.revision).toBe(2);
    expect(back.rollout.target.revision).toBe(1);
    // Revision 1's first hour ends when revision 2 started; revision 2's last hour is the one up to now.
    expect(back.rollout.target.from).toBe(web1.at.replace('Z', '.000Z'));
    expect(back.rollout.target.to).toBe(web2.at.replace('Z', '.000Z'));
    expect(back.rows.find((r) => r.function === 'main.hotPath')!.flat).toBe(-forward.rows.find((r) => r.function === 'main.hotPath')!.flat);
    expect(back.rows).toEqual(await plainDiff(back, 'cpu', 'web', ['--normalize=false']));
  }, 60_000);

  test('the table says which revisions, hashes, images and windows were compared and how many profiles each side has', async () => {
    const run = await runCli(['diff', '--rollout', 'deployment/web', '-n', 'shop', ...store()], { env });
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const lines = run.stdout.toString().split('\n');
    expect(lines[0]).toBe('Rollout: deployment/web in namespace shop, revision 1 against revision 2');
    expect(lines[1]).toMatch(new RegExp(`^Base revision 1: pod-template-hash=${web1.hash} \\(ReplicaSet ${web1.name}\\), image registry\\.example/web:1\\.0, \\S+ to \\S+, 2 profiles of service "web"$`));
    expect(lines[2]).toMatch(new RegExp(`^Target revision 2: pod-template-hash=${web2.hash} \\(ReplicaSet ${web2.name}\\), image registry\\.example/web:2\\.0, \\S+ to \\S+, 2 profiles of service "web"$`));
    expect(lines[3]).toBe('Type: cpu');
    expect(run.stdout.toString()).toMatch(/^\s*\+\S+\s+\S+%\s+\S+%\s+\+\S+\s+\S+%\s+main\.hotPath$/m);
  }, 60_000);

  test('a StatefulSet by its ControllerRevisions: pods without a service annotation are their own service', async () => {
    const r = await rolloutJson(['--rollout', 'statefulset/db', '--type', 'goroutine']);
    expect(r.rollout).toMatchObject({
      kind: 'StatefulSet',
      base: { revision: 1, object: db1.name, label: { key: 'controller-revision-hash', value: db1.name }, services: ['db-0'], serviceSource: 'pods', profiles: 1 },
      target: { revision: 2, object: db2.name, label: { key: 'controller-revision-hash', value: db2.name }, services: ['db-0'], serviceSource: 'pods', profiles: 1 },
    });
    expect(r.rows).toEqual(await plainDiff(r, 'goroutine', 'db-0'));
  }, 60_000);

  test('a DaemonSet by the bare hash its pods carry', async () => {
    const r = await rolloutJson(['--rollout', 'ds/agent', '--type', 'goroutine']);
    expect(r.rollout.base).toMatchObject({ revision: 1, label: { key: 'controller-revision-hash', value: agent1.hash }, services: [agent1.pods[0]], profiles: 1 });
    expect(r.rollout.target).toMatchObject({ revision: 2, label: { key: 'controller-revision-hash', value: agent2.hash }, services: [agent2.pods[0]], profiles: 1 });
    // Each side is the pod of its revision (a DaemonSet's new pods have new names), one snapshot
    // each: the same changes as diff of the two stored profiles by id.
    const id = async (pod: string) => {
      const metas = await served.store.find({ service: pod, type: 'goroutine', from: new Date(0), to: new Date(Date.now() + 60_000) });
      expect(metas).toHaveLength(1);
      return metas[0]!.id;
    };
    const run = await runCli(['diff', await id(agent1.pods[0]!), await id(agent2.pods[0]!), ...store(), '-o', 'json', '--nodes', '0'], { env });
    expect(run.code).toBe(0);
    expect(r.rows).toEqual(JSON.parse(run.stdout.toString()));
  }, 60_000);

  test('-o html writes the differential flame graph page, titled with the revisions', async () => {
    const file = path.join(dir, 'rollout.html');
    const run = await runCli(['diff', '--rollout', 'deployment/web', '-o', 'html', '--output-file', file, '--no-browser', ...store()], { env });
    expect(run.code).toBe(0);
    const data = embeddedData(await readFile(file, 'utf8'));
    expect(JSON.stringify(data)).toContain('deployment/web in shop: cpu, revision 1 against revision 2');
  }, 60_000);
});

describe('diff --rollout failures, in kubectl\'s words and with what to do', () => {
  test.each([
    ['a workload that does not exist', ['--rollout', 'deployment/nope'], 1, /^error: deployments\.apps "nope" not found in namespace "shop"\n$/],
    ['a StatefulSet that does not exist', ['--rollout', 'sts/nope', '-n', 'other'], 1, /^error: statefulsets\.apps "nope" not found in namespace "other"\n$/],
    ['one revision only', ['--rollout', 'deployment/once'], 1, /^error: deployment\/once has only revision 1: a rollout diff needs two/],
    ['a revision it has not', ['--rollout', 'deployment/web', '--revision', '1..7'], 1, /^error: deployment\/web has no revision 7 \(it has 1, 2; kubectl rollout history deployment\/web lists them\)\n$/],
    [
      'a revision with no profiles',
      ['--rollout', 'deployment/quiet'],
      1,
      /^error: no cpu profiles of revision 1 of deployment\/quiet \(pod-template-hash=\w+, namespace shop\) from \S+ to \S+: service "quiet" in profefe at \S+ has none\. capture and collect label uploads with pod-template-hash from this version of kubectl-profefe on, and older profiles have no such label: capture the revision's pods while it runs \(kubectl profefe capture -n shop -l pod-template-hash=\w+\), or compare by time: kubectl profefe diff --service quiet --type cpu --base-from TIME --base-to TIME --from TIME --to TIME\n$/,
    ],
    ['a pod', ['--rollout', 'pod/web-1'], 2, /^error: --rollout takes deployment\/NAME, statefulset\/NAME or daemonset\/NAME, not pods\n/],
    ['a bare name', ['--rollout', 'web'], 2, /^error: --rollout needs TYPE\/NAME/],
    ['windows of its own', ['--rollout', 'deployment/web', '--from', '1h'], 2, /^error: --from does not apply with --rollout/],
    ['all namespaces', ['--rollout', 'deployment/web', '-A'], 2, /^error: -A\/--all-namespaces does not apply with --rollout/],
    ['an empty window', ['--rollout', 'deployment/web', '--window', '0'], 2, /^error: --window must be longer than 0/],
    ['the same revision twice', ['--rollout', 'deployment/web', '--revision', '2..2'], 2, /^error: --revision 2\.\.2: base and target are the same revision/],
    ['one revision with none before it', ['--rollout', 'deployment/web', '--revision', '1'], 1, /^error: deployment\/web has no revision before 1 \(it has 1, 2\): name both, like --revision 1\.\.2\n$/],
    ['not a revision', ['--rollout', 'deployment/web', '--revision', '2..'], 2, /^error: --revision: expected BASE\.\.TARGET, two revision numbers \(like 3\.\.5\), or one \(5: against the revision before it\), got "2\.\."/],
    ['a namespace without --rollout', ['a.pb.gz', 'b.pb.gz', '-n', 'shop'], 2, /^error: --namespace only applies with --rollout/],
    ['--window without --rollout', ['a.pb.gz', 'b.pb.gz', '--window', '1h'], 2, /^error: --window only applies with --rollout/],
  ])('%s', async (_what, args, code, stderr) => {
    const run = await runCli(['diff', ...args, ...store()], { env });
    expect(run.stderr).toMatch(stderr);
    expect(run.code).toBe(code);
    expect(run.stdout.toString()).toBe('');
  });
});
