/**
 * `kubectl profefe serve` (a child process, built dist/) under hostile uploads: decompression
 * and allocation bombs, a huge unknown field, a flood of large uploads, slow drips. Each gets one
 * clear answer, serve's peak RSS stays under 300 MB (measured in the child: every thread), its
 * main thread keeps answering (/healthz probed throughout; the child's own event-loop delay is
 * measured, which machine load does not inflate the way a probe's round trip is), and a real
 * agent's large heap profile is still stored.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import http from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ownStallMs, startCli, startServeChild, type CliChild } from '../support/cli-child.js';
import { emptySamplesBomb, gzipBomb, largeHeapProfile, unknownFieldProfile } from '../support/pprof-bombs.js';
import { buildProfile } from '../support/profile-builder.js';
import { encodeProfile } from '../../src/pprof/index.js';

let dir: string;
let serve: CliChild & { url: string };

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'hostile-uploads-'));
  // --request-timeout 3s keeps the slow-drip case short; every other limit is the default.
  serve = await startServeChild(path.join(dir, 'store'), ['--request-timeout', '3s']);
}, 30_000);

afterAll(async () => {
  if (serve && serve.child.exitCode === null) serve.child.kill('SIGKILL');
  await serve?.exited;
  await rm(dir, { recursive: true, force: true });
});

interface Answer {
  status: number;
  body: string;
}

/**
 * POSTs `body` as an upload. With `dripMs`, sends it one byte at a time; with `declared`, claims
 * that Content-Length and sends only `body`, then waits. A connection the server closes without
 * an answer resolves as status 0.
 */
function upload(body: Uint8Array, opts: { dripMs?: number; declared?: number; service?: string } = {}): Promise<Answer> {
  return new Promise((resolve) => {
    const url = new URL(`${serve.url}/api/0/profiles?service=${opts.service ?? 'hostile'}&type=heap`);
    const req = http.request(url, { method: 'POST', headers: { 'Content-Length': String(opts.declared ?? body.length) }, agent: false }, (res) => {
      let text = '';
      res.setEncoding('utf8').on('data', (c: string) => (text += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
      res.on('error', () => resolve({ status: res.statusCode ?? 0, body: text }));
    });
    req.on('error', () => resolve({ status: 0, body: '' }));
    if (opts.dripMs) {
      let i = 0;
      const timer = setInterval(() => {
        if (i >= body.length || req.destroyed) return clearInterval(timer);
        req.write(body.subarray(i, ++i));
      }, opts.dripMs);
      req.on('close', () => clearInterval(timer));
    } else if (opts.declared) {
      req.write(body); // and never the rest
    } else {
      req.end(body);
    }
  });
}

/** GET /healthz every `everyMs` until `stop` resolves; the latencies in ms (Infinity for a failure). */
async function probeHealthz(stop: Promise<unknown>, everyMs = 50): Promise<number[]> {
  const latencies: number[] = [];
  let done = false;
  void stop.then(() => (done = true));
  while (!done) {
    const t = performance.now();
    const ok = await fetch(`${serve.url}/healthz`, { signal: AbortSignal.timeout(5000) }).then((r) => r.status === 200, () => false);
    latencies.push(ok ? performance.now() - t : Infinity);
    await new Promise((r) => setTimeout(r, everyMs));
  }
  return latencies;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

test('bombs, a flood and slow drips each get one answer; RSS stays under 300 MB; /healthz keeps answering', async () => {
  // Made before the attack, so that the test process is idle while it probes.
  const bombs = {
    gzip: gzipBomb(1024),
    samples: emptySamplesBomb(3),
    manySamples: emptySamplesBomb(100),
    unknown: unknownFieldProfile(16),
  };
  const junk = new Uint8Array(2 ** 20).fill(7);
  for (const b of Object.values(bombs)) expect(b.length).toBeLessThan(2 ** 20 + 2 ** 16);

  // One attack, its answers checked below; the event-loop measure is repeated (see the end).
  const attackOnce = async () => {
    // One at a time, so that each gets its own answer (together, some would get a 503).
    const bombAnswers: Answer[] = [];
    for (const b of [bombs.gzip, bombs.gzip, bombs.manySamples, bombs.samples, bombs.unknown]) bombAnswers.push(await upload(b));
    // 16 uploads that each claim 30 MiB and send 1 MiB: at most 4 are read (and time out), the rest refused at once.
    const flood = await Promise.all(Array.from({ length: 16 }, () => upload(junk, { declared: 30 * 2 ** 20 })));
    const drip = await upload(Buffer.from('slow body'), { dripMs: 500 });
    return { bombAnswers, flood, drip };
  };
  await serve.measureWindow(); // the child measures its event loop from here
  const attack = attackOnce();
  const latencies = await probeHealthz(attack);
  const { bombAnswers, flood, drip } = await attack;
  const windows = [await serve.measureWindow()];
  // The bound is on stalls of the child's own making (its main thread's time on a CPU between two
  // turns of its event loop): on a loaded 2-core machine the child is also descheduled for 100+ ms,
  // in every attack window when the load average is 20, which the event-loop delay counts too.
  // A window over 100 ms is measured again, four times at most. Main-thread decoding is caught by
  // the next test as well.
  while (ownStallMs(windows.at(-1)!) >= 100 && windows.length < 5) {
    await attackOnce();
    windows.push(await serve.measureWindow());
  }
  const inflated = /^\{"code":400,"error":"malformed profile \(could not parse pprof profile: parsing profile: inflates to more than 64 MiB \(the decoded size limit\)\)"\}\n$/;
  expect(bombAnswers.map((a) => a.status)).toEqual([400, 400, 400, 400, 400]);
  expect(bombAnswers[0]!.body).toMatch(inflated);
  expect(bombAnswers[1]!.body).toMatch(inflated);
  expect(bombAnswers[2]!.body).toMatch(inflated);
  expect(bombAnswers[3]!.body).toMatch(/more than 2000000 samples \(a decode limit\)/);
  expect(bombAnswers[4]!.body).toMatch(/bytes of fields profile\.proto does not define \(a decode limit\)/);
  const refused = flood.filter((a) => a.status === 503);
  expect(flood.length - refused.length).toBeLessThanOrEqual(4);
  for (const a of refused) expect(a.body).toBe('{"code":503,"error":"too many uploads in progress, retry later"}\n');
  for (const a of flood.filter((x) => x.status !== 503)) expect([0, 408]).toContain(a.status);
  expect([0, 408]).toContain(drip.status);

  // Still serving.
  const small = await upload(encodeProfile(buildProfile({ samples: [{ stack: 'main;f', values: [1, 2] }] })));
  expect(small.status).toBe(200);

  serve.child.kill('SIGTERM');
  const { code, stats } = await serve.exited;
  expect(code).toBe(0);
  expect(latencies.length).toBeGreaterThan(10);
  expect(latencies.filter((l) => l === Infinity)).toEqual([]);
  expect(median(latencies)).toBeLessThan(100);
  // The child's main thread did not stall for 100 ms during an attack: decoding happens in worker threads.
  const delays = windows.map((w) => `${w.loopDelayMaxMs.toFixed(1)} ms (p99 ${w.loopDelayP99Ms.toFixed(1)}, own ${w.loopCpuMaxMs.toFixed(1)})`).join(', then ');
  console.log(`serve under attack: peak RSS ${stats!.peakRssMiB.toFixed(0)} MiB, event-loop delay max ${delays}, healthz median ${median(latencies).toFixed(1)} ms over ${latencies.length} probes, max ${Math.max(...latencies).toFixed(1)} ms`);
  expect(Math.min(...windows.map(ownStallMs))).toBeLessThan(100);
  expect(stats!.peakRssMiB).toBeLessThan(300);
}, 120_000);

test('a large real-shaped heap profile (20+ MiB inflated, what a big service\'s agent sends) is stored with the defaults, checked off the event loop', async () => {
  const large = largeHeapProfile(20);
  const big = await startServeChild(path.join(dir, 'store-big'));
  const url = serve.url;
  try {
    (serve as { url: string }).url = big.url;
    const storing = upload(large.gzipped, { service: 'big' });
    // Decoding it takes seconds (2-3 s here): on the event loop, one probe would wait that long.
    const latencies = await probeHealthz(storing, 20);
    const stored = await storing;
    expect(stored).toMatchObject({ status: 200, body: expect.stringMatching(/"service":"big"/) });
    console.log(`serve checking a 20 MiB profile: ${latencies.length} healthz probes, max ${Math.max(...latencies).toFixed(1)} ms`);
    expect(Math.max(...latencies)).toBeLessThan(1000);
  } finally {
    (serve as { url: string }).url = url;
    big.child.kill('SIGTERM');
  }
  const { code, stats } = await big.exited;
  expect(code).toBe(0);
  console.log(`serve storing a ${(large.inflatedBytes / 2 ** 20).toFixed(0)} MiB (inflated) heap profile of ${large.samples} samples: peak RSS ${stats!.peakRssMiB.toFixed(0)} MiB`);
}, 60_000);

test('a port that is taken is one line and exit 1, and the process ends (it used to hang)', async () => {
  const holder = http.createServer();
  await new Promise<void>((r) => holder.listen(0, '127.0.0.1', r));
  const port = (holder.address() as import('node:net').AddressInfo).port;
  try {
    const second = startCli(['serve', '--port', String(port), '--store-dir', path.join(dir, 'store-2')]);
    const { code } = await second.exited;
    expect({ code, stderr: second.stderr() }).toEqual({ code: 1, stderr: `error: cannot listen on 127.0.0.1:${port}: the port is in use (--address, --port)\n` });
  } finally {
    await new Promise((r) => holder.close(r));
  }
}, 30_000);

