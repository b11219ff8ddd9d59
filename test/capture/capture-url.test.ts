/**
 * `kubectl profefe capture --url`: a real Go program serving net/http/pprof on 127.0.0.1,
 * captured with no cluster and no kubeconfig, into files read by real go tool pprof, into
 * the local store read by `get` and `top`, and into our `serve`; real HTTP servers that
 * refuse, answer 404 pages or stream without end.
 */
import { execFile } from 'node:child_process';
import { createServer, request, type IncomingHttpHeaders, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { decodeProfile, sampleTypesOf } from '../../src/pprof/index.js';
import { goPprofTop } from '../support/go-pprof.js';
import { startGoTarget, type GoTarget } from '../support/go-target.js';
import { runCli } from '../support/run-cli.js';
import { startTestStore, type TestStore } from '../support/store-server.js';
import { testPki } from '../support/sandbox/certs.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

let go: GoTarget;
let dir: string;
let notFound: Server;
let endless: Server;
let closedPort: number;

const listen = async (s: Server) => {
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  return `http://127.0.0.1:${(s.address() as AddressInfo).port}`;
};
const address = (s: Server) => `http://127.0.0.1:${(s.address() as AddressInfo).port}`;
// No KUBECONFIG and a HOME without .kube: nothing could reach a cluster.
const env = (name: string) => ({ HOME: path.join(dir, 'home', name), KUBECTL_PROFEFE_HOME: path.join(dir, 'data', name) });
const out = (name: string) => path.join(dir, 'out', name);

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'capture-url-'));
  go = await startGoTarget();
  // A web server that is not pprof: every path a 404 HTML page.
  notFound = createServer((_req, res) => {
    res.writeHead(404, { 'Content-Type': 'text/html' });
    res.end('<html><body><h1>404 Not Found</h1></body></html>\n');
  });
  // A 200 whose body never ends: the size limit stops it, not a clock.
  endless = createServer((_req, res) => {
    res.writeHead(200, { 'Content-Type': 'application/octet-stream' });
    const chunk = Buffer.alloc(64 * 1024, 1);
    const write = () => {
      while (res.write(chunk));
      res.once('drain', write);
    };
    res.on('close', () => res.removeAllListeners('drain'));
    write();
  });
  await listen(notFound);
  await listen(endless);
  const tmp = createServer();
  closedPort = Number(new URL(await listen(tmp)).port);
  await new Promise((r) => tmp.close(r));
}, 60_000);

afterAll(async () => {
  await go?.close();
  notFound?.closeAllConnections();
  endless?.closeAllConnections();
  await Promise.all([notFound, endless].map((s) => s && new Promise((r) => s.close(r))));
  await rm(dir, { recursive: true, force: true });
});

describe('kubectl profefe capture --url', () => {
  test('captures every default type of a Go process into files go tool pprof reads, with no cluster', async () => {
    const run = await runCli(['capture', '--url', go.url, '--seconds', '1', '--output-dir', out('files')], { env: env('files') });
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const service = `127.0.0.1_${go.port}`;
    const files = (await readdir(path.join(out('files'), service), { recursive: true })).filter((f) => f.endsWith('.pb.gz')).sort();
    expect(files.map((f) => path.dirname(f))).toEqual(['allocs', 'block', 'cpu', 'goroutine', 'heap', 'mutex', 'threadcreate']);
    for (const f of files) {
      const delta = /^(allocs|block|mutex)\//.test(f) ? '\\.delta-server' : '';
      expect(path.basename(f)).toMatch(new RegExp(`^127\\.0\\.0\\.1_${go.port}\\.\\d{8}T\\d{6}Z${delta}\\.pb\\.gz$`));
      // go tool pprof reads each file (its own decoder, not ours); sample counts depend on the machine's load.
      const top = await goPprofTop([path.join(out('files'), service, f)]);
      expect(top.sampleType).toBeTruthy();
    }
    const cpu = path.join(out('files'), service, files.find((f) => f.startsWith('cpu/'))!);
    expect(sampleTypesOf(decodeProfile(await readFile(cpu)))).toEqual([{ type: 'samples', unit: 'count' }, { type: 'cpu', unit: 'nanoseconds' }]);
    const table = run.stdout.toString();
    expect(table).toMatch(/^URL\s+SERVICE\s+TYPE\s+SIZE\s+SAMPLES\s+RESULT$/m);
    expect(table).toContain(`${go.url}/debug/pprof`);
    expect(table).toMatch(/7 of 7 profiles captured from 1 URL in \d+\.\ds/);
  }, 60_000);

  test('indexes the profiles in the local store, labelled url=HOST:PORT without the credentials, for get and top', async () => {
    const withUser = go.url.replace('http://', 'http://alice:s3cret@');
    const run = await runCli(['capture', '--url', `${withUser}/debug/pprof/`, '--service', 'demo', '--type', 'heap,cpu', '--seconds', '1', '--output-dir', out('local'), '-o', 'json'], { env: env('local') });
    expect(run.code).toBe(0);
    expect(run.stdout.toString() + run.stderr).not.toMatch(/alice|s3cret/);
    const json = JSON.parse(run.stdout.toString()) as { captures: { url: string; service: string; type: string; ok: boolean }[] };
    expect(json.captures.map((c) => [c.url, c.service, c.type, c.ok])).toEqual([
      [`${go.url}/debug/pprof`, 'demo', 'heap', true],
      [`${go.url}/debug/pprof`, 'demo', 'cpu', true],
    ]);
    const get = await runCli(['get', 'profiles', '--service', 'demo', '-o', 'json'], { env: env('local') });
    expect(get.code).toBe(0);
    const { items } = JSON.parse(get.stdout.toString()) as { items: { type: string; labels: Record<string, string> }[] };
    expect(items.map((p) => p.type).sort()).toEqual(['cpu', 'heap']);
    for (const p of items) {
      const labels = p.labels;
      expect(labels.url).toBe(`127.0.0.1:${go.port}`);
      expect(labels).not.toHaveProperty('pod');
      expect(labels).not.toHaveProperty('namespace');
      expect(JSON.stringify(p)).not.toMatch(/alice|s3cret/);
    }
    const top = await runCli(['top', '--service', 'demo', '--type', 'heap'], { env: env('local') });
    expect(top.code).toBe(0);
    expect(top.stdout.toString()).toMatch(/average of 1 snapshot/i);
  }, 60_000);

  test('uploads to a profefe store (our serve), and get lists what it took', async () => {
    let store: TestStore | undefined;
    try {
      store = await startTestStore(path.join(dir, 'served'));
      const hostport = store.server.url;
      const run = await runCli(['capture', '--url', go.url, '--type', 'goroutine,allocs', '--seconds', '1', '--profefe-hostport', hostport], { env: env('served') });
      expect(run.stderr).toBe('');
      expect(run.code).toBe(0);
      expect(run.stdout.toString()).toMatch(/profefe id \w+/);
      const get = await runCli(['get', 'profiles', '--service', `127.0.0.1_${go.port}`, '--profefe-hostport', hostport], { env: env('served') });
      expect(get.code).toBe(0);
      expect(get.stdout.toString()).toMatch(/\bgoroutine\b/);
      expect(get.stdout.toString()).toMatch(/\ballocs\b/);
    } finally {
      await store?.close();
    }
  }, 60_000);

  test('spools the profiles when the profefe store is down, and says so', async () => {
    const spool = path.join(dir, 'spool');
    const run = await runCli(['capture', '--url', go.url, '--type', 'goroutine', '--profefe-hostport', `http://127.0.0.1:${closedPort}`, '--spool-dir', spool], { env: env('spool') });
    expect(run.code).toBe(3);
    expect(run.stdout.toString()).toMatch(/1 of 1 profiles captured .*; 1 not uploaded \(store unreachable\), kept in .*: run 'kubectl profefe push'/);
    expect((await readdir(spool, { recursive: true })).some((f) => f.includes(`127.0.0.1_${go.port}.goroutine`))).toBe(true);
  }, 120_000);

  test.each([
    ['a port that refuses connections', () => `http://127.0.0.1:${closedPort}`, /nothing listening on http:\/\/127\.0\.0\.1:\d+ \(connection refused\)/],
    ['a web server answering 404 HTML pages', () => address(notFound), /answered 404 Not Found: <html>/],
    ['an answer that never ends', () => address(endless), /sent more than 1 MiB \(--max-profile-size\)/],
  ])('%s fails each profile of that URL: exit 3 beside a good URL, 1 alone', async (_what, bad, message) => {
    const both = await runCli(['capture', '--url', go.url, '--url', bad(), '--type', 'heap,goroutine', '--max-profile-size', '1', '--output-dir', out('bad')], { env: env('bad') });
    expect(both.code).toBe(3);
    expect(both.stderr).toMatch(/2 of 4 captures failed; the other 2 profiles were saved/);
    const rows = both.stdout.toString().split('\n').filter((l) => l.startsWith(bad()));
    expect(rows).toHaveLength(2);
    for (const row of rows) expect(row).toMatch(message);
    const alone = await runCli(['capture', '--url', bad(), '--type', 'heap', '--max-profile-size', '1', '--output-dir', out('bad')], { env: env('bad') });
    expect(alone.code).toBe(1);
    expect(alone.stdout.toString()).toMatch(/0 of 1 profiles captured from 1 URL/);
  }, 60_000);

  test('--url takes a comma-separated list too, and the same URL once', async () => {
    const run = await runCli(['capture', '--url', `${go.url},${go.url}/debug/pprof`, '--type', 'goroutine', '--output-dir', out('list'), '-o', 'json'], { env: env('list') });
    expect(run.code).toBe(0);
    expect((JSON.parse(run.stdout.toString()) as { captures: unknown[] }).captures).toHaveLength(1);
  }, 60_000);

  test.each([
    ['a scheme other than http(s)', ['--url', 'ftp://127.0.0.1:6060'], /^error: --url "ftp:\/\/127\.0\.0\.1:6060": only http and https are supported, not ftp$/m],
    ['a host:port without a scheme', ['--url', 'localhost:6060'], /^error: --url "localhost:6060" has no scheme: write http:\/\/localhost:6060 \(or https:\/\/\)$/m],
    ['not a URL', ['--url', 'http://'], /^error: --url "http:\/\/" is not a URL/m],
    ['a query string', ['--url', 'http://127.0.0.1:6060/debug/pprof?x=1'], /^error: --url .*without \? or #$/m],
    ['credentials in a bad URL are not echoed', ['--url', 'http://bob:pw@[::1'], /^error: --url "http:\/\/\*\*\*@\[::1" is not a URL/m],
    ['a pod name', ['checkout-1', '--url', 'http://127.0.0.1:6060'], /^error: --url cannot be combined with pod names \(checkout-1\)$/m],
    ['a selector', ['--url', 'http://127.0.0.1:6060', '-l', 'app=x'], /^error: --url cannot be combined with -l\/--selector/m],
    ['-A', ['--url', 'http://127.0.0.1:6060', '-A'], /^error: --url cannot be combined with -A\/--all-namespaces/m],
    ['-n', ['--url', 'http://127.0.0.1:6060', '-n', 'shop'], /^error: --url cannot be combined with -n\/--namespace/m],
    ['--context', ['--url', 'http://127.0.0.1:6060', '--context', 'prod'], /^error: --url cannot be combined with --context/m],
    ['--token', ['--url', 'http://127.0.0.1:6060', '--token', 'abc'], /^error: --url cannot be combined with --token/m],
    ['--service without --url', ['--service', 'x'], /^error: --service names --url targets/m],
    ['an empty --service', ['--url', 'http://127.0.0.1:6060', '--service', ''], /^error: --service "" is empty$/m],
  ])('%s is a usage error (exit 2, nothing captured)', async (_what, args, message) => {
    const run = await runCli(['capture', ...args, '--output-dir', out('usage')], { env: env('usage') });
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(message);
    expect(run.stderr).not.toMatch(/bob|pw@/);
    expect(run.stdout.toString()).toBe('');
  });

  test('https: verified against the CAs Node trusts (NODE_EXTRA_CA_CERTS), with Host and Basic authorization from the URL', async () => {
    // An HTTPS reverse proxy in front of the Go target that wants alice's password, as one might in docker-compose.
    const pki = await testPki();
    const seen: IncomingHttpHeaders[] = [];
    const proxy = createHttpsServer({ cert: pki.serverCertPem, key: pki.serverKeyPem }, (req, res) => {
      seen.push(req.headers);
      if (req.headers.authorization !== `Basic ${Buffer.from('alice:s3cret').toString('base64')}`) {
        res.writeHead(401, { 'Content-Type': 'text/plain' }).end('who are you?\n');
        return;
      }
      const upstream = request(`${go.url}${req.url}`, (up) => {
        res.writeHead(up.statusCode ?? 502, up.headers);
        up.pipe(res);
      });
      upstream.on('error', () => res.destroy());
      upstream.end();
    });
    await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', r));
    const port = (proxy.address() as AddressInfo).port;
    try {
      // Our CA is not one Node trusts by default: the handshake fails, per profile.
      const untrusted = await runCli(['capture', '--url', `https://alice:s3cret@localhost:${port}`, '--type', 'goroutine', '--output-dir', out('https')], { env: env('https') });
      expect(untrusted.code).toBe(1);
      expect(untrusted.stdout.toString()).toMatch(new RegExp(`cannot connect to https://localhost:${port}: .*certificate`));
      // With the CA trusted the way Node is told to (a new process reads NODE_EXTRA_CA_CERTS), it is captured.
      const ca = path.join(dir, 'ca.pem');
      await writeFile(ca, pki.caPem);
      const args = [path.join(ROOT, 'bin/kubectl-profefe'), 'capture', '--url', `https://alice:s3cret@localhost:${port}/debug/pprof`, '--type', 'heap,goroutine', '--output-dir', out('https'), '-o', 'json'];
      const { stdout, stderr } = await promisify(execFile)(process.execPath, args, { env: { ...env('https'), PATH: process.env.PATH, NODE_EXTRA_CA_CERTS: ca } });
      expect(stderr).toBe('');
      const json = JSON.parse(stdout) as { captures: { url: string; service: string; ok: boolean }[] };
      expect(json.captures.map((c) => [c.url, c.service, c.ok])).toEqual([
        [`https://localhost:${port}/debug/pprof`, `localhost_${port}`, true],
        [`https://localhost:${port}/debug/pprof`, `localhost_${port}`, true],
      ]);
      expect(stdout).not.toMatch(/alice|s3cret/);
      expect(seen.at(-1)!.host).toBe(`localhost:${port}`);
      const files = (await readdir(path.join(out('https'), `localhost_${port}`), { recursive: true })).filter((f) => f.endsWith('.pb.gz'));
      expect(files.map((f) => path.dirname(f)).sort()).toEqual(['goroutine', 'heap']);
    } finally {
      proxy.closeAllConnections();
      await new Promise((r) => proxy.close(r));
    }
  }, 60_000);
});
