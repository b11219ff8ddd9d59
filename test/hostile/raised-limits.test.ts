/**
 * The decode limits as users raise them, through the built CLI (child processes): a profile over
 * the default --max-inflated-size or --max-samples fails with a line naming the flag in capture,
 * collect and serve (its checker threads), and the same bytes pass once the flag is raised, all
 * the way into the store (the local store's own check, serve's merge route).
 */
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startCli, startServeChild } from '../support/cli-child.js';
import { startHostilePod, type HostilePod } from '../support/hostile-pod.js';
import { largeStringProfile, manySamplesProfile } from '../support/pprof-bombs.js';
import { startSandbox, type Sandbox } from '../support/sandbox/sandbox.js';
import { buildProfile } from '../support/profile-builder.js';
import { decodeProfile, encodeProfile } from '../../src/pprof/index.js';

let dir: string;
let pod: HostilePod;
let sandbox: Sandbox;
let kubeconfig: string;

/** 65 MiB once inflated: over the default 64 MiB, cheap to decode. */
const BIG = largeStringProfile(65);

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'raised-limits-'));
  pod = await startHostilePod({ big: { body: BIG } });
  sandbox = await startSandbox({
    pods: [{
      namespace: 'shop',
      name: 'big',
      podIP: '127.0.0.1',
      annotations: { 'profefe.com/enable': 'true', 'profefe.com/port': String(pod.port), 'profefe.com/path': '/big' },
      forward: { [pod.port]: { host: '127.0.0.1', port: pod.port } },
    }],
  });
  kubeconfig = await sandbox.writeKubeconfig({ namespace: 'shop' });
}, 60_000);

afterAll(async () => {
  await sandbox?.close();
  await pod?.close();
  await rm(dir, { recursive: true, force: true });
});

async function run(args: string[], home: string) {
  const cli = startCli(args, { KUBECONFIG: kubeconfig, KUBECTL_PROFEFE_HOME: path.join(dir, home) });
  const { code } = await cli.exited;
  return { code, stdout: cli.stdout(), stderr: cli.stderr() };
}

test('capture: a pod\'s 65 MiB profile fails naming --max-inflated-size, and is saved and indexed with --max-inflated-size 66', async () => {
  const out = path.join(dir, 'capture-default');
  const refused = await run(['capture', '--type', 'heap', '--output-dir', out], 'home-capture-default');
  expect({ code: refused.code, stderr: refused.stderr }).toEqual({ code: 1, stderr: '' });
  expect(refused.stdout).toMatch(/^shop +big +big +heap +- +- +error: inflates to more than 64 MiB \(the --max-inflated-size limit\)$/m);

  const raisedOut = path.join(dir, 'capture-raised');
  const raised = await run(['capture', '--type', 'heap', '--output-dir', raisedOut, '--max-inflated-size', '66'], 'home-capture-raised');
  // No warning: the local store's own check of the file used the raised limit too.
  expect({ code: raised.code, stderr: raised.stderr }).toEqual({ code: 0, stderr: '' });
  expect(await readdir(path.join(raisedOut, 'big', 'heap'))).toEqual([expect.stringMatching(/^shop\.big\.\d{8}T\d{6}Z\.pb\.gz$/)]);
  // The profile's time_nanos (which the store keeps as its time) is in 1970.
  const listed = await run(['get', 'profiles', '--service', 'big', '--from', '1970-01-01T00:00:00Z', '-o', 'json'], 'home-capture-raised');
  expect(JSON.parse(listed.stdout).items).toHaveLength(1);
}, 60_000);

test('collect --once: the same profile fails naming --max-inflated-size, and is stored with it raised', async () => {
  const args = ['collect', '--once', '--connect', 'direct', '--type', 'heap'];
  const refused = await run(args, 'home-collect-default');
  expect(refused.code).toBe(1);
  expect(JSON.parse(refused.stdout.split('\n')[0]!)).toMatchObject({ pod: 'big', result: 'failed', error: 'inflates to more than 64 MiB (the --max-inflated-size limit)' });

  const raised = await run([...args, '--max-inflated-size', '66'], 'home-collect-raised');
  expect({ code: raised.code, stderr: raised.stderr }).toEqual({ code: 0, stderr: '' });
  expect(JSON.parse(raised.stdout.split('\n')[0]!)).toMatchObject({ pod: 'big', result: 'ok' });
}, 60_000);

test('serve: uploads over --max-inflated-size or --max-samples get a 400 naming the flag, and are stored and merged with both raised', async () => {
  const many = manySamplesProfile(2_000_001);
  const upload = (url: string, service: string, body: Uint8Array) =>
    fetch(`${url}/api/0/profiles?service=${service}&type=heap`, { method: 'POST', body }).then(async (r) => ({ status: r.status, body: await r.text() }));

  const serve = await startServeChild(path.join(dir, 'store-default'));
  try {
    expect(await upload(serve.url, 'big', BIG)).toEqual({
      status: 400,
      body: '{"code":400,"error":"malformed profile (could not parse pprof profile: parsing profile: inflates to more than 64 MiB (the --max-inflated-size limit))"}\n',
    });
    expect(await upload(serve.url, 'many', many)).toEqual({
      status: 400,
      body: '{"code":400,"error":"malformed profile (could not parse pprof profile: parsing profile: more than 2000000 samples (the --max-samples limit))"}\n',
    });
  } finally {
    serve.child.kill('SIGTERM');
    await serve.exited;
  }

  // Two million samples take about 1 GB to decode: the checker thread needs the room too.
  const raised = await startServeChild(path.join(dir, 'store-raised'), ['--max-inflated-size', '66', '--max-samples', '2000001', '--decode-heap-size', '2048']);
  try {
    expect(await upload(raised.url, 'big', BIG)).toMatchObject({ status: 200 });
    expect(await upload(raised.url, 'many', many)).toMatchObject({ status: 200 });
    // The merge route decodes the stored profile again, with the same limits.
    const merged = await fetch(`${raised.url}/api/0/profiles/merge?service=big&type=heap&from=1970-01-01T00:00:00&to=2100-01-01T00:00:00`);
    expect({ status: merged.status, body: merged.status === 200 ? "" : await merged.text() }).toEqual({ status: 200, body: "" });
  } finally {
    raised.child.kill('SIGTERM');
    await raised.exited;
  }
}, 90_000);

test('merge: each input is held to --max-samples, the partial merges of its worker threads are not', async () => {
  // 32 files of some 0.6 MB each: enough for merge to use worker threads (16 files and 16 MiB in all).
  const files = path.join(dir, 'merge-inputs');
  await mkdir(files);
  // Fixed bytes that compress little (a hash chain, base64), made once.
  const parts: Buffer[] = [createHash('sha256').update('filler').digest()];
  while (parts.length * 32 < 600_000) parts.push(createHash('sha256').update(parts.at(-1)!).digest());
  const filler = Buffer.concat(parts).toString('base64');
  for (let i = 0; i < 32; i++) {
    const samples = Array.from({ length: 8 }, (_, k) => ({ stack: 'main.main;main.work', values: [1, 10], labels: { span: i * 8 + k } }));
    await writeFile(path.join(files, `p${String(i).padStart(2, '0')}.pb.gz`), encodeProfile(buildProfile({ samples, comments: [filler] })));
  }
  const sizes = await Promise.all((await readdir(files)).map(async (f) => (await stat(path.join(files, f))).size));
  expect(sizes.reduce((a, b) => a + b, 0)).toBeGreaterThan(16 * 2 ** 20);
  const out = path.join(dir, 'merged.pb.gz');
  // Every input has 8 samples: within --max-samples 10; the merge has 256 (every span apart).
  const merged = await run(['merge', files, '--output-file', out, '--max-samples', '10'], 'home-merge');
  expect({ code: merged.code, stderr: merged.stderr }).toEqual({ code: 0, stderr: expect.stringMatching(/^merged 32 profiles into /) });
  expect(decodeProfile(await readFile(out), 'merged', { maxSamples: 256 }).sample).toHaveLength(256);
  const refused = await run(['merge', files, '--output-file', out, '--max-samples', '7'], 'home-merge');
  expect({ code: refused.code, stderr: refused.stderr }).toEqual({ code: 1, stderr: expect.stringMatching(/^error: \S+p\d\d\.pb\.gz: more than 7 samples \(the --max-samples limit\)\n$/) });
}, 180_000);
