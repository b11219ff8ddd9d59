/**
 * kubectl-profefe as a child process (the built dist/, as users run it), with test/support/
 * child-stats.mjs preloaded so that tests can read its peak RSS and event-loop delay.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const LAUNCHER = path.join(ROOT, 'bin/kubectl-profefe');
const STATS = pathToFileURL(path.join(ROOT, 'test/support/child-stats.mjs')).href;

/** What child-stats.mjs measured. */
export interface ChildStats {
  /** Peak resident set of the whole process (every thread), in MiB. */
  readonly peakRssMiB: number;
  /** Main thread's longest event-loop delay since the last SIGUSR2, in ms. */
  readonly loopDelayMaxMs: number;
  readonly loopDelayP99Ms: number;
  /** Share of the time since the last SIGUSR2 (0-1) the main thread was busy, not waiting for events. */
  readonly loopUtilization: number;
  /**
   * The main thread's longest run on a CPU between two turns of a 10 ms timer since the last
   * SIGUSR2: a stall of its own making, which waiting for a CPU on a loaded machine does not
   * lengthen (loopDelayMaxMs does). Linux only; 0 elsewhere.
   */
  readonly loopCpuMaxMs: number;
}

/**
 * The longest stall of a child's event loop that its own main thread caused: loopCpuMaxMs where
 * Linux measures it, else the event-loop delay (which also counts waiting for a CPU).
 */
export function ownStallMs(stats: ChildStats): number {
  return stats.loopCpuMaxMs > 0 ? stats.loopCpuMaxMs : stats.loopDelayMaxMs;
}

export interface CliChild {
  readonly child: ChildProcess;
  /** stdout and stderr so far. */
  stdout(): string;
  stderr(): string;
  /** Resolves with the exit code (or the signal) and the stats once the process has exited. */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; stats: ChildStats | undefined }>;
  /** Resolves with the first match of `re` in stderr (rejects if the process exits first). */
  waitForStderr(re: RegExp): Promise<RegExpExecArray>;
  /**
   * Closes a measuring window in the child (SIGUSR2) and resolves with its stats: the event-loop
   * delay since the previous call (or the start). The first call only opens the first window.
   */
  measureWindow(): Promise<ChildStats>;
}

/** Starts `kubectl-profefe ARGS` with `env` (PATH and HOME added) and stats collection. */
export function startCli(args: string[], env: NodeJS.ProcessEnv = {}): CliChild {
  const dir = mkdtempSync(path.join(tmpdir(), 'cli-child-'));
  const statsFile = path.join(dir, 'stats.json');
  const child = spawn(process.execPath, ['--import', STATS, LAUNCHER, ...args], {
    env: { PATH: process.env.PATH, HOME: dir, ...env, CHILD_STATS_FILE: statsFile },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  let windows = 0;
  const waiters: (() => void)[] = [];
  let done = false;
  child.stdout!.setEncoding('utf8').on('data', (c: string) => (out += c));
  child.stderr!.setEncoding('utf8').on('data', (c: string) => {
    err += c;
    for (const w of waiters) w();
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; stats: ChildStats | undefined }>((resolve) => {
    child.once('close', (code, signal) => {
      let stats: ChildStats | undefined;
      try {
        stats = JSON.parse(readFileSync(statsFile, 'utf8')) as ChildStats;
      } catch {
        stats = undefined; // killed: no exit handler ran
      }
      rmSync(dir, { recursive: true, force: true });
      done = true;
      for (const w of waiters) w();
      resolve({ code, signal, stats });
    });
  });
  return {
    child,
    async measureWindow() {
      const target = `${statsFile}.window-${++windows}`;
      child.kill('SIGUSR2');
      for (let i = 0; i < 500; i++) {
        try {
          return JSON.parse(readFileSync(target, 'utf8')) as ChildStats;
        } catch {
          await new Promise((r) => setTimeout(r, 10));
        }
      }
      throw new Error(`the child wrote no stats window to ${target}`);
    },
    stdout: () => out,
    stderr: () => err,
    exited,
    waitForStderr(re) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const m = re.exec(err);
          if (m) resolve(m);
          else if (done) reject(new Error(`the process exited before ${re} appeared on stderr: ${err}`));
          else return false;
          return true;
        };
        if (!check()) waiters.push(() => void check());
      });
    },
  };
}

/** `serve` over `storeDir` on 127.0.0.1 (a free port unless `extraArgs` has --port); resolves once it listens. */
export async function startServeChild(storeDir: string, extraArgs: string[] = [], env: NodeJS.ProcessEnv = {}): Promise<CliChild & { url: string }> {
  const port = extraArgs.includes('--port') ? [] : ['--port', '0'];
  const cli = startCli(['serve', ...port, '--store-dir', storeDir, ...extraArgs], env);
  const m = await cli.waitForStderr(/serving the profefe API at (http:\/\/\S+) /);
  return Object.assign(cli, { url: m[1]! });
}
