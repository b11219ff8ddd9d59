// Collect benchmark: one `kubectl profefe collect --once` round over 1000 sandbox pods (direct
// connect: each pod's podIP:port is its own idle Go process, since a Go process serves one CPU
// profile at a time), cpu with --seconds 5 plus heap and goroutine, into `kubectl profefe serve`.
// Goal: about one CPU window plus a small constant, with one list call per round.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { measureAsync, root, startIdleGoTarget, startServe } from './common.mjs';

const PODS = Number(process.env.BENCH_COLLECT_PODS ?? 1000);
const SECONDS = 5;



/** Runs the benchmark; prints a markdown table. */
export async function benchCollect(bin) {
  const { startSandbox } = await import(path.join(root, 'bench/.build/test/support/sandbox/sandbox.js'));
  const { ProfefeClient } = await import(path.join(root, 'bench/.build/src/store/profefe/client.js'));
  const targets = [];
  for (let i = 0; i < PODS; i += 50) targets.push(...(await Promise.all(Array.from({ length: Math.min(50, PODS - i) }, () => startIdleGoTarget(bin)))));
  const dir = mkdtempSync(path.join(tmpdir(), 'bench-collect-'));
  const sandbox = await startSandbox({
    pods: targets.map((t, i) => ({
      namespace: `team-${i % 10}`,
      name: `api-${String(i).padStart(4, '0')}`,
      podIP: '127.0.0.1',
      annotations: { 'profefe.com/enable': 'true', 'profefe.com/port': String(t.port), 'profefe.com/service': `svc-${i % 20}` },
    })),
  });
  const serve = await startServe(path.join(dir, 'store'));
  try {
    const kubeconfig = await sandbox.writeKubeconfig({});
    const args = [path.join(root, 'bin/kubectl-profefe'), 'collect', '--once', '--connect', 'direct', '-A', '--type', 'cpu,heap,goroutine', '--seconds', String(SECONDS), '--concurrency', String(PODS), '--profefe-hostport', serve.url, '--spool-dir', path.join(dir, 'spool')];
    const run = await measureAsync(process.execPath, args, { ...process.env, KUBECONFIG: kubeconfig });
    const records = run.stdout.toString().trim().split('\n').filter(Boolean).map((l) => JSON.parse(l));
    if (run.status !== 0) throw new Error(`collect failed (${run.status}): ${run.stderr}`);
    const round = records.find((r) => r.event === 'round');
    const apiCalls = sandbox.requests.filter((r) => r.path.startsWith('/api/')).length;
    const client = new ProfefeClient({ baseUrl: serve.url });
    let stored = 0;
    for (const service of await client.services()) stored += (await client.find({ service, from: new Date(Date.now() - 3_600_000), to: new Date(Date.now() + 60_000) })).length;
    const cpuMs = records.filter((r) => r.type === 'cpu' && r.result === 'ok').map((r) => r.ms);
    console.log(`\ncollect: one --once round, ${PODS} sandbox pods x (cpu --seconds ${SECONDS}, heap, goroutine), direct connect, into serve\n`);
    console.log('| pods | profiles fetched | uploaded | refused by the store (empty CPU profiles of idle targets) | other failures | wall | goal | slowest CPU profile | API calls | peak RSS | profiles stored |');
    console.log('|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
    console.log(
      `| ${PODS} | ${round.captured + round.rejected} | ${round.uploaded} | ${round.rejected} | ${round.failed - round.rejected} | ${run.secs.toFixed(2)} s | ${SECONDS} s + c | ` +
        `${(Math.max(...cpuMs, 0) / 1000).toFixed(2)} s | ${apiCalls} | ${run.mb.toFixed(0)} MB | ${stored} |`,
    );
  } finally {
    serve.child.kill('SIGTERM');
    await sandbox.close();
    for (const t of targets) t.child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  }
}
