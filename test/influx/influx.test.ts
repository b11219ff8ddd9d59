/**
 * trend --influx-url against a real InfluxDB 1.6 (Debian's influxd, started by the test on
 * 127.0.0.1): the points read back with /query equal `trend -o json`; tag values with line
 * protocol's special characters come back as written; refusals are one line with InfluxDB's
 * message; 5xx answers are retried (a local server that fails on purpose).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { escapeTagValue, pointLine, type FunctionPoint } from '../../src/influx/line-protocol.js';
import { writeInfluxPoints } from '../../src/influx/influx-writer.js';
import { LocalStore } from '../../src/store/local/local-store.js';
import { startInfluxDB, type InfluxServer } from '../support/influxdb.js';
import { DAY_END, DAY_START, storeAsCollected, syntheticDay } from '../support/synthetic-day.js';
import { runCli } from '../support/run-cli.js';

let dir: string;
let storeDir: string;
let influx: InfluxServer;
let env: NodeJS.ProcessEnv;

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'trend-influx-'));
  storeDir = path.join(dir, 'store');
  const [server] = await Promise.all([
    startInfluxDB(),
    (async () => {
      const store = await LocalStore.open(storeDir);
      try {
        await storeAsCollected(store, syntheticDay());
      } finally {
        await store.close();
      }
    })(),
  ]);
  influx = server;
  expect((await influx.query('CREATE DATABASE profiles')).results[0]!.error).toBeUndefined();
  env = { HOME: dir, KUBECTL_PROFEFE_HOME: path.join(dir, 'home') };
}, 180_000);

afterAll(async () => {
  await influx?.close();
  await rm(dir, { recursive: true, force: true });
});

const day = ['--from', DAY_START.toISOString(), '--to', DAY_END.toISOString()];

interface Json {
  buckets: string[];
  functions: { function: string; values: (number | null)[]; services: Record<string, { values: (number | null)[] }> }[];
}

describe('trend --influx-url, into a real InfluxDB 1.6', () => {
  test.each(['cpu', 'heap'])('%s: the points read back GROUP BY function equal trend -o json', async (type) => {
    const run = await runCli(['trend', '--store-dir', storeDir, ...day, '--type', type, '--step', '1h', '-o', 'json', '--influx-url', influx.url, '--influx-db', 'profiles'], { env });
    expect(run.code).toBe(0);
    expect(run.stderr).toMatch(new RegExp(`^wrote \\d+ points to InfluxDB at ${influx.url}, database "profiles" \\(measurement profile_function\\)\\n$`));
    const json: Json = JSON.parse(run.stdout.toString());
    const times = json.buckets.map((b) => Date.parse(b));

    // Every (service, function) series, exactly.
    const got = await influx.query(`SELECT value FROM profile_function WHERE "type" = '${type}' GROUP BY "function", "service"`, 'profiles');
    const series = new Map(got.results[0]!.series!.map((s) => [`${s.tags!.service}/${s.tags!.function}`, s.values]));
    const want = new Map<string, unknown[][]>();
    for (const f of json.functions) {
      for (const [service, s] of Object.entries(f.services)) {
        if (s.values.every((v) => v === null || v === 0)) continue;
        want.set(`${service}/${f.function}`, s.values.flatMap((v, b) => (v === null ? [] : [[times[b], v]])));
      }
    }
    expect(Object.fromEntries(series)).toEqual(Object.fromEntries(want));

    // Summed over the services per bucket, as the JSON's function values.
    const sums = await influx.query(
      `SELECT sum(value) FROM profile_function WHERE "type" = '${type}' AND time >= ${times[0]}ms AND time < ${DAY_END.getTime()}ms GROUP BY time(1h), "function" fill(none)`,
      'profiles',
    );
    for (const s of sums.results[0]!.series!) {
      const f = json.functions.find((x) => x.function === s.tags!.function)!;
      for (const [t, v] of s.values as [number, number][]) expect(v).toBeCloseTo(f.values[times.indexOf(t)]!, 12);
    }
    expect(sums.results[0]!.series!.map((s) => s.tags!.function).sort()).toEqual(json.functions.map((f) => f.function).sort());
  }, 120_000);

  test('tag values with line protocol’s special characters come back as written', async () => {
    const names = ['a,b=c d', 'main.(*T).ServeHTTP"quoted"', 'ünïcode ✓', 'tab\tnew\nline', 'ends with \\', 'back\\,slash'];
    const points: FunctionPoint[] = names.map((n, i) => ({ service: 'svc, one=1', type: 'heap', sampleType: 'inuse_space', function: n, value: i + 0.5, timeMs: DAY_START.getTime() + i }));
    await writeInfluxPoints({ url: influx.url, db: 'profiles' }, points);
    const got = await influx.query(`SELECT value FROM profile_function WHERE "service" = 'svc, one=1' GROUP BY "function"`, 'profiles');
    const back = Object.fromEntries(got.results[0]!.series!.map((s) => [s.tags!.function, s.values[0]![1]]));
    // Control characters cannot be carried: they come back as escapeTerminal writes them; nor can
    // a backslash before , = or space, or at the end (1.x takes it as an escape): it comes back as \x5c.
    expect(back).toEqual({
      'a,b=c d': 0.5,
      'main.(*T).ServeHTTP"quoted"': 1.5,
      'ünïcode ✓': 2.5,
      'tab\\tnew\\nline': 3.5,
      'ends with \\x5c': 4.5,
      'back\\x5c,slash': 5.5,
    });
    expect(escapeTagValue('')).toBe('(none)');
    expect(pointLine(points[0]!)).toBe(`profile_function,function=a\\,b\\=c\\ d,sample_type=inuse_space,service=svc\\,\\ one\\=1,type=heap value=0.5 ${DAY_START.getTime()}`);
  }, 60_000);

  test('a database InfluxDB does not have: one line with its message, exit 1', async () => {
    const run = await runCli(['trend', '--store-dir', storeDir, ...day, '--influx-url', influx.url, '--influx-db', 'nope'], { env });
    expect(run.code).toBe(1);
    expect(run.stdout.length).toBe(0);
    expect(run.stderr).toBe(`error: InfluxDB at ${influx.url} refused the points (HTTP 404): database not found: "nope"\n`);
  }, 60_000);

  test.each([
    ['--influx-url without --influx-db', ['--influx-url', 'http://127.0.0.1:1'], /^error: --influx-url needs --influx-db/],
    ['--influx-db without --influx-url', ['--influx-db', 'x'], /^error: --influx-db needs --influx-url/],
    ['a URL that is not http', ['--influx-url', 'udp://x:8089', '--influx-db', 'x'], /^error: --influx-url: udp: is not http: or https:$/],
  ])('usage: %s', async (_name, args, why) => {
    const run = await runCli(['trend', '--store-dir', storeDir, ...day, ...args], { env });
    expect(run.code).toBe(2);
    expect(run.stderr.split('\n')[0]).toMatch(why);
  });
});

describe('writeInfluxPoints retries', () => {
  let server: Server;
  let url: string;
  let answers: number[];
  let requests: string[];
  beforeEach(async () => {
    requests = [];
    server = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        requests.push(`${req.method} ${req.url} ${body.split('\n').length - 1}`);
        const status = answers.shift() ?? 204;
        res.writeHead(status, { 'Content-Type': 'application/json' });
        res.end(status === 204 ? '' : JSON.stringify({ error: `failing on purpose (${status})` }));
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  });
  afterEach(() => new Promise<void>((r) => server.close(() => r())));

  const points: FunctionPoint[] = Array.from({ length: 12 }, (_, i) => ({ service: 's', type: 'cpu', sampleType: 'cpu', function: `f${i}`, value: i, timeMs: i }));

  test('5xx answers are retried; the batches are bounded', async () => {
    answers = [503, 500, 204, 204, 204];
    const result = await writeInfluxPoints({ url, db: 'd b' }, points, { backoffMs: 1, batchSize: 5 });
    expect(result).toEqual({ points: 12, requests: 3 });
    expect(requests).toEqual([...Array(3).fill('POST /write?db=d+b&precision=ms 5'), 'POST /write?db=d+b&precision=ms 5', 'POST /write?db=d+b&precision=ms 2']);
  });

  test('a 5xx that persists fails after the retries with InfluxDB’s message', async () => {
    answers = [500, 500, 500, 500];
    await expect(writeInfluxPoints({ url, db: 'd' }, points, { backoffMs: 1 })).rejects.toThrow(/^InfluxDB at http:\/\/127\.0\.0\.1:\d+ failed \(HTTP 500 after 4 attempts\): failing on purpose \(500\)$/);
  });

  test('a 4xx is not retried', async () => {
    answers = [400];
    await expect(writeInfluxPoints({ url, db: 'd' }, points, { backoffMs: 1 })).rejects.toThrow(/refused the points \(HTTP 400\): failing on purpose \(400\)$/);
    expect(requests).toHaveLength(1);
  });

  test('an endless refusal is read only so far: its first 300 characters, and the connection closed', async () => {
    await new Promise<void>((r) => server.close(() => r()));
    let closed = false;
    server = createServer((req, res) => {
      req.resume();
      res.writeHead(400, { 'Content-Type': 'text/plain' });
      const chunk = Buffer.alloc(16 * 1024, 'x');
      const pump = () => {
        while (!closed && res.write(chunk));
        if (!closed) res.once('drain', pump);
      };
      res.on('close', () => (closed = true));
      pump();
    });
    await new Promise<void>((r) => server.listen(Number(new URL(url).port), '127.0.0.1', r));
    await expect(writeInfluxPoints({ url, db: 'd' }, points, { backoffMs: 1 })).rejects.toThrow(/refused the points \(HTTP 400\): x{300}\.\.\.$/);
  });

  test('nothing listening: "did not answer" after the retries', async () => {
    await new Promise<void>((r) => server.close(() => r()));
    server = createServer();
    await expect(writeInfluxPoints({ url, db: 'd' }, points, { backoffMs: 1, retries: 2 })).rejects.toThrow(/^InfluxDB at http:\/\/127\.0\.0\.1:\d+ did not answer \(.*ECONNREFUSED.*\) after 3 attempts$/);
  });
});
