/**
 * capture against hostile pods (real HTTP servers behind the sandbox API server's port-forward):
 * each bad pod fails alone with one line, within a bounded number of bytes and seconds, and what
 * it says reaches the terminal escaped. A real Go target beside them is captured as usual.
 */
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startGoTarget, type GoTarget } from '../support/go-target.js';
import { startHostilePod, type HostilePod } from '../support/hostile-pod.js';
import { runCli } from '../support/run-cli.js';
import { startSandbox, type Sandbox, type SandboxPod } from '../support/sandbox/sandbox.js';
import { hasControlCharacters } from '../../src/report/terminal-text.js';

let go: GoTarget;
let hostile: HostilePod;
let sandbox: Sandbox;
let dir: string;
let kubeconfig: string;

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'hostile-pods-'));
  go = await startGoTarget();
  hostile = await startHostilePod({ endless: 'endless', 'huge-length': 'huge-length', 'escape-error': 'escape-error' });
  const pod = (name: string, annotations: Record<string, string>, port = hostile.port): SandboxPod => ({
    namespace: 'hostile',
    name,
    annotations: { 'profefe.com/enable': 'true', ...annotations },
    containers: [{ name: 'app', ports: [{ name: 'pprof', containerPort: 6060 }] }],
    forward: { 6060: { host: '127.0.0.1', port } },
  });
  sandbox = await startSandbox({
    pods: [
      pod('good', {}, go.port),
      pod('endless', { 'profefe.com/path': '/endless' }),
      pod('huge-length', { 'profefe.com/path': '/huge-length' }),
      pod('escape-error', { 'profefe.com/path': '/escape-error' }),
      pod('dotdot', { 'profefe.com/service': '..' }, go.port),
      pod('latin1', { 'profefe.com/path': '/ok/\u0101' }, go.port),
      pod('title', { 'profefe.com/service': 'x\x1b]0;pwned\x07' }, go.port),
      pod('badport', { 'profefe.com/port': '99999' }, go.port),
    ],
  });
  kubeconfig = await sandbox.writeKubeconfig({ namespace: 'hostile' });
}, 60_000);

afterAll(async () => {
  await sandbox?.close();
  await Promise.all([go?.close(), hostile?.close()]);
  await rm(dir, { recursive: true, force: true });
});

test('every hostile pod fails alone with one escaped line; the good pod is captured; nothing is written outside --output-dir', async () => {
  const out = path.join(dir, 'out', 'profiles');
  const env = { KUBECONFIG: kubeconfig, HOME: dir, KUBECTL_PROFEFE_HOME: path.join(dir, 'data') };
  const run = await runCli(['capture', '--type', 'heap', '--output-dir', out, '--max-profile-size', '1'], { env });
  const table = run.stdout.toString();
  expect(run.code).toBe(3);
  expect(run.stderr).toMatch(/^error: 3 of 4 captures failed, 4 pods have bad profefe.com annotations; the other 1 profile was saved\n$/);
  expect(table.split('\n').filter(hasControlCharacters)).toEqual([]);
  const line = (pod: string) => table.split('\n').find((l) => new RegExp(`^hostile +${pod} `).test(l)) ?? '';
  if (!line('good')) throw new Error(table);
  expect(line('good')).toMatch(/hostile\.good\..*\.pb\.gz$/);
  expect(line('endless')).toMatch(/error: the pod sent more than 1 MiB \(--max-profile-size\)$/);
  expect(line('huge-length')).toMatch(/error: the pod declares a 10240 MiB answer, over the 1 MiB limit \(--max-profile-size\)$/);
  expect(line('escape-error')).toMatch(/error: GET \/escape-error\/heap answered 500 Internal Server Error: \\x1b\]0;pwned\\x07\\x1b\[2J\\x1b\[Hinternal error$/);
  expect(line('dotdot')).toMatch(/error: profefe\.com\/service "\.\." is not a name$/);
  expect(line('latin1')).toMatch(/error: profefe\.com\/path "\/ok\/ā" is not a URL path/);
  expect(line('title')).toMatch(/error: profefe\.com\/service "x\\u001b\]0;pwned\\u0007" contains control characters$/);
  expect(line('badport')).toMatch(/error: profefe\.com\/port "99999" is not a port number/);
  // Only the good pod's service folder, inside the output directory.
  expect(await readdir(path.join(dir, 'out'))).toEqual(['profiles']);
  expect(await readdir(out)).toEqual(['good']);
  // The hostile server's connections were all closed by the capture.
  while (hostile.openConnections() > 0) await new Promise((r) => setTimeout(r, 20)); // they close on their own time; the test timeout bounds it
  expect(hostile.openConnections()).toBe(0);
}, 60_000);

test('a path http.request cannot send fails that request at once, and no timer fires later', async () => {
  const { getOverTunnel } = await import('../../src/capture/http-over-tunnel.js');
  const { DirectTunnel } = await import('../../src/kube/direct-tunnel.js');
  const uncaught: unknown[] = [];
  const onUncaught = (err: unknown) => uncaught.push(err);
  process.on('uncaughtException', onUncaught);
  try {
    const target = { namespace: 'hostile', name: 'latin1', port: go.port, ip: '127.0.0.1' };
    await expect(getOverTunnel(new DirectTunnel(), target, '/ok/\u0101/heap', 50)).rejects.toThrow(/^cannot request "\/ok\/ā\/heap": /);
    await new Promise((r) => setTimeout(r, 150)); // past the 50 ms timeout: nothing may fire
    expect(uncaught).toEqual([]);
  } finally {
    process.off('uncaughtException', onUncaught);
  }
});
