/**
 * `kubectl profefe serve` (a child process, built dist/) under hostile uploads: decompression
 * and allocation bombs, a huge unknown field, a flood of large uploads, slow drips. Each gets one
 * clear answer, serve's peak RSS stays bounded (measured in the child: every thread), its main
 * thread keeps answering (/healthz probed throughout, its median latency bounded; the child's own
 * stalls under 100 ms, and while it checks a large profile a small part of the check's time), and
 * a real agent's large heap profile is still stored.
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

/**
 * GET /healthz every `everyMs` until `stop` resolves; the latencies in ms (Infinity for a
 * failure). A probe fails only when serve does not answer in 30 s (hung), not when a loaded
 * machine is slow to run either process.
 */
async function probeHealthz(stop: Promise<unknown>, everyMs = 50): Promise<number[]> {
  const latencies: number[] = [];
  let done = false;
  void stop.then(() => (done = true));
  while (!done) {
    const t = performance.now();
    const ok = await fetch(`${serve.url}/healthz`, { signal: AbortSignal.timeout(30_000) }).then((r) => r.status === 200, () => false);
    latencies.push(ok ? performance.now() - t : Infinity);
    await new Promise((r) => setTimeout(r, everyMs));
  }
  return latencies;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/**
 * serve's peak RSS bound under the attack: Node, two checker threads (one replaced after a bomb)
 * and one body inflated to the 64 MiB limit come to 150-250 MB (the child's own peak), which
 * varies with when the garbage collectors run; a bomb let through would take 1 GiB or more. The
 * bound is issue 11's: under 300 MB.
 */
const ATTACK_RSS_MIB = 300;

test('bombs, a flood and slow drips each get one answer; RSS stays bounded; /healthz keeps answering', async () => {
  // Made before the attack, so that the test process is idle while it probes.
  const bombs = {
    gzip: gzipBomb(1024),
    samples: emptySamplesBomb(3),
    manySamples: emptySamplesBomb(100),
    unknown: unknownFieldProfile(16),
  };
  const junk = new Uint8Array(2 ** 20).fill(7);
  for (const b of Object.values(bombs)) expect(b.length).toBeLessThan(2 ** 20 + 2 ** 16);

  // The attack, its answers checked below.
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
  // Bounded below by the child's own stalls (its main thread's time on a CPU between two turns of
  // its event loop), which a loaded machine does not lengthen; the event-loop delay, which counts
  // the child's waits for a CPU too (100+ ms now and then on a loaded 2-core machine), is logged.
  const window = await serve.measureWindow();
  const inflated = /^\{"code":400,"error":"malformed profile \(could not parse pprof profile: parsing profile: inflates to more than 64 MiB \(the --max-inflated-size limit\)\)"\}\n$/;
  expect(bombAnswers.map((a) => a.status)).toEqual([400, 400, 400, 400, 400]);
  expect(bombAnswers[0]!.body).toMatch(inflated);
  expect(bombAnswers[1]!.body).toMatch(inflated);
  expect(bombAnswers[2]!.body).toMatch(inflated);
  expect(bombAnswers[3]!.body).toMatch(/more than 2000000 samples \(the --max-samples limit\)/);
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
  console.log(`serve under attack: peak RSS ${stats!.peakRssMiB.toFixed(0)} MiB, longest stall of its own ${window.loopCpuMaxMs.toFixed(1)} ms, event-loop delay max ${window.loopDelayMaxMs.toFixed(1)} ms (p99 ${window.loopDelayP99Ms.toFixed(1)}), healthz median ${median(latencies).toFixed(1)} ms over ${latencies.length} probes, max ${Math.max(...latencies).toFixed(1)} ms`);
  expect(latencies.length).toBeGreaterThan(10);
  expect(latencies.filter((l) => l === Infinity)).toEqual([]);
  // The bound, on the median: a few probes wait while the machine runs something else,
  // half of them do not (about 2 ms idle, 11 ms at a load of 16 on 2 cores).
  expect(median(latencies)).toBeLessThan(100);
  // The child's main thread did not hold its event loop for 100 ms: checking happens in worker threads.
  expect(ownStallMs(window)).toBeLessThan(100);
  expect(stats!.peakRssMiB).toBeLessThan(ATTACK_RSS_MIB);
}, 300_000);

test('a large real-shaped heap profile (20+ MiB inflated, what a big service\'s agent sends) is stored with the defaults, checked off the event loop', async () => {
  const large = largeHeapProfile(20);
  const big = await startServeChild(path.join(dir, 'store-big'));
  const url = serve.url;
  try {
    (serve as { url: string }).url = big.url;
    await big.measureWindow(); // the child measures its event loop from here
    const started = performance.now();
    const storing = upload(large.gzipped, { service: 'big' });
    const latencies = await probeHealthz(storing, 20);
    const stored = await storing;
    const uploadMs = performance.now() - started;
    const window = await big.measureWindow();
    expect(stored).toMatchObject({ status: 200, body: expect.stringMatching(/"service":"big"/) });
    console.log(`serve checking a 20 MiB profile: upload ${uploadMs.toFixed(0)} ms, longest stall of its own ${window.loopCpuMaxMs.toFixed(1)} ms, event-loop delay max ${window.loopDelayMaxMs.toFixed(1)} ms, ${latencies.length} healthz probes, max ${Math.max(...latencies).toFixed(1)} ms`);
    expect(latencies.filter((l) => l === Infinity)).toEqual([]);
    // Checking it (inflating and scanning) takes most of the upload's time: on the event loop it
    // would hold the loop for most of the upload. In a worker thread the main thread's own stalls
    // are milliseconds; a loaded machine lengthens the upload but not them (see ownStallMs).
    expect(ownStallMs(window)).toBeLessThan(uploadMs / 4);
  } finally {
    (serve as { url: string }).url = url;
    big.child.kill('SIGTERM');
  }
  const { code, stats } = await big.exited;
  expect(code).toBe(0);
  console.log(`serve storing a ${(large.inflatedBytes / 2 ** 20).toFixed(0)} MiB (inflated) heap profile of ${large.samples} samples: peak RSS ${stats!.peakRssMiB.toFixed(0)} MiB`);
}, 300_000);

test('a store another serve holds is one line naming that server and --store-dir, and exit 1', async () => {
  const store = path.join(dir, 'store-held');
  const first = await startServeChild(store);
  try {
    const second = startCli(['serve', '--port', '0', '--store-dir', store]);
    const { code } = await second.exited;
    expect({ code, stderr: second.stderr() }).toEqual({
      code: 1,
      stderr: `error: local store ${store} is in use by 'kubectl profefe serve' (pid ${first.child.pid}) at ${first.url}; stop it, or serve another directory (--store-dir)\n`,
    });
  } finally {
    first.child.kill('SIGTERM');
    await first.exited;
  }
}, 30_000);

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

