/**
 * HTTP exchanges with retries, over node:http and node:https (global fetch cannot take a
 * per-request CA): 5xx answers and connections that failed in a way worth another try are
 * retried with exponential backoff; an answer is read whole. Nothing here knows profefe.
 */
import * as http from 'node:http';
import * as https from 'node:https';
import { setTimeout as sleep } from 'node:timers/promises';

/** Where and how to send. */
export interface HttpTransportOptions {
  /** Scheme, host, port and credentials; paths are given per request. */
  readonly base: URL;
  readonly agent: http.Agent;
  /** The CA to trust (https only); undefined: the system's. */
  readonly ca?: Buffer;
  readonly rejectUnauthorized: boolean;
  /** Sent with every request. */
  readonly headers: http.OutgoingHttpHeaders;
  /** Per attempt: the longest the server may stay silent (connecting, then between chunks), in ms. */
  readonly timeoutMs: number;
  /** Extra attempts after a 5xx answer or a failed connection. */
  readonly retries: number;
  /** Wait before the first retry, doubled before each further one, in ms. */
  readonly backoffMs: number;
  /** Aborts the exchange and retry waits; the call then rejects with the signal's reason. */
  readonly signal?: AbortSignal;
  /** The most bytes of an answer's body read: past it the connection is closed and the answer is its beginning (undefined: all of it). */
  readonly maxAnswerBytes?: number;
}

/** A whole answer, whatever its status. */
export interface HttpAnswer {
  readonly status: number;
  readonly statusText: string;
  readonly contentType: string;
  readonly location: string | undefined;
  readonly body: Buffer;
  readonly attempts: number;
  /** The body was longer than maxAnswerBytes: `body` is its beginning. */
  readonly truncated?: boolean;
}

/**
 * No answer: the server stayed silent for the timeout (not retried: a request that timed out
 * may have been done), or the connection failed (retried while transient). The message is one line.
 */
export class NoAnswer extends Error {
  override readonly name = 'NoAnswer';
  constructor(
    message: string,
    readonly timedOut: boolean,
    readonly attempts: number,
  ) {
    super(message);
  }
}

/** Sends requests to one server (see the module comment); HttpTransport.send is the whole API. */
export class HttpTransport {
  private readonly secure: boolean;

  constructor(private readonly opts: HttpTransportOptions) {
    this.secure = opts.base.protocol === 'https:';
  }

  /** One request with its retries; the answer of the last attempt, or NoAnswer. */
  async send(method: string, path: string, body: Uint8Array | undefined): Promise<HttpAnswer> {
    for (let attempt = 1; ; attempt++) {
      this.opts.signal?.throwIfAborted();
      let answer: HttpAnswer;
      try {
        answer = await this.exchange(method, path, body, attempt);
      } catch (err) {
        if (this.opts.signal?.aborted) throw this.opts.signal.reason;
        if (err instanceof AnswerTimeout) throw new NoAnswer('no answer in time', true, attempt);
        if (!isTransient(err) || attempt > this.opts.retries) throw new NoAnswer(describeNetworkError(err), false, attempt);
        await this.pause(attempt);
        continue;
      }
      if (answer.status >= 500 && attempt <= this.opts.retries) {
        await this.pause(attempt);
        continue;
      }
      return answer;
    }
  }

  private async pause(attempt: number): Promise<void> {
    try {
      await sleep(this.opts.backoffMs * 2 ** (attempt - 1), undefined, { signal: this.opts.signal });
    } catch (err) {
      throw this.opts.signal?.aborted ? this.opts.signal.reason : err;
    }
  }

  /** One HTTP exchange; resolves once the whole answer is in, whatever its status. */
  private exchange(method: string, path: string, body: Uint8Array | undefined, attempt: number): Promise<HttpAnswer> {
    return new Promise((resolve, reject) => {
      let settled = false;
      let timedOut = false;
      const settle = (err: unknown, answer?: HttpAnswer) => {
        if (settled) return;
        settled = true;
        if (err !== undefined) reject(timedOut ? new AnswerTimeout() : err);
        else resolve(answer!);
      };
      const headers: http.OutgoingHttpHeaders = { ...this.opts.headers };
      // No Content-Type of its own (profefe ignores it, and its Go agent sends none); `headers` may add one.
      if (body !== undefined) headers['Content-Length'] = body.byteLength;
      const options: https.RequestOptions = {
        protocol: this.opts.base.protocol,
        hostname: this.opts.base.hostname.replace(/^\[(.*)\]$/, '$1'),
        port: this.opts.base.port === '' ? undefined : Number(this.opts.base.port),
        path,
        method,
        headers,
        agent: this.opts.agent,
        // Node's `timeout` is an idle timeout that already runs while connecting.
        timeout: this.opts.timeoutMs,
        signal: this.opts.signal,
        ...(this.opts.base.username !== '' ? { auth: `${decodeURIComponent(this.opts.base.username)}:${decodeURIComponent(this.opts.base.password)}` } : {}),
        ...(this.secure ? { ca: this.opts.ca, rejectUnauthorized: this.opts.rejectUnauthorized } : {}),
      };
      let responded = false;
      const req = (this.secure ? https.request : http.request)(options, (res) => {
        responded = true;
        const chunks: Buffer[] = [];
        let kept = 0;
        const max = this.opts.maxAnswerBytes ?? Infinity;
        const answer = (truncated: boolean): HttpAnswer => ({
          status: res.statusCode ?? 0,
          statusText: res.statusMessage ?? '',
          contentType: String(res.headers['content-type'] ?? ''),
          location: res.headers.location,
          body: Buffer.concat(chunks),
          attempts: attempt,
          ...(truncated ? { truncated } : {}),
        });
        res.on('data', (chunk: Buffer) => {
          if (kept + chunk.length <= max) {
            chunks.push(chunk);
            kept += chunk.length;
            return;
          }
          // An answer longer than the caller will read: its beginning, and the connection closed.
          chunks.push(chunk.subarray(0, max - kept));
          settle(undefined, answer(true));
          res.destroy();
        });
        res.on('error', (err) => settle(err));
        res.on('close', () => {
          if (!res.complete) settle(Object.assign(new Error('the answer was cut short'), { code: 'ECONNRESET' }));
        });
        res.on('end', () => settle(undefined, answer(false)));
      });
      req.on('timeout', () => {
        timedOut = true;
        req.destroy(new AnswerTimeout());
      });
      req.on('error', (err) => settle(err));
      // A fallback: 'error' normally comes first, but a call must never be left pending.
      req.on('close', () => {
        if (!responded) settle(Object.assign(new Error('the connection closed without an answer'), { code: 'ECONNRESET' }));
      });
      req.end(body === undefined ? undefined : Buffer.from(body.buffer, body.byteOffset, body.byteLength));
    });
  }
}

class AnswerTimeout extends Error {
  override readonly name = 'AnswerTimeout';
}

/** Failures worth another attempt: the connection failed or broke, the server may be restarting. */
const TRANSIENT_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ENETDOWN', 'EAI_AGAIN', 'ECONNABORTED']);

// Duck-typed rather than instanceof: an error made in another realm (a vm context) is no instance of ours.
function errorParts(err: unknown): { message: string; code: string; errors: unknown[] } {
  const e = (typeof err === 'object' && err !== null ? err : {}) as { message?: unknown; code?: unknown; errors?: unknown };
  return {
    message: typeof e.message === 'string' ? e.message : String(err),
    code: typeof e.code === 'string' ? e.code : '',
    errors: Array.isArray(e.errors) ? e.errors : [],
  };
}

function errorCode(err: unknown): string {
  const { code, errors } = errorParts(err);
  return code !== '' || errors.length === 0 ? code : errorCode(errors[0]);
}

function isTransient(err: unknown): boolean {
  return TRANSIENT_CODES.has(errorCode(err));
}

/** One line; Node reports a failed connect to a name with several addresses as an AggregateError without a message. */
function describeNetworkError(err: unknown): string {
  const { message, errors } = errorParts(err);
  const code = errorCode(err);
  let text = message !== '' ? message : errors.length > 0 ? [...new Set(errors.map((e) => errorParts(e).message))].join('; ') : code;
  if (/CERT|SIGNATURE/.test(code)) text += " (the store's TLS certificate is not trusted: give its CA, or skip verification)";
  else if (code === 'ERR_SSL_WRONG_VERSION_NUMBER') text += ' (is the store plain http?)';
  return text.replace(/\s*\n\s*/g, ' ');
}
