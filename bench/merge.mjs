// Benchmarks kubectl-profefe against the reference implementation measured in the same run:
// `kubectl profefe merge` vs `go tool pprof -proto` on 10, 100 and 1000 real Go CPU and heap
// profiles written by the Go test target (test/support/go-target), varied so stacks differ.
// Prints wall time and peak RSS of each and the ratios. Not a test: nothing here asserts.
//
//   BENCH_SIZES=10,100 npm run bench   fewer sizes
//   BENCH_KINDS=heap npm run bench     one kind
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';
import { data, measure, root } from './common.mjs';

const sizes = (process.env.BENCH_SIZES ?? '10,100,1000').split(',').map(Number);
const kinds = (process.env.BENCH_KINDS ?? 'cpu,heap').split(',');
const maxN = Math.max(...sizes);

function dataset(bin, kind) {
  const dir = path.join(data, `${kind}-${maxN}`);
  const have = existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith('.pb.gz')).length : 0;
  if (have < maxN) {
    rmSync(dir, { recursive: true, force: true });
    console.error(`generating ${maxN} ${kind} profiles into ${path.relative(root, dir)} (once) ...`);
    execFileSync(bin, ['gen', '-kind', kind, '-n', String(maxN), '-out', dir, '-seed', '7'], { stdio: ['ignore', 'ignore', 'inherit'] });
  }
  return readdirSync(dir).filter((f) => f.endsWith('.pb.gz')).sort().map((f) => path.join(dir, f));
}

/** Sum of the default sample type over the merged profile, read by go tool pprof itself. */
function pprofTotal(file) {
  const out = execFileSync('go', ['tool', 'pprof', '-top', '-nodecount=1', '-symbolize=none', file], { stdio: ['ignore', 'pipe', 'ignore'] }).toString();
  return /of ([^ ]+) total/.exec(out)?.[1] ?? '?';
}

/** The merge benchmark; prints a markdown table. */
export function benchMerge(bin) {
const rows = [];
for (const kind of kinds) {
  const all = dataset(bin, kind);
  for (const n of sizes) {
    const files = all.slice(0, n);
    const bytes = files.reduce((s, f) => s + statSync(f).size, 0);
    const oursOut = path.join(data, `ours-${kind}-${n}.pb.gz`);
    const goOut = path.join(data, `go-${kind}-${n}.pb.gz`);
    const go = measure('go', ['tool', 'pprof', '-proto', '-symbolize=none', ...files], goOut);
    const ours = measure(process.execPath, [path.join(root, 'bin/kubectl-profefe'), 'merge', ...files], oursOut);
    for (const [who, r] of [['go', go], ['ours', ours]]) if (r.status !== 0) throw new Error(`${who} merge failed: ${r.stderr}`);
    const same = pprofTotal(oursOut) === pprofTotal(goOut);
    rows.push({ kind, n, inputMB: bytes / 2 ** 20, ours, go, same });
    console.error(`${kind} x${n}: ours ${ours.secs}s ${ours.mb.toFixed(0)}MB, go ${go.secs}s ${go.mb.toFixed(0)}MB`);
  }
}

const fmt = (v, d = 2) => v.toFixed(d);
console.log('\nmerge: kubectl profefe merge vs go tool pprof -proto (same inputs, same run)\n');
console.log('| kind | profiles | input (gz) | ours wall | go wall | speed-up | ours peak RSS | go peak RSS | memory ratio | same total |');
console.log('|---|---:|---:|---:|---:|---:|---:|---:|---:|---|');
for (const r of rows) {
  console.log(
    `| ${r.kind} | ${r.n} | ${fmt(r.inputMB, 1)} MB | ${fmt(r.ours.secs)} s | ${fmt(r.go.secs)} s | ${fmt(r.go.secs / r.ours.secs)}x | ` +
      `${fmt(r.ours.mb, 0)} MB | ${fmt(r.go.mb, 0)} MB | ${fmt(r.ours.mb / r.go.mb)} | ${r.same ? 'yes' : 'NO'} |`,
  );
}
console.log('\nspeed-up = go wall / ours wall (goal at 1000: >= 2x); memory ratio = ours / go (goal: <= 1).');
}
