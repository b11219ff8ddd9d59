/**
 * The store workflow end to end: capture uploads to our profefe-compatible `serve`, `get` and
 * `merge` read it back (profefe client and local store), a store that is down spools, `push`
 * uploads the spool later; real Go targets behind the sandbox API server.
 */
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { decodeProfile, sampleTypesOf } from '../../src/pprof/index.js';
import type { LocalStore } from '../../src/store/local/local-store.js';
import type { ProfefeServer } from '../../src/store/profefe/server.js';
import { startTestStore, type TestStore } from '../support/store-server.js';
import { goPprofTop } from '../support/go-pprof.js';
import { startGoTarget, type GoTarget } from '../support/go-target.js';
import { runCli } from '../support/run-cli.js';
import { startSandbox, type Sandbox } from '../support/sandbox/sandbox.js';

let go: GoTarget;
let go2: GoTarget;
let sandbox: Sandbox;
let dir: string;
let store: LocalStore;
let server: ProfefeServer;
let served: TestStore;
let env: NodeJS.ProcessEnv;

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'store-workflow-'));
  [go, go2] = await Promise.all([startGoTarget(), startGoTarget()]);
  const pod = (name: string, port: number, version: string) => ({
    namespace: 'shop',
    name,
    labels: { app: 'auth', version },
    annotations: { 'profefe.com/enable': 'true', 'profefe.com/service': 'auth' },
    nodeName: 'node-a',
    containers: [{ name: 'server', ports: [{ name: 'pprof', containerPort: 6060 }] }],
    forward: { 6060: { host: '127.0.0.1', port } },
  });
  sandbox = await startSandbox({ pods: [pod('auth-1', go.port, '1.2'), pod('auth-2', go2.port, '1.3')] });
  served = await startTestStore(path.join(dir, 'served'));
  ({ store, server } = served);
  env = { KUBECONFIG: await sandbox.writeKubeconfig({ namespace: 'shop' }), HOME: dir, KUBECTL_PROFEFE_HOME: path.join(dir, 'home') };
}, 60_000);

afterAll(async () => {
  await served?.close();
  await sandbox?.close();
  await Promise.all([go?.close(), go2?.close()]);
  await rm(dir, { recursive: true, force: true });
});

describe('capture → store → get / merge', () => {
  test('capture uploads with labels; get lists them; merge reads them back', async () => {
    const cap = await runCli(['capture', '--type', 'cpu,heap,allocs', '--seconds', '1', '--profefe-hostport', server.url, '--label-from-pod', 'version', '-o', 'json'], { env });
    const captures = JSON.parse(cap.stdout.toString()).captures;
    expect(captures.filter((c: { ok: boolean }) => !c.ok)).toEqual([]);
    expect(cap.stderr).toBe('');
    expect(cap.code).toBe(0);
    expect(captures).toHaveLength(6);
    for (const c of captures) expect(c.file).toMatch(/^profefe id [0-9a-v]{20}$/);

    const get = await runCli(['get', '--service', 'auth', '--profefe-hostport', server.url, '-o', 'json'], { env });
    expect(get.code).toBe(0);
    const metas = JSON.parse(get.stdout.toString()).items;
    expect(metas).toHaveLength(6);
    expect(metas.map((m: { type: string }) => m.type).sort()).toEqual(['cpu', 'cpu', 'heap', 'heap', 'heap', 'heap']);
    const allocs = metas.filter((m: { labels: Record<string, string> }) => m.labels.profile === 'allocs');
    expect(allocs).toHaveLength(2);
    expect(metas[0].labels).toMatchObject({ namespace: 'shop', from: 'kubectl-profefe', container: 'server', node: 'node-a' });
    expect(new Set(metas.map((m: { labels: Record<string, string> }) => m.labels.version))).toEqual(new Set(['1.2', '1.3']));

    // The table's TYPE is what --type finds: --type heap the in-use snapshots (as merge, top and open
    // take them), --type allocs the allocs deltas stored as heap, and no --type both.
    const table = await runCli(['get', '--service', 'auth', '--type', 'heap', '--profefe-hostport', server.url], { env });
    const types = table.stdout.toString().trim().split('\n').slice(1).map((l) => l.split(/ +/)[2]);
    expect(types.sort()).toEqual(['heap', 'heap']);
    const all = await runCli(['get', '--service', 'auth', '--profefe-hostport', server.url], { env });
    expect(all.stdout.toString().trim().split('\n').slice(1).map((l) => l.split(/ +/)[2]).sort()).toEqual(['allocs', 'allocs', 'cpu', 'cpu', 'heap', 'heap']);
    const allocsTable = await runCli(['get', '--service', 'auth', '--type', 'allocs', '--profefe-hostport', server.url], { env });
    expect(allocsTable.stdout.toString().trim().split('\n').slice(1).map((l) => l.split(/ +/)[2])).toEqual(['allocs', 'allocs']);

    const v13 = await runCli(['get', 'profiles', '--service', 'auth', '--profile-type', 'cpu', '--label', 'version=1.3', '--profefe-hostport', server.url, '-o', 'name'], { env });
    expect(v13.stdout.toString().trim().split('\n')).toHaveLength(1);

    const out = path.join(dir, 'auth-cpu.pb.gz');
    const merged = await runCli(['merge', '--service', 'auth', '--type', 'cpu', '--from', '1h', '--profefe-hostport', server.url, '--output-file', out], { env });
    expect(merged.code).toBe(0);
    expect(sampleTypesOf(decodeProfile(await readFile(out)))).toEqual([{ type: 'samples', unit: 'count' }, { type: 'cpu', unit: 'nanoseconds' }]);
    const top = await goPprofTop([out]);
    expect(top.rows.map((r) => r.name)).toContain('main.hashWork');

    const services = await runCli(['get', 'services', '--profefe-hostport', server.url], { env });
    expect(services.stdout.toString()).toBe('NAME\nauth\n');
  }, 60_000);

  test('get types lists the types stored, as --type names them: allocs after heap', async () => {
    const run = await runCli(['get', 'types', '--service', 'auth', '-o', 'name', '--profefe-hostport', server.url], { env });
    expect(run.stdout.toString()).toBe(['cpu', 'heap', 'allocs'].map((t) => `type/${t}\n`).join(''));
  });

  test('get profile ID downloads the stored bytes unchanged', async () => {
    const [meta] = await store.find({ service: 'auth', type: 'heap', from: new Date(0), to: new Date(Date.now() + 60_000) });
    const run = await runCli(['get', 'profile', meta!.id, '--profefe-hostport', server.url], { env });
    expect(run.code).toBe(0);
    expect(Buffer.compare(run.stdout, Buffer.from(await store.get(meta!.id)))).toBe(0);
  });

  test('without a store URL, capture saves files and the local store indexes them', async () => {
    const run = await runCli(['capture', 'auth-1', '--type', 'goroutine', '--output-dir', path.join(dir, 'files')], { env });
    expect(run.code).toBe(0);
    expect(await readdir(path.join(dir, 'files', 'auth', 'goroutine'))).toHaveLength(1);
    const get = await runCli(['get', '--service', 'auth', '--type', 'goroutine', '-o', 'json'], { env });
    expect(JSON.parse(get.stdout.toString()).items).toHaveLength(1);
  });

  test('a store that is down: profiles are spooled and the user is told where; push uploads them later', async () => {
    const closed = createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const deadUrl = `http://127.0.0.1:${(closed.address() as AddressInfo).port}`;
    await new Promise((r) => closed.close(r));

    const cap = await runCli(['capture', 'auth-1', '--type', 'heap', '--profefe-hostport', deadUrl], { env });
    // Captured, not uploaded: partial (exit 3), and the summary says where the profile waits.
    expect(cap.code).toBe(3);
    const spoolDir = path.join(dir, 'home', 'spool');
    expect(cap.stdout.toString()).toMatch(/spooled \(.*\): .*spool.*\.pb\.gz/);
    expect(cap.stdout.toString()).toContain(`1 of 1 profiles captured from 1 pod`);
    expect(cap.stdout.toString()).toContain(`1 not uploaded (store unreachable), kept in ${spoolDir}: run 'kubectl profefe push'`);
    expect((await readdir(spoolDir)).filter((f) => f.endsWith('.pb.gz'))).toHaveLength(1);

    const before = (await store.find({ service: 'auth', type: 'heap', from: new Date(0), to: new Date(Date.now() + 60_000) })).length;
    const push = await runCli(['push', '--profefe-hostport', server.url], { env });
    expect(push.code).toBe(0);
    expect(push.stdout.toString()).toMatch(/1 of 1 spooled profiles uploaded/);
    expect((await readdir(spoolDir)).filter((f) => f.endsWith('.pb.gz'))).toHaveLength(0);
    const after = (await store.find({ service: 'auth', type: 'heap', from: new Date(0), to: new Date(Date.now() + 60_000) })).length;
    expect(after).toBe(before + 1);
  }, 60_000);

  const usage: [string, string[], RegExp][] = [
    ['profiles without --service', ['get'], /get profiles needs --service/],
    ['a bad --from', ['get', '--service', 'auth', '--from', 'yesterday'], /--from: cannot read "yesterday" as a time/],
    ['an unknown type', ['get', '--service', 'auth', '--type', 'CPUs'], /--type: unknown profile type "CPUs"/],
    ['a bad label', ['get', '--service', 'auth', '--label', 'novalue'], /--label: expected key=value/],
    ['merge without --type', ['merge', '--service', 'auth'], /merging stored profiles needs --type/],
  ];
  test.each(usage)('get/merge reject %s', async (_name, args, why) => {
    const run = await runCli([...args, '--profefe-hostport', server.url], { env });
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(why);
  });

  test('get profile with an unknown id names it', async () => {
    const run = await runCli(['get', 'profile', 'c0ffee00000000000000', '--profefe-hostport', server.url], { env });
    expect(run.code).toBe(1);
    expect(run.stderr).toBe(`error: profile "c0ffee00000000000000" not found in profefe at ${server.url}\n`);
  });

  test('merge of a query with no profiles is one clear line', async () => {
    const run = await runCli(['merge', '--service', 'nobody', '--type', 'cpu', '--profefe-hostport', server.url, '--output-file', path.join(dir, 'x.pb.gz')], { env });
    expect(run.code).toBe(1);
    expect(run.stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(run.stderr).toMatch(/^error: no cpu profiles of service "nobody" between \S+ and \S+ in profefe at http:/);
  });
});
