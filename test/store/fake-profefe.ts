/**
 * A fake profefe collector on 127.0.0.1:0 for the client tests. It routes and validates
 * requests the way profefe's Go handlers do (docs/profefe-api.md; routes.go,
 * profiles_handler.go, request.go, labels.go), answering with the recorded status,
 * Content-Type and body; what its storage would return is scripted per test. Every request is
 * recorded raw, with what profefe would decode from it (query, labels, ids).
 */
import { createServer as createHttpServer, type IncomingHttpHeaders, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { StoreLabel } from '../../src/store/store.js';

/** What Go sniffs for JSON written before the handler set a Content-Type (most profefe 4xx, upload, version). */
export const TEXT = 'text/plain; charset=utf-8';
/** Set up front by find (after its parameters parse) and services. */
export const JSON_TYPE = 'application/json';
/** Set by get and merge once their parameters parse, so their later errors carry it too. */
export const OCTETS = 'application/octet-stream';

/** A complete HTTP answer. */
export interface Canned {
  readonly status: number;
  /** Omitted: no Content-Type header at all. */
  readonly contentType?: string;
  readonly headers?: Readonly<Record<string, string>>;
  readonly body: string | Buffer;
}

/** Answer nothing and keep the connection open (a stuck store). */
export const HANG = { hang: true } as const;
/** Drop the connection without answering (a crash or a broken proxy). */
export const DROP = { drop: true } as const;

/** What the fake does with one request. */
export type FakeAnswer = Canned | typeof HANG | typeof DROP;
/** What a route answers once profefe's own validation has passed. */
export type Script = FakeAnswer | ((req: RecordedRequest) => FakeAnswer);

/** profefe's handlers; `other` is everything they do not serve (unknown paths, methods). */
export type FakeRoute = 'upload' | 'find' | 'get' | 'merge' | 'services' | 'version' | 'other';

/** One request as it arrived, with what profefe would decode from it. */
export interface RecordedRequest {
  readonly method: string;
  /** Path and query exactly as sent, undecoded. */
  readonly rawUrl: string;
  readonly headers: IncomingHttpHeaders;
  readonly body: Buffer;
  readonly route: FakeRoute;
  /** `r.URL.Query()` as Go parses it: first value per name. */
  readonly query: ReadonlyMap<string, string>;
  /** The labels profefe decodes from `labels` (docs/profefe-api.md, "Labels"), when present and valid. */
  readonly labels?: StoreLabel[];
  /** get by id(s): the ids profefe looks up. */
  readonly ids?: string[];
}

/** A running fake collector. */
export interface FakeProfefe {
  /** `http://127.0.0.1:<port>` (or https). */
  readonly url: string;
  readonly requests: RecordedRequest[];
  /** Queues answers for a route, used in order; after them the route's default applies again. */
  script(route: Exclude<FakeRoute, 'other'>, ...answers: Script[]): void;
  /** Replaces a route's default answer (used once its queue is empty). */
  always(route: Exclude<FakeRoute, 'other'>, answer: Script): void;
  close(): Promise<void>;
}

/** A profefe JSON envelope line as Go's json.Encoder writes it (HTML-safe escapes, trailing newline). */
export function goJson(value: unknown): string {
  return `${JSON.stringify(value).replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`)}\n`;
}

/** The Content-Type profefe's answers carry once a route's parameters are valid (docs/profefe-api.md, "Envelope and statuses"). */
const VALID_CONTENT_TYPE: Record<Exclude<FakeRoute, 'other'>, string> = {
  upload: TEXT,
  version: TEXT,
  find: JSON_TYPE,
  services: JSON_TYPE,
  get: OCTETS,
  merge: OCTETS,
};

/** A 200 envelope `{"code":200,"body":…}` with the route's real Content-Type. */
export function ok(route: 'upload' | 'find' | 'services' | 'version', body: unknown): Canned {
  return { status: 200, contentType: VALID_CONTENT_TYPE[route], body: goJson({ code: 200, body }) };
}

/** An error envelope `{"code":N,"error":"…"}` with the Content-Type of an error raised after validation. */
export function fail(route: Exclude<FakeRoute, 'other'>, status: number, error: string): Canned {
  return { status, contentType: VALID_CONTENT_TYPE[route], body: goJson({ code: status, error }) };
}

/** profefe's empty result: 404 "nothing found". */
export function nothingFound(route: Exclude<FakeRoute, 'other'>): Canned {
  return fail(route, 404, 'nothing found');
}

/** A binary 200 from get (filename = the ids) or merge (filename = the type). */
export function binary(bytes: Buffer, filename: string): Canned {
  return { status: 200, contentType: OCTETS, headers: { 'Content-Disposition': `attachment; filename="${filename}"` }, body: bytes };
}

/** A profile meta as profefe's models.go serialises it (field order, labels omitted when empty). */
export function metaJson(m: { id: string; type: string; service: string; labels?: StoreLabel[]; createdAt: string }): Record<string, unknown> {
  return { id: m.id, type: m.type, service: m.service, ...(m.labels && m.labels.length > 0 ? { labels: m.labels } : {}), created_at: m.createdAt };
}

/** Answers recorded from a real collector, verbatim from profefe-api.md (status, Content-Type, body). */
export const recorded = {
  uploadCpu: {
    status: 200,
    contentType: TEXT,
    body: '{"code":200,"body":{"id":"dc2v00b8di1ecttsn9f0","type":"cpu","service":"api-backend","labels":[{"key":"dc","value":"fra"},{"key":"region","value":"europe-west3"}],"created_at":"2026-11-24T20:13:46Z"}}\n',
  },
  uploadTrace: {
    status: 200,
    contentType: TEXT,
    body: '{"code":200,"body":{"id":"dc2v00b8di1ecttsn9gg","type":"trace","service":"api-backend","labels":[{"key":"region","value":"europe-west3"}],"created_at":"2026-11-24T20:00:00Z"}}\n',
  },
  /** the recorded find example with its elisions filled from the upload examples; Content-Length 541 as recorded. */
  findApiBackend: {
    status: 200,
    contentType: JSON_TYPE,
    body:
      '{"code":200,"body":[{"id":"dc2v00b8di1ecttsn9gg","type":"trace","service":"api-backend","labels":[{"key":"region","value":"europe-west3"}],"created_at":"2026-11-24T20:00:00Z"},' +
      '{"id":"dc2v00b8di1ecttsn9f0","type":"cpu","service":"api-backend","labels":[{"key":"dc","value":"fra"},{"key":"region","value":"europe-west3"}],"created_at":"2026-11-24T20:13:46Z"},' +
      '{"id":"dc2v00b8di1ecttsn9fg","type":"heap","service":"api-backend","labels":[{"key":"dc","value":"fra"},{"key":"region","value":"europe-west3"}],"created_at":"2026-11-24T20:13:47Z"}]}\n',
  },
  findNothing: { status: 404, contentType: JSON_TYPE, body: '{"code":404,"error":"nothing found"}\n' },
  findMissingFrom: { status: 400, contentType: TEXT, body: '{"code":400,"error":"bad request: missing \\"from\\""}\n' },
  findZuluFrom: {
    status: 400,
    contentType: TEXT,
    body: '{"code":400,"error":"bad request: bad \\"from\\" timestamp \\"2026-11-24T00:00:00Z\\": time in unsupported format \\"2026-11-24T00:00:00Z\\""}\n',
  },
  findFromAfterTo: {
    status: 400,
    contentType: TEXT,
    body: '{"code":400,"error":"bad request: CreatedAtMin after CreatedAtMax: 2026-11-25 00:00:00 +0000 UTC, 2026-11-24 00:00:00 +0000 UTC"}\n',
  },
  findBadLimit: { status: 400, contentType: TEXT, body: '{"code":400,"error":"bad request: bad \\"limit\\" \\"abc\\": strconv.Atoi: parsing \\"abc\\": invalid syntax"}\n' },
  uploadMissingService: { status: 400, contentType: TEXT, body: '{"code":400,"error":"bad request: missing \\"service\\""}\n' },
  uploadUnknownType: { status: 400, contentType: TEXT, body: '{"code":400,"error":"bad request: unknown profile type"}\n' },
  uploadEmptyBody: {
    status: 400,
    contentType: TEXT,
    body: '{"code":400,"error":"malformed profile (could not parse pprof profile: parsing profile: empty input file)"}\n',
  },
  uploadNoSamples: {
    status: 400,
    contentType: TEXT,
    body: '{"code":400,"error":"malformed profile (could not parse pprof profile: profile is empty: no samples)"}\n',
  },
  uploadStorageFailure: { status: 500, contentType: TEXT, body: '{"code":500,"error":"failed to collect profile"}\n' },
  getNothing: { status: 404, contentType: OCTETS, body: '{"code":404,"error":"nothing found"}\n' },
  mergeNothing: { status: 404, contentType: OCTETS, body: '{"code":404,"error":"nothing found"}\n' },
  mergeUnknownType: { status: 405, contentType: TEXT, body: '{"code":405,"error":"can\'t merge profiles of unknown type"}\n' },
  mergeTrace: { status: 405, contentType: TEXT, body: '{"code":405,"error":"can\'t merge profiles of trace type"}\n' },
  services: { status: 200, contentType: JSON_TYPE, body: '{"code":200,"body":["api-backend","worker"]}\n' },
  servicesNothing: { status: 404, contentType: JSON_TYPE, body: '{"code":404,"error":"nothing found"}\n' },
  version: {
    status: 200,
    contentType: TEXT,
    body: '{"code":200,"body":{"version":"git-92baf9f","commit":"92baf9f","build_time":"2026-11-24T20:13:14Z","go_version":"go1.19.8"}}\n',
  },
  /** Go's default mux outside /api/0/ (a base URL with the wrong path). */
  goNotFound: { status: 404, contentType: TEXT, headers: { 'X-Content-Type-Options': 'nosniff' }, body: '404 page not found\n' },
  /** Not profefe: nginx in front of a store that is down. */
  nginxBadGateway: {
    status: 502,
    contentType: 'text/html',
    body: '<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx/1.25.3</center>\r\n</body>\r\n</html>\r\n',
  },
} satisfies Record<string, Canned>;

/** A recorded 500 for an id badger cannot parse (docs/profefe-api.md, "Envelope and statuses"), for any id. */
export function getBadId(rawPids: string): Canned {
  return { status: 500, contentType: OCTETS, body: goJson({ code: 500, error: `failed to get profile by id ${goQuote(rawPids)}` }) };
}

// ---------------------------------------------------------------------------------------------
// Go's decoding, written out so the tests can check what profefe would read from our requests.

/** strconv.Quote for the printable text used in profefe's messages. */
export function goQuote(s: string): string {
  return JSON.stringify(s);
}

/**
 * Go's url.QueryUnescape (`mode: 'query'`, `+` is a space) or url.PathUnescape (`+` stays):
 * `%XX` are bytes of UTF-8 text. Throws Go's `invalid URL escape "%zz"`.
 */
export function goUnescape(s: string, mode: 'query' | 'path'): string {
  const bytes: number[] = [];
  for (let i = 0; i < s.length; ) {
    const c = s[i]!;
    if (c === '%') {
      const hex = s.slice(i + 1, i + 3);
      if (!/^[0-9a-fA-F]{2}$/.test(hex)) throw new Error(`invalid URL escape ${goQuote(s.slice(i, i + 3))}`);
      bytes.push(parseInt(hex, 16));
      i += 3;
    } else if (c === '+' && mode === 'query') {
      bytes.push(0x20);
      i += 1;
    } else {
      const cp = s.codePointAt(i)!;
      bytes.push(...Buffer.from(String.fromCodePoint(cp), 'utf8'));
      i += cp > 0xffff ? 2 : 1;
    }
  }
  return Buffer.from(bytes).toString('utf8');
}

/** Go's url.ParseQuery as `r.URL.Query()` uses it: a pair with a bad escape or a `;` is dropped silently. */
export function goParseQuery(rawQuery: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const part of rawQuery.split('&')) {
    if (part === '' || part.includes(';')) continue;
    const eq = part.indexOf('=');
    const [k, v] = eq < 0 ? [part, ''] : [part.slice(0, eq), part.slice(eq + 1)];
    let key: string;
    let value: string;
    try {
      key = goUnescape(k, 'query');
      value = goUnescape(v, 'query');
    } catch {
      continue;
    }
    out.set(key, [...(out.get(key) ?? []), value]);
  }
  return out;
}

/**
 * profefe's `Labels.FromString` (labels.go) on the already query-decoded `labels` value: split
 * on `,`, then on the first `=`, trim, QueryUnescape each side again, drop empty keys, sort by
 * key (bytes). Throws Go's error for a bad second-level escape.
 */
export function goDecodeLabels(value: string): StoreLabel[] {
  const labels: StoreLabel[] = [];
  for (const chunk of value === '' ? [] : value.split(',')) {
    const eq = chunk.indexOf('=');
    const [k, v] = eq < 0 ? [chunk, ''] : [chunk.slice(0, eq), chunk.slice(eq + 1)];
    const key = goUnescape(k.trim(), 'query');
    if (key === '') continue;
    labels.push({ key, value: goUnescape(v.trim(), 'query') });
  }
  return labels.sort((a, b) => Buffer.compare(Buffer.from(a.key), Buffer.from(b.key)));
}

/** profefe's parseTime: layout `2006-01-02T15:04:05` as UTC (Go also takes a fractional second); the zero time is refused. */
export function goParseTime(v: string): Date | undefined {
  const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d+)?$/.exec(v);
  if (!m) return undefined;
  const [y, mo, d, h, mi, s] = m.slice(1, 7).map(Number) as [number, number, number, number, number, number];
  const date = new Date(`${m[1]}-${m[2]}-${m[3]}T${m[4]}:${m[5]}:${m[6]}${m[7] ?? ''}Z`);
  const daysInMonth = new Date(Date.UTC(2000, mo, 0)).getUTCDate() - (mo === 2 && !isLeap(y) ? 1 : 0);
  if (mo < 1 || mo > 12 || d < 1 || d > daysInMonth || h > 23 || mi > 59 || s > 59 || Number.isNaN(date.getTime())) return undefined;
  if (date.getTime() === new Date('0001-01-01T00:00:00Z').getTime()) return undefined;
  return date;
}

function isLeap(y: number): boolean {
  return (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;
}

/** Go's time.Time.String() for a whole-second UTC time, as in profefe's CreatedAtMin message. */
function goTimeString(d: Date): string {
  return `${d.toISOString().slice(0, 19).replace('T', ' ')} +0000 UTC`;
}

/** Go's path.Clean for the absolute paths profefe routes on. */
function goCleanPath(p: string): string {
  const out: string[] = [];
  for (const seg of p.split('/')) {
    if (seg === '' || seg === '.') continue;
    if (seg === '..') out.pop();
    else out.push(seg);
  }
  return `/${out.join('/')}`;
}

// ---------------------------------------------------------------------------------------------

/** Starts the fake on 127.0.0.1:0, over https when given a server cert and key. */
export async function startFakeProfefe(opts: { tls?: { cert: string; key: string } } = {}): Promise<FakeProfefe> {
  const requests: RecordedRequest[] = [];
  const queues = new Map<FakeRoute, Script[]>();
  let nextId = 0;
  const defaults: Record<Exclude<FakeRoute, 'other'>, Script> = {
    // The collector: empty body rejected, otherwise stored and described (created_at from the
    // parameter, as for a trace; a real pprof upload would use its time_nanos).
    upload: (req) => {
      if (req.body.length === 0) return recorded.uploadEmptyBody;
      const createdAt = req.query.get('created_at');
      return ok('upload', metaJson({
        id: `dc2v00b8di1ectts${(nextId++).toString(32).padStart(4, '0')}`,
        type: req.query.get('type')!.trim(),
        service: req.query.get('service')!,
        labels: req.labels ?? [],
        createdAt: createdAt !== undefined ? `${createdAt}Z` : `${new Date().toISOString().slice(0, 19)}Z`,
      }));
    },
    find: nothingFound('find'),
    services: nothingFound('services'),
    version: recorded.version,
    get: nothingFound('get'),
    merge: nothingFound('merge'),
  };

  const handler = async (req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const rawUrl = req.url ?? '/';
    const qIndex = rawUrl.indexOf('?');
    const rawPath = qIndex < 0 ? rawUrl : rawUrl.slice(0, qIndex);
    const values = goParseQuery(qIndex < 0 ? '' : rawUrl.slice(qIndex + 1));
    const query = new Map([...values].map(([k, v]) => [k, v[0]!] as const));
    const base = { method: req.method ?? 'GET', rawUrl, headers: req.headers, body: Buffer.concat(chunks), query };

    let path: string;
    try {
      path = goUnescape(rawPath, 'path');
    } catch {
      return send(res, { status: 400, contentType: TEXT, body: '400 Bad Request' });
    }
    const { route, early, extra } = routeRequest(base.method, path, query);
    const recordedReq: RecordedRequest = { ...base, route, ...extra };
    requests.push(recordedReq);
    if (early !== undefined) return send(res, early);
    if (route === 'other') return send(res, { status: 200, body: '' });

    const queue = queues.get(route) ?? [];
    const script = queue.length > 0 ? queue.shift()! : defaults[route];
    const answer = typeof script === 'function' ? script(recordedReq) : script;
    if ('hang' in answer) return; // the socket stays open until close()
    if ('drop' in answer) return req.socket.destroy();
    send(res, answer);
  };

  const server: Server = opts.tls
    ? createHttpsServer({ cert: opts.tls.cert, key: opts.tls.key }, (rq, rs) => void handler(rq, rs))
    : createHttpServer((rq, rs) => void handler(rq, rs));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    url: `${opts.tls ? 'https' : 'http'}://127.0.0.1:${port}`,
    requests,
    script: (route, ...answers) => queues.set(route, [...(queues.get(route) ?? []), ...answers]),
    always: (route, answer) => {
      defaults[route] = answer;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function send(res: ServerResponse, answer: Canned): void {
  const body = typeof answer.body === 'string' ? Buffer.from(answer.body) : answer.body;
  const headers: Record<string, string | number> = { ...answer.headers, 'Content-Length': body.length };
  if (answer.contentType !== undefined) headers['Content-Type'] = answer.contentType;
  res.writeHead(answer.status, headers);
  res.end(body);
}

interface Routed {
  route: FakeRoute;
  /** profefe's answer before storage is involved (routing or parameter errors). */
  early?: Canned;
  extra?: { labels?: StoreLabel[]; ids?: string[] };
}

/** routes.go + ProfilesHandler.ServeHTTP + the parameter parsing of request.go. */
function routeRequest(method: string, path: string, query: ReadonlyMap<string, string>): Routed {
  const textError = (status: number, error: string): Canned => ({ status, contentType: TEXT, body: goJson({ code: status, error }) });
  if (path === '/api/0/version') return { route: 'version' };
  if (path === '/api/0/services') return { route: 'services' };
  if (!path.startsWith('/api/0/')) return { route: 'other', early: recorded.goNotFound };

  const cleaned = goCleanPath(path);
  if (cleaned === '/api/0/profiles') {
    if (method === 'POST') {
      const p = parseCommon(query, textError);
      if ('early' in p) return { route: 'upload', early: p.early, extra: { labels: p.labels } };
      const createdAt = query.get('created_at');
      if (createdAt !== undefined && createdAt !== '' && goParseTime(createdAt) === undefined) {
        return { route: 'upload', early: textError(400, `bad request: bad "created_at" ${goQuote(createdAt)}: time in unsupported format ${goQuote(createdAt)}`) };
      }
      if (p.type === 'unknown') return { route: 'upload', early: textError(400, 'bad request: unknown profile type'), extra: { labels: p.labels } };
      return { route: 'upload', extra: { labels: p.labels } };
    }
    if (method === 'GET') {
      const p = parseFind(query, textError);
      return { route: 'find', ...('early' in p ? { early: p.early } : {}), extra: { labels: p.labels } };
    }
    return { route: 'other' }; // 200, empty body
  }
  if (cleaned === '/api/0/profiles/merge') {
    const p = parseFind(query, textError);
    if ('early' in p) return { route: 'merge', early: p.early, extra: { labels: p.labels } };
    if (p.type === 'unknown' || p.type === 'trace') {
      return { route: 'merge', early: textError(405, `can't merge profiles of ${p.type} type`), extra: { labels: p.labels } };
    }
    return { route: 'merge', extra: { labels: p.labels } };
  }
  if (cleaned.startsWith('/api/0/profiles')) {
    // HandleGetProfile takes the uncleaned path, trims "/", unescapes once more, splits on "+".
    const trimmed = path.slice('/api/0/profiles'.length).replace(/^\/+|\/+$/g, '');
    if (trimmed === '') return { route: 'get', early: textError(400, 'no profile id') };
    let rawPids: string;
    try {
      rawPids = goUnescape(trimmed, 'path');
    } catch (err) {
      return { route: 'get', early: textError(400, (err as Error).message) };
    }
    const ids = rawPids.split('+');
    if (ids.includes('')) return { route: 'get', early: textError(500, 'internal server error'), extra: { ids } };
    return { route: 'get', extra: { ids } };
  }
  return { route: 'other', early: textError(404, 'nothing found') };
}

type Parsed = { type: string; labels?: StoreLabel[] } | { early: Canned; labels?: StoreLabel[] };

/** parseProfileParams: service, type (unknown names become "unknown"), labels. */
function parseCommon(query: ReadonlyMap<string, string>, textError: (s: number, e: string) => Canned): Parsed {
  const service = query.get('service') ?? '';
  if (service === '') return { early: textError(400, 'bad request: missing "service"') };
  const rawType = (query.get('type') ?? '').trim();
  const type = ['cpu', 'heap', 'block', 'mutex', 'goroutine', 'threadcreate', 'other', 'trace'].includes(rawType) ? rawType : 'unknown';
  const rawLabels = query.get('labels') ?? '';
  try {
    return { type, labels: goDecodeLabels(rawLabels) };
  } catch (err) {
    return { early: textError(400, `bad request: bad "labels" ${goQuote(rawLabels)}: ${(err as Error).message}`) };
  }
}

/** parseFindProfileParams: the common params, then from, to, limit, then from <= to. */
function parseFind(query: ReadonlyMap<string, string>, textError: (s: number, e: string) => Canned): Parsed {
  const common = parseCommon(query, textError);
  if ('early' in common) return common;
  const times: Date[] = [];
  for (const name of ['from', 'to'] as const) {
    const v = query.get(name) ?? '';
    if (v === '') return { early: textError(400, `bad request: missing "${name}"`), labels: common.labels };
    const t = goParseTime(v);
    if (t === undefined) {
      return { early: textError(400, `bad request: bad "${name}" timestamp ${goQuote(v)}: time in unsupported format ${goQuote(v)}`), labels: common.labels };
    }
    times.push(t);
  }
  const limit = query.get('limit');
  if (limit !== undefined && limit !== '' && !/^[+-]?\d+$/.test(limit)) {
    return { early: textError(400, `bad request: bad "limit" ${goQuote(limit)}: strconv.Atoi: parsing ${goQuote(limit)}: invalid syntax`), labels: common.labels };
  }
  const [from, to] = times as [Date, Date];
  if (from.getTime() > to.getTime()) {
    return { early: textError(400, `bad request: CreatedAtMin after CreatedAtMax: ${goTimeString(from)}, ${goTimeString(to)}`), labels: common.labels };
  }
  return common;
}
