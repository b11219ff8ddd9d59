/**
 * Capture targets given by URL (`capture --url http://HOST:PORT[/debug/pprof]`): a Go process
 * serving net/http/pprof reached straight over HTTP(S), with no cluster in the path. Each URL
 * becomes a CaptureTarget and a {@link UrlTunnel} connects to it, so the engine captures it
 * exactly as it captures a pod through its tunnel.
 */
import net from 'node:net';
import type { Duplex } from 'node:stream';
import tls from 'node:tls';
import { UsageError } from '../errors.js';
import { safePathSegment } from '../files/safe-segment.js';
import type { CaptureTarget } from '../kube/pods.js';
import type { PodEndpoint, Tunnel } from './tunnel.js';
import { hasControlCharacters } from '../report/terminal-text.js';
import { FetchError } from './http-over-tunnel.js';

/** The pprof prefix of a URL given without a path, as of a pod without profefe.com/path. */
export const DEFAULT_URL_PATH = '/debug/pprof';
/** Longest --service accepted (as profefe.com/service: a DNS subdomain's length). */
export const MAX_SERVICE_NAME = 253;

/** A parsed --url: where to connect and what to show; never holds the URL's credentials in `display`. */
export interface PprofUrl {
  readonly protocol: 'http' | 'https';
  /** The host name as connected to (an IPv6 address without brackets). */
  readonly hostname: string;
  readonly port: number;
  /** `host:port` (IPv6 in brackets), always with the port: the `url` label and the default service. */
  readonly hostPort: string;
  /** The pprof prefix: starts with '/', never ends with '/'. */
  readonly path: string;
  /** `http://host:port/path`, without user information: safe to print and to store. */
  readonly display: string;
  /** `Basic …` from user information in the URL (sent, never shown). */
  readonly authorization?: string;
}

/**
 * Parses one --url value. Only http and https; no query or fragment; a path of `/` or none
 * means {@link DEFAULT_URL_PATH}; a trailing `/` is dropped; user information becomes Basic
 * authorization (as curl does) and is never part of `display`. Throws UsageError naming --url,
 * quoting the value without its user information.
 */
export function parsePprofUrl(raw: string): PprofUrl {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new UsageError(`--url ${JSON.stringify(withoutUserinfo(raw))} is not a URL (expected http://HOST:PORT[/debug/pprof])`);
  }
  const shown = JSON.stringify(withoutUserinfo(raw));
  // `localhost:6060` parses as the scheme "localhost:"; say what was missing.
  if (!raw.includes('://')) throw new UsageError(`--url ${shown} has no scheme: write http://${withoutUserinfo(raw)} (or https://)`);
  const protocol = url.protocol.replace(/:$/, '');
  if (protocol !== 'http' && protocol !== 'https') throw new UsageError(`--url ${shown}: only http and https are supported, not ${protocol}`);
  if (url.hostname === '') throw new UsageError(`--url ${shown} has no host`);
  if (url.search !== '' || url.hash !== '') throw new UsageError(`--url ${shown}: give the pprof prefix only, without ? or #`);
  const port = url.port === '' ? (protocol === 'https' ? 443 : 80) : Number(url.port);
  const path = url.pathname === '/' ? DEFAULT_URL_PATH : url.pathname.replace(/\/+$/, '');
  const hostPort = `${url.hostname}:${port}`;
  const authorization =
    url.username !== '' || url.password !== ''
      ? `Basic ${Buffer.from(`${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}`).toString('base64')}`
      : undefined;
  return {
    protocol,
    hostname: url.hostname.replace(/^\[(.*)\]$/, '$1'),
    port,
    hostPort,
    path,
    display: `${protocol}://${hostPort}${path}`,
    ...(authorization ? { authorization } : {}),
  };
}

/**
 * The capture targets of --url values: one per distinct `display` URL, in the order given.
 * `service` is --service, else each URL's host:port as one safe segment (`127.0.0.1_6060`).
 * A target's namespace is '' and its pod is its host:port; `url` marks it as a URL target
 * (sinks label and name its profiles by it). Throws UsageError for a bad --service.
 */
export function urlTargets(urls: readonly PprofUrl[], service?: string): CaptureTarget[] {
  if (service !== undefined) {
    const bad = checkServiceName(service);
    if (bad) throw new UsageError(`--service ${JSON.stringify(service)} ${bad}`);
  }
  const seen = new Set<string>();
  const targets: CaptureTarget[] = [];
  for (const u of urls) {
    if (seen.has(u.display)) continue;
    seen.add(u.display);
    const headers: Record<string, string> = { Host: u.hostPort };
    if (u.authorization) headers.Authorization = u.authorization;
    targets.push({
      namespace: '',
      pod: u.hostPort,
      service: service ?? safePathSegment(u.hostPort),
      port: u.port,
      path: u.path,
      podIP: u.hostname,
      url: u.display,
      requestHeaders: headers,
      labels: {},
      annotations: {},
    });
  }
  return targets;
}

/**
 * Opens connections to URL targets: TCP for http, TLS (verified against the system's CAs, SNI
 * set) for https. The endpoint's `ip` is the host to connect to, its `name` the target's
 * host:port; `tlsHosts` names the host:ports reached over https. Resolves once connected (for
 * https, once the handshake is done). A refused connection is final, like a pod with nothing
 * listening; a reset while connecting is worth the engine's one retry.
 */
export class UrlTunnel implements Tunnel {
  private readonly tlsHosts: ReadonlySet<string>;

  constructor(urls: readonly PprofUrl[]) {
    this.tlsHosts = new Set(urls.filter((u) => u.protocol === 'https').map((u) => u.hostPort));
  }

  async open(target: PodEndpoint, signal?: AbortSignal): Promise<Duplex> {
    signal?.throwIfAborted();
    const host = target.ip ?? target.name;
    const secure = this.tlsHosts.has(target.name);
    return new Promise((resolve, reject) => {
      const socket = secure
        ? tls.connect({ host, port: target.port, servername: net.isIP(host) ? undefined : host, ALPNProtocols: ['http/1.1'] })
        : net.connect({ host, port: target.port });
      const onAbort = () => socket.destroy(signal!.reason as Error);
      signal?.addEventListener('abort', onAbort, { once: true });
      socket.once('close', () => signal?.removeEventListener('abort', onAbort));
      socket.once(secure ? 'secureConnect' : 'connect', () => {
        socket.removeAllListeners('error');
        resolve(socket);
      });
      socket.once('error', (err: NodeJS.ErrnoException) => {
        const where = `${secure ? 'https' : 'http'}://${target.name}`;
        if (err.code === 'ECONNREFUSED') reject(new FetchError(`nothing listening on ${where} (connection refused)`, false));
        else reject(new FetchError(`cannot connect to ${where}: ${err.code === 'ENOTFOUND' ? 'no such host' : err.message}`, err.code === 'ECONNRESET'));
      });
    });
  }
}

/** The URL as typed, with any `user:password@` replaced by `***@`, for messages. */
export function withoutUserinfo(raw: string): string {
  return raw.replace(/^([A-Za-z][A-Za-z0-9+.-]*:\/\/)[^/?#]*@/, '$1***@');
}

function checkServiceName(service: string): string | undefined {
  if (service === '') return 'is empty';
  if (hasControlCharacters(service)) return 'contains control characters';
  if (/^\.+$/.test(service)) return 'is not a name';
  if (service.length > MAX_SERVICE_NAME) return `is longer than ${MAX_SERVICE_NAME} characters`;
  return undefined;
}
