/**
 * `capture` (port-forward through the sandbox API server) and `collect --once` (direct) as child
 * processes against a namespace of hostile pods: decompression and allocation bombs, a huge
 * unknown field, an endless stream, a slow drip, a 10 GiB Content-Length, escape sequences in an
 * error page, and every kind of bad annotation. Each command ends with its partial-failure exit
 * and one line; every hostile pod fails alone; peak RSS (measured in the child) stays bounded;
 * nothing reaches the terminal unescaped; the good pod is captured and stored.
 */
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { hasControlCharacters } from '../../src/report/terminal-text.js';
import { startCli } from '../support/cli-child.js';
import { startGoTarget, type GoTarget } from '../support/go-target.js';
import { startHostilePod, type HostilePod } from '../support/hostile-pod.js';
import { emptySamplesBomb, gzipBomb, unknownFieldProfile } from '../support/pprof-bombs.js';
import { startSandbox, type Sandbox, type SandboxPod } from '../support/sandbox/sandbox.js';
import { startTestStore, type TestStore } from '../support/store-server.js';

let go: GoTarget;
let hostile: HostilePod;
let sandbox: Sandbox;

let dir: string;
let kubeconfig: string;

/** Pod name → what its capture must fail with (a regular expression on the error). */
const EXPECTED: Record<string, RegExp> = {
  'gzip-bomb': /inflates to more than 64 MiB \(the --max-inflated-size limit\)/,
  'sample-bomb': /more than 2000000 samples \(the --max-samples limit\)/,
  'unknown-field': /bytes of fields profile\.proto does not define \(a decode limit\)/,
  endless: /the pod sent more than 32 MiB \(--max-profile-size\)/,
  drip: /timed out after 10s/,
  'huge-length': /the pod declares a 10240 MiB answer, over the 32 MiB limit \(--max-profile-size\)/,
  'escape-error': /answered 500 Internal Server Error: \\x1b\]0;pwned\\x07\\x1b\[2J\\x1b\[Hinternal error/,
  dotdot: /profefe\.com\/service "\.\." is not a name/,
  dot: /profefe\.com\/service "\." is not a name/,
  'title-service': /profefe\.com\/service "x\\u001b\]0;pwned\\u0007" contains control characters/,
  latin1: /profefe\.com\/path "\/ok\/ā" is not a URL path/,
  smuggle: /profefe\.com\/path "\/x\\r\\nHost: evil" is not a URL path/,
  'bad-port': /profefe\.com\/port "99999" is not a port number/,
};

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'hostile-pods-'));
  go = await startGoTarget();
  hostile = await startHostilePod({
    'gzip-bomb': { body: gzipBomb(1024) },
    'sample-bomb': { body: emptySamplesBomb(3) },
    'unknown-field': { body: unknownFieldProfile(16) },
    endless: 'endless',
    drip: 'drip',
    'huge-length': 'huge-length',
    'escape-error': 'escape-error',
  });
  // podIP 127.0.0.1 and the port annotation serve --connect direct; the forward serves port-forward.
  const pod = (name: string, annotations: Record<string, string>, port = hostile.port): SandboxPod => ({
    namespace: 'hostile',
    name,
    podIP: '127.0.0.1',
    annotations: { 'profefe.com/enable': 'true', 'profefe.com/port': String(port), ...annotations },
    forward: { [port]: { host: '127.0.0.1', port } },
  });
  const served = (name: string) => pod(name, { 'profefe.com/path': `/${name}` });
  sandbox = await startSandbox({
    pods: [
      pod('good', {}, go.port),
      ...['gzip-bomb', 'sample-bomb', 'unknown-field', 'endless', 'drip', 'huge-length', 'escape-error'].map(served),
      pod('dotdot', { 'profefe.com/service': '..' }, go.port),
      pod('dot', { 'profefe.com/service': '.' }, go.port),
      pod('title-service', { 'profefe.com/service': 'x\x1b]0;pwned\x07' }, go.port),
      pod('latin1', { 'profefe.com/path': '/ok/\u0101' }, go.port),
      pod('smuggle', { 'profefe.com/path': '/x\r\nHost: evil' }, go.port),
      pod('bad-port', { 'profefe.com/port': '99999' }, go.port),
    ],
  });
  kubeconfig = await sandbox.writeKubeconfig({ namespace: 'hostile' });
  served_ = await startTestStore(path.join(dir, 'store'));
}, 60_000);
let served_: TestStore;

afterAll(async () => {
  await served_?.close();
  await sandbox?.close();
  await Promise.all([go?.close(), hostile?.close()]);
  await rm(dir, { recursive: true, force: true });
});

test('capture and collect --once each fail every hostile pod alone, stay within bounded memory, and print nothing raw', async () => {
  const env = { KUBECONFIG: kubeconfig, KUBECTL_PROFEFE_HOME: path.join(dir, 'data') };
  const out = path.join(dir, 'out', 'profiles');
  const capture = startCli(['capture', '--type', 'heap', '--output-dir', out], env);
  const collect = startCli(['collect', '--once', '--connect', 'direct', '-n', 'hostile', '--type', 'heap', '--profefe-hostport', served_.server.url, '--spool-dir', path.join(dir, 'spool')], env);
  const [c, k] = await Promise.all([capture.exited, collect.exited]);
  console.log(`hostile pods: capture peak RSS ${c.stats?.peakRssMiB.toFixed(0)} MiB, collect peak RSS ${k.stats?.peakRssMiB.toFixed(0)} MiB`);

  // capture: exit 3, one line on stderr, one escaped table row per pod.
  expect({ code: c.code, stderr: capture.stderr() }).toEqual({
    code: 3,
    stderr: 'error: 7 of 8 captures failed, 6 pods have bad profefe.com annotations; the other 1 profile was saved\n',
  });
  const table = capture.stdout().split('\n');
  expect(table.filter(hasControlCharacters)).toEqual([]);
  for (const [pod, error] of Object.entries(EXPECTED)) {
    const row = table.find((l) => new RegExp(`^hostile +${pod} `).test(l)) ?? `no row for ${pod}`;
    expect(row).toMatch(new RegExp(`error: .*${error.source}`));
  }
  expect(table.find((l) => /^hostile +good /.test(l))).toMatch(/hostile\.good\.\d{8}T\d{6}Z\.pb\.gz/);
  expect(await readdir(path.join(dir, 'out'))).toEqual(['profiles']);
  expect(await readdir(out)).toEqual(['good']);

  // collect: one JSON line per pod, escaped; the good pod uploaded; exit 3 as capture's (something
  // was collected, the hostile pods failed).
  expect(k.code).toBe(3);
  expect(collect.stderr()).toBe('');
  const lines = collect.stdout().trim().split('\n');
  expect(lines.filter(hasControlCharacters)).toEqual([]);
  const records = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
  for (const [pod, error] of Object.entries(EXPECTED)) {
    const failed = records.filter((r) => r.pod === pod);
    expect({ pod, results: failed.map((r) => r.result) }).toEqual({ pod, results: ['failed'] });
    expect(String(failed[0]!.error)).toMatch(error.source.includes('\\\\x1b') ? /answered 500/ : error);
  }
  expect(records.find((r) => r.pod === 'good')).toMatchObject({ result: 'ok', location: expect.stringMatching(/^profefe id /) });
  expect(records.find((r) => r.event === 'round')).toMatchObject({ pods: 8, captured: 1, failed: 7, uploaded: 1 });

  // Node, the answers held at once (the endless pod's stops at 32 MiB) and one body inflated to
  // the 64 MiB limit come to 170-200 MB (the child's own peak), which varies with when the garbage
  // collector runs; a bomb let through would take 1 GiB or more. The bound is issue 11's: 300 MB.
  expect(c.stats!.peakRssMiB).toBeLessThan(300);
  expect(k.stats!.peakRssMiB).toBeLessThan(300);
  // Every connection to the hostile server was closed by both commands.
  while (hostile.openConnections() > 0) await new Promise((r) => setTimeout(r, 20)); // they close on their own time; the test timeout bounds it
  expect(hostile.openConnections()).toBe(0);
}, 300_000);
