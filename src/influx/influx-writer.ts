/**
 * Writes points to InfluxDB 1.x over its HTTP API (`POST /write?db=NAME&precision=ms`, line
 * protocol in the body), in batches, with HttpTransport's retries on 5xx answers and failed
 * connections, and one line naming InfluxDB's own message when it refuses (4xx).
 */
import * as http from 'node:http';
import * as https from 'node:https';
import { CommandFailure, UsageError } from '../errors.js';
import { HttpTransport, NoAnswer } from '../store/profefe/transport.js';
import { escapeTerminal, oneLine } from '../report/terminal-text.js';
import { lineBatches, type FunctionPoint } from './line-protocol.js';

/** Where points go: an InfluxDB 1.x base URL (credentials in it become Basic authentication) and a database. */
export interface InfluxTarget {
  readonly url: string;
  readonly db: string;
}

/** How writes are made; every field has a default. */
export interface InfluxWriteOptions {
  readonly signal?: AbortSignal;
  /** Per attempt, the longest InfluxDB may stay silent (ms; default 30 s). */
  readonly timeoutMs?: number;
  /** Extra attempts after a 5xx answer or a failed connection (default 3), waiting 0.5 s, then 1 s, 2 s... */
  readonly retries?: number;
  readonly backoffMs?: number;
  /** Points per request (default 5,000, InfluxDB's advice). */
  readonly batchSize?: number;
}

/** What was written. */
export interface InfluxWriteResult {
  readonly points: number;
  readonly requests: number;
}

/** The most of an answer read: InfluxDB's answers to writes are a few hundred bytes. */
const MAX_ANSWER_BYTES = 64 * 1024;

/**
 * Checks --influx-url and --influx-db: an http(s) URL and a database name; throws UsageError
 * naming the flag.
 */
export function resolveInfluxTarget(url: string | undefined, db: string | undefined): InfluxTarget | undefined {
  if (url === undefined && db === undefined) return undefined;
  if (url === undefined || url === '') throw new UsageError('--influx-db needs --influx-url (where InfluxDB listens, e.g. http://influxdb:8086)');
  if (db === undefined || db === '') throw new UsageError('--influx-url needs --influx-db (the database to write to)');
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new UsageError(`--influx-url: "${url}" is not a URL; give e.g. http://influxdb:8086`);
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw new UsageError(`--influx-url: ${parsed.protocol} is not http: or https:`);
  return { url, db };
}

/** The URL without its credentials, for messages. */
export function describeInflux(target: InfluxTarget): string {
  const u = new URL(target.url);
  u.username = '';
  u.password = '';
  return `InfluxDB at ${u.origin}${u.pathname.replace(/\/$/, '')}`;
}

/**
 * Writes `points` (lineBatches: at most batchSize a request, one request at a time). Throws
 * CommandFailure when InfluxDB refuses a batch (4xx: `... refused the points (HTTP 400): <its
 * message>`), still fails after the retries (5xx) or cannot be reached; the batches before it
 * are written. No points: no request.
 */
export async function writeInfluxPoints(target: InfluxTarget, points: readonly FunctionPoint[], opts: InfluxWriteOptions = {}): Promise<InfluxWriteResult> {
  const base = new URL(target.url);
  const secure = base.protocol === 'https:';
  const agent = secure ? new https.Agent({ keepAlive: true }) : new http.Agent({ keepAlive: true });
  const transport = new HttpTransport({
    base,
    agent,
    rejectUnauthorized: true,
    headers: { 'Content-Type': 'text/plain; charset=utf-8' },
    timeoutMs: opts.timeoutMs ?? 30_000,
    retries: opts.retries ?? 3,
    backoffMs: opts.backoffMs ?? 500,
    signal: opts.signal,
    maxAnswerBytes: MAX_ANSWER_BYTES,
  });
  const where = describeInflux(target);
  const path = `${base.pathname.replace(/\/$/, '')}/write?${new URLSearchParams({ db: target.db, precision: 'ms' })}`;
  let requests = 0;
  try {
    for (const batch of lineBatches(points, opts.batchSize)) {
      let answer;
      try {
        answer = await transport.send('POST', path, Buffer.from(batch, 'utf8'));
      } catch (err) {
        if (err instanceof NoAnswer) throw new CommandFailure(`${where} did not answer (${err.message}) after ${err.attempts} attempt${err.attempts === 1 ? '' : 's'}`);
        throw err;
      }
      requests++;
      if (answer.status >= 200 && answer.status < 300) continue;
      const message = influxMessage(answer.body, answer.contentType);
      if (answer.status >= 500) throw new CommandFailure(`${where} failed (HTTP ${answer.status} after ${answer.attempts} attempts)${message ? `: ${message}` : ''}`);
      throw new CommandFailure(`${where} refused the points (HTTP ${answer.status})${message ? `: ${message}` : ''}`);
    }
  } finally {
    agent.destroy();
  }
  return { points: points.length, requests };
}

/** InfluxDB's `{"error": "..."}`, else the body's text: one line, escaped, at most 300 characters. */
function influxMessage(body: Buffer, contentType: string): string {
  let text = body.toString('utf8');
  if (/json/.test(contentType)) {
    try {
      const parsed = JSON.parse(text) as { error?: unknown };
      if (typeof parsed.error === 'string') text = parsed.error;
    } catch {
      // not JSON after all: the text as it is
    }
  }
  text = escapeTerminal(oneLine(text));
  return text.length > 300 ? `${text.slice(0, 300)}...` : text;
}
