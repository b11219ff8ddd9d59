import { Agent, request, type ClientRequest, type IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { PodEndpoint, Tunnel } from './tunnel.js';

export interface TunnelResponse {
  readonly status: number;
  readonly statusText: string;
  readonly contentType: string;
  /** net/http/pprof names a server-side delta `filename="<name>-delta"` here. */
  readonly contentDisposition: string;
  /** The whole body of a 200; of any other status, only its first {@link ERROR_BODY_BYTES}. */
  readonly body: Buffer;
  /** Gives the body's bytes back to the budget they were taken from; call once the body is no longer held. */
  release(): void;
}

/** Bytes of a non-200 answer kept for the error message; the rest is not read. */
export const ERROR_BODY_BYTES = 4096;

/** What a pod may make us hold: pod answers are untrusted, and a collector runs unattended. */
export interface ResponseLimits {
  /** Largest body accepted from one request, in bytes (a declared Content-Length above it fails before reading). */
  readonly maxBytes: number;
  /** Shared by every request of a capture: bytes of bodies held at once, all pods together. */
  readonly budget?: ByteBudget;
}

/**
 * A count of bytes that requests in flight may hold together. A request that would go over it
 * fails (it does not wait, which could deadlock pods that all hold part of it).
 */
export class ByteBudget {
  private used = 0;
  constructor(
    /** In bytes. */
    readonly limit: number,
  ) {}

  /** Takes `n` bytes if they fit; false (and nothing taken) otherwise. */
  take(n: number): boolean {
    if (this.used + n > this.limit) return false;
    this.used += n;
    return true;
  }

  give(n: number): void {
    this.used = Math.max(0, this.used - n);
  }

  /** Bytes held now. */
  get held(): number {
    return this.used;
  }
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
 * tunnel connection closed afterwards. Resolves with the body once the response is complete; a
 * response cut short, a timeout (the whole exchange, so a slow drip ends too), an abort, a body
 * over `limits.maxBytes` or over the shared budget rejects with one line and destroys the
 * connection. Bytes held are counted in `limits.budget` until `release()` (or the failure).
 */
export function getOverTunnel(tunnel: Tunnel, target: PodEndpoint, path: string, timeoutMs: number, signal?: AbortSignal, agent?: Agent, limits?: ResponseLimits): Promise<TunnelResponse> {
  return new Promise((resolve, reject) => {
    let socket: Duplex | undefined;
    let settled = false;
    let req: ClientRequest | undefined;
    let taken = 0;
    const budget = limits?.budget;
    const finish = (err: Error | undefined, res?: TunnelResponse) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      // A failed exchange leaves the connection in an unknown state; a good one may be reused.
      if (err || !agent) socket?.destroy();
      if (err) req?.destroy();
      if (err) {
        budget?.give(taken);
        reject(err);
      } else resolve(res!);
    };
    const timer = setTimeout(() => {
      req?.destroy();
      finish(new FetchError(`timed out after ${Math.round(timeoutMs / 1000)}s`, false));
    }, timeoutMs);
    const onAbort = () => {
      req?.destroy();
      finish(signal!.reason instanceof Error ? signal!.reason : new Error('aborted'));
    };
    signal?.addEventListener('abort', onAbort, { once: true });

    try {
      req = startRequest();
    } catch (err) {
      // http.request throws for a path it cannot send (characters outside Latin-1, say).
      finish(new FetchError(`cannot request ${JSON.stringify(path)}: ${(err as Error).message}`, false));
      return;
    }

    function startRequest(): ClientRequest {
      const r = request({
        host: 'localhost',
        port: target.port,
        path,
        method: 'GET',
        headers: { ...target.headers, 'Accept-Encoding': 'identity', ...(agent ? {} : { Connection: 'close' }) },
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
      r.on('socket', (s) => {
        socket = s as unknown as Duplex;
      });
      r.on('error', (err: Error & { code?: string; transient?: boolean }) => {
        finish(asFetchError(err));
      });
      r.on('response', (res) => {
        const chunks: Buffer[] = [];
        let received = 0;
        const ok = res.statusCode === 200;
        const maxBytes = limits?.maxBytes ?? Infinity;
        const declared = Number(res.headers['content-length']);
        if (ok && declared > maxBytes) {
          finish(new FetchError(`the pod declares a ${formatMiB(declared)} answer, over the ${formatMiB(maxBytes)} limit (--max-profile-size)`, false));
          return;
        }
        res.on('data', (c: Buffer) => {
          if (settled) return;
          if (!ok) {
            // Only the start of an error page is shown: the rest is neither read nor kept.
            if (received < ERROR_BODY_BYTES) chunks.push(c.subarray(0, ERROR_BODY_BYTES - received));
            received += c.length;
            if (received >= ERROR_BODY_BYTES) complete(res, chunks);
            return;
          }
          received += c.length;
          if (received > maxBytes) {
            finish(new FetchError(`the pod sent more than ${formatMiB(maxBytes)} (--max-profile-size)`, false));
            return;
          }
          if (budget && !budget.take(c.length)) {
            finish(new FetchError(`answers in flight already hold ${formatMiB(budget.held)} of the ${formatMiB(budget.limit)} allowed (--max-buffered-size)`, false));
            return;
          }
          taken += c.length;
          chunks.push(c);
        });
        res.on('error', (err) => finish(asFetchError(err, received)));
        res.on('aborted', () => finish(new FetchError(`connection closed after ${received} bytes of the response`, true)));
        res.on('end', () => {
          if (!res.complete) {
            finish(new FetchError(`connection closed after ${received} bytes of the response`, true));
            return;
          }
          complete(res, chunks);
        });
      });
      r.end();
      return r;
    }

    function complete(res: IncomingMessage, chunks: Buffer[]): void {
      const held = taken;
      let released = false;
      finish(undefined, {
        status: res.statusCode ?? 0,
        statusText: res.statusMessage ?? '',
        contentType: String(res.headers['content-type'] ?? ''),
        contentDisposition: String(res.headers['content-disposition'] ?? ''),
        body: Buffer.concat(chunks),
        release() {
          if (released) return;
          released = true;
          budget?.give(held);
        },
      });
      // A cut-short error page leaves the connection mid-answer: it cannot be reused.
      if (res.statusCode !== 200 && !res.complete) socket?.destroy();
    }
  });
}

function formatMiB(bytes: number): string {
  return `${Number((bytes / 2 ** 20).toFixed(1))} MiB`;
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
