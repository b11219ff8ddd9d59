/**
 * ProfefeClient against real HTTP(S) servers on 127.0.0.1: the fake collector in
 * fake-profefe.ts, which validates requests like profefe and replays its recorded answers.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InputError, UsageError } from '../../src/errors.js';
import { profefeStatusOf } from '../../src/store/profefe/status.js';
import { StoreProblem } from '../../src/store/store.js';
import { ProfefeClient, type ProfefeClientOptions } from '../../src/store/profefe/client.js';
import { encodeProfefeLabels } from '../../src/store/profefe/wire.js';
import type { StoreLabel, StoreProfileType } from '../../src/store/store.js';
import { formatProfefeTime } from '../../src/store/profefe/time-format.js';
import { testPki } from '../support/sandbox/certs.js';
import {
  DROP,
  HANG,
  binary,
  fail,
  getBadId,
  goDecodeLabels,
  goUnescape,
  metaJson,
  ok,
  recorded,
  startFakeProfefe,
  type Canned,
  type FakeProfefe,
  type RecordedRequest,
} from './fake-profefe.js';

const closers: Array<() => Promise<void>> = [];
afterEach(async () => {
  while (closers.length > 0) await closers.pop()!();
});

async function fake(opts?: Parameters<typeof startFakeProfefe>[0]): Promise<FakeProfefe> {
  const f = await startFakeProfefe(opts);
  closers.push(() => f.close());
  return f;
}

/** Retries on, with a backoff too short to slow the tests down. */
function client(baseUrl: string, opts: Partial<ProfefeClientOptions> = {}): ProfefeClient {
  const c = new ProfefeClient({ retries: 2, backoffMs: 1, timeoutMs: 5000, ...opts, baseUrl });
  closers.push(() => c.close());
  return c;
}

/** A port nothing listens on. */
async function closedPort(): Promise<number> {
  const s = http.createServer();
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  const { port } = s.address() as AddressInfo;
  await new Promise((resolve) => s.close(resolve));
  return port;
}

/** The store error, with the status profefe answered (0: none) or would answer a request refused before sending. */
async function rejection(p: Promise<unknown>): Promise<StoreProblem & { status: number }> {
  try {
    await p;
  } catch (err) {
    expect(err).toBeInstanceOf(StoreProblem);
    return Object.assign(err as StoreProblem, { status: profefeStatusOf(err) });
  }
  throw new Error('expected a rejection');
}

const body = (text: string) => new Uint8Array(Buffer.from(text));
const at = (iso: string) => new Date(iso);

describe('addresses and times', () => {
  test.each([
    ['a bare host:port is plain http', '127.0.0.1:10100', 'http://127.0.0.1:10100'],
    ['a bare name:port is plain http', 'profefe.monitoring:10100', 'http://profefe.monitoring:10100'],
    ['a bracketed IPv6 host', '[::1]:10100', 'http://[::1]:10100'],
    ['trailing slashes are dropped', 'http://profefe:10100//', 'http://profefe:10100'],
    ['an https proxy path prefix is kept', 'https://store.example.com/profefe/', 'https://store.example.com/profefe'],
    ['credentials are not shown', 'http://user:secret@profefe:10100', 'http://profefe:10100'],
  ])('%s', (_name, input, address) => {
    expect(client(input).address).toBe(address);
  });

  test.each([
    ['an empty address', '  '],
    ['another scheme', 'ftp://profefe:21'],
    ['a query', 'http://profefe:10100/?x=1'],
    ['a bad port', 'http://profefe:99999'],
  ])('%s is a usage error', (_name, input) => {
    expect(() => new ProfefeClient({ baseUrl: input })).toThrow(UsageError);
  });

  test.each([
    ['drops milliseconds (truncates, never rounds up)', at('2026-11-24T20:13:46.999Z'), '2026-11-24T20:13:46'],
    ['writes UTC whatever the local zone', at('2026-11-24T21:13:46+01:00'), '2026-11-24T20:13:46'],
    ['floors before 1970 too', new Date(-500), '1969-12-31T23:59:59'],
  ])('formatProfefeTime %s', (_name, d, text) => {
    expect(formatProfefeTime(d)).toBe(text);
  });

  test.each([
    ['an invalid date', new Date(NaN)],
    ['Go zero time', at('0001-01-01T00:00:00Z')],
    ['a five-digit year', at('+010000-01-01T00:00:00Z')],
  ])('formatProfefeTime refuses %s', (_name, d) => {
    expect(() => formatProfefeTime(d)).toThrow(RangeError);
  });
});

describe('labels on the wire (docs/profefe-api.md, "Labels")', () => {
  /** The `labels` query value exactly as sent, still encoded. */
  const rawLabels = (r: RecordedRequest) => /[?&]labels=([^&]*)/.exec(r.rawUrl)?.[1];

  test('upload sends service, type and labels like the Go agent, the body as is, and no Content-Type', async () => {
    const f = await fake();
    const c = client(f.url);
    const meta = await c.upload({
      service: 'api-backend',
      type: 'cpu',
      labels: [{ key: 'region', value: 'europe-west3' }, { key: 'dc', value: 'fra' }],
      body: body('pprof bytes'),
    });
    const [req] = f.requests;
    // The agent's access-log line (profefe's agent) encodes its labels the same way.
    expect(req!.rawUrl).toBe('/api/0/profiles?service=api-backend&type=cpu&labels=region%3Deurope-west3%2Cdc%3Dfra');
    expect(req!.method).toBe('POST');
    expect(req!.headers['content-type']).toBeUndefined();
    expect(req!.body.toString()).toBe('pprof bytes');
    expect(meta.labels).toEqual([{ key: 'dc', value: 'fra' }, { key: 'region', value: 'europe-west3' }]);
  });

  const tricky: Array<[string, StoreLabel]> = [
    ['a comma in the value', { key: 'hosts', value: 'a,b' }],
    ['"=" in key and value', { key: 'k=1', value: 'x=y=z' }],
    ['a plus sign', { key: 'expr', value: 'a+b' }],
    ['slashes', { key: 'path', value: '/api/v1' }],
    ['spaces, leading and trailing too', { key: 'my key', value: ' padded value ' }],
    ['percent signs and escapes', { key: 'pct', value: '100% %2B %zz' }],
    ['unicode', { key: 'région', value: '東京 🔥' }],
    ['an empty value', { key: 'empty', value: '' }],
    ['all of it in the key', { key: ' a,b=c+d/e %41 ü ', value: 'v' }],
  ];

  test.each(tricky)('%s round-trips through upload and find', async (_name, label) => {
    const f = await fake();
    const c = client(f.url);
    const labels = [label, { key: 'dc', value: 'fra' }];
    const expected = goDecodeLabels(encodeProfefeLabels(labels)); // sorted the way profefe sorts
    expect(expected).toEqual(expect.arrayContaining(labels));
    expect(expected).toHaveLength(2);

    const meta = await c.upload({ service: 's', type: 'heap', labels, body: body('x') });
    await c.find({ service: 's', from: at('2026-11-24T00:00:00Z'), to: at('2026-11-25T00:00:00Z'), labels });
    await c.mergeQuery({ service: 's', type: 'heap', from: at('2026-11-24T00:00:00Z'), to: at('2026-11-25T00:00:00Z'), labels }).catch(() => undefined);

    expect(meta.labels).toEqual(expected);
    for (const req of f.requests) {
      expect(req.labels).toEqual(expected);
      const raw = rawLabels(req)!;
      // Encoded twice: only unreserved characters and escapes are left on the wire, and one
      // decoding gives back the per-pair encoding.
      expect(raw).toMatch(/^[A-Za-z0-9%._~!*'()-]*$/);
      expect(goUnescape(raw, 'query')).toBe(encodeProfefeLabels(labels));
    }
    expect(f.requests.map((r) => r.route)).toEqual(['upload', 'find', 'merge']);
  });

  test('a label with an empty key is refused before sending (profefe would drop it)', async () => {
    const f = await fake();
    const err = await rejection(client(f.url).upload({ service: 's', type: 'cpu', labels: [{ key: '', value: 'x' }], body: body('x') }));
    expect(err.status).toBe(400);
    expect(err.message).toMatch(/^cannot upload the cpu profile of service "s": label with an empty key/);
    expect(f.requests).toHaveLength(0);
  });
});

describe('upload', () => {
  test('parses the recorded text/plain answer', async () => {
    const f = await fake();
    f.script('upload', recorded.uploadCpu);
    const meta = await client(f.url).upload({ service: 'api-backend', type: 'cpu', labels: [], body: body('x') });
    expect(meta).toEqual({
      id: 'dc2v00b8di1ecttsn9f0',
      service: 'api-backend',
      type: 'cpu',
      labels: [{ key: 'dc', value: 'fra' }, { key: 'region', value: 'europe-west3' }],
      createdAt: at('2026-11-24T20:13:46Z'),
    });
    expect(f.requests[0]!.rawUrl).toBe('/api/0/profiles?service=api-backend&type=cpu');
  });

  test('sends created_at as UTC seconds when given, and not otherwise', async () => {
    const f = await fake();
    const c = client(f.url);
    const meta = await c.upload({ service: 'api-backend', type: 'trace', labels: [], createdAt: at('2026-11-24T21:00:00.750+01:00'), body: body('not really a trace') });
    await c.upload({ service: 'api-backend', type: 'trace', labels: [], body: body('not really a trace') });
    expect(f.requests[0]!.query.get('created_at')).toBe('2026-11-24T20:00:00');
    expect(meta.createdAt).toEqual(at('2026-11-24T20:00:00Z'));
    expect(f.requests[1]!.query.has('created_at')).toBe(false);
  });

  test('a 500 is retried and the whole body is sent again each time', async () => {
    const f = await fake();
    f.script('upload', recorded.uploadStorageFailure, recorded.uploadStorageFailure);
    const profile = new Uint8Array(randomBytes(256 * 1024)); // several socket writes
    const meta = await client(f.url).upload({ service: 'api', type: 'cpu', labels: [], body: profile });
    expect(meta.service).toBe('api');
    expect(f.requests).toHaveLength(3);
    for (const req of f.requests) {
      expect(req.headers['content-length']).toBe(String(profile.byteLength));
      expect(req.body.equals(profile)).toBe(true);
    }
  });

  test('a dropped connection is retried with the whole body', async () => {
    const f = await fake();
    f.script('upload', DROP);
    const profile = new Uint8Array(randomBytes(4096));
    await client(f.url).upload({ service: 'api', type: 'cpu', labels: [], body: profile });
    expect(f.requests).toHaveLength(2);
    expect(f.requests[1]!.body.equals(profile)).toBe(true);
  });

  test('a 400 is not retried and carries profefe\'s message and the service', async () => {
    const f = await fake();
    f.always('upload', recorded.uploadNoSamples);
    const err = await rejection(client(f.url, { retries: 3 }).upload({ service: 'api', type: 'block', labels: [], body: body('idle') }));
    expect(err.status).toBe(400);
    expect(err.message).toBe(
      'cannot upload the block profile of service "api": profefe: malformed profile (could not parse pprof profile: profile is empty: no samples)',
    );
    expect(f.requests).toHaveLength(1);
  });

  test('an empty body gets profefe\'s own 400', async () => {
    const f = await fake();
    const err = await rejection(client(f.url).upload({ service: 'api', type: 'cpu', labels: [], body: new Uint8Array(0) }));
    expect(err.status).toBe(400);
    expect(err.message).toMatch(/profefe: malformed profile \(could not parse pprof profile: parsing profile: empty input file\)$/);
  });

  test('after the last retry, the last 5xx is reported with the attempt count', async () => {
    const f = await fake();
    f.always('upload', recorded.uploadStorageFailure);
    const err = await rejection(client(f.url, { retries: 2 }).upload({ service: 'api', type: 'cpu', labels: [], body: body('x') }));
    expect(err.status).toBe(500);
    expect(err.message).toBe('cannot upload the cpu profile of service "api": profefe: failed to collect profile (after 3 attempts)');
    expect(f.requests).toHaveLength(3);
  });

  test('a type outside profefe\'s eight names is refused before sending', async () => {
    const f = await fake();
    const err = await rejection(client(f.url).upload({ service: 'api', type: 'CPU' as StoreProfileType, labels: [], body: body('x') }));
    expect(err.status).toBe(400);
    expect(err.message).toMatch(/unknown profile type "CPU"/);
    expect(f.requests).toHaveLength(0);
  });
});

describe('find', () => {
  const window = { service: 'api-backend', from: at('2026-11-24T10:00:00.900Z'), to: at('2026-11-24T10:05:05.300Z') };

  test('sends the window as UTC seconds with to one second later, and no type when none is asked', async () => {
    const f = await fake();
    expect(await client(f.url).find(window)).toEqual([]); // the fake's default: 404 nothing found
    const req = f.requests[0]!;
    expect(req.rawUrl).toBe('/api/0/profiles?service=api-backend&from=2026-11-24T10%3A00%3A00&to=2026-11-24T10%3A05%3A06');
    expect([...req.query.keys()]).toEqual(['service', 'from', 'to']);
  });

  test('sends type and a positive limit; a limit <= 0 means none and is not sent', async () => {
    const f = await fake();
    const c = client(f.url);
    await c.find({ ...window, type: 'heap', limit: 5 });
    await c.find({ ...window, limit: 0 });
    await c.find({ ...window, limit: -1 });
    expect(f.requests[0]!.query.get('type')).toBe('heap');
    expect(f.requests[0]!.query.get('limit')).toBe('5');
    expect(f.requests[1]!.query.has('limit')).toBe(false);
    expect(f.requests[2]!.query.has('limit')).toBe(false);
  });

  test('parses the recorded answer: types, Dates, labels', async () => {
    const f = await fake();
    f.script('find', recorded.findApiBackend);
    const metas = await client(f.url).find({ service: 'api-backend', from: at('2026-11-24T00:00:00Z'), to: at('2026-11-25T00:00:00Z') });
    expect(metas.map((m) => [m.id, m.type, m.createdAt.toISOString(), m.labels.length])).toEqual([
      ['dc2v00b8di1ecttsn9gg', 'trace', '2026-11-24T20:00:00.000Z', 1],
      ['dc2v00b8di1ecttsn9f0', 'cpu', '2026-11-24T20:13:46.000Z', 2],
      ['dc2v00b8di1ecttsn9fg', 'heap', '2026-11-24T20:13:47.000Z', 2],
    ]);
  });

  test('returns only the caller\'s window (at whole seconds), oldest first, with missing labels as []', async () => {
    const f = await fake();
    const meta = (id: string, createdAt: string) => metaJson({ id, type: 'cpu', service: 'api-backend', createdAt });
    f.script('find', ok('find', [
      meta('last-second', '2026-11-24T10:05:05Z'), // 10:05:05.x, inside a window ending 10:05:05.300
      meta('extra-second', '2026-11-24T10:05:06Z'), // only let in by the widened to
      meta('first-second', '2026-11-24T10:00:00Z'),
    ]));
    const metas = await client(f.url).find(window);
    expect(metas.map((m) => m.id)).toEqual(['first-second', 'last-second']);
    expect(metas[0]!.labels).toEqual([]);
  });

  test('404 nothing found is an empty list, not an error', async () => {
    const f = await fake();
    f.script('find', recorded.findNothing);
    expect(await client(f.url).find(window)).toEqual([]);
  });

  test('a Go 404 page (a wrong path prefix) is an error, not an empty list', async () => {
    const f = await fake();
    const err = await rejection(client(`${f.url}/profefe`).find(window));
    expect(err.status).toBe(404);
    expect(err.message).toBe(
      `cannot find profiles of service "api-backend": ${f.url}/profefe answered HTTP 404 Not Found, which is not a profefe response (a proxy error, or the wrong address?): 404 page not found`,
    );
    expect(f.requests[0]!.rawUrl).toMatch(/^\/profefe\/api\/0\/profiles\?/);
  });

  test('from after to is refused before sending', async () => {
    const f = await fake();
    const err = await rejection(client(f.url).find({ service: 's', from: at('2026-11-25T00:00:00Z'), to: at('2026-11-24T00:00:00Z') }));
    expect(err.status).toBe(400);
    expect(f.requests).toHaveLength(0);
  });

  /** Answers like a store keeping the newest (badger) or oldest (S3) N profiles of a window. */
  function storeKeeping(end: 'newest' | 'oldest', times: string[]) {
    return (req: RecordedRequest): Canned => {
      const [from, to] = [req.query.get('from')!, req.query.get('to')!].map((t) => at(`${t}Z`).getTime()) as [number, number];
      const limit = Number(req.query.get('limit') ?? 0);
      let hits = times.map((t, i) => ({ id: `p${i}`, t })).filter(({ t }) => at(t).getTime() >= from && at(t).getTime() <= to);
      if (limit > 0) hits = end === 'newest' ? hits.slice(-limit) : hits.slice(0, limit);
      return ok('find', hits.map(({ id, t }) => metaJson({ id, type: 'trace', service: 's', createdAt: t })));
    };
  }

  test('with a limit, asks again when the extra second took some of badger\'s newest N places', async () => {
    const f = await fake();
    f.always('find', storeKeeping('newest', ['2026-11-24T10:00:01Z', '2026-11-24T10:00:02Z', '2026-11-24T10:00:03Z', '2026-11-24T10:00:06Z']));
    const metas = await client(f.url).find({ service: 's', from: at('2026-11-24T10:00:00Z'), to: at('2026-11-24T10:00:05Z'), limit: 2 });
    expect(metas.map((m) => m.id)).toEqual(['p1', 'p2']);
    expect(f.requests.map((r) => r.query.get('limit'))).toEqual(['2', '3']);
  });

  test('with a limit on an oldest-N store, stops asking once more places stop helping', async () => {
    const f = await fake();
    f.always('find', storeKeeping('oldest', ['2026-11-24T10:00:03Z', '2026-11-24T10:00:06Z', '2026-11-24T10:00:06Z', '2026-11-24T10:00:06Z']));
    const metas = await client(f.url).find({ service: 's', from: at('2026-11-24T10:00:00Z'), to: at('2026-11-24T10:00:05Z'), limit: 2 });
    expect(metas.map((m) => m.id)).toEqual(['p0']);
    expect(f.requests.map((r) => r.query.get('limit'))).toEqual(['2', '3']);
  });
});

describe('services and version', () => {
  test('services: the recorded list', async () => {
    const f = await fake();
    f.script('services', recorded.services);
    expect(await client(f.url).services()).toEqual(['api-backend', 'worker']);
    expect(f.requests[0]!.rawUrl).toBe('/api/0/services');
  });

  test('services: an empty store\'s 404 nothing found is []', async () => {
    const f = await fake();
    f.script('services', recorded.servicesNothing);
    expect(await client(f.url).services()).toEqual([]);
  });

  test('version: the recorded text/plain answer', async () => {
    const f = await fake();
    expect(await client(f.url).version()).toEqual({ version: 'git-92baf9f', commit: '92baf9f', build_time: '2026-11-24T20:13:14Z', go_version: 'go1.19.8' });
  });

  test('version: an older collector without go_version', async () => {
    const f = await fake();
    f.script('version', ok('version', { version: '', commit: '', build_time: '' }));
    expect(await client(f.url).version()).toEqual({ version: '', commit: '', build_time: '' });
  });
});

describe('get and merges', () => {
  const s3Id = 'P0.svc1/1/bpc00mript33iv4net01,k1=v1,k2=v2';

  test('get percent-encodes an S3-style id and returns the stored bytes untouched, even JSON-looking ones', async () => {
    const f = await fake();
    const stored = Buffer.concat([Buffer.from('{"code":200,"body":"not an envelope"}'), randomBytes(1000)]);
    f.script('get', (req) => binary(stored, req.ids!.join('+')));
    const bytes = await client(f.url).get(s3Id);
    expect(Buffer.from(bytes).equals(stored)).toBe(true);
    expect(f.requests[0]!.rawUrl).toBe('/api/0/profiles/P0.svc1%2F1%2Fbpc00mript33iv4net01%2Ck1%3Dv1%2Ck2%3Dv2');
    expect(f.requests[0]!.ids).toEqual([s3Id]);
  });

  test('get of an unknown id is a 404 naming the id (a JSON body in an octet-stream answer), not retried', async () => {
    const f = await fake();
    f.script('get', recorded.getNothing);
    const err = await rejection(client(f.url).get('dc2v00b8di1ecttsn9zz'));
    expect(err.status).toBe(404);
    expect(err.message).toBe('cannot get profile "dc2v00b8di1ecttsn9zz": profefe: nothing found');
    expect(f.requests).toHaveLength(1);
  });

  test('get of an id badger cannot parse: its 500 is retried, then reported', async () => {
    const f = await fake();
    f.always('get', (req) => getBadId(req.ids!.join('+')));
    const err = await rejection(client(f.url).get('NOT-AN-XID'));
    expect(err.status).toBe(500);
    expect(err.message).toBe('cannot get profile "NOT-AN-XID": profefe: failed to get profile by id "NOT-AN-XID" (after 3 attempts)');
  });

  test('mergeIds joins the encoded ids with a literal +', async () => {
    const f = await fake();
    f.script('get', binary(Buffer.from([0x1f, 0x8b, 8, 0]), 'merged'));
    const bytes = await client(f.url).mergeIds(['dc2v00b8di1ecttsn9f0', s3Id]);
    expect([...bytes]).toEqual([0x1f, 0x8b, 8, 0]);
    expect(f.requests[0]!.rawUrl).toBe('/api/0/profiles/dc2v00b8di1ecttsn9f0+P0.svc1%2F1%2Fbpc00mript33iv4net01%2Ck1%3Dv1%2Ck2%3Dv2');
    expect(f.requests[0]!.ids).toEqual(['dc2v00b8di1ecttsn9f0', s3Id]);
  });

  test.each([
    ['get of an id with +', (c: ProfefeClient) => c.get('a+b'), /the profile id "a\+b" contains "\+"/],
    ['get of an empty id', (c: ProfefeClient) => c.get(''), /the profile id is empty/],
    ['mergeIds with an id with +', (c: ProfefeClient) => c.mergeIds(['ok', 'a+b']), /contains "\+", which profefe reads as a separator/],
    ['mergeIds of nothing', (c: ProfefeClient) => c.mergeIds([]), /no profile ids given/],
  ])('%s is refused before sending', async (_name, call, message) => {
    const f = await fake();
    const err = await rejection(call(client(f.url)));
    expect(err.status).toBe(400);
    expect(err.message).toMatch(message);
    expect(f.requests).toHaveLength(0);
  });

  test('mergeQuery sends service, the widened window, type and labels, and returns the bytes', async () => {
    const f = await fake();
    f.script('merge', binary(Buffer.from('merged pprof'), 'cpu'));
    const bytes = await client(f.url).mergeQuery({
      service: 'api-backend',
      type: 'cpu',
      from: at('2026-11-24T00:00:00Z'),
      to: at('2026-11-25T00:00:00Z'),
      labels: [{ key: 'dc', value: 'fra' }],
      limit: 10,
    });
    expect(Buffer.from(bytes).toString()).toBe('merged pprof');
    expect(f.requests[0]!.rawUrl).toBe(
      '/api/0/profiles/merge?service=api-backend&from=2026-11-24T00%3A00%3A00&to=2026-11-25T00%3A00%3A01&type=cpu&labels=dc%3Dfra&limit=10',
    );
  });

  test('mergeQuery of traces: profefe\'s 405 (text/plain) with its message', async () => {
    const f = await fake();
    const err = await rejection(client(f.url).mergeQuery({ service: 'api-backend', type: 'trace', from: at('2026-11-24T00:00:00Z'), to: at('2026-11-25T00:00:00Z') }));
    expect(err.status).toBe(405);
    expect(err.message).toBe('cannot merge the trace profiles of service "api-backend": profefe: can\'t merge profiles of trace type');
  });

  test('mergeQuery with nothing matching is a 404, not empty bytes', async () => {
    const f = await fake();
    f.script('merge', recorded.mergeNothing);
    const err = await rejection(client(f.url).mergeQuery({ service: 'api-backend', type: 'mutex', from: at('2026-11-24T00:00:00Z'), to: at('2026-11-25T00:00:00Z') }));
    expect(err.status).toBe(404);
    expect(err.message).toBe('cannot merge the mutex profiles of service "api-backend": profefe: nothing found');
  });
});

describe('transport', () => {
  test('a token goes out as a bearer Authorization header; without one there is none', async () => {
    const f = await fake();
    await client(f.url, { token: 's3cret' }).version();
    await client(f.url).version();
    expect(f.requests[0]!.headers.authorization).toBe('Bearer s3cret');
    expect(f.requests[1]!.headers.authorization).toBeUndefined();
  });

  test('a closed port is status 0, "cannot reach", after the retries', async () => {
    const port = await closedPort();
    const err = await rejection(client(`127.0.0.1:${port}`).services());
    expect(err.status).toBe(0);
    expect(err.message).toBe(`cannot list services: cannot reach profefe at http://127.0.0.1:${port}: connect ECONNREFUSED 127.0.0.1:${port} (after 3 attempts)`);
  });

  test('a refused connection to a name with several addresses still says why', async () => {
    const port = await closedPort();
    const err = await rejection(client(`localhost:${port}`, { retries: 0 }).services());
    expect(err.message).toMatch(new RegExp(`^cannot list services: cannot reach profefe at http://localhost:${port}: connect ECONNREFUSED \\S+:${port}`));
  });

  test('a store that does not answer times out with status 0, without retrying', async () => {
    const f = await fake();
    f.always('find', HANG);
    const err = await rejection(client(f.url, { timeoutMs: 1000, retries: 3 }).find({ service: 'api', from: at('2026-11-24T00:00:00Z'), to: at('2026-11-25T00:00:00Z') }));
    expect(err.status).toBe(0);
    expect(err.message).toBe(`cannot find profiles of service "api": profefe at ${f.url} did not answer within 1s`);
    // One request at most: a retry would have waited its own second, time enough for the fake to
    // see it; the first may go unseen when a loaded machine runs the client's timer first.
    expect(f.requests.length).toBeLessThanOrEqual(1);
  });

  test('an HTML error page from a proxy is reported as such, with its status', async () => {
    const f = await fake();
    f.always('services', recorded.nginxBadGateway);
    const err = await rejection(client(f.url).services());
    expect(err.status).toBe(502);
    expect(err.message).toBe(
      `cannot list services: ${f.url} answered HTTP 502 Bad Gateway, which is not a profefe response (a proxy error, or the wrong address?): 502 Bad Gateway (after 3 attempts)`,
    );
  });

  test('a 200 HTML page on a binary route is not taken for a profile', async () => {
    const f = await fake();
    f.script('get', { status: 200, contentType: 'text/html; charset=utf-8', body: '<html><body><p>Sign in to continue</p></body></html>' });
    const err = await rejection(client(f.url).get('dc2v00b8di1ecttsn9f0'));
    expect(err.status).toBe(200);
    expect(err.message).toMatch(/answered HTTP 200 OK, which is not a profefe response .*: Sign in to continue$/);
  });

  test('a 200 on a JSON route whose body is not an envelope is an error', async () => {
    const f = await fake();
    f.script('services', { status: 200, contentType: 'text/plain', body: 'OK\n' });
    const err = await rejection(client(f.url).services());
    expect(err.message).toMatch(/answered HTTP 200 OK, which is not a profefe response .*: OK$/);
  });

  test('an error envelope served as application/octet-stream or text/plain is still read', async () => {
    const f = await fake();
    f.script('services', fail('get', 503, 'storage is sleeping'), fail('upload', 503, 'storage is sleeping'));
    const err = await rejection(client(f.url, { retries: 1 }).services());
    expect(err.message).toBe('cannot list services: profefe: storage is sleeping (after 2 attempts)');
  });

  test('aborting the signal ends a pending call with its reason', async () => {
    const f = await fake();
    f.always('find', HANG);
    const abort = new AbortController();
    const pending = client(f.url, { signal: abort.signal }).find({ service: 'api', from: at('2026-11-24T00:00:00Z'), to: at('2026-11-25T00:00:00Z') });
    setTimeout(() => abort.abort(new Error('interrupted')), 50);
    await expect(pending).rejects.toThrow('interrupted');
  });

  test('a given agent carries the requests and is left open by close()', async () => {
    const f = await fake();
    const agent = new http.Agent({ keepAlive: true });
    closers.push(async () => agent.destroy());
    const c = new ProfefeClient({ baseUrl: f.url, agent });
    await c.version();
    await c.close();
    expect(Object.values(agent.freeSockets).flat()).toHaveLength(1);
  });
});

describe('https with a custom CA', () => {
  let tls: FakeProfefe;
  let caPem: string;
  let caPath: string;
  let dir: string;

  beforeAll(async () => {
    const pki = await testPki();
    caPem = pki.caPem;
    tls = await startFakeProfefe({ tls: { cert: pki.serverCertPem, key: pki.serverKeyPem } });
    dir = await mkdtemp(join(tmpdir(), 'profefe-client-ca-'));
    caPath = join(dir, 'ca.crt');
    await writeFile(caPath, caPem);
  });
  afterAll(async () => {
    await tls.close();
    await rm(dir, { recursive: true, force: true });
  });

  test('the CA as PEM bytes', async () => {
    expect(await client(tls.url, { caFile: Buffer.from(caPem) }).version()).toMatchObject({ commit: '92baf9f' });
  });

  test('the CA as a file path', async () => {
    expect(await client(tls.url, { caFile: caPath }).version()).toMatchObject({ commit: '92baf9f' });
  });

  test('without the CA the certificate is refused, clearly, and not retried', async () => {
    const before = tls.requests.length;
    const started = Date.now();
    // A retry would first wait the 60 s backoff: far beyond the bound, however loaded the machine.
    const err = await rejection(client(tls.url, { backoffMs: 60_000 }).version());
    expect(err.status).toBe(0);
    expect(err.message).toMatch(new RegExp(`^cannot get the profefe version: cannot reach profefe at ${tls.url}: .*certificate.*not trusted: give its CA, or skip verification\\)$`));
    expect(Date.now() - started).toBeLessThan(30_000);
    expect(tls.requests.length).toBe(before);
  });

  test('insecureSkipTlsVerify skips verification', async () => {
    expect(await client(tls.url, { insecureSkipTlsVerify: true }).version()).toMatchObject({ commit: '92baf9f' });
  });

  test('an unreadable CA file is an input error', () => {
    expect(() => new ProfefeClient({ baseUrl: tls.url, caFile: join(dir, 'missing.crt') })).toThrow(InputError);
  });
});

/**
 * The recorded answers of profefe-api.md, checked on the wire against a store that starts
 * empty. Add another compatible store (e.g. `kubectl profefe serve`) to `stores` to hold it to
 * the same answers.
 */
const stores: Array<[string, () => Promise<{ url: string; close(): Promise<void> }>]> = [['the fake collector', () => startFakeProfefe()]];

describe.each(stores)('%s answers like the recorded collector', (_name, start) => {
  let store: { url: string; close(): Promise<void> };
  beforeEach(async () => {
    store = await start();
  });
  afterEach(() => store.close());

  function exchange(method: string, path: string, payload?: string): Promise<Canned> {
    return new Promise((resolve, reject) => {
      const req = http.request(`${store.url}${path}`, { method, agent: false }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode!, contentType: res.headers['content-type'], body: Buffer.concat(chunks).toString() }));
      });
      req.on('error', reject);
      req.end(payload);
    });
  }
  const day = 'from=2026-11-24T00:00:00&to=2026-11-25T00:00:00';

  // [name, method, path and query, the recorded answer, request body or '']
  test.each<[string, string, string, Canned, string]>([
    ['version', 'GET', '/api/0/version', recorded.version, ''],
    ['services of an empty store', 'GET', '/api/0/services', recorded.servicesNothing, ''],
    ['find with no match', 'GET', `/api/0/profiles?service=nope&${day}`, recorded.findNothing, ''],
    ['find without from', 'GET', '/api/0/profiles?service=api-backend', recorded.findMissingFrom, ''],
    ['find with a Z time', 'GET', '/api/0/profiles?service=api-backend&from=2026-11-24T00:00:00Z&to=2026-11-25T00:00:00', recorded.findZuluFrom, ''],
    ['find with from after to', 'GET', '/api/0/profiles?service=api-backend&from=2026-11-25T00:00:00&to=2026-11-24T00:00:00', recorded.findFromAfterTo, ''],
    ['find with a bad limit', 'GET', `/api/0/profiles?service=api-backend&${day}&limit=abc`, recorded.findBadLimit, ''],
    ['upload without service', 'POST', '/api/0/profiles?type=cpu', recorded.uploadMissingService, 'x'],
    ['upload of type CPU', 'POST', '/api/0/profiles?service=s1&type=CPU', recorded.uploadUnknownType, 'x'],
    ['upload without a body', 'POST', '/api/0/profiles?service=s1&type=cpu', recorded.uploadEmptyBody, ''],
    ['merge without type', 'GET', `/api/0/profiles/merge?service=api-backend&${day}`, recorded.mergeUnknownType, ''],
    ['merge of traces', 'GET', `/api/0/profiles/merge?service=api-backend&type=trace&${day}`, recorded.mergeTrace, ''],
    ['merge with no match', 'GET', `/api/0/profiles/merge?service=api-backend&type=mutex&${day}`, recorded.mergeNothing, ''],
    ['get of an unknown id', 'GET', '/api/0/profiles/dc2v00b8di1ecttsn9zz', recorded.getNothing, ''],
    ['a path outside the API', 'GET', '/api/profiles', recorded.goNotFound, ''],
  ])('%s', async (_name, method, path, expected, payload) => {
    const answer = await exchange(method, path, payload);
    expect(answer).toEqual({ status: expected.status, contentType: expected.contentType, body: expected.body });
  });

  test.each<[string, string, StoreLabel[]]>([
    ['"+" is a space', 'v=a+b', [{ key: 'v', value: 'a b' }]],
    ['"%2B" is a space too', 'v=a%2Bb', [{ key: 'v', value: 'a b' }]],
    ['"%252B" is a plus', 'v=a%252Bb', [{ key: 'v', value: 'a+b' }]],
    ['"%2C" splits', 'v=a%2Cb', [{ key: 'b', value: '' }, { key: 'v', value: 'a' }]],
    ['"%252C" is a comma', 'v=a%252Cb', [{ key: 'v', value: 'a,b' }]],
    ['"%252F" is a slash', 'path=%252Fapi%252Fv1', [{ key: 'path', value: '/api/v1' }]],
    ['the first "=" splits', 'a=b=c', [{ key: 'a', value: 'b=c' }]],
    ['an empty key is dropped', '=x,k', [{ key: 'k', value: '' }]],
    ['duplicate keys are kept', 'a=1,a=0', [{ key: 'a', value: '1' }, { key: 'a', value: '0' }]],
    ['a bad escape drops the parameter', 'v=%zz', []],
  ])('labels: %s (docs/profefe-api.md, "Labels")', async (_name, raw, labels) => {
    const answer = await exchange('POST', `/api/0/profiles?service=s1&type=trace&created_at=2026-11-24T20:00:00&labels=${raw}`, 'not really a trace');
    expect(answer.status).toBe(200);
    const meta = (JSON.parse(answer.body as string) as { body: { labels?: StoreLabel[] } }).body;
    expect(meta.labels ?? []).toEqual(labels);
  });
});
