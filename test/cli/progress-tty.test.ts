/**
 * Progress on a real terminal: `capture --url` of a real Go program, run by util-linux `script`
 * in a pseudo-terminal of 0 columns (as under `script -qc` and some CI consoles, where ora used to
 * write cursor-up codes for ever) and of 80. The output is bounded (a runaway is killed at 4 MiB
 * and fails the test), the spinner stops before the summary, and NO_COLOR means no colour at all.
 */
import { spawn } from 'node:child_process';
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startGoTarget, type GoTarget } from '../support/go-target.js';
import { startSandbox, type Sandbox } from '../support/sandbox/sandbox.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const LAUNCHER = path.join(ROOT, 'bin/kubectl-profefe');
/** Far more than a capture's progress and summary: beyond it the output is running away. */
const RUNAWAY_BYTES = 4 * 1024 * 1024;
/** SGR, the escape sequences that colour text (ESC [ ... m). */
const SGR = /\x1b\[[0-9;]*m/;
/** Cursor up (ESC [ n A) and ora's frames' line clearing. */
const CURSOR_UP = /\x1b\[\d*A/;

let go: GoTarget;
let dir: string;
let sandbox: Sandbox;
let kubeconfig: string;

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'progress-tty-'));
  go = await startGoTarget({ load: 0 });
  sandbox = await startSandbox({
    pods: [{ namespace: 'shop', name: 'api-1', annotations: { 'profefe.com/enable': 'true', 'profefe.com/service': 'api' }, forward: { 6060: { host: '127.0.0.1', port: go.port } } }],
  });
  kubeconfig = await sandbox.writeKubeconfig({ namespace: 'shop' });
}, 60_000);

afterAll(async () => {
  await sandbox?.close();
  await go?.close();
  await rm(dir, { recursive: true, force: true });
});

const quote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

/**
 * Runs `kubectl profefe ARGS` in a pseudo-terminal `cols` wide (stdout and stderr both the
 * terminal, as for a person); resolves with the exit code and everything the terminal got.
 */
function runInTerminal(cols: number, args: string[], env: Record<string, string>, onOutput?: (soFar: string) => void): Promise<{ code: number | null; output: string; runaway: boolean }> {
  const command = `stty cols ${cols} rows 24 && exec ${[process.execPath, LAUNCHER, ...args].map(quote).join(' ')}`;
  // A clean environment: no CI (which turns progress off, as ora's is-interactive does), a real TERM.
  const child = spawn('script', ['-qec', command, '/dev/null'], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', SHELL: '/bin/sh', TERM: 'xterm-256color', ...env },
  });
  const chunks: Buffer[] = [];
  let bytes = 0;
  let runaway = false;
  child.stdout.on('data', (c: Buffer) => {
    bytes += c.length;
    if (bytes <= RUNAWAY_BYTES) {
      chunks.push(c);
      onOutput?.(Buffer.concat(chunks).toString('utf8'));
    }
    else if (!runaway) {
      runaway = true;
      child.kill('SIGKILL');
    }
  });
  child.stderr.on('data', (c: Buffer) => chunks.push(c));
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, output: Buffer.concat(chunks).toString('utf8'), runaway }));
  });
}

const captureArgs = (name: string) => ['capture', '--url', go.url, '--type', 'heap,goroutine', '--seconds', '1', '--output-dir', path.join(dir, name, 'profiles')];
const envFor = (name: string, extra: Record<string, string> = {}) => ({ HOME: path.join(dir, name, 'home'), KUBECTL_PROFEFE_HOME: path.join(dir, name, 'data'), ...extra });

describe('capture on a terminal', () => {
  test('of 0 columns finishes, shows no spinner and no cursor motion, and prints the summary', async () => {
    const r = await runInTerminal(0, captureArgs('cols0'), envFor('cols0', { NO_COLOR: '1' }));
    expect(r.runaway).toBe(false);
    expect(r.code).toBe(0);
    expect(r.output).toContain('2 of 2 profiles captured from 1 URL');
    expect(r.output).not.toContain('capturing:');
    expect(r.output).not.toMatch(CURSOR_UP);
    expect(r.output).not.toMatch(SGR);
  });

  test('of 80 columns shows the spinner, stops it before the summary, and has no colour with NO_COLOR', async () => {
    const r = await runInTerminal(80, captureArgs('cols80'), envFor('cols80', { NO_COLOR: '1' }));
    expect(r.runaway).toBe(false);
    expect(r.code).toBe(0);
    const summary = r.output.indexOf('2 of 2 profiles captured from 1 URL');
    expect(summary).toBeGreaterThan(0);
    expect(r.output).toContain('capturing: 0/1 URLs done, 0/2 profiles');
    // Stopped: no frame after the summary, and the cursor shown again (ESC [ ? 25 h) before it.
    expect(r.output.lastIndexOf('capturing:')).toBeLessThan(summary);
    expect(r.output.lastIndexOf('\x1b[?25h')).toBeGreaterThan(r.output.lastIndexOf('capturing:'));
    expect(r.output).not.toMatch(SGR);
  });

  test('of 80 columns colours the spinner when colour is allowed', async () => {
    const r = await runInTerminal(80, captureArgs('colour'), envFor('colour'));
    expect(r.code).toBe(0);
    expect(r.output).toMatch(SGR);
  });

  test.each([
    ['--no-progress', ['--no-progress'], {}],
    ['TERM=dumb', [], { TERM: 'dumb' }],
    ['CI set', [], { CI: 'true' }],
  ])('of 80 columns shows no progress with %s', async (name, flags, extra) => {
    const r = await runInTerminal(80, [...captureArgs(`off-${name}`), ...flags], envFor(`off-${name}`, extra));
    expect(r.runaway).toBe(false);
    expect(r.code).toBe(0);
    expect(r.output).toContain('2 of 2 profiles captured from 1 URL');
    expect(r.output).not.toContain('capturing:');
    if (name === 'TERM=dumb') expect(r.output).not.toMatch(SGR);
  });
});

describe('a store query on a terminal', () => {
  test('shows its progress line once it has taken a second, and stops it when the answer comes', async () => {
    // A profefe store that answers only once the terminal shows the progress line: no clock involved.
    const held: ServerResponse[] = [];
    let released = false;
    const answer = (res: ServerResponse) => {
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify({ code: 200, body: ['api', 'web'] }));
    };
    const store = createServer((req, res) => {
      req.resume();
      if (released) answer(res);
      else held.push(res);
    });
    await new Promise<void>((r) => store.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(store.address() as AddressInfo).port}`;
    try {
      const r = await runInTerminal(80, ['get', 'services', '--profefe-hostport', url], envFor('query', { NO_COLOR: '1' }), (soFar) => {
        if (released || !soFar.includes(`asking profefe at ${url}`)) return;
        released = true;
        held.splice(0).forEach(answer);
      });
      expect(r.runaway).toBe(false);
      expect(r.code).toBe(0);
      expect(released).toBe(true);
      expect(r.output).toMatch(/NAME\r\napi\r\nweb\r\n/);
      // The answer is written with the line cleared first (ora redraws below it); at the end the
      // line is cleared (ESC [ 0 K) and the cursor shown: nothing but escape codes after the last frame.
      const afterLastFrame = r.output.slice(r.output.lastIndexOf('asking profefe'));
      expect(afterLastFrame).toContain('\x1b[0K');
      expect(afterLastFrame).toContain('\x1b[?25h');
      expect(afterLastFrame.replace(/\x1b\[[?0-9;]*[A-Za-z]/g, '')).toBe(`asking profefe at ${url}`);
      expect(r.output).not.toMatch(SGR);
    } finally {
      await new Promise<void>((r) => store.close(() => r()));
    }
  });
});

describe('a collect round on a terminal', () => {
  test('shows the round\'s progress, and clears it once the round is over', async () => {
    const r = await runInTerminal(80, ['collect', '--once', '--connect', 'port-forward', '-n', 'shop', '--type', 'heap,goroutine', '--seconds', '1'], envFor('collect', { NO_COLOR: '1', KUBECONFIG: kubeconfig }));
    expect(r.runaway).toBe(false);
    expect(r.code).toBe(0);
    // The heap profile of an idle program may hold no samples yet (then the store refuses it): progress is what is tested here.
    expect(r.output).toMatch(/round: [12] of 2 profiles from 1 pods/);
    expect(r.output).toContain('round 1: ');
    const afterLastFrame = r.output.slice(r.output.lastIndexOf('round 1: '));
    expect(afterLastFrame).toContain('\x1b[?25h');
    expect(afterLastFrame.replace(/\x1b\[[?0-9;]*[A-Za-z]/g, '')).toMatch(/^round 1: [^\n]*$/);
    expect(r.output).not.toMatch(SGR);
  });
});
