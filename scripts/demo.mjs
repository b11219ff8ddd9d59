#!/usr/bin/env node
// `npm start`: kubectl-profefe's main job on this machine, no cluster needed. Builds and starts a
// small Go program serving net/http/pprof (test/support/go-target: CPU work, allocations, block
// and mutex contention), captures it with `capture --url` into a demo local store, shows what is
// stored and the top functions, prints the commands to go on with, and stops the program (also
// on Ctrl-C). Needs Go to build the program.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const cli = path.join(root, 'bin', 'kubectl-profefe');
const source = path.join(root, 'test', 'support', 'go-target');
const SERVICE = 'demo';
const SECONDS = Number(process.env.DEMO_SECONDS || 5);

/** kubectl-profefe's data directory, as src/store/open-store.ts resolves it; the demo keeps its own folder in it. */
function demoDir(env) {
  const data = env.KUBECTL_PROFEFE_HOME || path.join(env.XDG_DATA_HOME || path.join(env.HOME || os.homedir(), '.local', 'share'), 'kubectl-profefe');
  return path.join(data, 'demo');
}

const dir = demoDir(process.env);
const storeDir = path.join(dir, 'store');
const outputDir = path.join(dir, 'profiles');
const bin = path.join(dir, 'bin', process.platform === 'win32' ? 'demo-target.exe' : 'demo-target');
/** Shell words quoted only where they need it, so printed commands can be copied. */
const quote = (s) => (/^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`);
const show = (args) => ['./bin/kubectl-profefe', ...args].map(quote).join(' ');
const step = (text) => process.stdout.write(`\n==> ${text}\n`);

let target;
/** The kubectl-profefe command running now: interrupted with the demo. */
let running;
let stopping = false;
/** Stops the Go program (once) and resolves when it has exited. */
function stopTarget() {
  if (!target || target.exitCode !== null || target.signalCode !== null) return Promise.resolve();
  const exited = new Promise((resolve) => target.once('close', resolve));
  target.kill('SIGTERM');
  return exited;
}
for (const sig of ['SIGINT', 'SIGTERM']) {
  process.on(sig, () => {
    if (stopping) return;
    stopping = true;
    process.stderr.write(`\ninterrupted: stopping the demo program\n`);
    if (running && running.exitCode === null) running.kill('SIGINT');
    void stopTarget().then(() => process.exit(130));
  });
}

/** Runs the CLI with its output on this terminal; resolves with its exit code. */
function runCli(args) {
  return new Promise((resolve) => {
    const child = (running = spawn(process.execPath, [cli, ...args], { stdio: 'inherit', cwd: root }));
    child.on('close', (code) => resolve(code ?? 1));
  });
}

async function main() {
  if (spawnSync('go', ['version'], { stdio: 'ignore' }).error) {
    process.stderr.write('npm start builds a small Go program to profile, and needs Go (1.19 or later) on PATH (https://go.dev/dl/); the tests need it too.\n');
    return 1;
  }
  if (!existsSync(path.join(root, 'dist', 'kubectl-profefe.js'))) {
    process.stderr.write('dist/ is missing: run `npm install` (it builds the CLI) first.\n');
    return 1;
  }
  mkdirSync(path.dirname(bin), { recursive: true });

  step(`Building the demo Go program (${path.relative(root, source)}) into ${bin}`);
  // Standard library only: no network, no toolchain download, no C compiler.
  const env = { ...process.env, GOPROXY: 'off', GOTOOLCHAIN: 'local', GOFLAGS: '', GOWORK: 'off', GO111MODULE: 'on', CGO_ENABLED: '0' };
  // go needs a build cache; without HOME (some CI) it has no default.
  if (!env.GOCACHE && !env.HOME && !env.XDG_CACHE_HOME) env.GOCACHE = path.join(dir, 'gocache');
  const build = spawnSync('go', ['build', '-trimpath', '-o', bin, '.'], { cwd: source, env, stdio: ['ignore', 'inherit', 'inherit'] });
  if (build.status !== 0) {
    process.stderr.write('error: go build failed (see above)\n');
    return 1;
  }

  target = spawn(bin, ['-addr', '127.0.0.1:0'], { stdio: ['ignore', 'pipe', 'inherit'] });
  const url = await new Promise((resolve, reject) => {
    target.once('error', reject);
    target.once('exit', (code, signal) => reject(new Error(`the demo program exited (${signal ?? `code ${code}`}) before listening`)));
    createInterface({ input: target.stdout }).on('line', (line) => {
      const m = /^listening on (\S+)$/.exec(line);
      if (m) resolve(`http://${m[1]}`);
    });
  });
  process.stdout.write(`The demo program serves net/http/pprof at ${url}/debug/pprof (pid ${target.pid}).\n`);

  const captureArgs = ['capture', '--url', url, '--service', SERVICE, '--seconds', String(SECONDS), '--output-dir', outputDir, '--store-dir', storeDir];
  step(`Capturing every profile type over ${SECONDS} s, into the demo store ${storeDir}\n    ${show(captureArgs)}`);
  const captured = await runCli(captureArgs);
  // Profiles are in the store now: the program is no longer needed.
  await stopTarget();
  process.stdout.write('Stopped the demo program.\n');
  if (captured === 1) return 1;

  const getArgs = ['get', 'profiles', '--service', SERVICE, '--store-dir', storeDir];
  step(`What the store holds\n    ${show(getArgs)}`);
  await runCli(getArgs);
  for (const type of ['heap', 'cpu']) {
    const topArgs = ['top', '--service', SERVICE, '--type', type, '--nodes', '8', '--store-dir', storeDir];
    step(`The top functions (${type})\n    ${show(topArgs)}`);
    await runCli(topArgs);
  }

  step('Next, on your own');
  const next = [
    ['The flame graph of the CPU profiles, in your browser', ['open', '--service', SERVICE, '--type', 'cpu', '--store-dir', storeDir]],
    ['Allocations over the window (the allocs deltas)', ['top', '--service', SERVICE, '--type', 'allocs', '--store-dir', storeDir]],
    ['Your own Go program (import _ "net/http/pprof", listening on :6060)', ['capture', '--url', 'http://localhost:6060', '--service', 'myapp']],
    ['Pods of a cluster (annotated profefe.com/enable=true)', ['capture', '-n', 'NAMESPACE']],
  ];
  for (const [what, args] of next) process.stdout.write(`  # ${what}\n  ${show(args)}\n`);
  process.stdout.write(`\nThe profiles are also files under ${outputDir} (go tool pprof reads them).\n`);
  return captured;
}

main().then(
  (code) => {
    process.exitCode = code;
    return stopTarget();
  },
  async (err) => {
    process.stderr.write(`error: ${err.message}\n`);
    process.exitCode = 1;
    await stopTarget();
  },
);
