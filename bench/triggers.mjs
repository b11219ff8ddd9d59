// Trigger benchmark (issue 16): what one poll of collect's pressure watch costs on a large cluster.
// The sandbox API server with 10,000 annotated Running pods, each with a memory and CPU limit and
// a usage (one in a hundred over 80% of its memory limit), serving metrics.k8s.io as
// metrics-server does. The reference is `kubectl top pod -A`, which makes the same PodMetrics list
// (plus its rendering), measured in the same run; the floor is one `curl` of that list.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import path from 'node:path';
import { measureAsync, root } from './common.mjs';

const PODS = Number(process.env.BENCH_TRIGGER_PODS ?? 10_000);
const RUNS = 3;

/** Runs the benchmark; prints a markdown table. */
export async function benchTriggers() {
  const { startSandbox } = await import(path.join(root, 'bench/.build/test/support/sandbox/sandbox.js'));
  const pods = Array.from({ length: PODS }, (_, i) => ({
    namespace: `team-${i % 25}`, name: `api-${String(i).padStart(5, '0')}`,
    annotations: { 'profefe.com/enable': 'true', 'profefe.com/service': `svc-${i % 50}` },
    containers: [{ name: 'app', ports: [{ containerPort: 6060 }], resources: { requests: { cpu: '250m', memory: '256Mi' }, limits: { cpu: '1', memory: '512Mi' } } }],
  }));
  const sandbox = await startSandbox({ pods });
  try {
    for (const [i, p] of pods.entries()) {
      sandbox.setUsage(p.namespace, p.name, 'app', { cpuNanocores: 100_000_000 + i, memoryBytes: (i % 100 === 0 ? 450 : 200) * 2 ** 20 });
    }
    const kubeconfig = await sandbox.writeKubeconfig({});
    const env = { ...process.env, KUBECONFIG: kubeconfig };
    const ours = [], kubectl = [], curl = [];
    let out;
    for (let r = 0; r < RUNS; r++) {
      const run = await measureAsync(process.execPath, [path.join(root, 'bench/triggers-poll.mjs')], env);
      if (run.status !== 0) throw new Error(`poll failed: ${run.stderr}`);
      out = JSON.parse(run.stdout.toString());
      ours.push({ ...run, listMs: out.listMs, decideMs: out.decideMs });
      const top = await measureAsync('kubectl', ['top', 'pod', '-A', '--no-headers'], env);
      if (top.status !== 0) throw new Error(`kubectl top failed: ${top.stderr}`);
      kubectl.push(top);
      // Asynchronously: the sandbox answering it runs in this process.
      const c = await promisify(execFile)('curl', ['-sS', '-o', '/dev/null', '-w', '%{time_total}', '--cacert', sandbox.caFile, '-H', `Authorization: Bearer ${sandbox.token}`, `${sandbox.url}/apis/metrics.k8s.io/v1beta1/pods`]);
      curl.push(Number(c.stdout) * 1000);
    }
    const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
    const list = median(ours.map((o) => o.listMs)), decide = median(ours.map((o) => o.decideMs));
    const top = median(kubectl.map((k) => k.wallMs));
    console.log(`\ntriggers: one poll of the pressure watch over ${PODS} sandbox pods (median of ${RUNS}; ${out.containers} containers read, ${out.over} over a threshold, ${out.fire} fire under --max-triggered 4)\n`);
    console.log('| what | time | vs kubectl top pod -A |');
    console.log('|---|---:|---:|');
    console.log(`| the PodMetrics list, read and parsed (in process) | ${list.toFixed(0)} ms | ${(list / top).toFixed(2)}x |`);
    console.log(`| decideTriggers over ${out.targets} targets | ${decide.toFixed(1)} ms | |`);
    console.log(`| \`kubectl top pod -A --no-headers\` (process, the same list) | ${top.toFixed(0)} ms | 1.00x |`);
    console.log(`| floor: curl of the list (transfer only) | ${median(curl).toFixed(0)} ms | ${(median(curl) / top).toFixed(2)}x |`);
  } finally {
    await sandbox.close();
  }
}
