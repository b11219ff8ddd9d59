import { Agent, request } from 'node:http';
import type { Duplex } from 'node:stream';
import type { PodEndpoint, Tunnel } from '../kube/port-forward.js';

export interface TunnelResponse {
  readonly status: number;
  readonly statusText: string;
  readonly contentType: string;
  /** net/http/pprof names a server-side delta `filename="<name>-delta"` here. */
  readonly contentDisposition: string;
  readonly body: Buffer;
}

/** The HTTP exchange with a pod failed before a complete response arrived. */
export class FetchError extends Error {
  override readonly name = 'FetchError';
  constructor(
    message: string,
    /** The tunnel broke (worth one retry), as opposed to a timeout or the pod refusing. */
    readonly transient: boolean,
  ) {
    super(message);
  }
}

/**
 * An HTTP agent whose connections are tunnel connections to one pod, kept alive between
 * requests (one at a time): a pod's quick profiles then share one WebSocket instead of
 * paying a TLS handshake with the API server each. Destroy it when the pod is done.
 */
export function tunnelAgent(tunnel: Tunnel, target: PodEndpoint, signal?: AbortSignal): Agent {
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  agent.createConnection = (_opts, oncreate) => {
    // Always asynchronous: a throw here would escape into the agent's queue handling.
    Promise.resolve()
      .then(() => tunnel.open(target, signal))
      .then(
        (s) => oncreate!(null, s as never),
        (err: Error) => oncreate!(err, undefined as never),
      );
    return undefined as never;
  };
  return agent;
}

/**
 * GETs `path` from a pod: over `agent`'s kept-alive connection when given, else over a fresh
 * tunnel connection closed afterwards. Resolves with the whole body once the response is
 * complete; a response cut short, a timeout or an abort rejects and destroys the connection.
 */
export function getOverTunnel(tunnel: Tunnel, target: PodEndpoint, path: string, timeoutMs: number, signal?: AbortSignal, agent?: Agent): Promise<TunnelResponse> {
  return new Promise((resolve, reject) => {
    let socket: Duplex | undefined;
    let settled = false;
    const finish = (err: Error | undefined, res?: TunnelResponse) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      // A failed exchange leaves the connection in an unknown state; a good one may be reused.
      if (err || !agent) socket?.destroy();
      if (err) req.destroy();
      if (err) reject(err);
      else resolve(res!);
    };
    const timer = setTimeout(() => {
      req.destroy();
      finish(new FetchError(`timed out after ${Math.round(timeoutMs / 1000)}s`, false));
    }, timeoutMs);
    const onAbort = () => {
      req.destroy();
      finish(signal!.reason instanceof Error ? signal!.reason : new Error('aborted'));
    };
    signal?.addEventListener('abort', onAbort, { once: true });

    const req = request({
      host: 'localhost',
      port: target.port,
      path,
      method: 'GET',
      headers: { 'Accept-Encoding': 'identity', ...(agent ? {} : { Connection: 'close' }) },
      // Without an agent, a createConnection makes http use our tunnel for this one request.
      ...(agent
        ? { agent }
        : {
            createConnection: (_opts: unknown, oncreate: (err: Error | null, s: never) => void) => {
              tunnel.open(target, signal).then(
                (s) => {
                  socket = s;
                  if (settled) s.destroy();
                  else oncreate(null, s as never);
                },
                (err: Error) => oncreate(err, undefined as never),
              );
              return undefined as never;
            },
          }),
    });
    req.on('socket', (s) => {
      socket = s as unknown as Duplex;
    });
    req.on('error', (err: Error & { code?: string; transient?: boolean }) => {
      finish(asFetchError(err));
    });
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      let received = 0;
      res.on('data', (c: Buffer) => {
        chunks.push(c);
        received += c.length;
      });
      res.on('error', (err) => finish(asFetchError(err, received)));
      res.on('aborted', () => finish(new FetchError(`connection closed after ${received} bytes of the response`, true)));
      res.on('end', () => {
        if (!res.complete) {
          finish(new FetchError(`connection closed after ${received} bytes of the response`, true));
          return;
        }
        finish(undefined, {
          status: res.statusCode ?? 0,
          statusText: res.statusMessage ?? '',
          contentType: String(res.headers['content-type'] ?? ''),
          contentDisposition: String(res.headers['content-disposition'] ?? ''),
          body: Buffer.concat(chunks),
        });
      });
    });
    req.end();
  });
}

function asFetchError(err: Error & { code?: string; transient?: boolean }, received?: number): Error {
  if (err instanceof FetchError) return err;
  // Tunnel errors (nothing listening, 401, ...) already say what happened in one line.
  if (err.name === 'TunnelError' || err.name === 'KubeError') return err;
  if (err.code === 'ECONNRESET' || /socket hang up|aborted/i.test(err.message)) {
    const what = received ? `connection closed after ${received} bytes of the response` : 'connection closed before a response';
    return new FetchError(what, true);
  }
  return new FetchError(err.message, false);
}
