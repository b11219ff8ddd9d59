import net from 'node:net';
import type { Duplex } from 'node:stream';
import { TunnelError, type PodEndpoint, type Tunnel } from '../capture/tunnel.js';

/**
 * Connects straight to `podIP:port`: what a collector running inside the cluster does (no API
 * server in the path, no RBAC beyond listing pods). Resolves once the TCP connection is up.
 */
export class DirectTunnel implements Tunnel {
  async open(target: PodEndpoint, signal?: AbortSignal): Promise<Duplex> {
    signal?.throwIfAborted();
    const where = `pod ${target.namespace}/${target.name}`;
    if (!target.ip) throw new TunnelError(`${where} has no IP yet`, false);
    return new Promise((resolve, reject) => {
      const socket = net.connect({ host: target.ip, port: target.port });
      const onAbort = () => socket.destroy(signal!.reason as Error);
      signal?.addEventListener('abort', onAbort, { once: true });
      socket.once('close', () => signal?.removeEventListener('abort', onAbort));
      socket.once('connect', () => {
        socket.removeAllListeners('error');
        resolve(socket);
      });
      socket.once('error', (err: NodeJS.ErrnoException) => {
        const refused = err.code === 'ECONNREFUSED';
        reject(new TunnelError(refused ? `nothing listening on ${target.ip}:${target.port} (${where})` : `cannot connect to ${target.ip}:${target.port} (${where}): ${err.message}`, !refused));
      });
    });
  }
}
