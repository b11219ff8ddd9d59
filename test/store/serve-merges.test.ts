/**
 * `kubectl profefe serve` (a child process, built dist/) merging 1000 real Go heap profiles:
 * the merge runs in a worker thread, so the main thread keeps answering while it runs. Measured
 * in the child, where machine load does not inflate it the way a probe's round trip is: its main
 * thread's longest stall of its own making (its time on a CPU between two turns of the event
 * loop; the goal: under 100 ms) and the share of the time it was busy (a few per cent; merging on
 * it, 96%); and /healthz asked every 20 ms from here. The merged bytes are the in-process merge's.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { LocalStore } from '../../src/store/local/local-store.js';
import { ownStallMs, startServeChild, type CliChild } from '../support/cli-child.js';
import { generateProfiles } from '../support/go-target.js';

const PROFILES = 1000;
const DISTINCT = 250;
/** The stall the goal allows. */
const BOUND_MS = 100;
/**
 * The main thread's busy share that tells where the merge ran: measured 2-5% with the merge in a
 * worker thread (probes and handing over bytes), 96-98% with it on the main thread. Its longest
 * stall alone does not tell: merging on the main thread yields between profiles, and its event-loop
 * delay measured under 100 ms in one window in three.
 */
const BUSY_BOUND = 0.5;

let dir: string;
let storeDir: string;
let serve: (CliChild & { url: string }) | undefined;

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'serve-merges-'));
  storeDir = path.join(dir, 'store');
  // 250 real heap profiles, each stored 4 times: 1000 to merge, whose result holds the samples of 250.
  const files = await generateProfiles('heap', DISTINCT, path.join(dir, 'heap'), { seed: 11 });
  const bodies = await Promise.all(files.map((f) => readFile(f)));
  const store = await LocalStore.open(storeDir);
  try {
    for (let i = 0; i < PROFILES; i += DISTINCT) {
      await Promise.all(bodies.map((body, j) => store.upload({ service: 'big', type: 'heap', labels: [{ key: 'copy', value: String(i + j) }], body })));
    }
  } finally {
    await store.close();
  }
}, 300_000);

afterAll(async () => {
  if (serve && serve.child.exitCode === null) serve.child.kill('SIGKILL');
  await serve?.exited;
  await rm(dir, { recursive: true, force: true });
});

const query = `service=big&type=heap&from=2000-01-01T00:00:00&to=2100-01-01T00:00:00`;

test(`/healthz keeps answering while serve merges ${PROFILES} heap profiles (in a worker thread); the merge is the in-process one`, async () => {
  serve = await startServeChild(storeDir, ['--retention', '0']);
  const s = serve;

  /** One merge with /healthz asked every 20 ms meanwhile; the merged bytes and the probes' latencies (Infinity: no 200). */
  const mergeWhileProbing = async () => {
    let merging = true;
    const merge = fetch(`${s.url}/api/0/profiles/merge?${query}`)
      .then(async (r) => ({ status: r.status, bytes: Buffer.from(await r.arrayBuffer()) }))
      .finally(() => (merging = false));
    const latencies: number[] = [];
    while (merging) {
      const t = performance.now();
      const ok = await fetch(`${s.url}/healthz`, { signal: AbortSignal.timeout(5000) }).then((r) => r.status === 200, () => false);
      latencies.push(ok ? performance.now() - t : Infinity);
      await new Promise((r) => setTimeout(r, 20));
    }
    return { ...(await merge), latencies };
  };

  await s.measureWindow(); // the child measures its event loop from here
  const first = await mergeWhileProbing();
  const window = await s.measureWindow();
  s.child.kill('SIGTERM');
  const { code } = await s.exited;
  expect(code).toBe(0);

  expect(first.status).toBe(200);
  const store = await LocalStore.open(storeDir);
  try {
    const inProcess = await store.mergeQuery({ service: 'big', type: 'heap', from: new Date(0), to: new Date(4e12) });
    expect(first.bytes.equals(Buffer.from(inProcess))).toBe(true);
  } finally {
    await store.close();
  }

  const sorted = [...first.latencies].sort((a, b) => a - b);
  console.log(
    `serve merging ${PROFILES} heap profiles: longest stall of its own ${window.loopCpuMaxMs.toFixed(1)} ms, event-loop delay max ${window.loopDelayMaxMs.toFixed(1)} ms, ` +
      `busy ${(window.loopUtilization * 100).toFixed(0)}%; healthz median ${sorted[sorted.length >> 1]!.toFixed(1)} ms, max ${sorted.at(-1)!.toFixed(1)} ms over ${sorted.length} probes`,
  );
  expect(sorted.length).toBeGreaterThan(5);
  expect(sorted.filter((l) => l === Infinity)).toEqual([]);
  // Round trips from here wait for CPUs on a loaded machine; most still come back quickly.
  expect(sorted[sorted.length >> 1]).toBeLessThan(BOUND_MS);
  // Waiting for a CPU (the event-loop delay counts it) does not lengthen these two.
  expect(ownStallMs(window)).toBeLessThan(BOUND_MS);
  expect(window.loopUtilization).toBeLessThan(BUSY_BOUND);
}, 300_000);
