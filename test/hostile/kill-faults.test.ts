/**
 * SIGKILL at random points (a seeded, bounded loop): `serve`, `collect --once` and `push` child
 * processes are killed while profiles are captured, uploaded, spooled and pushed. The invariants
 * hold whatever the kill points are, so the seed only makes a run reproducible:
 * - every profile collect acknowledged (a JSON line saying "profefe id X" or "spooled: FILE") is,
 *   once everything has been pushed, in the store exactly once;
 * - no profile is in the store twice (upload_id labels are unique), whatever was retried or re-pushed;
 * - each serve start reports exactly the half-written files the kills left in the store, and removes
 *   them; the spool's half entries are quarantined and reported once they are old enough.
 */
import { readdir, readFile, mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { encodeProfile } from '../../src/pprof/index.js';
import { LocalStore } from '../../src/store/local/local-store.js';
import { HALF_ENTRY_AGE_MS, Spool, UPLOAD_ID_LABEL } from '../../src/store/spool.js';
import { startCli, startServeChild, type CliChild } from '../support/cli-child.js';
import { buildProfile } from '../support/profile-builder.js';
import { startSandbox, type Sandbox } from '../support/sandbox/sandbox.js';

const SEED = Number(process.env.KILL_FAULTS_SEED ?? 20261130);
const ITERATIONS = 12;
const PODS = 6;

let dir: string;
let pods: Server;
let sandbox: Sandbox;
let kubeconfig: string;
let served = 0;

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'kill-faults-'));
  // Every request gets a profile of its own (its time and value differ), so no two share an upload id.
  pods = createServer((_req, res) => {
    served++;
    const body = encodeProfile(buildProfile({ timeNanos: BigInt(Date.now()) * 1_000_000n + BigInt(served), samples: [{ stack: `main;work${served % 7}`, values: [served, served * 10] }] }));
    res.writeHead(200, { 'Content-Type': 'application/octet-stream' }).end(body);
  });
  await new Promise<void>((r) => pods.listen(0, '127.0.0.1', r));
  const port = (pods.address() as AddressInfo).port;
  sandbox = await startSandbox({
    pods: Array.from({ length: PODS }, (_, i) => ({
      namespace: 'fault',
      name: `p-${i}`,
      podIP: '127.0.0.1',
      annotations: { 'profefe.com/enable': 'true', 'profefe.com/port': String(port), 'profefe.com/service': 'fault' },
    })),
  });
  kubeconfig = await sandbox.writeKubeconfig({ namespace: 'fault' });
}, 60_000);

afterAll(async () => {
  await sandbox?.close();
  await new Promise((r) => pods?.close(r));
  await rm(dir, { recursive: true, force: true });
});

/** A small deterministic PRNG (mulberry32). */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}

/** Half-written files in a store directory: temporary files, and blobs its index does not name. */
async function storeLeftovers(storeDir: string): Promise<{ orphanBlobs: number; tempFiles: number }> {
  const indexText = await readFile(path.join(storeDir, 'index.jsonl'), 'utf8').catch(() => '');
  // Only whole lines count: the store drops bytes after the last newline (a torn append).
  const lines = indexText.split('\n').slice(0, -1);
  const indexed = new Set(lines.flatMap((l) => {
    try {
      return [(JSON.parse(l) as { file: string }).file];
    } catch {
      return [];
    }
  }));
  let orphanBlobs = 0;
  let tempFiles = 0;
  const isTemp = (n: string) => /^\..+\.\d+\.\d+\.tmp$/.test(n);
  for (const n of await readdir(storeDir).catch(() => [] as string[])) if (isTemp(n)) tempFiles++;
  for (const sub of await readdir(path.join(storeDir, 'blobs')).catch(() => [] as string[])) {
    for (const n of await readdir(path.join(storeDir, 'blobs', sub))) {
      if (isTemp(n)) tempFiles++;
      else if (!indexed.has(`blobs/${sub}/${n}`)) orphanBlobs++;
    }
  }
  return { orphanBlobs, tempFiles };
}

test(`SIGKILL of serve, collect and push at random points (seed ${SEED}): acknowledged profiles end up stored exactly once`, async () => {
  const random = prng(SEED);
  const storeDir = path.join(dir, 'store');
  const spoolDir = path.join(dir, 'spool');
  const env = { KUBECONFIG: kubeconfig, KUBECTL_PROFEFE_HOME: path.join(dir, 'data') };
  /** upload ids of acknowledged uploads, and store ids of acknowledged uploads. */
  const ackedSpooled = new Set<string>();
  const ackedStoreIds = new Set<string>();
  let serve: (CliChild & { url: string }) | undefined;
  let url = '';
  let kills = 0;
  let reportedCleanups = 0;

  const startServe = async () => {
    const left = await storeLeftovers(storeDir);
    // A new port each time (another process may have taken the old one); each step reads `url`.
    serve = await startServeChild(storeDir);
    url = serve.url;
    const line = /removed what an earlier process left half-written: (\d+) unindexed blobs?, (\d+) temporary files?/.exec(serve.stderr());
    expect({ left, reported: line ? { orphanBlobs: Number(line[1]), tempFiles: Number(line[2]) } : { orphanBlobs: 0, tempFiles: 0 } }).toEqual({ left, reported: left });
    if (line) reportedCleanups++;
    expect(await storeLeftovers(storeDir)).toEqual({ orphanBlobs: 0, tempFiles: 0 });
  };
  /** Children a SIGKILL was sent to: their exit event may not have been seen yet. */
  const killed = new WeakSet<CliChild>();
  /** Kills the child after `ms` unless it has exited; returns a cancel, for a kill meant for one step only. */
  const killLater = (child: CliChild, ms: number): (() => void) => {
    const timer = setTimeout(() => {
      if (child.child.exitCode === null && child.child.signalCode === null) {
        kills++;
        killed.add(child);
        child.child.kill('SIGKILL');
      }
    }, ms);
    void child.exited.then(() => clearTimeout(timer));
    return () => clearTimeout(timer);
  };
  /**
   * serve, started again when it is down. A kill sent just before a step ended may not have been
   * seen as an exit yet: such a serve is waited for (it still holds the store's lock), not reused.
   */
  const ensureServe = async () => {
    if (serve && killed.has(serve)) await serve.exited;
    if (!serve || serve.child.exitCode !== null || serve.child.signalCode !== null) await startServe();
  };
  /** serve's kill is meant for the step it was drawn in: a timer left over would kill it in a later step, or while the test settles. */
  const noKill = () => undefined;

  await startServe();
  for (let i = 0; i < ITERATIONS; i++) {
    await ensureServe();
    const victim = serve!;
    if (i % 2 === 0) {
      const collect = startCli(['collect', '--once', '--connect', 'direct', '--type', 'heap', '--profefe-hostport', url, '--spool-dir', spoolDir, '--spool-timeout', '5s'], env);
      if (random() < 0.5) killLater(collect, random() * 1500);
      const cancelServeKill = random() < 0.4 ? killLater(victim, random() * 1500) : noKill;
      await collect.exited;
      cancelServeKill();
      for (const line of collect.stdout().split('\n')) {
        let r: Record<string, unknown>;
        try {
          r = JSON.parse(line) as Record<string, unknown>;
        } catch {
          continue; // a line cut by the kill
        }
        if (!r.type || r.result !== 'ok') continue;
        const location = String(r.location);
        const stored = /^profefe id (\S+)$/.exec(location);
        const spooled = /\.([0-9a-f]{32})\.pb\.gz$/.exec(location);
        if (stored) ackedStoreIds.add(stored[1]!);
        else if (spooled) ackedSpooled.add(spooled[1]!);
        else throw new Error(`unexpected location: ${location}`);
      }
    } else {
      const push = startCli(['push', '--profefe-hostport', url, '--spool-dir', spoolDir], env);
      if (random() < 0.6) killLater(push, random() * 800);
      const cancelServeKill = random() < 0.3 ? killLater(victim, random() * 800) : noKill;
      await push.exited;
      cancelServeKill();
    }
  }

  // Settle: serve up, the spool pushed until nothing is left to try, serve stopped.
  await ensureServe();
  for (let attempt = 0; attempt < 3; attempt++) {
    const push = startCli(['push', '--profefe-hostport', url, '--spool-dir', spoolDir], env);
    const { code } = await push.exited;
    if (code === 0) break;
  }
  serve!.child.kill('SIGTERM');
  expect((await serve!.exited).code).toBe(0);

  // Half spool entries the kills left (a profile without its description) are quarantined once old.
  const { entries, problems } = await new Spool(spoolDir).list(Date.now() + HALF_ENTRY_AGE_MS + 1000);
  expect(entries).toEqual([]);
  for (const p of problems) {
    const id = /\.([0-9a-f]{32})\.pb\.gz$/.exec(p.file)?.[1];
    expect({ file: p.file, acknowledged: id !== undefined && ackedSpooled.has(id) }).toEqual({ file: p.file, acknowledged: false });
  }

  const store = await LocalStore.open(storeDir);
  try {
    const metas = await store.find({ service: 'fault', from: new Date(0), to: new Date(Date.now() + 3_600_000) });
    const count = new Map<string, number>();
    for (const m of metas) {
      const id = m.labels.find((l) => l.key === UPLOAD_ID_LABEL)?.value ?? `none:${m.id}`;
      count.set(id, (count.get(id) ?? 0) + 1);
    }
    const duplicated = [...count].filter(([, n]) => n > 1);
    const missingSpooled = [...ackedSpooled].filter((id) => !count.has(id));
    const missingStored = [...ackedStoreIds].filter((id) => !metas.some((m) => m.id === id));
    console.log(
      `kill faults (seed ${SEED}): ${ITERATIONS} rounds, ${kills} SIGKILLs, ${served} profiles served by pods, ${ackedStoreIds.size + ackedSpooled.size} acknowledged ` +
        `(${ackedSpooled.size} via the spool), ${metas.length} stored, ${reportedCleanups} serve starts cleaned leftovers, ${problems.length} spool files quarantined`,
    );
    expect({ duplicated, missingSpooled, missingStored }).toEqual({ duplicated: [], missingSpooled: [], missingStored: [] });
    expect(ackedStoreIds.size + ackedSpooled.size).toBeGreaterThan(0);
  } finally {
    await store.close();
  }
  // About 20 s on an idle machine; a loaded one starts each of the 30-odd processes far slower.
}, 600_000);
