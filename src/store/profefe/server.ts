/**
 * A profefe-compatible HTTP API over any ProfileStore (node:http only), for `kubectl profefe
 * serve`: the profefe agent, kube-profefe, `go tool pprof <url>` and our own profefe client
 * talk to it as to a real collector. Routes, method leniency, envelopes, status codes, error
 * strings, Content-Types and time parsing are the collector's (docs/profefe-api.md), Go's
 * ServeMux redirects included.
 *
 * Deliberate differences from the real collector:
 * - Optional bearer token: with `token` set, every /api/0 request needs
 *   `Authorization: Bearer <token>`, else 401 {"code":401,"error":"unauthorized"}.
 * - Request body limit (default 32 MiB): 413 {"code":413,"error":"request body too large"}.
 *   profefe reads any body fully into memory.
 * - At most `maxConcurrentUploads` uploads are read and checked at once (default 4); one more is
 *   answered 503 {"code":503,"error":"too many uploads in progress, retry later"} with
 *   Retry-After, before its body is read (the profefe agent and our client retry 5xx). A store
 *   that refuses a merge for now (StoreUnavailable: `serve`'s merge threads all busy and
 *   their queue full) gets the same 503 with its message, on the merge routes.
 * - A request must arrive whole within `requestTimeoutMs` (default 60 s; its headers within
 *   10 s), else 408 and the connection is closed: a slow drip cannot hold a connection open.
 * - Labels filter correctly whatever the upload order (not badger's bug: docs/profefe-api.md, "Known bugs"): that is the store's job.
 * - An ID that is not one of ours is 404 `nothing found`, not badger's 500 `failed to get
 *   profile by id` for IDs that are not valid xids.
 * - Only pprof protobuf uploads are accepted; Go's parser also takes legacy text profiles. The
 *   `malformed profile (...)` reasons are Go's for empty, truncated-gzip and concatenated
 *   bodies; every other rejection says `parsing profile: unrecognized profile format`.
 * - Labels with repeated keys keep their upload order (Go's unstable sort may swap them).
 * - `from`/`to` are used to the millisecond (Go accepts up to 9 fractional digits; so do we,
 *   for parsing and the from > to check).
 * - Content-Disposition filenames are limited to printable ASCII (others become `_`), where Go
 *   writes the raw ID bytes.
 * - `/healthz` answers 200 `ok` (no token needed); there is no /debug/pprof, /debug/vars or
 *   /debug/metrics.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { BUILD_INFO } from '../../build-info.js';
import { profefeStatusOf } from './status.js';
import { envelope, envelopeError, metaJson } from './wire.js';
import {
  EmptyIdError,
  formatGoTime,
  goCleanPath,
  goEscapePath,
  goQuote,
  muxCleanPath,
  parseGoAtoi,
  parseGoTime,
  parseLabelsParam,
  parseProfileIdsPath,
  parseProfileType,
  parseQuery,
  ProfefeRequestError,
  unescapeRaw,
} from './request.js';
import { StoreUnavailable, type ProfileMeta, type ProfileStore, type StoreLabel, type StoreProfileType } from '../store.js';

/** Options of {@link startProfefeServer}. */
export interface ProfefeServerOptions {
  /** Served as is; the server never closes it. */
  readonly store: ProfileStore;
  /** Default 127.0.0.1. */
  readonly host?: string;
  /** Default 0: any free port (see `url`). */
  readonly port?: number;
  /** When set, /api/0 requests need `Authorization: Bearer <token>`. */
  readonly token?: string;
  /** Largest accepted upload body (default {@link DEFAULT_MAX_BODY_BYTES}). */
  readonly maxBodyBytes?: number;
  /** Uploads read and checked at once (default {@link DEFAULT_MAX_CONCURRENT_UPLOADS}). */
  readonly maxConcurrentUploads?: number;
  /** Time for a whole request to arrive (default {@link DEFAULT_REQUEST_TIMEOUT_MS}). */
  readonly requestTimeoutMs?: number;
}

/** A running server. */
export interface ProfefeServer {
  /** Base URL, e.g. `http://127.0.0.1:10100` (IPv6 hosts in brackets). */
  readonly url: string;
  /** Stops accepting connections and resolves once open ones have finished (in-flight requests get 2 s). */
  close(): Promise<void>;
}

/** Default {@link ProfefeServerOptions.maxBodyBytes}: a large service's gzipped heap profile is a few MiB. */
export const DEFAULT_MAX_BODY_BYTES = 32 * 2 ** 20;
/** Default {@link ProfefeServerOptions.maxConcurrentUploads}. */
export const DEFAULT_MAX_CONCURRENT_UPLOADS = 4;
/** Default {@link ProfefeServerOptions.requestTimeoutMs}: 32 MiB at 1 MB/s fits. */
export const DEFAULT_REQUEST_TIMEOUT_MS = 60_000;
const HEADERS_TIMEOUT_MS = 10_000;

/** Bytes of an oversize body still read (and discarded) so the client sees the 413 before the connection closes. */
const DRAIN_BYTES = 2 ** 20;
const CLOSE_GRACE_MS = 2000;

const TEXT = 'text/plain; charset=utf-8';
const JSON_TYPE = 'application/json';
const OCTET = 'application/octet-stream';

const VERSION = BUILD_INFO.version;

/**
 * Starts the profefe-compatible API on host:port and resolves once it listens.
 *
 * Routes: POST/GET `/api/0/profiles` (upload, find; other methods 200 with an empty body),
 * any method on `/api/0/profiles/{id}[+{id}...]`, `/api/0/profiles/merge`, `/api/0/services`,
 * `/api/0/version`; other `/api/0/...` 404 `nothing found`; `/api/0` 301 to `/api/0/`;
 * anything else Go's `404 page not found`; plus `/healthz`.
 */
export async function startProfefeServer(opts: ProfefeServerOptions): Promise<ProfefeServer> {
  const ctx: Context = {
    store: opts.store,
    tokenDigest: opts.token ? digest(opts.token) : undefined,
    maxBodyBytes: opts.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES,
    maxConcurrentUploads: opts.maxConcurrentUploads ?? DEFAULT_MAX_CONCURRENT_UPLOADS,
    uploads: 0,
  };
  const requestTimeout = opts.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
  const server = createServer({
    requestTimeout,
    headersTimeout: Math.min(HEADERS_TIMEOUT_MS, requestTimeout),
    // How often Node looks for requests over their time; its default (30 s) would let them run on.
    connectionsCheckingInterval: Math.min(1000, requestTimeout),
  }, (req, res) => {
    handle(req, res, ctx).catch(() => {
      if (req.destroyed || res.destroyed) return; // the client went away mid-request
      if (!res.headersSent) send(res, 500, JSON_TYPE, envelopeError(500, 'internal server error'));
      else res.destroy();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, opts.host ?? '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const addr = server.address() as AddressInfo;
  const host = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
  let closing: Promise<void> | undefined;
  return {
    url: `http://${host}:${addr.port}`,
    close() {
      closing ??= new Promise<void>((resolve) => {
        const force = setTimeout(() => server.closeAllConnections(), CLOSE_GRACE_MS);
        server.close(() => {
          clearTimeout(force);
          resolve();
        });
        server.closeIdleConnections();
      });
      return closing;
    },
  };
}

interface Context {
  readonly store: ProfileStore;
  readonly tokenDigest: Buffer | undefined;
  readonly maxBodyBytes: number;
  readonly maxConcurrentUploads: number;
  /** Uploads being read or checked now. */
  uploads: number;
}

async function handle(req: IncomingMessage, res: ServerResponse, ctx: Context): Promise<void> {
  let target = req.url ?? '/';
  if (/^https?:\/\//i.test(target)) target = target.replace(/^https?:\/\/[^/?]*/i, '') || '/';
  const q = target.indexOf('?');
  const rawPath = q < 0 ? target : target.slice(0, q);
  const rawQuery = q < 0 ? '' : target.slice(q + 1);
  let urlPath: string;
  try {
    urlPath = unescapeRaw(rawPath, 'path');
  } catch {
    // What Go's server answers when the request line does not parse.
    res.setHeader('Connection', 'close');
    return send(res, 400, TEXT, '400 Bad Request');
  }
  if (urlPath === '/healthz') return send(res, 200, TEXT, 'ok');

  if ((urlPath === '/api/0' || urlPath.startsWith('/api/0/')) && ctx.tokenDigest && !authorized(req, ctx.tokenDigest)) {
    res.setHeader('WWW-Authenticate', 'Bearer');
    return send(res, 401, JSON_TYPE, envelopeError(401, 'unauthorized'));
  }
  const query = rawQuery === '' ? '' : `?${rawQuery}`;
  // Go's ServeMux: non-canonical paths, and a subtree root without its slash, are redirected.
  const clean = muxCleanPath(urlPath);
  if (clean !== urlPath) return redirect(req, res, goEscapePath(clean) + query);
  if (urlPath === '/api/0') return redirect(req, res, `/api/0/${query}`);
  if (!urlPath.startsWith('/api/0/')) {
    res.setHeader('X-Content-Type-Options', 'nosniff');
    return send(res, 404, TEXT, '404 page not found\n');
  }

  const params = parseQuery(rawQuery);
  if (urlPath === '/api/0/version') return handleVersion(res);
  if (urlPath === '/api/0/services') return handleServices(res, ctx);
  const profilesPath = goCleanPath(urlPath);
  if (profilesPath === '/api/0/profiles') {
    if (req.method === 'POST') return handleUpload(req, res, ctx, params);
    if (req.method === 'GET') return handleFind(res, ctx, params);
    return send(res, 200, undefined, ''); // profefe's handler does nothing for other methods
  }
  if (profilesPath === '/api/0/profiles/merge') return handleMerge(res, ctx, params);
  // Any path with this prefix, even /api/0/profilesX, is a get-by-ID in profefe.
  if (profilesPath.startsWith('/api/0/profiles')) return handleGet(res, ctx, urlPath);
  return send(res, 404, TEXT, envelopeError(404, 'nothing found'));
}

function handleVersion(res: ServerResponse): void {
  // Our version where profefe has its build's; the runtime's where it has go_version.
  const body = { version: VERSION, commit: '', build_time: '', go_version: `node${process.versions.node}` };
  send(res, 200, TEXT, envelope(body));
}

async function handleServices(res: ServerResponse, ctx: Context): Promise<void> {
  let services: string[];
  try {
    services = await ctx.store.services();
  } catch {
    return send(res, 500, JSON_TYPE, envelopeError(500, 'internal server error'));
  }
  if (services.length === 0) return send(res, 404, JSON_TYPE, envelopeError(404, 'nothing found'));
  send(res, 200, JSON_TYPE, envelope(services));
}

async function handleUpload(req: IncomingMessage, res: ServerResponse, ctx: Context, q: Query): Promise<void> {
  // profefe writes the status before its Content-Type header, so Go sniffs text/plain.
  const fail = (status: number, message: string) => send(res, status, TEXT, envelopeError(status, message));
  const service = q.get('service');
  if (service === '') return fail(400, 'bad request: missing "service"');
  const type = parseProfileType(q.get('type'));
  const labels = parseLabels(q);
  if (typeof labels === 'string') return fail(400, labels);
  let createdAt: Date | undefined;
  const createdParam = q.get('created_at');
  if (createdParam !== '') {
    const ns = parseGoTime(createdParam);
    if (ns === undefined) return fail(400, `bad request: bad "created_at" ${goQuote(createdParam)}: time in unsupported format ${goQuote(createdParam)}`);
    createdAt = nsToDate(ns);
  }
  if (type === undefined) return fail(400, 'bad request: unknown profile type');

  if (ctx.uploads >= ctx.maxConcurrentUploads) {
    // Refused before reading: the body is not ours to hold. Closing drops what was sent.
    res.setHeader('Retry-After', '1');
    res.setHeader('Connection', 'close');
    return fail(503, 'too many uploads in progress, retry later');
  }
  ctx.uploads++;
  try {
    const body = await readBody(req, ctx.maxBodyBytes);
    if (body === 'too large' || body === 'too large, closing') {
      if (body === 'too large, closing') res.setHeader('Connection', 'close');
      return send(res, 413, JSON_TYPE, envelopeError(413, 'request body too large'));
    }
    let meta: ProfileMeta;
    try {
      meta = await ctx.store.upload({ service, type, labels, createdAt, body });
    } catch (err) {
      // A refusal in profefe's words (the local store validates as profefe does); a failure is profefe's 500.
      const status = profefeStatusOf(err);
      if (status >= 400 && status < 600 && status !== 500) return fail(status, (err as Error).message);
      return fail(500, 'failed to collect profile');
    }
    send(res, 200, TEXT, envelope(metaJson(meta)));
  } finally {
    ctx.uploads--;
  }
}

async function handleFind(res: ServerResponse, ctx: Context, q: Query): Promise<void> {
  const p = parseFindParams(q);
  if (typeof p === 'string') return send(res, 400, TEXT, envelopeError(400, p));
  let metas: ProfileMeta[];
  try {
    metas = await ctx.store.find(p);
  } catch {
    return send(res, 500, JSON_TYPE, envelopeError(500, 'internal server error'));
  }
  if (metas.length === 0) return send(res, 404, JSON_TYPE, envelopeError(404, 'nothing found'));
  send(res, 200, JSON_TYPE, envelope(metas.map(metaJson)));
}

async function handleMerge(res: ServerResponse, ctx: Context, q: Query): Promise<void> {
  const p = parseFindParams(q);
  if (typeof p === 'string') return send(res, 400, TEXT, envelopeError(400, p));
  if (p.type === undefined || p.type === 'trace') {
    return send(res, 405, TEXT, envelopeError(405, `can't merge profiles of ${p.type ?? 'unknown'} type`));
  }
  let bytes: Uint8Array;
  try {
    bytes = await ctx.store.mergeQuery({ ...p, type: p.type });
  } catch (err) {
    // After parsing profefe has set octet-stream; its querier's errors are not status errors.
    if (profefeStatusOf(err) === 404) return send(res, 404, OCTET, envelopeError(404, 'nothing found'));
    if (isBusy(err)) return sendBusy(res, err);
    return send(res, 500, OCTET, envelopeError(500, 'internal server error'));
  }
  res.setHeader('Content-Disposition', `attachment; filename="${p.type}"`);
  send(res, 200, OCTET, bytes);
}

async function handleGet(res: ServerResponse, ctx: Context, urlPath: string): Promise<void> {
  let raw: string;
  let ids: string[];
  try {
    ({ raw, ids } = parseProfileIdsPath(urlPath));
  } catch (err) {
    if (err instanceof EmptyIdError) return send(res, 500, TEXT, envelopeError(500, 'internal server error'));
    return send(res, 400, TEXT, envelopeError(400, (err as Error).message));
  }
  let bytes: Uint8Array;
  try {
    bytes = ids.length === 1 ? await ctx.store.get(ids[0]!) : await ctx.store.mergeIds(ids);
  } catch (err) {
    if (profefeStatusOf(err) === 404) return send(res, 404, OCTET, envelopeError(404, 'nothing found'));
    if (isBusy(err)) return sendBusy(res, err);
    return send(res, 500, OCTET, envelopeError(500, `failed to get profile by id ${goQuote(raw)}`));
  }
  res.setHeader('Content-Disposition', `attachment; filename="${raw.replace(/[^\x20-\x7e]|["\\]/g, '_')}"`);
  send(res, 200, OCTET, bytes);
}

/** A store's "not now" (503): more merges than its threads and queue take. */
/** A merge refused for now (the merge threads busy, the store shutting down): 503 with Retry-After. */
function isBusy(err: unknown): err is StoreUnavailable {
  return err instanceof StoreUnavailable;
}

function sendBusy(res: ServerResponse, err: StoreUnavailable): void {
  res.setHeader('Retry-After', '1');
  send(res, 503, OCTET, envelopeError(503, err.message));
}

type Query = ReturnType<typeof parseQuery>;

interface FindParams {
  service: string;
  type: StoreProfileType | undefined;
  labels: StoreLabel[];
  from: Date;
  to: Date;
  limit: number;
}

/** profefe's parseFindProfileParams: the parameters, or the 400 message, checked in its order. */
function parseFindParams(q: Query): FindParams | string {
  const service = q.get('service');
  if (service === '') return 'bad request: missing "service"';
  const type = parseProfileType(q.get('type'));
  const labels = parseLabels(q);
  if (typeof labels === 'string') return labels;
  const times: bigint[] = [];
  for (const name of ['from', 'to']) {
    const v = q.get(name);
    if (v === '') return `bad request: missing "${name}"`;
    const ns = parseGoTime(v);
    if (ns === undefined) return `bad request: bad "${name}" timestamp ${goQuote(v)}: time in unsupported format ${goQuote(v)}`;
    times.push(ns);
  }
  const [fromNs, toNs] = times as [bigint, bigint];
  let limit = 0;
  const limitParam = q.get('limit');
  if (limitParam !== '') {
    try {
      limit = parseGoAtoi(limitParam);
    } catch (err) {
      return `bad request: bad "limit" ${goQuote(limitParam)}: ${(err as Error).message}`;
    }
  }
  if (fromNs > toNs) return `bad request: CreatedAtMin after CreatedAtMax: ${formatGoTime(fromNs)}, ${formatGoTime(toNs)}`;
  return { service, type, labels, from: nsToDate(fromNs), to: nsToDate(toNs), limit };
}

function parseLabels(q: Query): StoreLabel[] | string {
  const raw = q.get('labels');
  try {
    return parseLabelsParam(raw);
  } catch (err) {
    if (!(err instanceof ProfefeRequestError)) throw err;
    return `bad request: bad "labels" ${goQuote(raw)}: ${err.message}`;
  }
}

/** Milliseconds floored; sub-millisecond parts of a query time are dropped (Date's precision). */
function nsToDate(ns: bigint): Date {
  const ms = ns / 1_000_000n;
  return new Date(Number(ns % 1_000_000n < 0n ? ms - 1n : ms));
}

function send(res: ServerResponse, status: number, contentType: string | undefined, body: string | Uint8Array): void {
  if (contentType) res.setHeader('Content-Type', contentType);
  res.setHeader('Content-Length', typeof body === 'string' ? Buffer.byteLength(body) : body.length);
  res.writeHead(status);
  res.end(body);
}

/** Go's http.Redirect with 301. */
function redirect(req: IncomingMessage, res: ServerResponse, location: string): void {
  res.setHeader('Location', location);
  if (req.method !== 'GET' && req.method !== 'HEAD') return send(res, 301, undefined, '');
  const href = location.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&#34;', "'": '&#39;' })[c]!);
  send(res, 301, 'text/html; charset=utf-8', `<a href="${href}">Moved Permanently</a>.\n\n`);
}

function digest(s: string): Buffer {
  return createHash('sha256').update(s).digest();
}

function authorized(req: IncomingMessage, tokenDigest: Buffer): boolean {
  const m = /^Bearer\s+(.+)$/i.exec(req.headers.authorization ?? '');
  // Digests have equal lengths, so the comparison takes the same time whatever the guess.
  return m !== null && timingSafeEqual(digest(m[1]!.trim()), tokenDigest);
}

/**
 * The request body, or 'too large' once it passes `limit`. An oversize body is read on (and
 * discarded) up to DRAIN_BYTES more so the client gets the 413 rather than a reset; beyond
 * that the connection is closed after the answer. The body owns its memory (no slice of
 * Node's buffer pool), so that a checker thread can take it without a copy.
 */
function readBody(req: IncomingMessage, limit: number): Promise<Uint8Array | 'too large' | 'too large, closing'> {
  const declared = Number(req.headers['content-length']);
  if (declared > limit + DRAIN_BYTES) return Promise.resolve('too large, closing');
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let settled = false;
    const settle = (fn: () => void) => {
      if (settled) return;
      settled = true;
      req.off('data', onData);
      fn();
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size <= limit) chunks.push(chunk);
      else chunks.length = 0;
      if (size > limit + DRAIN_BYTES) {
        req.pause();
        settle(() => resolve('too large, closing'));
      }
    };
    req.on('data', onData);
    req.once('end', () => settle(() => resolve(size > limit ? 'too large' : concatOwned(chunks, size))));
    req.once('error', (err) => settle(() => reject(err)));
    req.once('close', () => settle(() => reject(new Error('client closed the connection before sending the whole body'))));
  });
}

/** The chunks in one Uint8Array over an ArrayBuffer of its own. */
function concatOwned(chunks: readonly Buffer[], size: number): Uint8Array {
  const out = new Uint8Array(size);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}
