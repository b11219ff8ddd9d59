// Shared by the benchmarks: paths, the Go target binary, and measuring a child process.
import { execFileSync, spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync } from 'node:fs';
import path from 'node:path';
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
