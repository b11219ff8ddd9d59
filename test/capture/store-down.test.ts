/**
 * capture --url with the profefe store down or failing: every profile fetched is captured and
 * kept in the spool, the summary says so ("N of N captured; N not uploaded, kept in DIR"), the
 * exit status is 3 (partial), and once the store does not answer at all the later profiles of
 * the run go straight to the spool, while a store answering 503 gets its retries for each.
 * Attempts are counted by real servers on 127.0.0.1; a real Go program is captured.
 */
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { createServer as createTcpServer, type Server as TcpServer } from 'node:net';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startGoTarget, type GoTarget } from '../support/go-target.js';
import { runCli } from '../support/run-cli.js';

let go: GoTarget;
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'store-down-'));
  go = await startGoTarget({ load: 0 });
});

afterAll(async () => {
  await go?.close();
  await rm(dir, { recursive: true, force: true });
});

const listen = async (s: HttpServer | TcpServer) => {
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  return (s.address() as AddressInfo).port;
};
const close = (s: HttpServer | TcpServer) => new Promise<void>((r) => s.close(() => r()));
const TYPES = ['heap', 'goroutine', 'threadcreate'];

async function capture(name: string, hostport: string) {
  const spool = path.join(dir, name, 'spool');
  const run = await runCli(['capture', '--url', go.url, '--service', 'api', '--type', TYPES.join(','), '--profefe-hostport', hostport, '--spool-dir', spool], {
    env: { HOME: path.join(dir, name), KUBECTL_PROFEFE_HOME: path.join(dir, name, 'data') },
  });
  const files = (await readdir(spool).catch(() => [] as string[])).sort();
  return { ...run, out: run.stdout.toString(), spooled: files.filter((f) => f.endsWith('.pb.gz')), described: files.filter((f) => f.endsWith('.json')) };
}

test('a closed port: 3 of 3 captured, 3 not uploaded and kept in the spool, exit 3', async () => {
  const s = createTcpServer();
  const port = await listen(s);
  await close(s);
  const r = await capture('closed', `http://127.0.0.1:${port}`);
  expect(r.code).toBe(3);
  expect(r.out).toContain(`3 of 3 profiles captured from 1 URL`);
  expect(r.out).toContain(`3 not uploaded (store unreachable), kept in ${path.join(dir, 'closed', 'spool')}: run 'kubectl profefe push'`);
  expect(r.stderr).toMatch(/^error: 3 of 3 captured profiles not uploaded \(.*connect ECONNREFUSED.*\), kept in .*: run 'kubectl profefe push'\n$/);
  expect(r.spooled.map((f) => f.split('.').slice(-4, -2)[0])).toEqual(expect.arrayContaining(TYPES));
  expect(r.spooled).toHaveLength(3);
  expect(r.described).toHaveLength(3);
}, 120_000);

test('a store that drops every connection is tried by the first upload only (1 + 3 retries), the rest spooled untried', async () => {
  let connections = 0;
  const s = createTcpServer((socket) => {
    connections++;
    socket.destroy();
  });
  const port = await listen(s);
  try {
    const r = await capture('dropping', `http://127.0.0.1:${port}`);
    expect(r.code).toBe(3);
    expect(r.out).toContain('3 of 3 profiles captured from 1 URL');
    expect(r.out.match(/not tried: the store did not answer an earlier upload of this run/g)).toHaveLength(2);
    expect(r.spooled).toHaveLength(3);
    expect(connections).toBe(4);
  } finally {
    await close(s);
  }
}, 120_000);

test('a store answering 503 gets every upload with its retries (4 attempts each), all spooled', async () => {
  let uploads = 0;
  const s = createHttpServer((req, res) => {
    if (req.method === 'POST') uploads++;
    req.resume();
    req.on('end', () => {
      res.writeHead(503, { 'Content-Type': 'text/plain' });
      res.end('busy\n');
    });
  });
  const port = await listen(s);
  try {
    const r = await capture('busy', `http://127.0.0.1:${port}`);
    expect(r.code).toBe(3);
    expect(r.out).toContain('3 of 3 profiles captured from 1 URL');
    expect(r.out).toContain(`3 not uploaded (store HTTP 503), kept in ${path.join(dir, 'busy', 'spool')}`);
    expect(r.spooled).toHaveLength(3);
    expect(uploads).toBe(12);
  } finally {
    await close(s);
  }
}, 120_000);
