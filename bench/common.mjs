// Shared by the benchmarks: paths, the Go target binary, and measuring a child process.
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

export const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const data = path.join(root, 'bench', '.data');
const TIME = '/usr/bin/time';

/** Builds the Go pprof target of the tests into bench/.data and returns its path. */
export function buildGoTarget() {
  mkdirSync(data, { recursive: true });
  const bin = path.join(data, 'go-target');
  execFileSync('go', ['build', '-o', bin, '.'], { cwd: path.join(root, 'test/support/go-target'), stdio: 'inherit' });
  return bin;
}

/**
 * `n` real Go profiles of `kind` (cpu or heap), generated once by the Go target's gen mode into
 * bench/.data/<kind>-<n> (the merge benchmark's files, seed 7); their bytes, in file order.
 */
export function goProfiles(bin, kind, n) {
  const dir = path.join(data, `${kind}-${n}`);
  const have = existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith('.pb.gz')).length : 0;
  if (have < n) {
    rmSync(dir, { recursive: true, force: true });
    console.error(`generating ${n} ${kind} profiles into ${path.relative(root, dir)} (once) ...`);
    execFileSync(bin, ['gen', '-kind', kind, '-n', String(n), '-out', dir, '-seed', '7'], { stdio: ['ignore', 'ignore', 'inherit'] });
  }
  return readdirSync(dir).filter((f) => f.endsWith('.pb.gz')).sort().map((f) => readFileSync(path.join(dir, f)));
}

/** Runs a command with stdout to a file under GNU time; returns seconds and peak RSS in MB. */
export function measure(cmd, args, outFile, env = process.env) {
  if (!existsSync(TIME)) throw new Error('the benchmarks need GNU time for peak memory: apt-get install -y time');
  const out = openSync(outFile, 'w');
  const r = spawnSync(TIME, ['-f', '%e %M', cmd, ...args], { stdio: ['ignore', out, 'pipe'], env, maxBuffer: 1 << 26 });
  closeSync(out);
  const lines = r.stderr.toString().trim().split('\n');
  const [secs, kb] = lines[lines.length - 1].split(' ').map(Number);
  return { secs, mb: kb / 1024, status: r.status, stderr: lines.slice(0, -1).join('\n') };
}

/** Starts an idle Go pprof target (-load 0: benchmarks run hundreds) on a free loopback port. */
export function startIdleGoTarget(bin) {
  return new Promise((resolve, reject) => {
    const child = spawn(bin, ['-addr', '127.0.0.1:0', '-load', '0'], { stdio: ['ignore', 'pipe', 'ignore'] });
    createInterface({ input: child.stdout }).on('line', (line) => {
      const m = /^listening on 127\.0\.0\.1:(\d+)$/.exec(line);
      if (m) resolve({ port: Number(m[1]), child });
    });
    child.once('exit', (code) => reject(new Error(`go target exited ${code}`)));
  });
}

/** Starts `kubectl profefe serve` (this checkout's, or `launcher`) as a child process on a free port; resolves with its URL. */
export function startServe(storeDir, extraArgs = [], launcher = path.join(root, 'bin/kubectl-profefe')) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [launcher, 'serve', '--port', '0', '--store-dir', storeDir, ...extraArgs], { stdio: ['ignore', 'ignore', 'pipe'] });
    createInterface({ input: child.stderr }).on('line', (line) => {
      const m = /serving the profefe API at (\S+)/.exec(line);
      if (m) resolve({ url: m[1], child });
    });
    child.once('exit', (code) => reject(new Error(`serve exited ${code}`)));
  });
}

/**
 * Runs a command under GNU time without blocking this process (which may be serving the
 * sandbox API server the command talks to); resolves with its stdout, wall time (`secs` from
 * GNU time, `wallMs` to the millisecond), CPU times and peak RSS.
 */
export function measureAsync(cmd, args, env = process.env) {
  return new Promise((resolve) => {
    const started = performance.now();
    const child = spawn('/usr/bin/time', ['-f', '%U %S %e %M', cmd, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env });
    const out = [];
    const err = [];
    child.stdout.on('data', (c) => out.push(c));
    child.stderr.on('data', (c) => err.push(c));
    child.on('close', (status) => {
      const lines = Buffer.concat(err).toString().trim().split('\n');
      const [user, sys, secs, kb] = lines[lines.length - 1].split(' ').map(Number);
      // GNU time's %e has 10 ms steps; start-up times need the milliseconds (time's own fork adds ~1 ms).
      const wallMs = performance.now() - started;
      resolve({ status, secs, wallMs, mb: kb / 1024, userSecs: user, sysSecs: sys, stdout: Buffer.concat(out), stderr: lines.slice(0, -1).join('\n') });
    });
  });
}

/** The p-th percentile (0-100) of some numbers. */
export const percentile = (xs, p) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))];
