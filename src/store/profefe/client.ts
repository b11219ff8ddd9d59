/**
 * ProfileStore over HTTP against a profefe collector (or anything that answers like one, such as
 * `kubectl profefe serve`). Every quirk handled here is described in shared/profefe-api.md;
 * the section numbers below refer to it.
 *
 * One code path: node:http / node:https requests (global fetch cannot take a per-request CA).
 */
import { readFileSync } from 'node:fs';
import * as http from 'node:http';
import * as https from 'node:https';
import { setTimeout as sleep } from 'node:timers/promises';
import { InputError, StoreError, UsageError } from '../../errors.js';
import { storeErrorFromStatus } from './status.js';
import {
  ProfileRejected,
  STORE_PROFILE_TYPES,
  type FindQuery,
  type ProfileMeta,
  type ProfileStore,
  type StoreLabel,
  type StoreProblem,
  type StoreProfileType,
  type UploadRequest,
} from '../store.js';
import { floorToSecond, formatProfefeTime } from './time-format.js';

/** How to reach a profefe store. */
export interface ProfefeClientOptions {
  /**
   * The store's address as given to `--profefe-hostport`: `host:port` (plain http),
   * `http://host:port` or `https://host[:port]`, optionally with a path prefix (a proxy that
   * serves profefe under `/profefe/`) and trailing slashes. See {@link parseProfefeAddress}.
   */
  readonly baseUrl: string;
  /** Sent as `Authorization: Bearer <token>`. profefe has no auth; this is for a proxy in front of it. */
  readonly token?: string;
  /**
   * The CA to trust for an https store: a PEM file path (string) or PEM bytes (Buffer).
   * It replaces the system CAs, like kubectl's certificate-authority. Ignored for http.
   */
  readonly caFile?: string | Buffer;
  /** Skips TLS certificate verification (https only). */
  readonly insecureSkipTlsVerify?: boolean;
  /**
   * Per attempt: the longest the store may stay silent (connecting, then between chunks of the
   * answer) before the call fails with status 0. Default 30 000. Timeouts are not retried.
   */
  readonly timeoutMs?: number;
  /** Extra attempts after a 5xx answer or a failed connection. Default 3; 0 disables retries. */
  readonly retries?: number;
  /** Wait before the first retry, doubled before each further one. Default 500. */
  readonly backoffMs?: number;
  /**
   * An HTTP(S) agent to send requests through instead of the client's own keep-alive agent,
   * e.g. one whose connections go through a port-forward tunnel. close() leaves it alone.
   */
  readonly agent?: http.Agent;
  /** Aborts in-flight requests and retry waits; the pending call then rejects with the signal's reason. */
  readonly signal?: AbortSignal;
}

/** What `/api/0/version` reports. A build without the Makefile's ldflags reports `""` for the first three. */
export interface ProfefeVersion {
  readonly version: string;
  readonly commit: string;
  readonly build_time: string;
  /** Absent from older collectors (and from the README). */
  readonly go_version?: string;
}

const DEFAULT_TIMEOUT_MS = 30_000;
const DEFAULT_RETRIES = 3;
const DEFAULT_BACKOFF_MS = 500;
/** Re-queries allowed when the widened `to` cost a `limit`ed find some of its places (see find). */
const MAX_LIMIT_REQUERIES = 3;

/**
 * Parses a `--profefe-hostport` value into the store's base URL, its path without trailing
 * slashes (`/` when there is no path prefix). A value without a scheme is plain http, as in
 * kube-profefe. Throws UsageError for anything that is not an http(s) address, or that has a
 * query or fragment.
 */
export function parseProfefeAddress(value: string): URL {
  const text = value.trim();
  if (text === '') throw new UsageError('the profefe address is empty: expected host:port, http://host:port or https://host:port');
  const withScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(text) ? text : `http://${text}`;
  let url: URL;
  try {
    url = new URL(withScheme);
  } catch {
    throw new UsageError(`invalid profefe address "${value}": expected host:port, http://host:port or https://host:port`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new UsageError(`invalid profefe address "${value}": only http:// and https:// are supported`);
  }
  if (url.search !== '' || url.hash !== '') {
    throw new UsageError(`invalid profefe address "${value}": it must not have a query or a fragment`);
  }
  url.pathname = url.pathname.replace(/\/+$/, '');
  return url;
}

/**
 * The `labels` value before query encoding, built as §2.5 prescribes (and the Go agent does):
 * `encodeURIComponent(k)=encodeURIComponent(v)` per pair, joined with `,`. profefe query-
 * unescapes each key and value a second time, so `,` `=` `+` `/` `%`, spaces and any Unicode
 * survive. The caller must still percent-encode the result as the query value.
 * Throws ProfileRejected for an empty key (profefe would silently drop the label) and
 * for text that is not valid Unicode.
 */
export function encodeProfefeLabels(labels: readonly StoreLabel[]): string {
  return labels
    .map(({ key, value }) => {
      if (key === '') throw new ProfileRejected(`label with an empty key (value "${value}"): profefe would drop it`);
      try {
        return `${encodeURIComponent(key)}=${encodeURIComponent(value)}`;
      } catch {
        throw new ProfileRejected(`label ${JSON.stringify(key)} is not valid Unicode text`);
      }
    })
    .join(',');
}

/**
 * A ProfileStore backed by a profefe collector's HTTP API (`/api/0/...`).
 *
 * - Times go out as `YYYY-MM-DDTHH:MM:SS` UTC. find and mergeQuery send `to` one second later
 *   than asked, because profefe returns `created_at` truncated to the second while badger
 *   compares at nanosecond precision: a profile taken at 10:00:05.4 is returned as 10:00:05 and
 *   would otherwise be missed by a re-query with `to=10:00:05`. find then drops what the extra
 *   second let in, so its results are exactly the caller's window at whole-second resolution
 *   (`floor(from) <= createdAt <= floor(to)`). mergeQuery cannot be filtered afterwards, so a
 *   merge may include profiles stamped exactly on the whole second after `to`.
 * - `limit` is sent only when > 0 (a negative one makes profefe's S3 and GCS stores panic). Which
 *   N it keeps depends on the backend: badger the newest, S3/GCS/ClickHouse the oldest. S3 and
 *   GCS also cap an unlimited find at 100.
 * - 404 "nothing found" is an empty result for find and services, an error for get and merges.
 * - JSON answers are decoded by status code, never by Content-Type (§2.2).
 * - 5xx answers and failed connections are retried with exponential backoff, uploads included
 *   (the body is re-sent whole). 4xx answers and timeouts are not retried: a timed-out upload may
 *   have been stored, and a second copy would double-count in merges.
 * - Every failure is one of the store's errors (storeErrorFromStatus: StoreUnavailable when the
 *   store could not be reached or did not answer in time, ProfileNotFound for profefe's 404, ...),
 *   ProfileRejected for a request refused before it was sent.
 */
export class ProfefeClient implements ProfileStore {
  /** The base URL without credentials, as shown in messages. */
  readonly address: string;
  private readonly base: URL;
  /** The base URL's path prefix, '' or `/prefix`. */
  private readonly prefix: string;
  private readonly secure: boolean;
  private readonly agent: http.Agent;
  private readonly ownAgent: boolean;
  private readonly ca: Buffer | undefined;
  private readonly rejectUnauthorized: boolean;
  private readonly token: string | undefined;
  private readonly timeoutMs: number;
  private readonly retries: number;
  private readonly backoffMs: number;
  private readonly signal: AbortSignal | undefined;

  /** Throws UsageError for a bad address and InputError for an unreadable CA file; does no network I/O. */
  constructor(opts: ProfefeClientOptions) {
    this.base = parseProfefeAddress(opts.baseUrl);
    this.prefix = this.base.pathname === '/' ? '' : this.base.pathname;
    this.address = `${this.base.origin}${this.prefix}`;
    this.secure = this.base.protocol === 'https:';
    this.token = opts.token;
    this.timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.retries = Math.max(0, Math.floor(opts.retries ?? DEFAULT_RETRIES));
    this.backoffMs = Math.max(0, opts.backoffMs ?? DEFAULT_BACKOFF_MS);
    this.signal = opts.signal;
    this.rejectUnauthorized = !opts.insecureSkipTlsVerify;
    if (typeof opts.caFile === 'string') {
      try {
        this.ca = readFileSync(opts.caFile);
      } catch (err) {
        throw new InputError(`cannot read the profefe CA file ${opts.caFile}: ${(err as Error).message}`);
      }
    } else {
      this.ca = opts.caFile;
    }
    this.ownAgent = opts.agent === undefined;
    // keep-alive: a capture uploads many profiles in a row; idle sockets do not hold the process open.
    this.agent =
      opts.agent ??
      (this.secure
        ? new https.Agent({ keepAlive: true, ca: this.ca, rejectUnauthorized: this.rejectUnauthorized })
        : new http.Agent({ keepAlive: true }));
  }

  /** POST `/api/0/profiles`; the body is sent as is and re-sent whole on each retry. */
  async upload(req: UploadRequest): Promise<ProfileMeta> {
    const op = `cannot upload the ${String(req.type)} profile of service ${quote(req.service)}`;
    const query: QueryParam[] = [
      ['service', req.service],
      ['type', checkType(op, req.type)],
    ];
    if (req.labels.length > 0) query.push(['labels', labelsParam(op, req.labels)]);
    if (req.createdAt !== undefined) query.push(['created_at', wireTime(op, 'createdAt', req.createdAt)]);
    const answer = await this.callJson({ op, method: 'POST', path: '/api/0/profiles', query, body: req.body }, false);
    return this.parseMeta(op, answer);
  }

  /**
   * GET `/api/0/profiles`, oldest first, exactly the caller's window (see the class comment).
   * With a limit on badger, the extra second can take some of the newest N places; the find is
   * then repeated with a limit raised by what was dropped, so the caller still gets N.
   */
  async find(query: FindQuery): Promise<ProfileMeta[]> {
    const op = `cannot find profiles of service ${quote(query.service)}`;
    const from = floorToSecond(query.from);
    const to = floorToSecond(query.to);
    if (from.getTime() > to.getTime()) {
      throw new ProfileRejected(`${op}: from ${isoTime(query.from)} is after to ${isoTime(query.to)}`);
    }
    const limit = wireLimit(query.limit);
    let asked = limit;
    let keptBefore = -1;
    for (let round = 0; ; round++) {
      const answer = await this.callJson({ op, method: 'GET', path: '/api/0/profiles', query: this.windowQuery(op, query, asked) }, true);
      const all = answer === undefined ? [] : this.parseMetas(op, answer);
      const kept = all.filter((m) => m.createdAt.getTime() >= from.getTime() && m.createdAt.getTime() <= to.getTime());
      const dropped = all.length - kept.length;
      kept.sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime());
      if (limit === undefined || asked === undefined) return kept;
      // Badger keeps the newest N, so the extra second's profiles are the ones that may have
      // pushed in-window profiles out; ask again for N + what was dropped. Stop once N are in,
      // when nothing was dropped or the limit was not reached, or when asking for more stopped
      // helping (oldest-N backends fill the extra places with profiles after the window). Never
      // more than N: the newest, as badger keeps.
      const short = dropped > 0 && all.length >= asked && kept.length < limit;
      if (!short || kept.length === keptBefore || round === MAX_LIMIT_REQUERIES) return kept.slice(-limit);
      keptBefore = kept.length;
      asked += dropped;
    }
  }

  /** GET `/api/0/profiles/{id}`: the stored bytes, unchanged. 404 when there is no such profile. */
  async get(id: string): Promise<Uint8Array> {
    const op = `cannot get profile ${quote(id)}`;
    return this.callBinary({ op, method: 'GET', path: `/api/0/profiles/${pathId(op, id)}` });
  }

  /**
   * GET `/api/0/profiles/merge`. `to` is widened by a second (class comment). When exactly one
   * profile matches, profefe returns its stored bytes, which need not be gzipped.
   */
  async mergeQuery(query: FindQuery & { type: StoreProfileType }): Promise<Uint8Array> {
    const op = `cannot merge the ${String(query.type)} profiles of service ${quote(query.service)}`;
    checkType(op, query.type);
    if (floorToSecond(query.from).getTime() > floorToSecond(query.to).getTime()) {
      throw new ProfileRejected(`${op}: from ${isoTime(query.from)} is after to ${isoTime(query.to)}`);
    }
    const params = this.windowQuery(op, query, wireLimit(query.limit));
    return this.callBinary({ op, method: 'GET', path: '/api/0/profiles/merge', query: params });
  }

  /**
   * GET `/api/0/profiles/{id1}+{id2}+…`. Each id is percent-encoded (they may contain `/`);
   * profefe skips unknown ids and answers 500 when none is known. A single id returns that
   * profile's stored bytes, as get does.
   */
  async mergeIds(ids: readonly string[]): Promise<Uint8Array> {
    const op = `cannot merge profiles ${describeIds(ids)}`;
    if (ids.length === 0) throw new ProfileRejected('cannot merge profiles: no profile ids given');
    const path = `/api/0/profiles/${ids.map((id) => pathId(op, id)).join('+')}`;
    return this.callBinary({ op, method: 'GET', path });
  }

  /** GET `/api/0/services`: sorted names, `[]` for profefe's 404 "nothing found" (an empty store). */
  async services(): Promise<string[]> {
    const op = 'cannot list services';
    const answer = await this.callJson({ op, method: 'GET', path: '/api/0/services' }, true);
    if (answer === undefined || answer.body === undefined || answer.body === null) return [];
    if (!Array.isArray(answer.body) || !answer.body.every((s) => typeof s === 'string')) {
      throw new StoreError(`${op}: ${this.address} answered with a service list that is not an array of names`);
    }
    return answer.body as string[];
  }

  /** GET `/api/0/version`. */
  async version(): Promise<ProfefeVersion> {
    const op = 'cannot get the profefe version';
    const answer = await this.callJson({ op, method: 'GET', path: '/api/0/version' }, false);
    const v = answer.body;
    if (!isRecord(v)) throw new StoreError(`${op}: ${this.address} answered without a version object`);
    const text = (x: unknown) => (typeof x === 'string' ? x : '');
    return {
      version: text(v.version),
      commit: text(v.commit),
      build_time: text(v.build_time),
      ...(typeof v.go_version === 'string' ? { go_version: v.go_version } : {}),
    };
  }

  /** Closes the client's own idle keep-alive connections; an agent passed in is left open. */
  async close(): Promise<void> {
    if (this.ownAgent) this.agent.destroy();
  }

  /** `service&from&to[&type][&labels][&limit]`, with `to` widened by one second. */
  private windowQuery(op: string, query: FindQuery, limit: number | undefined): QueryParam[] {
    const params: QueryParam[] = [
      ['service', query.service],
      ['from', wireTime(op, 'from', query.from)],
      ['to', wireTime(op, 'to', new Date(floorToSecond(query.to).getTime() + 1000))],
    ];
    if (query.type !== undefined) params.push(['type', checkType(op, query.type)]);
    if (query.labels !== undefined && query.labels.length > 0) params.push(['labels', labelsParam(op, query.labels)]);
    if (limit !== undefined) params.push(['limit', String(limit)]);
    return params;
  }

  /** A JSON route: the envelope's body, or undefined for "nothing found" (404 or 204) when that means empty. */
  private async callJson(call: Call, nothingIsEmpty: false): Promise<{ body: unknown }>;
  private async callJson(call: Call, nothingIsEmpty: true): Promise<{ body: unknown } | undefined>;
  private async callJson(call: Call, nothingIsEmpty: boolean): Promise<{ body: unknown } | undefined> {
    const answer = await this.send(call);
    const envelope = parseEnvelope(answer.body);
    if (answer.status === 200 && envelope !== undefined) return { body: envelope.body };
    if (nothingIsEmpty && (answer.status === 204 || (answer.status === 404 && envelope?.error === 'nothing found'))) {
      return undefined;
    }
    throw this.answerError(call.op, answer, envelope);
  }

  /** A binary route: the body only on a 200 (a JSON-looking 200 body is still profile bytes). */
  private async callBinary(call: Call): Promise<Uint8Array> {
    const answer = await this.send(call);
    // profefe never serves HTML; a 200 HTML page is a portal or proxy, not a profile.
    if (answer.status === 200 && !/^text\/html\b/i.test(answer.contentType)) {
      return new Uint8Array(answer.body.buffer, answer.body.byteOffset, answer.body.byteLength);
    }
    throw this.answerError(call.op, answer, parseEnvelope(answer.body));
  }

  private answerError(op: string, answer: Answer, envelope: Envelope | undefined): StoreProblem {
    const tries = attemptsNote(answer.attempts);
    if (envelope !== undefined && typeof envelope.error === 'string' && answer.status !== 200) {
      return storeErrorFromStatus(`${op}: profefe: ${envelope.error}${tries}`, answer.status, true);
    }
    // Go drops the body of a 204, so profefe's unused "no results" error arrives empty.
    if (answer.status === 204) return storeErrorFromStatus(`${op}: profefe: no results${tries}`, 204, true);
    const redirect = answer.location !== undefined ? ` redirecting to ${answer.location}` : '';
    const line = firstLine(answer.body);
    return storeErrorFromStatus(
      `${op}: ${this.address} answered HTTP ${answer.status} ${answer.statusText}${redirect}, which is not a profefe response ` +
        `(a proxy error, or the wrong address?)${line === '' ? '' : `: ${line}`}${tries}`,
      answer.status,
      false,
    );
  }

  /** One call with its retries: 5xx answers and transient connection failures are retried. */
  private async send(call: Call): Promise<Answer> {
    const query = (call.query ?? []).map(([k, v]) => `${k}=${encodeURIComponent(v)}`).join('&');
    const path = `${this.prefix}${call.path}${query === '' ? '' : `?${query}`}`;
    for (let attempt = 1; ; attempt++) {
      this.signal?.throwIfAborted();
      let answer: Answer;
      try {
        answer = await this.exchange(call.method, path, call.body, attempt);
      } catch (err) {
        if (this.signal?.aborted) throw this.signal.reason;
        if (err instanceof AnswerTimeout) {
          throw storeErrorFromStatus(`${call.op}: profefe at ${this.address} did not answer within ${seconds(this.timeoutMs)}${attemptsNote(attempt)}`, 0, false);
        }
        if (!isTransient(err) || attempt > this.retries) {
          throw storeErrorFromStatus(`${call.op}: cannot reach profefe at ${this.address}: ${describeNetworkError(err)}${attemptsNote(attempt)}`, 0, false);
        }
        await this.pause(attempt);
        continue;
      }
      if (answer.status >= 500 && attempt <= this.retries) {
        await this.pause(attempt);
        continue;
      }
      return answer;
    }
  }

  private async pause(attempt: number): Promise<void> {
    try {
      await sleep(this.backoffMs * 2 ** (attempt - 1), undefined, { signal: this.signal });
    } catch (err) {
      throw this.signal?.aborted ? this.signal.reason : err;
    }
  }

  /** One HTTP exchange; resolves once the whole answer is in, whatever its status. */
  private exchange(method: string, path: string, body: Uint8Array | undefined, attempt: number): Promise<Answer> {
    return new Promise((resolve, reject) => {
      let settled = false;
      let timedOut = false;
      const settle = (err: unknown, answer?: Answer) => {
        if (settled) return;
        settled = true;
        if (err !== undefined) reject(timedOut ? new AnswerTimeout() : err);
        else resolve(answer!);
      };
      const headers: http.OutgoingHttpHeaders = { 'User-Agent': 'kubectl-profefe' };
      if (this.token !== undefined && this.token !== '') headers.Authorization = `Bearer ${this.token}`;
      // No Content-Type: profefe ignores it, and the Go agent sends none.
      if (body !== undefined) headers['Content-Length'] = body.byteLength;
      const options: https.RequestOptions = {
        protocol: this.base.protocol,
        hostname: this.base.hostname.replace(/^\[(.*)\]$/, '$1'),
        port: this.base.port === '' ? undefined : Number(this.base.port),
        path,
        method,
        headers,
        agent: this.agent,
        // Node's `timeout` is an idle timeout that already runs while connecting.
        timeout: this.timeoutMs,
        signal: this.signal,
        ...(this.base.username !== '' ? { auth: `${decodeURIComponent(this.base.username)}:${decodeURIComponent(this.base.password)}` } : {}),
        ...(this.secure ? { ca: this.ca, rejectUnauthorized: this.rejectUnauthorized } : {}),
      };
      let responded = false;
      const req = (this.secure ? https.request : http.request)(options, (res) => {
        responded = true;
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('error', (err) => settle(err));
        res.on('close', () => {
          if (!res.complete) settle(Object.assign(new Error('the answer was cut short'), { code: 'ECONNRESET' }));
        });
        res.on('end', () =>
          settle(undefined, {
            status: res.statusCode ?? 0,
            statusText: res.statusMessage ?? '',
            contentType: String(res.headers['content-type'] ?? ''),
            location: res.headers.location,
            body: Buffer.concat(chunks),
            attempts: attempt,
          }),
        );
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

  private parseMetas(op: string, answer: { body: unknown }): ProfileMeta[] {
    if (answer.body === undefined || answer.body === null) return [];
    if (!Array.isArray(answer.body)) throw new StoreError(`${op}: ${this.address} answered with profiles that are not a list`);
    return answer.body.map((m) => this.parseMeta(op, { body: m }));
  }

  /** §2.6: `{id, type, service, labels?, created_at}`; missing labels are `[]`. */
  private parseMeta(op: string, answer: { body: unknown }): ProfileMeta {
    const bad = (why: string) => new StoreError(`${op}: ${this.address} answered with a profile description that ${why}`);
    const m = answer.body;
    if (!isRecord(m)) throw bad('is not an object');
    if (typeof m.id !== 'string' || m.id === '') throw bad('has no id');
    if (typeof m.service !== 'string') throw bad(`has no service (id ${quote(m.id)})`);
    if (typeof m.type !== 'string' || !(STORE_PROFILE_TYPES as readonly string[]).includes(m.type)) {
      throw bad(`has the unknown type ${JSON.stringify(m.type)} (id ${quote(m.id)})`);
    }
    const createdAt = typeof m.created_at === 'string' ? new Date(m.created_at) : new Date(NaN);
    if (Number.isNaN(createdAt.getTime())) throw bad(`has no valid created_at (id ${quote(m.id)})`);
    const labels: StoreLabel[] = [];
    if (m.labels !== undefined && m.labels !== null) {
      if (!Array.isArray(m.labels)) throw bad(`has labels that are not a list (id ${quote(m.id)})`);
      for (const l of m.labels) {
        if (!isRecord(l) || typeof l.key !== 'string' || typeof l.value !== 'string') throw bad(`has a malformed label (id ${quote(m.id)})`);
        labels.push({ key: l.key, value: l.value });
      }
    }
    return { id: m.id, service: m.service, type: m.type as StoreProfileType, labels, createdAt };
  }
}

type QueryParam = [name: string, value: string];

interface Call {
  /** "cannot <do what> <to which service/id>", the start of every error message. */
  readonly op: string;
  readonly method: 'GET' | 'POST';
  /** Under the base URL's path prefix. */
  readonly path: string;
  readonly query?: readonly QueryParam[];
  readonly body?: Uint8Array;
}

interface Answer {
  readonly status: number;
  readonly statusText: string;
  readonly contentType: string;
  readonly location: string | undefined;
  readonly body: Buffer;
  readonly attempts: number;
}

/** profefe's `{"code":N,"body":…}` / `{"code":N,"error":"…"}`. */
interface Envelope {
  readonly code: number;
  readonly body?: unknown;
  readonly error?: unknown;
}

class AnswerTimeout extends Error {
  override readonly name = 'AnswerTimeout';
}

function parseEnvelope(body: Buffer): Envelope | undefined {
  let value: unknown;
  try {
    value = JSON.parse(body.toString('utf8'));
  } catch {
    return undefined;
  }
  return isRecord(value) && typeof value.code === 'number' ? (value as unknown as Envelope) : undefined;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** §2.3: anything but the 8 names silently means "all types" on find, so never send one. */
function checkType(op: string, type: string): StoreProfileType {
  if (!(STORE_PROFILE_TYPES as readonly string[]).includes(type)) {
    throw new ProfileRejected(`${op}: unknown profile type ${JSON.stringify(type)} (profefe knows ${STORE_PROFILE_TYPES.join(', ')})`);
  }
  return type as StoreProfileType;
}

function labelsParam(op: string, labels: readonly StoreLabel[]): string {
  try {
    return encodeProfefeLabels(labels);
  } catch (err) {
    throw new ProfileRejected(`${op}: ${(err as Error).message}`);
  }
}

function wireTime(op: string, name: string, d: Date): string {
  try {
    return formatProfefeTime(d);
  } catch (err) {
    throw new ProfileRejected(`${op}: ${name}: ${(err as Error).message}`);
  }
}

/** Only a positive integer goes on the wire: `<= 0` is "no limit", and a negative one crashes profefe's S3/GCS stores. */
function wireLimit(limit: number | undefined): number | undefined {
  return limit !== undefined && Number.isFinite(limit) && limit >= 1 ? Math.floor(limit) : undefined;
}

/** §1/§2.7: ids are opaque and may contain `/`; profefe decodes the path twice, so one encoding is safe. */
function pathId(op: string, id: string): string {
  if (id === '') throw new ProfileRejected(`${op}: the profile id is empty`);
  if (id.includes('+')) {
    throw new ProfileRejected(`${op}: the profile id ${quote(id)} contains "+", which profefe reads as a separator between ids`);
  }
  if (id === 'merge') throw new ProfileRejected(`${op}: "merge" cannot be fetched as an id: /api/0/profiles/merge is profefe's merge route`);
  try {
    return encodeURIComponent(id);
  } catch {
    throw new ProfileRejected(`${op}: the profile id is not valid Unicode text`);
  }
}

function describeIds(ids: readonly string[]): string {
  const shown = ids.slice(0, 3).map(quote).join(', ');
  return ids.length > 3 ? `${shown} and ${ids.length - 3} more` : shown;
}

function quote(s: string): string {
  return JSON.stringify(s);
}

function isoTime(d: Date): string {
  return Number.isNaN(d.getTime()) ? 'an invalid date' : d.toISOString();
}

function seconds(ms: number): string {
  return `${Number((ms / 1000).toFixed(3))}s`;
}

function attemptsNote(attempts: number): string {
  return attempts > 1 ? ` (after ${attempts} attempts)` : '';
}

/** Failures worth another attempt: the connection failed or broke, the server may be restarting. */
const TRANSIENT_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ENETDOWN', 'EAI_AGAIN', 'ECONNABORTED']);

// Duck-typed rather than instanceof: Node's own errors may come from another realm (vm, Jest).
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

/** The first line of text in a non-profefe body (an HTML page's, tags removed), shortened. */
function firstLine(body: Buffer): string {
  const text = body
    .toString('utf8', 0, Math.min(body.length, 4096))
    .replace(/<(script|style)\b[\s\S]*?<\/\1\s*>/gi, '')
    .replace(/<[^>]*>/g, '\n');
  const line = text.split(/\r?\n/).map((l) => l.replace(/\s+/g, ' ').trim()).find((l) => l !== '') ?? '';
  return line.length > 160 ? `${line.slice(0, 159)}…` : line;
}
