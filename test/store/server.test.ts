/**
 * The profefe-compatible server over real HTTP on 127.0.0.1, backed by a LocalStore in a
 * temporary directory: every envelope, status code, error string and Content-Type asserted
 * byte for byte against the collector's (profefe-api.md), with real Go profiles.
 */
import { request } from 'node:http';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { decodeProfile, encodeProfile } from '../../src/pprof/index.js';
import { LocalStore } from '../../src/store/local/local-store.js';
import { parseProfileIdsPath, unescapeRaw } from '../../src/store/profefe/request.js';
import { startProfefeServer, type ProfefeServer } from '../../src/store/profefe/server.js';
import { StoreUnavailable, type FindQuery, type ProfileMeta, type ProfileStore, type StoreProfileType, type UploadRequest } from '../../src/store/store.js';
import { copyCpuFixtures } from '../support/cpu-fixtures.js';
import { generateProfiles } from '../support/go-target.js';
import { goPprofTop } from '../support/go-pprof.js';
import { buildProfile } from '../support/profile-builder.js';

interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
  text: string;
}

/** A raw HTTP request: the path goes on the wire exactly as given (no URL normalisation). */
function http(base: string, method: string, pathAndQuery: string, opts: { body?: Uint8Array; headers?: Record<string, string> } = {}): Promise<Reply> {
  const url = new URL(base);
  return new Promise((resolve, reject) => {
    const req = request(
      { host: url.hostname, port: url.port, method, path: pathAndQuery, headers: { ...opts.headers, ...(opts.body ? { 'Content-Length': String(opts.body.length) } : {}) } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const body = Buffer.concat(chunks);
          resolve({ status: res.statusCode!, headers: res.headers, body, text: body.toString('utf8') });
        });
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(opts.body);
  });
}

/** The collector's one-line JSON error body. */
const err = (code: number, error: string) => `${JSON.stringify({ code, error })}\n`;
const TEXT = 'text/plain; charset=utf-8';
const JSON_TYPE = 'application/json';
const OCTET = 'application/octet-stream';

const T0 = Date.parse('2026-11-24T20:00:00Z');
const MS = 1_000_000n;
const DAY = 'from=2026-11-24T00:00:00&to=2026-11-25T00:00:00';

/** A hand-built gzipped pprof taken at `ms` (cpu-like sample types). */
function pprofAt(ms: number, value = 1): Uint8Array {
  return encodeProfile(buildProfile({ timeNanos: BigInt(ms) * MS, samples: [{ stack: 'main.main;main.work', values: [value, value * 10_000_000] }] }));
}

/** labels for a query string, encoded as the profefe agent does (docs/profefe-api.md, "Labels"). */
function encodeLabels(labels: [string, string][]): string {
  return encodeURIComponent(labels.map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`).join(','));
}

let root: string;
const cleanups: (() => Promise<void>)[] = [];

beforeAll(async () => {
  root = await mkdtemp(path.join(tmpdir(), 'profefe-server-'));
});

afterAll(async () => {
  for (const c of cleanups.reverse()) await c();
  await rm(root, { recursive: true, force: true });
});

let stores = 0;
/** A LocalStore in a fresh directory served on 127.0.0.1:0; closed in afterAll. */
async function withServer(opts: { token?: string; maxBodyBytes?: number; store?: ProfileStore } = {}): Promise<ProfefeServer & { store: ProfileStore }> {
  const store = opts.store ?? (await LocalStore.open(path.join(root, `store-${++stores}`)));
  const server = await startProfefeServer({ store, host: '127.0.0.1', port: 0, token: opts.token, maxBodyBytes: opts.maxBodyBytes });
  cleanups.push(async () => {
    await server.close();
    await store.close();
  });
  return { ...server, store };
}

describe('upload: POST /api/0/profiles', () => {
  let s: ProfefeServer;
  beforeAll(async () => {
    s = await withServer();
  });

  const malformed = (reason: string) => `malformed profile (could not parse pprof profile: ${reason})`;
  test.each([
    ['no service', '?type=cpu', pprofAt(T0), 'bad request: missing "service"'],
    ['no type', '?service=s1', pprofAt(T0), 'bad request: unknown profile type'],
    ['an uppercase type', '?service=s1&type=CPU', pprofAt(T0), 'bad request: unknown profile type'],
    ['no body', '?service=s1&type=cpu', undefined, malformed('parsing profile: empty input file')],
    ['garbage', '?service=s1&type=cpu', Buffer.from('garbage'), malformed('parsing profile: unrecognized profile format')],
    ['no samples', '?service=s1&type=cpu', encodeProfile(buildProfile({ samples: [] })), malformed('profile is empty: no samples')],
    [
      'a created_at with Z',
      '?service=s1&type=cpu&created_at=2026-11-24T20:00:00Z',
      pprofAt(T0),
      'bad request: bad "created_at" "2026-11-24T20:00:00Z": time in unsupported format "2026-11-24T20:00:00Z"',
    ],
    // The created_at check comes before the type check in profefe's request.go.
    ['a bad created_at and no type', '?service=s1&created_at=2026', pprofAt(T0), 'bad request: bad "created_at" "2026": time in unsupported format "2026"'],
    ['a bad escape inside labels', '?service=s1&type=cpu&labels=a=%25zz', pprofAt(T0), 'bad request: bad "labels" "a=%zz": invalid URL escape "%zz"'],
  ] as [string, string, Uint8Array | undefined, string][])('rejects %s with 400 and profefe\'s message', async (_name, query, body, message) => {
    const r = await http(s.url, 'POST', `/api/0/profiles${query}`, { body });
    expect(r.status).toBe(400);
    expect(r.headers['content-type']).toBe(TEXT);
    expect(r.text).toBe(err(400, message));
  });

  test('stores a profile and answers with its meta: sorted labels, created_at = time_nanos in whole seconds', async () => {
    const r = await http(s.url, 'POST', '/api/0/profiles?service=api-backend&type=cpu&labels=region=europe-west3,dc=fra&created_at=2020-01-01T00:00:00', {
      body: pprofAt(T0 + 13 * 60_000 + 46_700),
    });
    expect(r.status).toBe(200);
    expect(r.headers['content-type']).toBe(TEXT);
    const id = JSON.parse(r.text).body.id as string;
    expect(id).toMatch(/^[0-9a-v]{20}$/);
    expect(r.text).toBe(
      `{"code":200,"body":{"id":"${id}","type":"cpu","service":"api-backend","labels":[{"key":"dc","value":"fra"},{"key":"region","value":"europe-west3"}],"created_at":"2026-11-24T20:13:46Z"}}\n`,
    );
  });

  test('a trace is stored unparsed, at its created_at; no labels means no labels field', async () => {
    const r = await http(s.url, 'POST', '/api/0/profiles?service=api-backend&type=trace&created_at=2026-11-24T20:00:00', { body: Buffer.from('not really a trace') });
    expect(r.status).toBe(200);
    const id = JSON.parse(r.text).body.id as string;
    expect(r.text).toBe(`{"code":200,"body":{"id":"${id}","type":"trace","service":"api-backend","created_at":"2026-11-24T20:00:00Z"}}\n`);
    const back = await http(s.url, 'GET', `/api/0/profiles/${id}`);
    expect(back.text).toBe('not really a trace');
  });
});

describe('find: GET /api/0/profiles', () => {
  let s: ProfefeServer;
  const ids: Record<string, string> = {};
  beforeAll(async () => {
    s = await withServer();
    const put = async (name: string, query: string, body: Uint8Array) => {
      const r = await http(s.url, 'POST', `/api/0/profiles?${query}`, { body });
      expect(r.status).toBe(200);
      ids[name] = JSON.parse(r.text).body.id;
    };
    // heap X first, then the earlier cpu C: the upload order that trips badger (docs/profefe-api.md, "Known bugs").
    await put('X', 'service=api&type=heap&labels=region=eu,host=y', pprofAt(T0 + 5000));
    await put('C', 'service=api&type=cpu&labels=region=eu,host=x', pprofAt(T0));
    await put('late', 'service=api&type=cpu', pprofAt(T0 + 5400));
    await put('trace', 'service=api&type=trace&created_at=2026-11-24T19:00:00', Buffer.from('trace'));
  });

  const names = (text: string) => (JSON.parse(text).body as { id: string }[]).map((m) => Object.keys(ids).find((k) => ids[k] === m.id));

  test.each([
    ['all types, oldest first', `service=api&${DAY}`, ['trace', 'C', 'X', 'late']],
    ['one type', `service=api&type=heap&${DAY}`, ['X']],
    ['an unknown type means all types', `service=api&type=bogus&${DAY}`, ['trace', 'C', 'X', 'late']],
    ['labels, whatever the upload order', `service=api&type=heap&labels=region=eu&${DAY}`, ['X']],
    ['labels without type', `service=api&labels=region=eu&${DAY}`, ['C', 'X']],
    ['limit keeps the newest', `service=api&type=cpu&limit=1&${DAY}`, ['late']],
    ['limit -1 is no limit', `service=api&type=cpu&limit=-1&${DAY}`, ['C', 'late']],
    ['to is exact: 20:00:05.4 is after 20:00:05', 'service=api&from=2026-11-24T20:00:00&to=2026-11-24T20:00:05', ['C', 'X']],
    ['from == to', 'service=api&from=2026-11-24T20:00:05&to=2026-11-24T20:00:05', ['X']],
    ['a one-digit hour, as Go accepts', 'service=api&from=2026-11-24T9:00:00&to=2026-11-24T20:00:00', ['trace', 'C']],
    ['the trailing slash route', `service=api&type=heap&${DAY}`, ['X'], '/api/0/profiles/'],
  ] as [string, string, string[], string?][])('%s', async (_name, query, expected, route = '/api/0/profiles') => {
    const r = await http(s.url, 'GET', `${route}?${query}`);
    expect(r.status).toBe(200);
    expect(r.headers['content-type']).toBe(JSON_TYPE);
    expect(names(r.text)).toEqual(expected);
  });

  test('the body is exactly profefe\'s', async () => {
    const r = await http(s.url, 'GET', `/api/0/profiles?service=api&type=heap&${DAY}`);
    expect(r.text).toBe(
      `{"code":200,"body":[{"id":"${ids.X}","type":"heap","service":"api","labels":[{"key":"host","value":"y"},{"key":"region","value":"eu"}],"created_at":"2026-11-24T20:00:05Z"}]}\n`,
    );
  });

  test.each([
    ['nothing found', `service=nope&${DAY}`, 404, JSON_TYPE, 'nothing found'],
    ['nothing in the window', 'service=api&from=2020-01-01T00:00:00&to=2020-01-02T00:00:00', 404, JSON_TYPE, 'nothing found'],
    ['no service', DAY, 400, TEXT, 'bad request: missing "service"'],
    ['no from', 'service=api', 400, TEXT, 'bad request: missing "from"'],
    ['no to', 'service=api&from=2026-11-24T00:00:00', 400, TEXT, 'bad request: missing "to"'],
    [
      'a Z suffix',
      'service=api&from=2026-11-24T00:00:00Z&to=2026-11-25T00:00:00',
      400,
      TEXT,
      'bad request: bad "from" timestamp "2026-11-24T00:00:00Z": time in unsupported format "2026-11-24T00:00:00Z"',
    ],
    ['a bare date', 'service=api&from=2026-11-24&to=2026-11-25', 400, TEXT, 'bad request: bad "from" timestamp "2026-11-24": time in unsupported format "2026-11-24"'],
    [
      'an offset',
      'service=api&from=2026-11-24T00:00:00&to=2026-11-25T00:00:00%2B01:00',
      400,
      TEXT,
      'bad request: bad "to" timestamp "2026-11-25T00:00:00+01:00": time in unsupported format "2026-11-25T00:00:00+01:00"',
    ],
    ['epoch seconds', 'service=api&from=1795996800&to=2026-11-25T00:00:00', 400, TEXT, 'bad request: bad "from" timestamp "1795996800": time in unsupported format "1795996800"'],
    [
      'from after to',
      'service=api&from=2026-11-25T00:00:00&to=2026-11-24T00:00:00',
      400,
      TEXT,
      'bad request: CreatedAtMin after CreatedAtMax: 2026-11-25 00:00:00 +0000 UTC, 2026-11-24 00:00:00 +0000 UTC',
    ],
    [
      'from after to by half a second',
      'service=api&from=2026-11-24T00:00:00.5&to=2026-11-24T00:00:00',
      400,
      TEXT,
      'bad request: CreatedAtMin after CreatedAtMax: 2026-11-24 00:00:00.5 +0000 UTC, 2026-11-24 00:00:00 +0000 UTC',
    ],
    ['limit=abc', `service=api&limit=abc&${DAY}`, 400, TEXT, 'bad request: bad "limit" "abc": strconv.Atoi: parsing "abc": invalid syntax'],
    ['a limit out of range', `service=api&limit=99999999999999999999&${DAY}`, 400, TEXT, 'bad request: bad "limit" "99999999999999999999": strconv.Atoi: parsing "99999999999999999999": value out of range'],
  ])('%s: %d', async (_name, query, status, contentType, message) => {
    const r = await http(s.url, 'GET', `/api/0/profiles?${query}`);
    expect([r.status, r.headers['content-type'], r.text]).toEqual([status, contentType, err(status, message)]);
  });

  test('other methods on /api/0/profiles answer 200 with an empty body', async () => {
    for (const method of ['PUT', 'DELETE', 'PATCH', 'OPTIONS']) {
      const r = await http(s.url, method, `/api/0/profiles?service=api&${DAY}`);
      expect([method, r.status, r.text, r.headers['content-type']]).toEqual([method, 200, '', undefined]);
    }
  });
});

describe('labels on the wire (docs/profefe-api.md, "Labels")', () => {
  let s: ProfefeServer;
  beforeAll(async () => {
    s = await withServer();
  });

  let labelServices = 0;
  async function uploadLabels(labelsParam: string, service: string): Promise<{ key: string; value: string }[] | undefined> {
    const r = await http(s.url, 'POST', `/api/0/profiles?service=${service}&type=cpu&labels=${labelsParam}`, { body: pprofAt(T0) });
    expect(r.status).toBe(200);
    return JSON.parse(r.text).body.labels;
  }

  test('labels with , = + / and spaces round-trip through upload and find when double-encoded', async () => {
    const labels: [string, string][] = [
      ['path', '/api/v1'],
      ['note', 'a+b,c=d e'],
      ['spaced key', '  padded  '],
      ['k=1,x', 'v'],
    ];
    const stored = await uploadLabels(encodeLabels(labels), 'wire');
    expect(stored).toEqual(
      [...labels].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([key, value]) => ({ key, value })),
    );
    for (const pair of labels) {
      const r = await http(s.url, 'GET', `/api/0/profiles?service=wire&labels=${encodeLabels([pair])}&${DAY}`);
      expect([pair, r.status]).toEqual([pair, 200]);
      expect(JSON.parse(r.text).body).toHaveLength(1);
    }
    const miss = await http(s.url, 'GET', `/api/0/profiles?service=wire&labels=${encodeLabels([['note', 'a+b,c=d']])}&${DAY}`);
    expect(miss.status).toBe(404);
  });

  test.each([
    ['a literal + is a space', 'v=a+b', [{ key: 'v', value: 'a b' }]],
    ['%2B is a space too (unescaped twice)', 'v=a%2Bb', [{ key: 'v', value: 'a b' }]],
    ['%252B is a plus', 'v=a%252Bb', [{ key: 'v', value: 'a+b' }]],
    ['%2C splits', 'v=a%2Cb', [{ key: 'b', value: '' }, { key: 'v', value: 'a' }]],
    ['%252C is a comma', 'v=a%252Cb', [{ key: 'v', value: 'a,b' }]],
    ['%252F is a slash', 'path=%252Fapi%252Fv1', [{ key: 'path', value: '/api/v1' }]],
    ['the first = splits', 'a=b=c', [{ key: 'a', value: 'b=c' }]],
    ['empty keys are dropped, bare keys have ""', ',=x,k', [{ key: 'k', value: '' }]],
    ['duplicate keys are kept', 'a=1,a=0', [{ key: 'a', value: '1' }, { key: 'a', value: '0' }]],
    ['keys and values are trimmed', '%20k%20=%20v%20', [{ key: 'k', value: 'v' }]],
    ['an invalid escape drops the whole parameter', 'a=%zz', undefined],
  ])('%s', async (_name, param, expected) => {
    expect(await uploadLabels(param, `lbl-${++labelServices}`)).toEqual(expected);
  });
});

describe('get by id: /api/0/profiles/{id}[+{id}]', () => {
  let s: ProfefeServer;
  let dir: string;
  let cpuFiles: string[];
  let heapFile: string;
  const cpuIds: string[] = [];
  let heapId: string;

  beforeAll(async () => {
    s = await withServer();
    dir = await mkdtemp(path.join(root, 'gen-'));
    // Fixed real CPU profiles: one taken during the test on a loaded machine could be empty, and the store refuses those.
    cpuFiles = await copyCpuFixtures(path.join(dir, 'cpu'), [[1, 1], [1, 2], [2, 1]]);
    [heapFile] = await generateProfiles('heap', 1, path.join(dir, 'heap'), { seed: 3 });
    for (const f of cpuFiles) {
      const r = await http(s.url, 'POST', '/api/0/profiles?service=go&type=cpu', { body: await readFile(f) });
      cpuIds.push(JSON.parse(r.text).body.id);
    }
    const r = await http(s.url, 'POST', '/api/0/profiles?service=go&type=heap', { body: await readFile(heapFile!) });
    heapId = JSON.parse(r.text).body.id;
  }, 120_000);

  test('one id: the stored bytes, with the id as filename; any method reads', async () => {
    for (const method of ['GET', 'DELETE', 'POST']) {
      const r = await http(s.url, method, `/api/0/profiles/${cpuIds[0]}`);
      expect(r.status).toBe(200);
      expect(r.headers['content-type']).toBe(OCTET);
      expect(r.headers['content-disposition']).toBe(`attachment; filename="${cpuIds[0]}"`);
      expect(r.body.equals(await readFile(cpuFiles[0]!))).toBe(true);
    }
    const slash = await http(s.url, 'GET', `/api/0/profiles/${cpuIds[0]}/`);
    expect(slash.status).toBe(200);
  });

  test('several ids, joined by + or %2B, merge into one gzipped pprof that go tool pprof reads', async () => {
    const plus = await http(s.url, 'GET', `/api/0/profiles/${cpuIds.join('+')}`);
    const encoded = await http(s.url, 'GET', `/api/0/profiles/${cpuIds.join('%2B')}`);
    expect(plus.status).toBe(200);
    expect(plus.headers['content-disposition']).toBe(`attachment; filename="${cpuIds.join('+')}"`);
    expect([plus.body[0], plus.body[1]]).toEqual([0x1f, 0x8b]);
    expect(encoded.body.equals(plus.body)).toBe(true);
    const file = path.join(dir, 'by-ids.pb.gz');
    await writeFile(file, plus.body);
    expect(decodeProfile(plus.body).sample.length).toBeGreaterThan(0);
    const [ours, reference] = await Promise.all([goPprofTop([file]), goPprofTop(cpuFiles)]);
    expect(reference.total).toBeGreaterThan(0);
    expect(ours.total).toBe(reference.total);
  });

  test('unknown ids are skipped; all unknown is a 500', async () => {
    const r = await http(s.url, 'GET', `/api/0/profiles/${cpuIds[0]}+c00000000000000000000+${cpuIds[1]}`);
    const pair = await http(s.url, 'GET', `/api/0/profiles/${cpuIds[0]}+${cpuIds[1]}`);
    expect(r.status).toBe(200);
    expect(r.body.equals(pair.body)).toBe(true);
    const none = await http(s.url, 'GET', '/api/0/profiles/c00000000000000000000+c00000000000000000001');
    expect([none.status, none.headers['content-type'], none.text]).toEqual([
      500,
      OCTET,
      err(500, 'failed to get profile by id "c00000000000000000000+c00000000000000000001"'),
    ]);
  });

  test.each([
    ['an unknown id', '/api/0/profiles/c00000000000000000000', 404, OCTET, err(404, 'nothing found')],
    ['cpu + heap', () => `/api/0/profiles/${cpuIds[0]}+${heapId}`, 500, OCTET, () => err(500, `failed to get profile by id "${cpuIds[0]}+${heapId}"`)],
    ['an empty id between + signs', () => `/api/0/profiles/${cpuIds[0]}++${cpuIds[1]}`, 500, TEXT, err(500, 'internal server error')],
    ['a bad escape after the first unescape', '/api/0/profiles/a%25zz', 400, TEXT, err(400, 'invalid URL escape "%zz"')],
    ['any path with the prefix, like profefe', '/api/0/profilesX', 404, OCTET, err(404, 'nothing found')],
  ] as [string, string | (() => string), number, string, string | (() => string)][])('%s: %d', async (_name, route, status, contentType, body) => {
    const r = await http(s.url, 'GET', typeof route === 'function' ? route() : route);
    expect([r.status, r.headers['content-type'], r.text]).toEqual([status, contentType, typeof body === 'function' ? body() : body]);
  });
});

describe('ids with / and other characters', () => {
  /** A store whose ids look like profefe's S3 keys; it records what the server asked for. */
  class S3LikeStore implements ProfileStore {
    asked: string[][] = [];
    async upload(_req: UploadRequest): Promise<ProfileMeta> {
      throw new Error('not used');
    }
    async find(_q: FindQuery): Promise<ProfileMeta[]> {
      return [];
    }
    async get(id: string): Promise<Uint8Array> {
      this.asked.push([id]);
      return Buffer.from(`bytes of ${id}`);
    }
    async mergeQuery(_q: FindQuery & { type: StoreProfileType }): Promise<Uint8Array> {
      return new Uint8Array(0);
    }
    async mergeIds(ids: readonly string[]): Promise<Uint8Array> {
      this.asked.push([...ids]);
      return Buffer.from('merged');
    }
    async services(): Promise<string[]> {
      return [];
    }
    async close(): Promise<void> {}
  }

  test.each([
    ['a plain id', '/api/0/profiles/abc', ['abc']],
    ['an id with /', '/api/0/profiles/P0.svc1/1/bpc00mript33iv4net01,k1=v1', ['P0.svc1/1/bpc00mript33iv4net01,k1=v1']],
    ['an id with encoded /', '/api/0/profiles/P0.svc1%2F1%2Fbpc00mript33iv4net01', ['P0.svc1/1/bpc00mript33iv4net01']],
    ['slashes around are trimmed', '/api/0/profiles//abc//', ['abc']],
    ['two ids', '/api/0/profiles/a/1+b/2', ['a/1', 'b/2']],
    ['%2B separates', '/api/0/profiles/a%2Bb', ['a', 'b']],
    ['%252B separates too (unescaped twice)', '/api/0/profiles/a%252Bb', ['a', 'b']],
    ['%2525 is a percent sign', '/api/0/profiles/a%2525b', ['a%b']],
  ])('the path parser reads %s', (_name, wirePath, ids) => {
    // The HTTP layer unescapes once (Go's r.URL.Path); the parser does profefe's second round.
    expect(parseProfileIdsPath(unescapeRaw(wirePath, 'path')).ids).toEqual(ids);
  });

  test('the server passes ids with / and , = to the store unchanged', async () => {
    const store = new S3LikeStore();
    const s = await withServer({ store });
    const id = 'P0.svc1/1/bpc00mript33iv4net01,k1=v1';
    const one = await http(s.url, 'GET', `/api/0/profiles/${encodeURIComponent(id)}`);
    expect([one.status, one.text, one.headers['content-disposition']]).toEqual([200, `bytes of ${id}`, `attachment; filename="${id}"`]);
    const two = await http(s.url, 'GET', `/api/0/profiles/${encodeURIComponent(id)}+${encodeURIComponent('P0.svc1/1/x')}`);
    expect([two.status, two.text]).toEqual([200, 'merged']);
    expect(store.asked).toEqual([[id], [id, 'P0.svc1/1/x']]);
  });
});

describe('merge: /api/0/profiles/merge', () => {
  let s: ProfefeServer;
  let dir: string;
  let cpuFiles: string[];
  let heapFile: string;
  let window: string;

  beforeAll(async () => {
    s = await withServer();
    dir = await mkdtemp(path.join(root, 'merge-'));
    cpuFiles = await copyCpuFixtures(path.join(dir, 'cpu'), [[3, 1], [3, 2], [4, 1]]);
    [heapFile] = await generateProfiles('heap', 1, path.join(dir, 'heap'), { seed: 11 });
    for (const f of cpuFiles) await http(s.url, 'POST', '/api/0/profiles?service=go&type=cpu&labels=v=1', { body: await readFile(f) });
    await http(s.url, 'POST', '/api/0/profiles?service=go&type=heap', { body: await readFile(heapFile!) });
    const fmt = (d: Date) => d.toISOString().slice(0, 19);
    window = `from=${fmt(new Date(Date.now() - 3600_000))}&to=${fmt(new Date(Date.now() + 3600_000))}`;
  }, 120_000);

  test('merges the matching profiles into what go tool pprof sees in the inputs', async () => {
    const r = await http(s.url, 'GET', `/api/0/profiles/merge?service=go&type=cpu&labels=v=1&${window}`);
    expect(r.status).toBe(200);
    expect(r.headers['content-type']).toBe(OCTET);
    expect(r.headers['content-disposition']).toBe('attachment; filename="cpu"');
    const file = path.join(dir, 'merged.pb.gz');
    await writeFile(file, r.body);
    const [ours, reference] = await Promise.all([goPprofTop([file]), goPprofTop(cpuFiles)]);
    expect(reference.total).toBeGreaterThan(0);
    expect(ours.total).toBe(reference.total);
    expect(ours.rows.slice(0, 10)).toEqual(reference.rows.slice(0, 10));
  });

  test('a single match comes back as its stored bytes; any method works', async () => {
    const r = await http(s.url, 'DELETE', `/api/0/profiles/merge?service=go&type=heap&${window}`);
    expect(r.status).toBe(200);
    expect(r.body.equals(await readFile(heapFile!))).toBe(true);
  });

  test.each([
    ['no type', (w: string) => `service=go&${w}`, 405, TEXT, "can't merge profiles of unknown type"],
    ['an unknown type', (w: string) => `service=go&type=allocs&${w}`, 405, TEXT, "can't merge profiles of unknown type"],
    ['trace', (w: string) => `service=go&type=trace&${w}`, 405, TEXT, "can't merge profiles of trace type"],
    ['nothing found', (w: string) => `service=go&type=mutex&${w}`, 404, OCTET, 'nothing found'],
    ['no from', () => 'service=go&type=cpu', 400, TEXT, 'bad request: missing "from"'],
  ])('%s: %d', async (_name, query, status, contentType, message) => {
    const r = await http(s.url, 'GET', `/api/0/profiles/merge?${query(window)}`);
    expect([r.status, r.headers['content-type'], r.text]).toEqual([status, contentType, err(status, message)]);
  });
});

describe('services, version and routing', () => {
  let s: ProfefeServer;
  beforeAll(async () => {
    s = await withServer();
  });

  test('services: 404 when empty, then sorted names', async () => {
    const empty = await http(s.url, 'GET', '/api/0/services');
    expect([empty.status, empty.headers['content-type'], empty.text]).toEqual([404, JSON_TYPE, err(404, 'nothing found')]);
    for (const service of ['worker', 'api-backend', 'Zed']) {
      await http(s.url, 'POST', `/api/0/profiles?service=${service}&type=cpu`, { body: pprofAt(T0) });
    }
    const r = await http(s.url, 'POST', '/api/0/services');
    expect([r.status, r.headers['content-type'], r.text]).toEqual([200, JSON_TYPE, '{"code":200,"body":["Zed","api-backend","worker"]}\n']);
  });

  test('version has profefe\'s fields', async () => {
    const r = await http(s.url, 'GET', '/api/0/version');
    expect(r.status).toBe(200);
    expect(r.headers['content-type']).toBe(TEXT);
    const { version } = JSON.parse(await readFile(new URL('../../package.json', import.meta.url), 'utf8'));
    expect(r.text).toBe(`{"code":200,"body":{"version":"${version}","commit":"","build_time":"","go_version":"node${process.versions.node}"}}\n`);
  });

  test.each([
    ['/api/0/', 404, TEXT, err(404, 'nothing found')],
    ['/api/0/nope', 404, TEXT, err(404, 'nothing found')],
    ['/api/0/services/', 404, TEXT, err(404, 'nothing found')],
    ['/api/0/services/x', 404, TEXT, err(404, 'nothing found')],
    ['/nope', 404, TEXT, '404 page not found\n'],
    ['/', 404, TEXT, '404 page not found\n'],
    ['/debug/pprof/', 404, TEXT, '404 page not found\n'],
    ['/healthz', 200, TEXT, 'ok'],
  ])('%s: %d', async (route, status, contentType, body) => {
    const r = await http(s.url, 'GET', route);
    expect([r.status, r.headers['content-type'], r.text]).toEqual([status, contentType, body]);
  });

  test.each([
    ['/api/0', '/api/0/'],
    ['/api/0?x=1', '/api/0/?x=1'],
    ['/api/0//services', '/api/0/services'],
    ['/api/0/profiles/../services?a=b', '/api/0/services?a=b'],
  ])('%s redirects (301) to %s, like Go\'s ServeMux', async (route, location) => {
    const r = await http(s.url, 'GET', route);
    expect([r.status, r.headers.location]).toEqual([301, location]);
  });

  test('a path that does not unescape is a 400', async () => {
    const r = await http(s.url, 'GET', '/api/0/profiles/%zz');
    expect([r.status, r.text]).toEqual([400, '400 Bad Request']);
  });
});

describe('deliberate additions: token and body limit', () => {
  test('with a token, /api/0 needs the bearer token; /healthz does not', async () => {
    const s = await withServer({ token: 's3cret' });
    const none = await http(s.url, 'GET', '/api/0/services');
    expect([none.status, none.headers['content-type'], none.text]).toEqual([401, JSON_TYPE, err(401, 'unauthorized')]);
    const wrong = await http(s.url, 'POST', '/api/0/profiles?service=a&type=cpu', { body: pprofAt(T0), headers: { Authorization: 'Bearer nope' } });
    expect([wrong.status, wrong.text]).toEqual([401, err(401, 'unauthorized')]);
    const basic = await http(s.url, 'GET', '/api/0/version', { headers: { Authorization: 'Basic czNjcmV0' } });
    expect(basic.status).toBe(401);
    const ok = await http(s.url, 'POST', '/api/0/profiles?service=a&type=cpu', { body: pprofAt(T0), headers: { Authorization: 'Bearer s3cret' } });
    expect(ok.status).toBe(200);
    expect((await http(s.url, 'GET', '/healthz')).status).toBe(200);
  });

  test('an upload over the body limit is a 413 and is not stored', async () => {
    const s = await withServer({ maxBodyBytes: 1000 });
    const big = Buffer.concat([pprofAt(T0), Buffer.alloc(20_000, 7)]);
    const r = await http(s.url, 'POST', '/api/0/profiles?service=big&type=cpu', { body: big });
    expect([r.status, r.headers['content-type'], r.text]).toEqual([413, JSON_TYPE, err(413, 'request body too large')]);
    const small = await http(s.url, 'POST', '/api/0/profiles?service=small&type=cpu', { body: pprofAt(T0) });
    expect(small.status).toBe(200);
    expect(await s.store.services()).toEqual(['small']);
  });

  test('a merge the store refuses for now (its merge threads busy, its queue full) is a 503 with Retry-After', async () => {
    const busy = () => Promise.reject(new StoreUnavailable('too many merges in progress, retry later'));
    const store: ProfileStore = {
      upload: () => Promise.reject(new Error('not used')),
      find: async () => [],
      get: busy,
      mergeQuery: busy,
      mergeIds: busy,
      services: async () => [],
      close: async () => undefined,
    };
    const s = await withServer({ store });
    for (const route of [`/api/0/profiles/merge?service=a&type=cpu&from=2026-11-24T00:00:00&to=2026-11-25T00:00:00`, '/api/0/profiles/a+b']) {
      const r = await http(s.url, 'GET', route);
      expect([r.status, r.headers['retry-after'], r.headers['content-type'], r.text]).toEqual([503, '1', OCTET, err(503, 'too many merges in progress, retry later')]);
    }
  });
});
