// Start-up benchmark: what a person waits for before kubectl-profefe does any work.
// `--help`, `version`, `get` against a local store with 500 profiles, a one-pod heap capture and
// a capture of 20 sandbox pods with a 4 s CPU profile, each beside its references measured in
// the same run: `node -e ''` (the floor of any Node program) and `kubectl version --client`
// (kubectl's own start-up). Runs each short command BENCH_STARTUP_RUNS times (default 15),
// interleaved with the references so load on the machine hits all alike, and prints medians.
// Goals (issue 13): --help <= 0.2 s, get <= 0.3 s, capture wall <= 4 s (its CPU profile) + 1 s.
// The single executable (release/kubectl-profefe-linux-amd64) is measured too when `npm run release` built it.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import module from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { measureAsync, percentile, root, startIdleGoTarget } from './common.mjs';

const RUNS = Number(process.env.BENCH_STARTUP_RUNS ?? 15);
const CAPTURE_RUNS = Number(process.env.BENCH_STARTUP_CAPTURE_RUNS ?? 3);
const PODS = 20;
const SECONDS = 4;
const launcher = path.join(root, 'bin/kubectl-profefe');

/** Median wall, CPU and RSS of `runs` runs of each command, interleaved so they share the machine's load. */
async function measureAll(commands, runs) {
  const results = commands.map(() => []);
  for (let i = 0; i < runs; i++) {
    for (const [c, { cmd, args, env }] of commands.entries()) {
      results[c].push(await measureAsync(cmd, args, env));
    }
  }
  return results.map((rs) => ({
    failed: rs.find((r) => r.status !== 0),
    wall: percentile(rs.map((r) => r.wallMs / 1000), 50),
    wallMin: Math.min(...rs.map((r) => r.wallMs / 1000)),
    cpu: percentile(rs.map((r) => r.userSecs + r.sysSecs), 50),
    mb: percentile(rs.map((r) => r.mb), 50),
    last: rs.at(-1),
  }));
}

/** 500 real Go heap profiles (50 written now, so their times fall in get's default window) over 5 services. */
async function localStoreHome(bin) {
  const { LocalStore } = await import(path.join(root, 'bench/.build/src/store/local/local-store.js'));
  const home = mkdtempSync(path.join(tmpdir(), 'bench-startup-'));
  const heapDir = path.join(home, 'heap');
  execFileSync(bin, ['gen', '-kind', 'heap', '-n', '50', '-out', heapDir, '-seed', '3'], { stdio: ['ignore', 'ignore', 'inherit'] });
  const heaps = readdirSync(heapDir).sort().map((f) => readFileSync(path.join(heapDir, f)));
  const store = await LocalStore.open(path.join(home, 'store'), { sweepIntervalMs: 0 });
  for (let i = 0; i < 500; i++) {
    await store.upload({ service: `svc-${i % 5}`, type: 'heap', labels: [{ key: 'pod', value: `pod-${i % 20}` }], body: heaps[i % heaps.length] });
  }
  await store.close();
  return home;
}

const fmt = (s) => `${s.toFixed(3)} s`;
const fmtCpu = (s) => `${s.toFixed(2)} s`;
const ratio = (a, b) => `${(a / b).toFixed(1)}x`;

/** Runs the benchmark; prints a markdown table. */
export async function benchStartup(bin) {
  const node = process.execPath;
  const floor = { cmd: node, args: ['-e', ''] };
  const kubectl = { cmd: 'kubectl', args: ['version', '--client'] };
  const home = await localStoreHome(bin);
  const env = { ...process.env, KUBECTL_PROFEFE_HOME: home, NO_COLOR: '1' };
  const plugin = (...args) => ({ cmd: node, args: [launcher, ...args], env });
  const pathEnv = { ...env, PATH: `${path.join(root, 'bin')}${path.delimiter}${process.env.PATH}` };

  const { startSandbox } = await import(path.join(root, 'bench/.build/test/support/sandbox/sandbox.js'));
  const targets = await Promise.all(Array.from({ length: PODS }, () => startIdleGoTarget(bin)));
  const sandbox = await startSandbox({
    pods: targets.map((t, i) => ({
      namespace: 'bench',
      name: `api-${String(i).padStart(2, '0')}`,
      annotations: { 'profefe.com/enable': 'true', 'profefe.com/service': 'api' },
      forward: { 6060: { host: '127.0.0.1', port: t.port } },
    })),
  });
  const out = path.join(home, 'profiles');
  try {
    const kubeEnv = { ...env, KUBECONFIG: await sandbox.writeKubeconfig({ namespace: 'bench' }) };
    const rows = [
      ['`node -e \'\'` (floor)', floor],
      ['`kubectl version --client`', kubectl],
      ['`kubectl-profefe --help`', plugin('--help')],
      ['`kubectl profefe --help` (through kubectl)', { cmd: 'kubectl', args: ['profefe', '--help'], env: pathEnv }],
      ['`kubectl-profefe version`', plugin('version')],
      ['`kubectl-profefe get --service svc-1` (local store, 500 profiles)', plugin('get', '--service', 'svc-1')],
      ['`kubectl-profefe capture api-00 --type heap` (1 pod)', { ...plugin('capture', 'api-00', '--type', 'heap', '--output-dir', out), env: kubeEnv }],
    ];
    // The single executable, when `npm run release` has built it.
    const sea = path.join(root, 'release', 'kubectl-profefe-linux-amd64');
    if (existsSync(sea)) {
      rows.push(
        ['single executable `--help`', { cmd: sea, args: ['--help'], env }],
        ['single executable `get --service svc-1`', { cmd: sea, args: ['get', '--service', 'svc-1'], env }],
        ['single executable `capture api-00 --type heap`', { cmd: sea, args: ['capture', 'api-00', '--type', 'heap', '--output-dir', out], env: kubeEnv }],
      );
    }
    const measured = await measureAll(rows.map(([, c]) => c), RUNS);
    const base = measured[0].wall;

    // The capture of 20 pods: wall beside the window, and what the capture itself reports.
    const captureRuns = [];
    for (let i = 0; i < CAPTURE_RUNS; i++) {
      const r = await measureAsync(node, [launcher, 'capture', '--type', 'cpu', '--seconds', String(SECONDS), '--output-dir', out, '-o', 'json'], kubeEnv);
      if (r.status !== 0) throw new Error(`capture failed (${r.status}): ${r.stderr}`);
      const summary = JSON.parse(r.stdout.toString());
      captureRuns.push({ wall: r.wallMs / 1000, cpu: r.userSecs + r.sysSecs, mb: r.mb, reported: summary.wallMs / 1000, ok: summary.captures.filter((c) => c.ok).length });
    }
    const median = (k) => percentile(captureRuns.map((r) => r[k]), 50);

    const cache = typeof module.enableCompileCache === 'function' ? 'on (module.enableCompileCache)' : 'not available (needs Node 22.1+)';
    console.log(`\nstartup: median of ${RUNS} runs each, interleaved; node ${process.version}, V8 compile cache ${cache}\n`);
    console.log('| command | wall (median) | wall (min) | CPU user+sys | peak RSS | wall / node -e \'\' | goal |');
    console.log('|---|---:|---:|---:|---:|---:|---|');
    const goals = { 2: '<= 0.2 s', 5: '<= 0.3 s' };
    measured.forEach((m, i) => {
      if (m.failed) return console.log(`| ${rows[i][0]} | failed (exit ${m.failed.status}: ${m.failed.stderr.split('\n')[0]}) | | | | | ${goals[i] ?? ''} |`);
      console.log(`| ${rows[i][0]} | ${fmt(m.wall)} | ${fmt(m.wallMin)} | ${fmtCpu(m.cpu)} | ${m.mb.toFixed(0)} MB | ${ratio(m.wall, base)} | ${goals[i] ?? ''} |`);
    });
    console.log(`\ncapture of ${PODS} sandbox pods, --type cpu --seconds ${SECONDS} (median of ${CAPTURE_RUNS}; goal: wall <= ${SECONDS} s + 1 s)\n`);
    console.log('| pods | profiles | wall | reported by the capture | wall - window | CPU user+sys | peak RSS |');
    console.log('|---:|---:|---:|---:|---:|---:|---:|');
    console.log(
      `| ${PODS} | ${median('ok')} / ${PODS} | ${fmt(median('wall'))} | ${fmt(median('reported'))} | ${fmt(median('wall') - SECONDS)} | ${fmtCpu(median('cpu'))} | ${median('mb').toFixed(0)} MB |`,
    );
  } finally {
    await sandbox.close();
    for (const t of targets) t.child.kill('SIGKILL');
    rmSync(home, { recursive: true, force: true });
  }
}
