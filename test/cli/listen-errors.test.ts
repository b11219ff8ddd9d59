/**
 * A server that cannot listen says so in one line, exit 1, no stack: serve on a port in use or a
 * host that does not resolve, and collect's --metrics-addr. Ports are taken by a real server first.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startMetricsServer, CollectorMetrics } from '../../src/collect/metrics.js';
import { CommandFailure } from '../../src/errors.js';

const BIN = path.resolve('bin/kubectl-profefe');
let home: string;
let taken: Server;
let port: number;

beforeAll(async () => {
  home = await mkdtemp(path.join(tmpdir(), 'listen-errors-'));
  taken = createServer();
  await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
  port = (taken.address() as { port: number }).port;
});
afterAll(async () => {
  await new Promise((resolve) => taken.close(resolve));
  await rm(home, { recursive: true, force: true });
});

function runBuilt(argv: readonly string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const env = { PATH: process.env.PATH ?? '', HOME: home, XDG_DATA_HOME: path.join(home, 'data'), NO_COLOR: '1' };
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, ...argv], { env, timeout: 120_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? ((err as { code?: number }).code ?? null) : 0, stdout, stderr });
    });
  });
}

describe('serve that cannot listen', () => {
  test('a port in use is one line, exit 1', async () => {
    const run = await runBuilt(['serve', '--port', String(port), '--store-dir', path.join(home, 'store')]);
    expect(run.stderr).toBe(`error: cannot listen on 127.0.0.1:${port}: the port is in use (--address, --port)\n`);
    expect(run.code).toBe(1);
  });

  test('a host that does not resolve is one line, exit 1', async () => {
    const run = await runBuilt(['serve', '--address', 'example.invalid', '--store-dir', path.join(home, 'store')]);
    // NXDOMAIN, or EAI_AGAIN where the machine has no resolver: both are named, neither is a stack.
    expect(run.stderr).toMatch(/^error: cannot listen on example\.invalid:10100: (no such host|the host name cannot be resolved now \(DNS\)) \(--address, --port\)\n$/);
    expect(run.code).toBe(1);
  });
});

describe('collect --metrics-addr that cannot listen', () => {
  test('a port in use is a CommandFailure naming the address', async () => {
    const failure = startMetricsServer(`127.0.0.1:${port}`, new CollectorMetrics());
    await expect(failure).rejects.toBeInstanceOf(CommandFailure);
    await expect(failure).rejects.toThrow(`cannot listen on 127.0.0.1:${port}: the port is in use (--metrics-addr)`);
  });
});
