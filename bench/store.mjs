// Store benchmark: `kubectl profefe serve` beside the real profefe collector, on the same machine
// in the same run. profefe is measured when PROFEFE_BIN names its binary (`profefe -addr ...
// -badger.dir ...`, its default badger store); without it, ours alone.
//
// Each round starts each server on an empty store and sends both the same requests:
//   - 2000 uploads of real Go heap profiles (the Go target's gen mode), 16 in flight, and the
//     server's CPU time for them (all its threads, from /proc: on a busy machine the rate follows it);
//   - 200 finds (1000, 500 and fewer metas; some with a label or a shorter window);
//   - a merge of a service's 500 profiles (/api/0/profiles/merge) and of 200 ids (/profiles/a+b+...);
//   - a merge of 1000 profiles while /healthz (profefe: /api/0/version, it has no /healthz) is
//     asked every 20 ms: the longest answer is what any other request waits for meanwhile.
// Rounds alternate which server goes first, so load on the shared machine hits both alike; the
// table shows medians and ranges over rounds, and ours / profefe.
//
//   BENCH_STORE_ROUNDS=5 PROFEFE_BIN=/path/to/profefe BENCH=store npm run bench
//   BENCH_STORE_SERVE_ARGS='--decode-workers 2' ...   extra flags for serve
//   BENCH_STORE_BASELINE=/path/to/other/checkout ...  also that checkout's built serve (before/after)
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { goProfiles, percentile, root, startServe } from './common.mjs';

const ROUNDS = Number(process.env.BENCH_STORE_ROUNDS ?? 3);
const UPLOADS = 2000;
const IN_FLIGHT = 16;
const FINDS = 200;
const PROBE_EVERY_MS = 20;
/** serve's flags: 16 uploads in flight need 16 upload slots (its default is 4; more get 503, which agents retry after a while). */
const SERVE_ARGS = ['--retention', '0', '--max-concurrent-uploads', String(IN_FLIGHT), ...(process.env.BENCH_STORE_SERVE_ARGS ?? '').split(' ').filter(Boolean)];

/** The service of upload i: 'big' gets 1000 distinct profiles, svc-0 and svc-1 500 each. */
const serviceOf = (i) => ((i < 1000 ? i % 2 === 0 : i % 2 === 1) ? 'big' : `svc-${(i >> 1) % 2}`);

/** One HTTP request over a keep-alive agent; resolves with the status and the whole body. */
function request(agent, url, { method = 'GET', body } = {}) {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method, agent, headers: body ? { 'Content-Length': body.length } : {} }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

async function ok(agent, url, opts) {
  const r = await request(agent, url, opts);
  if (r.status !== 200) throw new Error(`${opts?.method ?? 'GET'} ${url}: ${r.status} ${r.body.toString().slice(0, 200)}`);
  return r.body;
}

function freePort() {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

async function startProfefe(dir) {
  const port = await freePort();
  const child = spawn(process.env.PROFEFE_BIN, ['-addr', `127.0.0.1:${port}`, '-badger.dir', dir], { stdio: 'ignore' });
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 200; i++) {
    if (child.exitCode !== null) throw new Error(`profefe exited ${child.exitCode}`);
    const up = await fetch(`${url}/api/0/version`).then((r) => r.ok, () => false);
    if (up) return { url, child };
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error('profefe did not start');
}

const BASELINE = process.env.BENCH_STORE_BASELINE;
const SERVERS = [
  { name: 'ours', start: (dir) => startServe(dir, SERVE_ARGS), probe: '/healthz' },
  ...(BASELINE ? [{ name: 'baseline', start: (dir) => startServe(dir, SERVE_ARGS, path.join(BASELINE, 'bin/kubectl-profefe')), probe: '/healthz' }] : []),
  ...(process.env.PROFEFE_BIN ? [{ name: 'profefe', start: startProfefe, probe: '/api/0/version' }] : []),
];
const HAS_PROFEFE = SERVERS.some((s) => s.name === 'profefe');

/** Clock ticks per second of /proc/<pid>/stat's CPU times. */
const CLK_TCK = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK']).toString().trim()) || 100;
  } catch {
    return 100;
  }
})();

/**
 * CPU time a process has used so far, all its threads, user and system, in ms (Linux /proc;
 * NaN elsewhere). What an upload costs the server whatever else the machine runs: on a loaded
 * machine the upload rate follows it.
 */
function processCpuMs(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const [utime, stime] = stat.slice(stat.lastIndexOf(')') + 2).split(' ').slice(11, 13).map(Number);
    return ((utime + stime) * 1000) / CLK_TCK;
  } catch {
    return NaN;
  }
}

/** Go's time format for queries (UTC, whole seconds). */
const goTime = (ms) => new Date(ms).toISOString().slice(0, 19);

/** One round against one server; returns its figures. */
async function round(server, heaps, sampleTotal) {
  const dir = mkdtempSync(path.join(tmpdir(), `bench-store-${server.name}-`));
  const { url, child } = await server.start(dir);
  const agent = new http.Agent({ keepAlive: true, maxSockets: IN_FLIGHT });
  try {
    let next = 0;
    const cpuBefore = processCpuMs(child.pid);
    const startUp = performance.now();
    await Promise.all(
      Array.from({ length: IN_FLIGHT }, async () => {
        while (next < UPLOADS) {
          const i = next++;
          const labels = encodeURIComponent(`pod=pod-${i % 50},version=1.${i % 3}`);
          await ok(agent, `${url}/api/0/profiles?service=${serviceOf(i)}&type=heap&labels=${labels}`, { method: 'POST', body: heaps[i % heaps.length].bytes });
        }
      }),
    );
    const uploadsPerSec = UPLOADS / ((performance.now() - startUp) / 1000);
    const uploadCpuMs = (processCpuMs(child.pid) - cpuBefore) / UPLOADS;

    // The profiles' own times (time_nanos) span the minutes the generator ran.
    const times = heaps.map((h) => h.timeMs);
    const from = Math.min(...times) - 1000;
    const to = Math.max(...times) + 1000;
    const mid = from + (to - from) / 2;
    const finds = [];
    const found = new Map();
    for (let q = 0; q < FINDS; q++) {
      const [service, f, t, labels] = [
        ['big', from, to, ''],
        ['svc-0', from, to, ''],
        ['svc-1', from, to, `&labels=${encodeURIComponent(`pod=pod-${q % 50}`)}`],
        ['big', mid, to, `&labels=${encodeURIComponent(`version=1.${q % 3}`)}`],
      ][q % 4];
      const started = performance.now();
      const body = await ok(agent, `${url}/api/0/profiles?service=${service}&type=heap&from=${goTime(f)}&to=${goTime(t)}${labels}`);
      finds.push(performance.now() - started);
      if (q < 4) found.set(q, JSON.parse(body).body);
    }
    if (found.get(0).length !== 1000 || found.get(1).length !== 500) throw new Error(`${server.name}: find returned ${found.get(0).length} and ${found.get(1).length} profiles, not 1000 and 500`);

    const window = `type=heap&from=${goTime(from)}&to=${goTime(to)}`;
    let t = performance.now();
    const merged500 = await ok(agent, `${url}/api/0/profiles/merge?service=svc-0&${window}`);
    const merge500 = (performance.now() - t) / 1000;
    const ids = found.get(1).slice(0, 200).map((m) => m.id);
    t = performance.now();
    await ok(agent, `${url}/api/0/profiles/${ids.join('+')}`);
    const merge200 = (performance.now() - t) / 1000;

    // The 1000-profile merge, with another client's probes meanwhile (a connection of its own).
    const probeAgent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    let merging = true;
    t = performance.now();
    const merge = ok(agent, `${url}/api/0/profiles/merge?service=big&${window}`).finally(() => (merging = false));
    const probes = [];
    while (merging) {
      const p = performance.now();
      await ok(probeAgent, `${url}${server.probe}`);
      probes.push(performance.now() - p);
      await new Promise((r) => setTimeout(r, PROBE_EVERY_MS));
    }
    const merged1000 = await merge;
    const merge1000 = (performance.now() - t) / 1000;
    probeAgent.destroy();
    return {
      uploadsPerSec,
      uploadCpuMs,
      findP50: percentile(finds, 50),
      findP99: percentile(finds, 99),
      merge500,
      merge200,
      merge1000,
      probeMax: Math.max(...probes),
      probeP50: percentile(probes, 50),
      probes: probes.length,
      totals: [sampleTotal(merged500), sampleTotal(merged1000)],
    };
  } finally {
    agent.destroy();
    child.kill('SIGTERM');
    if (child.exitCode === null) await new Promise((r) => child.once('exit', r));
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Runs the benchmark; prints a markdown table. */
export async function benchStore(bin) {
  const { decodeProfile } = await import(path.join(root, 'bench/.build/src/pprof/index.js'));
  const heaps = goProfiles(bin, 'heap', 1000).map((bytes) => {
    const p = decodeProfile(bytes);
    return { bytes, timeMs: Number(BigInt(p.timeNanos) / 1_000_000n) };
  });
  /** Sum of the first sample type's values, exact: the merges of both servers must agree. */
  const sampleTotal = (bytes) => decodeProfile(bytes).sample.reduce((s, x) => s + BigInt(x.value[0]), 0n);

  const results = Object.fromEntries(SERVERS.map((s) => [s.name, []]));
  for (let r = 0; r < ROUNDS; r++) {
    // Each round in another order, so that no server always runs first (or after the same one).
    const order = SERVERS.map((_, i) => SERVERS[(i + r) % SERVERS.length]);
    for (const s of r % 2 === 0 ? order : order.reverse()) {
      const res = await round(s, heaps, sampleTotal);
      results[s.name].push(res);
      console.error(
        `store round ${r + 1} ${s.name}: ${res.uploadsPerSec.toFixed(0)} uploads/s (CPU ${res.uploadCpuMs.toFixed(2)} ms each), find p50 ${res.findP50.toFixed(1)} p99 ${res.findP99.toFixed(1)} ms, ` +
          `merge 500 ${res.merge500.toFixed(2)} s, 200 ids ${res.merge200.toFixed(2)} s, 1000 ${res.merge1000.toFixed(2)} s (probe max ${res.probeMax.toFixed(1)} ms over ${res.probes})`,
      );
    }
  }

  const stat = (name, key) => {
    const xs = results[name].map((x) => x[key]);
    return { median: percentile(xs, 50), min: Math.min(...xs), max: Math.max(...xs) };
  };
  // [what, result key, format, goal (issue 13), whether the medians meet it]
  const rows = [
    ['upload 2000 real heap profiles, 16 in flight', 'uploadsPerSec', (v) => `${v.toFixed(0)}/s`, 'ours >= 1.5x profefe', (o, p) => p && o >= 1.5 * p],
    ['server CPU per upload (all its threads; what bounds the rate on a busy machine)', 'uploadCpuMs', (v) => (Number.isNaN(v) ? 'n/a' : `${v.toFixed(2)} ms`), '', undefined],
    ['find, 200 queries (p50)', 'findP50', (v) => `${v.toFixed(1)} ms`, '', undefined],
    ['find, 200 queries (p99)', 'findP99', (v) => `${v.toFixed(1)} ms`, 'ours <= 0.5x profefe', (o, p) => p && o <= 0.5 * p],
    ["merge a service's 500 profiles (/merge)", 'merge500', (v) => `${v.toFixed(2)} s`, '', undefined],
    ['merge 200 ids (/profiles/id+id+...)', 'merge200', (v) => `${v.toFixed(2)} s`, '', undefined],
    ['merge 1000 profiles (/merge)', 'merge1000', (v) => `${v.toFixed(2)} s`, '', undefined],
    [`longest /healthz answer during the 1000 merge (asked every ${PROBE_EVERY_MS} ms)`, 'probeMax', (v) => `${v.toFixed(1)} ms`, 'ours < 100 ms', (o) => o < 100],
  ];
  const cell = (name, key, fmt) => {
    const s = stat(name, key);
    return `${fmt(s.median)} (${fmt(s.min)}-${fmt(s.max)})`;
  };
  const names = SERVERS.map((s) => s.name);
  console.log(`\nstore: kubectl profefe serve${HAS_PROFEFE ? ' beside the profefe collector (PROFEFE_BIN)' : ''}, same machine, ${ROUNDS} interleaved rounds, medians (range)\n`);
  console.log(`serve flags: ${SERVE_ARGS.join(' ')}${BASELINE ? `; baseline: ${BASELINE}` : ''}${HAS_PROFEFE ? '; profefe: its defaults (badger store), probed on /api/0/version' : '; set PROFEFE_BIN to measure profefe beside it'}\n`);
  console.log(`| measure | ${names.join(' | ')} |${HAS_PROFEFE ? ' ours / profefe |' : ''} goal |`);
  console.log(`|---|${names.map(() => '---:|').join('')}${HAS_PROFEFE ? '---:|' : ''}---|`);
  for (const [label, key, fmt, goal, meets] of rows) {
    const ours = stat('ours', key).median;
    const profefe = HAS_PROFEFE ? stat('profefe', key).median : undefined;
    const ratio = HAS_PROFEFE ? ` ${(ours / profefe).toFixed(2)}x |` : '';
    const verdict = !meets ? '' : meets(ours, profefe) ? ': met' : profefe === undefined && goal.includes('profefe') ? ' (needs PROFEFE_BIN)' : ': NOT met';
    console.log(`| ${label} | ${names.map((n) => cell(n, key, fmt)).join(' | ')} |${ratio} ${goal}${verdict} |`);
  }
  if (HAS_PROFEFE) {
    const [o, p] = [results.ours[0].totals, results.profefe[0].totals];
    console.log(`\nmerged totals (first sample type) ours ${o.join(', ')}; profefe ${p.join(', ')}: ${o.every((x, i) => x === p[i]) ? 'equal' : 'DIFFERENT'}`);
  }
}
