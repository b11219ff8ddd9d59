/**
 * PortForwardTunnel against the sandbox API server: bytes both ways through client-node's
 * PortForward over our WebSocket handler, one TLS session shared by all connections, and the
 * API server's refusals as KubeErrors that say what to check.
 */
import https from 'node:https';
import { createServer, type AddressInfo, type Server } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { resolveKubeAccess } from '../../src/kube/kubeconfig.js';
import { TunnelError } from '../../src/capture/tunnel.js';
import { PortForwardTunnel } from '../../src/kube/port-forward.js';
import { startSandbox, type Sandbox } from '../support/sandbox/sandbox.js';

let echo: Server;
let sandbox: Sandbox;
let tunnel: PortForwardTunnel;

beforeAll(async () => {
  // The pod's port: answers every line with "echo: <line>".
  echo = createServer((s) => s.on('data', (d) => s.write(`echo: ${d}`)));
  await new Promise<void>((r) => echo.listen(0, '127.0.0.1', r));
  const port = (echo.address() as AddressInfo).port;
  sandbox = await startSandbox({ pods: [{ namespace: 'shop', name: 'echo-1', forward: { 7000: { host: '127.0.0.1', port } } }] });
  const access = resolveKubeAccess({}, { KUBECONFIG: await sandbox.writeKubeconfig({ namespace: 'shop' }) });
  tunnel = new PortForwardTunnel(access.kubeConfig);
});

afterAll(async () => {
  await sandbox?.close();
  await new Promise((r) => echo?.close(r));
});

/** Writes a line through a new tunnel and resolves with the answer, then closes the tunnel. */
async function roundTrip(line: string): Promise<string> {
  const socket = await tunnel.open({ namespace: 'shop', name: 'echo-1', port: 7000 });
  const answer = new Promise<string>((resolve, reject) => {
    socket.once('data', (d: Buffer) => resolve(d.toString()));
    socket.once('error', reject);
  });
  socket.write(line);
  try {
    return await answer;
  } finally {
    socket.destroy();
  }
}

describe('PortForwardTunnel', () => {
  test('carries bytes to the pod port and back', async () => {
    expect(await roundTrip('hello')).toBe('echo: hello');
  });

  test('connections after the first resume its TLS session (one shared agent, no full handshakes)', async () => {
    // Every https.Agent makes its TLS sockets here: note the ones made during three round trips.
    const proto = https.Agent.prototype as unknown as { createConnection(this: https.Agent, ...args: unknown[]): TLSSocket };
    const original = proto.createConnection;
    const resumed: boolean[] = [];
    proto.createConnection = function (...args) {
      const socket = original.apply(this, args);
      socket.once('secureConnect', () => resumed.push(socket.isSessionReused()));
      return socket;
    };
    try {
      for (const word of ['one', 'two', 'three']) expect(await roundTrip(word)).toBe(`echo: ${word}`);
    } finally {
      proto.createConnection = original;
    }
    expect(resumed).toEqual([expect.any(Boolean), true, true]);
  });

  test('a pod that does not exist is a KubeError naming it, not worth a retry', async () => {
    const err = await tunnel.open({ namespace: 'shop', name: 'gone-1', port: 7000 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Error);
    expect((err as Error).message).toBe('port-forward to pod shop/gone-1: pod not found (404)');
    expect(err).not.toBeInstanceOf(TunnelError);
  });
});
