/**
 * `npm start` (scripts/demo.mjs) end to end: it builds the real Go demo program, captures it with
 * `capture --url` into a demo store, lists and ranks what it stored, prints the next commands, and
 * stops the program, also when interrupted. Outputs are asserted, never durations or samples.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'demo-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

function startDemo(home: string): { child: ChildProcess; output: () => string; exited: Promise<number | null> } {
  const env = {
    PATH: process.env.PATH,
    HOME: home,
    XDG_DATA_HOME: path.join(home, 'data'),
    // The Go build cache the other tests use (a fresh HOME would compile the standard library again).
    GOCACHE: process.env.GOCACHE || path.join(ROOT, 'test', '.cache', 'gocache'),
    DEMO_SECONDS: '1',
    NO_COLOR: '1',
  };
  const child = spawn(process.execPath, [path.join(ROOT, 'scripts', 'demo.mjs')], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let text = '';
  child.stdout!.setEncoding('utf8').on('data', (c: string) => (text += c));
  child.stderr!.setEncoding('utf8').on('data', (c: string) => (text += c));
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  return { child, output: () => text, exited };
}

/** Whether something accepts connections at host:port now. */
function accepts(hostPort: string): Promise<boolean> {
  const [host, port] = hostPort.split(':');
  return new Promise((resolve) => {
    const s = net.connect({ host, port: Number(port) });
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

describe('npm start (scripts/demo.mjs)', () => {
  test('captures a local Go program into the demo store, shows get and top, prints the next commands, and stops the program', async () => {
    const home = path.join(dir, 'run');
    const demo = startDemo(home);
    const code = await demo.exited;
    const out = demo.output();
    expect(code).toBe(0);
    const store = path.join(home, 'data', 'kubectl-profefe', 'demo', 'store');
    expect(out).toContain(`into the demo store ${store}`);
    expect(out).toMatch(/7 of 7 profiles captured from 1 URL/);
    // get lists every type stored.
    for (const type of ['cpu', 'heap', 'allocs', 'block', 'mutex', 'goroutine', 'threadcreate']) expect(out).toMatch(new RegExp(`^\\w{20}\\s+demo\\s+${type}\\s`, 'm'));
    expect(out).toMatch(/^Type: inuse_space/m);
    expect(out).toMatch(/^Type: cpu/m);
    // The commands printed can be run as they are.
    expect(out).toContain(`./bin/kubectl-profefe open --service demo --type cpu --store-dir ${store}`);
    expect(out).toContain(`./bin/kubectl-profefe get profiles --service demo --store-dir ${store}`);
    expect(await readdir(store)).not.toHaveLength(0);
    const hostPort = /serves net\/http\/pprof at http:\/\/(\S+)\/debug\/pprof/.exec(out)![1]!;
    expect(out).toContain('Stopped the demo program.');
    expect(await accepts(hostPort)).toBe(false);
  }, 240_000);

  test('Ctrl-C stops the Go program and ends the demo', async () => {
    const demo = startDemo(path.join(dir, 'interrupted'));
    // Interrupt once the program listens (during the capture), whenever that is.
    const hostPort = await new Promise<string>((resolve, reject) => {
      const look = () => {
        const m = /serves net\/http\/pprof at http:\/\/(\S+)\/debug\/pprof/.exec(demo.output());
        if (m) resolve(m[1]!);
      };
      demo.child.stdout!.on('data', look);
      void demo.exited.then(() => reject(new Error(`the demo ended before the program listened:\n${demo.output()}`)));
    });
    demo.child.kill('SIGINT');
    expect(await demo.exited).toBe(130);
    expect(demo.output()).toContain('interrupted: stopping the demo program');
    expect(await accepts(hostPort)).toBe(false);
  }, 240_000);
});
