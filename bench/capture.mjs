// Capture benchmark: `kubectl profefe capture` of 150 sandbox pods x all profile types with
// --seconds 5, each pod tunnelled to its own idle Go process (a Go process serves one CPU
// profile at a time). Goal: wall time at most 1.5 x 5 s plus a small constant, bounded RSS.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { measureAsync, percentile, root, startIdleGoTarget } from './common.mjs';

const PODS = Number(process.env.BENCH_PODS ?? 150);
const SECONDS = 5;


/** Runs the benchmark; prints a markdown table. */
export async function benchCapture(bin) {
  const { startSandbox } = await import(path.join(root, 'bench/.build/test/support/sandbox/sandbox.js'));
  const targets = await Promise.all(Array.from({ length: PODS }, () => startIdleGoTarget(bin)));
  const pods = targets.map((t, i) => ({
    namespace: 'bench',
    name: `api-${String(i).padStart(3, '0')}`,
    annotations: { 'profefe.com/enable': 'true', 'profefe.com/service': 'api' },
    forward: { 6060: { host: '127.0.0.1', port: t.port } },
  }));
  const sandbox = await startSandbox({ pods });
  const dir = mkdtempSync(path.join(tmpdir(), 'bench-capture-'));
  try {
    const kubeconfig = await sandbox.writeKubeconfig({ namespace: 'bench' });
    // The sandbox runs in this process, so the plugin must run in another one to measure it alone.
    const sandboxCpu = process.cpuUsage();
    const run = await measureAsync(
      process.execPath,
      [...(process.env.BENCH_NODE_ARGS ?? '').split(' ').filter(Boolean), path.join(root, 'bin/kubectl-profefe'), 'capture', '--seconds', String(SECONDS), '--output-dir', path.join(dir, 'profiles'), '-o', 'json'],
      { ...process.env, KUBECONFIG: kubeconfig },
    );
    console.error(`plugin cpu: user ${run.userSecs}s sys ${run.sysSecs}s`);
    const used = process.cpuUsage(sandboxCpu);
    console.error(`sandbox API server cpu: user ${(used.user / 1e6).toFixed(2)}s sys ${(used.system / 1e6).toFixed(2)}s`);
    if (run.status !== 0) throw new Error(`capture failed (${run.status}): ${run.stderr}`);
    const summary = JSON.parse(run.stdout.toString());
    const ok = summary.captures.filter((c) => c.ok).length;
    const cpuMs = summary.captures.filter((c) => c.type === 'cpu' && c.ok).map((c) => c.ms);
    // allocs, block and mutex are deltas over the window, like the CPU profile; the rest are snapshots.
    const deltaMs = summary.captures.filter((c) => ['allocs', 'block', 'mutex'].includes(c.type) && c.ok).map((c) => c.ms);
    const quickMs = summary.captures.filter((c) => ['heap', 'goroutine', 'threadcreate'].includes(c.type) && c.ok).map((c) => c.ms);
    const pct = percentile;
    console.error(
      `cpu ms p0/p50/p100: ${pct(cpuMs, 0)}/${pct(cpuMs, 50)}/${pct(cpuMs, 100)}; deltas ms p50/p100: ${pct(deltaMs, 50)}/${pct(deltaMs, 100)}; ` +
        `snapshots ms p50/p99/p100: ${pct(quickMs, 50)}/${pct(quickMs, 99)}/${pct(quickMs, 100)}`,
    );
    const goal = 1.5 * SECONDS;
    console.log(`\ncapture: kubectl profefe capture of ${PODS} sandbox pods x 7 types, --seconds ${SECONDS}\n`);
    console.log('| pods | profiles captured | wall | goal (1.5 x seconds + c) | wall / seconds | slowest CPU profile | peak RSS | API list calls | port-forwards |');
    console.log('|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
    const lists = sandbox.requests.filter((r) => !r.upgrade && r.path.endsWith('/pods')).length;
    const forwards = sandbox.requests.filter((r) => r.upgrade).length;
    console.log(
      `| ${PODS} | ${ok} / ${summary.captures.length} | ${run.secs.toFixed(2)} s | ${goal.toFixed(1)} s + c | ${(run.secs / SECONDS).toFixed(2)} | ` +
        `${(Math.max(...cpuMs) / 1000).toFixed(2)} s | ${run.mb.toFixed(0)} MB | ${lists} | ${forwards} |`,
    );
  } finally {
    await sandbox.close();
    for (const t of targets) t.child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  }
}
