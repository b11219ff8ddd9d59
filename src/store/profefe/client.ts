/**
 * ProfileStore over HTTP against a profefe collector (or anything that answers like one, such as
 * `kubectl profefe serve`). Every quirk handled here is described in docs/profefe-api.md,
 * under the headings named below.
 *
 * One code path: node:http / node:https requests (global fetch cannot take a per-request CA).
 */
import { readFileSync } from 'node:fs';
import * as http from 'node:http';
import * as https from 'node:https';
import { InputError, StoreError, UsageError } from '../../errors.js';
import { storeErrorFromStatus } from './status.js';
import { HttpTransport, NoAnswer, type HttpAnswer } from './transport.js';
import { encodeProfefeLabels, isRecord, parseEnvelope, type Envelope } from './wire.js';
import {
  ProfileNotFound,
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
import { exactPairs, isExactOnly, matchesSelector } from '../../labels/selector.js';

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
 * - JSON answers are decoded by status code, never by Content-Type ("Envelope and statuses").
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
  private readonly agent: http.Agent;
  private readonly ownAgent: boolean;
  private readonly timeoutMs: number;
  private readonly transport: HttpTransport;

  /** Throws UsageError for a bad address and InputError for an unreadable CA file; does no network I/O. */
  constructor(opts: ProfefeClientOptions) {
    this.base = parseProfefeAddress(opts.baseUrl);
    this.prefix = this.base.pathname === '/' ? '' : this.base.pathname;
    this.address = `${this.base.origin}${this.prefix}`;
    const secure = this.base.protocol === 'https:';
    this.timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    const rejectUnauthorized = !opts.insecureSkipTlsVerify;
    let ca: Buffer | undefined;
    if (typeof opts.caFile === 'string') {
      try {
        ca = readFileSync(opts.caFile);
      } catch (err) {
        throw new InputError(`cannot read the profefe CA file ${opts.caFile}: ${(err as Error).message}`);
      }
    } else {
      ca = opts.caFile;
    }
    this.ownAgent = opts.agent === undefined;
    // keep-alive: a capture uploads many profiles in a row; idle sockets do not hold the process open.
    this.agent = opts.agent ?? (secure ? new https.Agent({ keepAlive: true, ca, rejectUnauthorized }) : new http.Agent({ keepAlive: true }));
    this.transport = new HttpTransport({
      base: this.base,
      agent: this.agent,
      ca,
      rejectUnauthorized,
      headers: { 'User-Agent': 'kubectl-profefe', ...(opts.token ? { Authorization: `Bearer ${opts.token}` } : {}) },
      timeoutMs: this.timeoutMs,
      retries: Math.max(0, Math.floor(opts.retries ?? DEFAULT_RETRIES)),
      backoffMs: Math.max(0, opts.backoffMs ?? DEFAULT_BACKOFF_MS),
      signal: opts.signal,
    });
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
    const selector = query.selector ?? [];
    if (isExactOnly(selector)) return this.findExact(query);
    // The server cannot apply the rest of the selector, so it cannot apply the limit either:
    // everything in the window that has the exact pairs, then the selector, then the newest N.
    const all = await this.findExact({ ...query, limit: undefined });
    const matching = all.filter((m) => matchesSelector(selector, m.labels));
    const limit = wireLimit(query.limit);
    return limit === undefined ? matching : matching.slice(-limit);
  }

  /** find for a selector of exact pairs only (or none), which profefe's `labels` parameter says whole. */
  private async findExact(query: FindQuery): Promise<ProfileMeta[]> {
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
    if (!isExactOnly(query.selector ?? [])) {
      // A selector profefe cannot apply: the matching ids, merged by the server.
      const metas = await this.find(query);
      if (metas.length === 0) throw new ProfileNotFound();
      return this.mergeIds(metas.map((m) => m.id));
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
    // profefe filters by exact pairs only: the selector's are asked for, the rest applied to the answer (find).
    const labels = [...(query.labels ?? []), ...exactPairs(query.selector ?? [])];
    if (labels.length > 0) params.push(['labels', labelsParam(op, labels)]);
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

  /** One call with its retries (HttpTransport); a failure to get any answer is StoreUnavailable. */
  private async send(call: Call): Promise<Answer> {
    const query = (call.query ?? []).map(([k, v]) => `${k}=${encodeURIComponent(v)}`).join('&');
    const path = `${this.prefix}${call.path}${query === '' ? '' : `?${query}`}`;
    try {
      return await this.transport.send(call.method, path, call.body);
    } catch (err) {
      if (!(err instanceof NoAnswer)) throw err;
      const what = err.timedOut ? `profefe at ${this.address} did not answer within ${seconds(this.timeoutMs)}` : `cannot reach profefe at ${this.address}: ${err.message}`;
      throw storeErrorFromStatus(`${call.op}: ${what}${attemptsNote(err.attempts)}`, 0, false);
    }
  }

  private parseMetas(op: string, answer: { body: unknown }): ProfileMeta[] {
    if (answer.body === undefined || answer.body === null) return [];
    if (!Array.isArray(answer.body)) throw new StoreError(`${op}: ${this.address} answered with profiles that are not a list`);
    return answer.body.map((m) => this.parseMeta(op, { body: m }));
  }

  /** profefe's profile JSON: `{id, type, service, labels?, created_at}`; missing labels are `[]`. */
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

/** An HTTP answer, whole. */
type Answer = HttpAnswer;

interface Call {
  /** "cannot <do what> <to which service/id>", the start of every error message. */
  readonly op: string;
  readonly method: 'GET' | 'POST';
  /** Under the base URL's path prefix. */
  readonly path: string;
  readonly query?: readonly QueryParam[];
  readonly body?: Uint8Array;
}

/** "Parameters": anything but the 8 names silently means "all types" on find, so never send one. */
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

/** "Ids": opaque and may contain `/`; profefe decodes the path twice, so one encoding is safe. */
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

/** The first line of text in a non-profefe body (an HTML page's, tags removed), shortened. */
function firstLine(body: Buffer): string {
  const text = body
    .toString('utf8', 0, Math.min(body.length, 4096))
    .replace(/<(script|style)\b[\s\S]*?<\/\1\s*>/gi, '')
    .replace(/<[^>]*>/g, '\n');
  const line = text.split(/\r?\n/).map((l) => l.replace(/\s+/g, ' ').trim()).find((l) => l !== '') ?? '';
  return line.length > 160 ? `${line.slice(0, 159)}…` : line;
}
