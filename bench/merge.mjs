// Benchmarks `kubectl profefe merge` against the reference measured in the same run,
// `go tool pprof -proto`, on 10, 100, 1000 and 10,000 Go CPU and heap profiles: 100 real ones
// written by the Go test target (test/support/go-target gen, stacks varied per profile) and the
// rest derived from them (go-target derive), generated once into bench/.data. Beside them, the
// floor: Node's own start-up (`node -e ''`), and reading and gunzipping the same inputs in one
// Node process (bench/merge-floor.mjs, start-up included), which no merge in Node can beat.
// Each command runs BENCH_MERGE_RUNS times (default 5; 3 at 10,000), interleaved so that load on
// a shared machine hits all alike; the table gives the median (min-max) of wall and CPU (user +
// sys) time, and the median peak RSS. Ratios are of medians. Not a test: nothing here asserts.
//
//   BENCH_SIZES=10,100 npm run bench   fewer sizes
//   BENCH_KINDS=heap npm run bench     one kind
//   BENCH_MERGE_REAL=1000 npm run bench  more real profiles (a real CPU profile costs 0.2 s of CPU)
//   BENCH_MERGE_BIN=../main/bin/kubectl-profefe BENCH=merge npm run bench   another build of ours (before/after)
//
// Goals (issue 13): merge >= 4x go tool pprof -proto at 100 and 1000 profiles, CPU and heap, with
// peak RSS <= go's; cost growing linearly or better from 10 to 10,000 profiles.
import { execFileSync, spawnSync } from 'node:child_process';
import { closeSync, existsSync, openSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { data, root } from './common.mjs';

const sizes = (process.env.BENCH_SIZES ?? '10,100,1000,10000').split(',').map(Number);
const kinds = (process.env.BENCH_KINDS ?? 'cpu,heap').split(',');
const maxN = Math.max(...sizes);
const realN = Number(process.env.BENCH_MERGE_REAL ?? 100);
const runsFor = (n) => Number(process.env.BENCH_MERGE_RUNS ?? (n >= 10000 ? 3 : 5));
const ours = path.resolve(process.env.BENCH_MERGE_BIN ?? path.join(root, 'bin/kubectl-profefe'));
const TIME = '/usr/bin/time';

/**
 * The inputs: BENCH_MERGE_REAL (default 100) real profiles written by the Go target, then as many
 * derived from them as the largest size needs (go-target derive: the real profiles' stacks, with
 * samples dropped and values multiplied per profile), so 10,000 profiles take seconds, not the
 * CPU-time budget of each CPU profile. Both cached under bench/.data.
 */
function dataset(bin, kind) {
  const count = (dir) => (existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith('.pb.gz')).length : 0);
  const realDir = path.join(data, `${kind}-real-${realN}`);
  if (count(realDir) < realN) {
    rmSync(realDir, { recursive: true, force: true });
    console.error(`generating ${realN} real ${kind} profiles into ${path.relative(root, realDir)} (once) ...`);
    execFileSync(bin, ['gen', '-kind', kind, '-n', String(realN), '-out', realDir, '-seed', '7'], { stdio: ['ignore', 'ignore', 'inherit'] });
  }
  // Profile i is the same for any count (seeded by i), so one folder serves every size.
  const dir = path.join(data, `${kind}-from-${realN}`);
  if (count(dir) < maxN) {
    rmSync(dir, { recursive: true, force: true });
    console.error(`deriving ${maxN} ${kind} profiles from them into ${path.relative(root, dir)} (once) ...`);
    execFileSync(bin, ['derive', '-from', realDir, '-n', String(maxN), '-out', dir, '-seed', '7'], { stdio: ['ignore', 'ignore', 'inherit'] });
  }
  return readdirSync(dir).filter((f) => f.endsWith('.pb.gz')).sort().map((f) => path.join(dir, f));
}

/** Runs a command with stdout to a file under GNU time: wall and CPU seconds, peak RSS in MB. */
function run(cmd, args, outFile) {
  if (!existsSync(TIME)) throw new Error('the benchmarks need GNU time for peak memory: apt-get install -y time');
  const out = openSync(outFile, 'w');
  const timeFile = path.join(data, 'time.out');
  const r = spawnSync(TIME, ['-f', '%e %U %S %M', '-o', timeFile, cmd, ...args], { stdio: ['ignore', out, 'pipe'], maxBuffer: 1 << 26 });
  closeSync(out);
  if (r.status !== 0) throw new Error(`${path.basename(cmd)} failed (${r.status}): ${r.stderr.toString().slice(0, 500)}`);
  const [wall, user, sys, kb] = readFileSync(timeFile, 'utf8').trim().split('\n').at(-1).split(' ').map(Number);
  return { wall, cpu: user + sys, mb: kb / 1024 };
}

/** Sum of the default sample type over a merged profile, as go tool pprof reads it. */
function pprofTotal(file) {
  const out = execFileSync('go', ['tool', 'pprof', '-top', '-nodecount=1', '-symbolize=none', file], { stdio: ['ignore', 'pipe', 'ignore'] }).toString();
  return /of ([^ ]+) total/.exec(out)?.[1] ?? '?';
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)];
const stats = (xs) => ({ min: Math.min(...xs), med: median(xs), max: Math.max(...xs) });

function machine() {
  const cpu = /model name\s*:\s*(.*)/.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1] ?? os.cpus()[0]?.model ?? '?';
  const go = execFileSync('go', ['version'], { encoding: 'utf8' }).trim().replace(/^go version /, '');
  return `${new Date().toISOString().slice(0, 10)}, ${os.availableParallelism()} vCPU ${cpu}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, Node ${process.version}, ${go}, load average ${os.loadavg()[0].toFixed(1)} at the start`;
}

/** The merge benchmark; prints markdown tables. */
export function benchMerge(bin) {
  const header = machine();
  const rows = [];
  for (const kind of kinds) {
    const all = dataset(bin, kind);
    for (const n of sizes) {
      const files = all.slice(0, n);
      const bytes = files.reduce((s, f) => s + statSync(f).size, 0);
      const oursOut = path.join(data, `ours-${kind}-${n}.pb.gz`);
      const goOut = path.join(data, `go-${kind}-${n}.pb.gz`);
      const m = { ours: [], go: [], floor: [], node: [] };
      for (let i = 0; i < runsFor(n); i++) {
        m.node.push(run(process.execPath, ['-e', ''], '/dev/null'));
        m.floor.push(run(process.execPath, [path.join(root, 'bench/merge-floor.mjs'), ...files], '/dev/null'));
        m.ours.push(run(process.execPath, [ours, 'merge', ...files], oursOut));
        m.go.push(run('go', ['tool', 'pprof', '-proto', '-symbolize=none', ...files], goOut));
      }
      const same = pprofTotal(oursOut) === pprofTotal(goOut);
      const row = { kind, n, inputMB: bytes / 2 ** 20, same };
      for (const [who, rs] of Object.entries(m)) row[who] = { wall: stats(rs.map((r) => r.wall)), cpu: stats(rs.map((r) => r.cpu)), mb: median(rs.map((r) => r.mb)) };
      rows.push(row);
      console.error(`${kind} x${n}: ours ${row.ours.wall.med}s (${row.ours.cpu.med.toFixed(2)} CPU) ${row.ours.mb.toFixed(0)}MB, go ${row.go.wall.med}s (${row.go.cpu.med.toFixed(2)} CPU) ${row.go.mb.toFixed(0)}MB, floor ${row.floor.wall.med}s`);
    }
  }

  const s = (v) => (v < 10 ? v.toFixed(2) : v.toFixed(1));
  const range = (x) => `${s(x.med)} s (${s(x.min)}-${s(x.max)})`;
  const x = (a, b) => `${(a / b).toFixed(1)}x`;
  console.log(`\nmerge: kubectl profefe merge vs go tool pprof -proto, same inputs, same run (${header})\n`);
  console.log(
    '| kind | profiles | input (gz) | ours wall | go wall | speed-up (wall) | ours CPU | go CPU | speed-up (CPU) | floor: start + read + gunzip, wall / CPU | ours / floor (wall) | go / floor (wall): the most a Node merge could reach | ours peak RSS | go peak RSS | floor peak RSS | goal (>= 4x wall, RSS <= go) | same total |',
  );
  console.log('|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---|');
  for (const r of rows) {
    const speedup = r.go.wall.med / r.ours.wall.med;
    const goal = r.n === 100 || r.n === 1000 ? (speedup >= 4 && r.ours.mb <= r.go.mb ? 'met' : `not met${speedup < 4 ? ' (speed)' : ''}${r.ours.mb > r.go.mb ? ' (RSS)' : ''}`) : '';
    console.log(
      `| ${r.kind} | ${r.n} | ${r.inputMB.toFixed(1)} MB | ${range(r.ours.wall)} | ${range(r.go.wall)} | ${x(r.go.wall.med, r.ours.wall.med)} | ` +
        `${range(r.ours.cpu)} | ${range(r.go.cpu)} | ${x(r.go.cpu.med, r.ours.cpu.med)} | ${s(r.floor.wall.med)} / ${s(r.floor.cpu.med)} s | ` +
        `${x(r.ours.wall.med, r.floor.wall.med)} | ${x(r.go.wall.med, r.floor.wall.med)} | ` +
        `${r.ours.mb.toFixed(0)} MB | ${r.go.mb.toFixed(0)} MB | ${r.floor.mb.toFixed(0)} MB | ${goal} | ${r.same ? 'yes' : 'NO'} |`,
    );
  }
  const node = rows.flatMap((r) => [r.node.wall.med]);
  const nodeCpu = rows.flatMap((r) => [r.node.cpu.med]);
  const nodeMb = rows.flatMap((r) => [r.node.mb]);
  console.log(`\nNode's own start-up (\`node -e ''\`, medians over the rows): ${s(median(node))} s wall, ${s(median(nodeCpu))} s CPU, ${median(nodeMb).toFixed(0)} MB peak RSS; the floor column includes it.`);

  console.log('\nhow cost grows (medians): each row against the one with 10x fewer profiles\n');
  console.log('| kind | profiles | ours CPU | x for 10x profiles | ours CPU per profile | ours peak RSS | x for 10x profiles | go CPU | x for 10x profiles |');
  console.log('|---|---:|---:|---:|---:|---:|---:|---:|---:|');
  for (const r of rows) {
    const prev = rows.find((p) => p.kind === r.kind && p.n * 10 === r.n);
    const g = (a, b) => (b ? x(a, b) : '');
    console.log(
      `| ${r.kind} | ${r.n} | ${s(r.ours.cpu.med)} s | ${g(r.ours.cpu.med, prev?.ours.cpu.med)} | ${((1000 * r.ours.cpu.med) / r.n).toFixed(2)} ms | ` +
        `${r.ours.mb.toFixed(0)} MB | ${g(r.ours.mb, prev?.ours.mb)} | ${s(r.go.cpu.med)} s | ${g(r.go.cpu.med, prev?.go.cpu.med)} |`,
    );
  }
  console.log(
    "\nspeed-up = go / ours (goal: >= 4x at 100 and 1000 profiles, peak RSS <= go's); ours / floor: how far the merge is from " +
      'starting Node and reading and gunzipping its inputs; go / floor: the speed-up a merge that cost nothing beyond that floor would show.',
  );
}
