// Top-usage benchmark: what usage against requests costs `top --type cpu`. CPU usage divides per
// pod (cores = a pod's sample nanoseconds / its profiles' duration), so a window whose profiles
// carry cpu_request/cpu_limit labels is read pod by pod: one merge per pod instead of one per
// service. The same CPU profiles (test/support/synthetic-day.ts: fixed values) are stored twice,
// spread over BENCH_TOP_PODS pods per service, once without resource labels and once with them;
// `top` reads each from the local store and through `serve` (the profefe API: one merge request per
// pod). The reference is `go tool pprof -top` over the same profiles as files, in the same run.
// The table checks that every variant gives the same functions' flat values.
//
//   BENCH=top-usage npm run bench
//   BENCH_TOP_PODS=200 BENCH_TOP_PROFILES=4000 BENCH=top-usage npm run bench
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { measureAsync, root, startServe } from './common.mjs';

const PODS = Number(process.env.BENCH_TOP_PODS ?? 50);
const PROFILES = Number(process.env.BENCH_TOP_PROFILES ?? 2000);
const RUNS = 3;

/** The uploads of the day, pod label rewritten to one of PODS pods, with or without resource labels. */
function spread(uploads, labelled) {
  return uploads.map((u, i) => {
    const pod = `${u.service}-${i % PODS}`;
    const labels = u.labels.filter((l) => l.key !== 'pod').concat({ key: 'pod', value: pod });
    if (labelled) labels.push({ key: 'cpu_limit', value: '2' }, { key: 'cpu_request', value: '500m' });
    return { ...u, labels: labels.sort((a, b) => (a.key < b.key ? -1 : 1)) };
  });
}

/** The median wall and CPU time (ms; CPU is the process's own, user + system) and the largest peak RSS of RUNS runs, with the last run's output. */
async function best(cmd, args, env) {
  const runs = [];
  for (let i = 0; i < RUNS; i++) {
    const r = await measureAsync(cmd, args, env);
    if (r.status !== 0) throw new Error(`${path.basename(cmd)} ${args.slice(0, 3).join(' ')} failed (${r.status}): ${r.stderr}`);
    runs.push(r);
  }
  const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(RUNS / 2)];
  return { wallMs: median(runs.map((r) => r.wallMs)), cpuMs: median(runs.map((r) => (r.userSecs + r.sysSecs) * 1000)), mb: Math.max(...runs.map((r) => r.mb)), stdout: runs[RUNS - 1].stdout };
}

/** Runs the benchmark; prints a markdown table. */
export async function benchTopUsage() {
  const { syntheticDay, DAY_START, DAY_END } = await import(path.join(root, 'bench/.build/test/support/synthetic-day.js'));
  const { LocalStore } = await import(path.join(root, 'bench/.build/src/store/local/local-store.js'));
  const dir = mkdtempSync(path.join(tmpdir(), 'bench-top-usage-'));
  const servers = [];
  try {
    const uploads = syntheticDay({ cpuEveryMinutes: (24 * 60 * 2) / PROFILES, heap: false, goroutine: false });
    const stores = {};
    for (const labelled of [false, true]) {
      const storeDir = path.join(dir, labelled ? 'labelled' : 'plain');
      const store = await LocalStore.open(storeDir);
      try {
        for (const u of spread(uploads, labelled)) await store.upload(u);
      } finally {
        await store.close();
      }
      const served = await startServe(storeDir);
      servers.push(served.child);
      stores[labelled ? 'labelled' : 'plain'] = { local: ['--store-dir', storeDir], served: ['--profefe-hostport', served.url] };
    }
    const files = path.join(dir, 'files');
    mkdirSync(files);
    uploads.forEach((u, i) => writeFileSync(path.join(files, `${String(i).padStart(6, '0')}.pb.gz`), u.body));

    const env = { ...process.env, KUBECTL_PROFEFE_HOME: path.join(dir, 'home'), PROFEFE_HOSTPORT: '' };
    const cli = path.join(root, 'bin/kubectl-profefe');
    const window = ['--type', 'cpu', '--from', DAY_START.toISOString(), '--to', DAY_END.toISOString(), '--nodes', '0', '-o', 'json'];
    const results = {};
    for (const where of ['local', 'served']) {
      for (const kind of ['plain', 'labelled']) {
        results[`${where} ${kind}`] = await best(process.execPath, [cli, 'top', ...stores[kind][where], ...window], env);
      }
    }
    const flatOf = (stdout) => {
      const parsed = JSON.parse(stdout.toString());
      const rows = Array.isArray(parsed) ? parsed : parsed.functions;
      return new Map(rows.map((r) => [r.function, Number(r.flat)]));
    };
    const plain = flatOf(results['local plain'].stdout);
    const agree = Object.values(results).every((r) => {
      const rows = flatOf(r.stdout);
      return rows.size === plain.size && [...plain].every(([f, v]) => rows.get(f) === v);
    });
    // The reference: go tool pprof merging the same profiles as files (no stores, no per-pod reads).
    const goFiles = uploads.map((_, i) => path.join(files, `${String(i).padStart(6, '0')}.pb.gz`));
    const pprof = await best('go', ['tool', 'pprof', '-top', '-nodecount=1000', ...goFiles], env);
    const secs = (ms) => `${(ms / 1000).toFixed(2)} s`;
    const cell = (r) => `${secs(r.wallMs)} (CPU ${secs(r.cpuMs)}), ${r.mb.toFixed(0)} MB`;
    console.log(`\ntop --type cpu over ${uploads.length} stored CPU profiles, 2 services of ${PODS} pods each; median of ${RUNS} runs`);
    console.log('(labelled: every profile carries cpu_request 500m and cpu_limit 2, so top reads the window pod by pod for the cores)\n');
    console.log('| store | without resource labels: wall (CPU), peak RSS | with them (usage) | with / without (wall) | go tool pprof -top, same profiles as files | same flat values |');
    console.log('|---|---:|---:|---:|---:|---|');
    for (const where of ['local', 'served']) {
      const a = results[`${where} plain`], b = results[`${where} labelled`];
      console.log(`| ${where === 'local' ? 'local store' : 'serve (profefe API)'} | ${cell(a)} | ${cell(b)} | ${(b.wallMs / a.wallMs).toFixed(2)} | ${cell(pprof)} | ${agree ? 'yes' : 'NO'} |`);
    }
  } finally {
    for (const child of servers) child.kill();
    rmSync(dir, { recursive: true, force: true });
  }
}
