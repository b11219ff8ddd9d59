/**
 * Real kubectl as the launcher: `kubectl profefe ...` finds bin/kubectl-profefe on PATH and
 * passes its arguments through verbatim, with the caller's environment.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { startGoTarget, type GoTarget } from '../support/go-target.js';
import { startSandbox, type Sandbox } from '../support/sandbox/sandbox.js';

const run = promisify(execFile);
let dir: string;
let go: GoTarget;
let sandbox: Sandbox;
let env: NodeJS.ProcessEnv;

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'kubectl-plugin-'));
  go = await startGoTarget();
  sandbox = await startSandbox({
    pods: [{ namespace: 'shop', name: 'cart-1', annotations: { 'profefe.com/enable': 'true' }, forward: { 6060: { host: '127.0.0.1', port: go.port } } }],
  });
  env = {
    PATH: `${path.resolve('bin')}${path.delimiter}${process.env.PATH}`,
    HOME: dir,
    KUBECONFIG: await sandbox.writeKubeconfig({ namespace: 'shop' }),
    KUBECACHEDIR: path.join(dir, 'cache'),
  };
}, 60_000);

afterAll(async () => {
  await sandbox?.close();
  await go?.close();
  await rm(dir, { recursive: true, force: true });
});

describe('kubectl profefe (real kubectl)', () => {
  test('kubectl plugin list finds the plugin', async () => {
    const { stdout } = await run('kubectl', ['plugin', 'list'], { env }).catch((e) => e);
    expect(stdout).toContain(path.resolve('bin/kubectl-profefe'));
  });

  test('kubectl profefe --help names the commands as kubectl profefe', async () => {
    const { stdout } = await run('kubectl', ['profefe', '--help'], { env });
    expect(stdout).toMatch(/kubectl profefe capture/);
    expect(stdout).toMatch(/kubectl profefe merge/);
  });

  test('kubectl profefe version names the commit the bundle was built from', async () => {
    const { stdout } = await run('kubectl', ['profefe', 'version'], { env });
    const pkg = JSON.parse(await readFile('package.json', 'utf8'));
    const head = (await run('git', ['rev-parse', 'HEAD'])).stdout.trim();
    expect(stdout).toMatch(new RegExp(`^Version: v${pkg.version.replace(/\./g, '\\.')}\nCommit: ${head}( \\(dirty\\))?, built \\S+\nNode\\.js: ${process.version}`));
  });

  test('kubectl profefe capture uses the caller\'s KUBECONFIG and namespace, then exits', async () => {
    const out = path.join(dir, 'profiles');
    const { stdout } = await run('kubectl', ['profefe', 'capture', '--type', 'heap,goroutine', '--output-dir', out], { env, timeout: 30_000 });
    expect(stdout).toMatch(/2 of 2 profiles captured from 1 pod/);
    expect((await readdir(path.join(out, 'cart-1'))).sort()).toEqual(['goroutine', 'heap']);
  });

  test('errors keep their exit status through kubectl', async () => {
    const err = await run('kubectl', ['profefe', 'capture', 'nope-1'], { env }).catch((e) => e);
    expect(err.code).toBe(1);
    expect(err.stderr).toMatch(/^error: no pod could be captured \(shop\/nope-1: pod not found/);
  });
});
