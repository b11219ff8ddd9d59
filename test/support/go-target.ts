/**
 * A real Go process serving net/http/pprof (source in ./go-target/), for tests
 * that need genuine Go profiles rather than hand-built ones.
 */
import { execFile, spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, readdir, readFile, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const supportDir = path.dirname(fileURLToPath(import.meta.url));
const sourceDir = path.join(supportDir, 'go-target');
const cacheDir = path.join(supportDir, '..', '.cache');
const exeSuffix = process.platform === 'win32' ? '.exe' : '';

const listenTimeoutMs = 20_000;

/** A running go-target server. */
export interface GoTarget {
  /** Base URL, e.g. `http://127.0.0.1:34567`. */
  url: string;
  port: number;
  /** Kills the process and resolves once it has exited. */
  close(): Promise<void>;
}

/** Options for {@link generateProfiles}. */
export interface GenerateOptions {
  /** Seed for the pseudo-random workload (default 1). */
  seed?: number;
  /** Milliseconds of CPU time per worker per CPU profile (default 100): CPU time, so a loaded machine still gets samples. */
  cpuMs?: number;
}

let building: Promise<string> | undefined;

/**
 * Builds the go-target binary into test/.cache/go-target-<source hash> unless
 * it is already there, and returns its path. Safe to call from parallel jest
 * workers: each builds under a unique temporary name and renames it into
 * place atomically.
 */
export function buildGoTarget(): Promise<string> {
  building ??= build().catch((err: unknown) => {
    building = undefined; // let a later call retry
    throw err;
  });
  return building;
}

async function build(): Promise<string> {
  const bin = path.join(cacheDir, `go-target-${await sourceHash()}${exeSuffix}`);
  if (await isFile(bin)) return bin;
  await mkdir(cacheDir, { recursive: true });
  const tmp = `${bin}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
  try {
    await run('go', ['build', '-trimpath', '-o', tmp, '.'], { cwd: sourceDir, env: goBuildEnv() });
    await rename(tmp, bin);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
  return bin;
}

async function sourceHash(): Promise<string> {
  const names = (await readdir(sourceDir)).filter((n) => n.endsWith('.go') || n === 'go.mod').sort();
  const hash = createHash('sha256');
  for (const name of names) {
    hash.update(`${name}\0`).update(await readFile(path.join(sourceDir, name))).update('\0');
  }
  return hash.digest('hex').slice(0, 16);
}

function goBuildEnv(): NodeJS.ProcessEnv {
  return {
    ...process.env,
    // The default cache lives under $HOME, which may be unset (CI, sandboxes).
    GOCACHE: process.env.GOCACHE || path.join(cacheDir, 'gocache'),
    // Standard library only: never touch the network or a toolchain download,
    // and don't need a C compiler.
    GOPROXY: 'off',
    GOTOOLCHAIN: 'local',
    GOFLAGS: '',
    GOWORK: 'off',
    GO111MODULE: 'on',
    CGO_ENABLED: '0',
  };
}

/** Options for {@link startGoTarget}. */
export interface GoTargetOptions {
  /** Scales the CPU workload (default 1, about half a core; 0 idles, for many targets). */
  load?: number;
  /**
   * A build that spends more CPU in one function (`-hot-load`): each round of the CPU workload also
   * runs `main.hotPath` for this many times `main.hashWork`'s time (default 0: never). 8 makes it
   * about 80% of the workload's CPU time.
   */
  hotLoad?: number;
  /** Answer `?seconds=N` on allocs, block, mutex and heap with the cumulative profile at once, like Go < 1.16. */
  legacySeconds?: boolean;
  /** The server's WriteTimeout in ms: net/http/pprof answers a delta window at least this long with a 400. */
  writeTimeoutMs?: number;
  /** Write a copy of every allocs, block, mutex and heap profile served to DIR/<name>-<NNN>.pb.gz (001 first), before sending it. */
  dumpDir?: string;
  /** Bytes of each chunk the leak allocates (`-grow-chunk`, default 1 MiB). */
  growChunkBytes?: number;
  /** Leak one chunk every this many ms (`-grow-every`; default 0: only when {@link growGoTarget} asks). */
  growEveryMs?: number;
  /**
   * runtime.MemProfileRate, set before any workload starts (`-mem-profile-rate`; default 16384,
   * the target's usual). 1 records every allocation, so heap profiles hold exact small sizes.
   */
  memProfileRate?: number;
  /**
   * runtime.SetBlockProfileRate (`-block-profile-rate`; default 1, every blocking event). 0 leaves
   * block profiling off, as Go does unless a program turns it on: block profiles are then empty.
   */
  blockProfileRate?: number;
  /** runtime.SetMutexProfileFraction (`-mutex-profile-fraction`; default 1, every event). 0: off, Go's default. */
  mutexProfileFraction?: number;
}

/**
 * Starts go-target on a free port of 127.0.0.1 and resolves once it reports
 * that it is listening. Always close() it, e.g. in afterAll.
 */
export async function startGoTarget(opts: GoTargetOptions = {}): Promise<GoTarget> {
  const bin = await buildGoTarget();
  const args = ['-addr', '127.0.0.1:0', '-load', String(opts.load ?? 1)];
  if (opts.hotLoad !== undefined) args.push('-hot-load', String(opts.hotLoad));
  if (opts.legacySeconds) args.push('-legacy-seconds');
  if (opts.writeTimeoutMs !== undefined) args.push('-write-timeout', `${opts.writeTimeoutMs}ms`);
  if (opts.dumpDir !== undefined) args.push('-dump', opts.dumpDir);
  if (opts.growChunkBytes !== undefined) args.push('-grow-chunk', String(opts.growChunkBytes));
  if (opts.growEveryMs !== undefined) args.push('-grow-every', `${opts.growEveryMs}ms`);
  if (opts.memProfileRate !== undefined) args.push('-mem-profile-rate', String(opts.memProfileRate));
  if (opts.blockProfileRate !== undefined) args.push('-block-profile-rate', String(opts.blockProfileRate));
  if (opts.mutexProfileFraction !== undefined) args.push('-mutex-profile-fraction', String(opts.mutexProfileFraction));
  const child = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
    stderr = (stderr + chunk).slice(-4000);
  });
  // 'close' comes after the stdio pipes are done too, so nothing stays open.
  const closed = new Promise<void>((resolve) => {
    child.once('close', () => resolve());
    child.once('error', () => resolve());
  });
  const close = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await closed;
  };

  try {
    const port = await new Promise<number>((resolve, reject) => {
      const timer = setTimeout(() => {
        reject(new Error(`go-target did not report listening within ${listenTimeoutMs / 1000} s; stderr: ${stderr}`));
      }, listenTimeoutMs);
      createInterface({ input: child.stdout }).on('line', (line) => {
        const m = /^listening on 127\.0\.0\.1:(\d+)$/.exec(line);
        if (m) {
          clearTimeout(timer);
          resolve(Number(m[1]));
        }
      });
      child.once('error', (err) => {
        clearTimeout(timer);
        reject(err);
      });
      child.once('exit', (code, signal) => {
        clearTimeout(timer);
        reject(new Error(`go-target exited (${signal ?? `code ${code}`}) before listening; stderr: ${stderr}`));
      });
    });
    return { url: `http://127.0.0.1:${port}`, port, close };
  } catch (err) {
    await close();
    throw err;
  }
}

/**
 * Fetches one profile from a net/http/pprof server: `/debug/pprof/<type>`, or
 * for `cpu` (alias `profile`) `/debug/pprof/profile?seconds=<seconds>`.
 * Throws on a non-200 response, quoting the first line of its body.
 */
export async function fetchProfile(url: string, type: string, seconds = 1): Promise<Buffer> {
  const endpoint =
    type === 'cpu' || type === 'profile'
      ? `${url}/debug/pprof/profile?seconds=${seconds}`
      : `${url}/debug/pprof/${type}`;
  const res = await fetch(endpoint, { signal: AbortSignal.timeout((seconds + 30) * 1000) });
  const body = Buffer.from(await res.arrayBuffer());
  if (res.status !== 200) {
    throw new Error(`GET ${endpoint}: HTTP ${res.status}: ${body.toString('utf8').split('\n')[0]}`);
  }
  return body;
}

/**
 * Makes a go-target leak: `POST /debug/grow?chunks=N` allocates N more chunks (of its
 * `growChunkBytes`) in `main.growLeak` and keeps them reachable for good; 0 only asks. Resolves
 * to the bytes the leak holds in all. Throws on a non-200 answer (a negative N, or over 1 GiB at
 * once), quoting its body.
 */
export async function growGoTarget(url: string, chunks: number): Promise<number> {
  const endpoint = `${url}/debug/grow?chunks=${chunks}`;
  const res = await fetch(endpoint, { method: 'POST', signal: AbortSignal.timeout(60_000) });
  const body = (await res.text()).trim();
  if (res.status !== 200) throw new Error(`POST ${endpoint}: HTTP ${res.status}: ${body}`);
  return Number(body);
}

/**
 * Runs `go-target gen` to write n real runtime/pprof profiles of the given
 * kind into outDir (created if missing) as `<kind>-0001.pb.gz`...; stacks vary
 * between profiles, deterministically per seed. Resolves to their absolute
 * paths in order. CPU profiles take about 0.1 s of wall time each.
 */
export async function generateProfiles(
  kind: 'cpu' | 'heap',
  n: number,
  outDir: string,
  opts: GenerateOptions = {},
): Promise<string[]> {
  const bin = await buildGoTarget();
  const args = ['gen', '-kind', kind, '-n', String(n), '-out', path.resolve(outDir)];
  if (opts.seed !== undefined) args.push('-seed', String(opts.seed));
  if (opts.cpuMs !== undefined) args.push('-cpu-ms', String(opts.cpuMs));
  const { stdout } = await run(bin, args);
  const files = stdout.split('\n').filter((line) => line !== '').sort();
  if (files.length !== n) throw new Error(`go-target gen wrote ${files.length} profiles, expected ${n}`);
  return files;
}

/**
 * Runs `go-target derive`: n profiles in outDir, the real ones of fromDir (in name order)
 * unchanged first, then each later one a real one varied (samples dropped, values multiplied,
 * time moved on) with a generator seeded by seed and its index. Resolves to their paths in order.
 */
export async function deriveProfiles(fromDir: string, n: number, outDir: string, seed = 1): Promise<string[]> {
  const bin = await buildGoTarget();
  await run(bin, ['derive', '-from', path.resolve(fromDir), '-n', String(n), '-out', path.resolve(outDir), '-seed', String(seed)]);
  return (await readdir(outDir)).filter((f) => f.endsWith('.pb.gz')).sort().map((f) => path.join(path.resolve(outDir), f));
}

/**
 * Go's own answer for each `[value, ratio]`: `int64(math.Round(float64(value) * ratio))`, what
 * google/pprof's Profile.ScaleN stores (go-target scale). Values are int64 as decimal text or
 * bigint; ratios are sent in JavaScript's shortest round-trip form, which Go parses to the same
 * float64. Results come back as bigints.
 */
export async function goScale(pairs: readonly (readonly [value: number | bigint, ratio: number])[]): Promise<bigint[]> {
  const bin = await buildGoTarget();
  const input = pairs.map(([v, r]) => `${v} ${r}`).join('\n') + '\n';
  const stdout = await new Promise<string>((resolve, reject) => {
    const child = spawn(bin, ['scale'], { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.setEncoding('utf8').on('data', (c: string) => (out += c));
    child.stderr.setEncoding('utf8').on('data', (c: string) => (err += c));
    child.once('error', reject);
    child.once('close', (code) => (code === 0 ? resolve(out) : reject(new Error(`go-target scale failed (${code}): ${err}`))));
    child.stdin.end(input);
  });
  return stdout.trim().split('\n').filter(Boolean).map((line) => BigInt(line));
}

async function isFile(p: string): Promise<boolean> {
  try {
    return (await stat(p)).isFile();
  } catch {
    return false;
  }
}

function run(
  file: string,
  args: string[],
  opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {},
): Promise<{ stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    execFile(file, args, { ...opts, maxBuffer: 256 * 1024 * 1024 }, (err, stdout, stderr) => {
      if (!err) return resolve({ stdout, stderr });
      const how = typeof err.code === 'number' ? `exit code ${err.code}` : (err.signal ?? err.message);
      reject(new Error(`${path.basename(file)} ${args.join(' ')} failed (${how}):\n${stderr}`));
    });
  });
}
