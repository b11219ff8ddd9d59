/**
 * `npm run release` end to end: its plugin.yaml names the archives it built with their sha256,
 * and each archive, installed the way krew installs it (sha256 checked, unpacked, `files`
 * moved, `bin` linked as kubectl-<name>), runs as `kubectl profefe` through real kubectl. The
 * single executable runs with no node on PATH and no node_modules anywhere.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rename, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { load } from 'js-yaml';
import { startGoTarget, type GoTarget } from '../support/go-target.js';
import { startSandbox, type Sandbox } from '../support/sandbox/sandbox.js';

const run = promisify(execFile);
const pkg = JSON.parse(await readFile('package.json', 'utf8'));
const tag = `v${pkg.version}`;
const SEA_ARCHIVE = `kubectl-profefe-${tag}-linux-amd64.tar.gz`;
const BUNDLE_ARCHIVE = `kubectl-profefe-${tag}.tar.gz`;

interface Platform {
  uri: string;
  sha256: string;
  files: { from: string; to: string }[];
  bin: string;
}

let dir: string;
let out: string;
let manifest: { metadata: { name: string }; spec: { version: string; caveats: string; platforms: Platform[] } };
/** A folder with kubectl and nothing else, for a PATH without node. */
let kubectlOnly: string;

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'release-'));
  out = path.join(dir, 'release');
  await run(process.execPath, ['scripts/release.mjs', '--out', out], { maxBuffer: 1 << 24 });
  manifest = load(await readFile(path.join(out, 'plugin.yaml'), 'utf8')) as typeof manifest;
  kubectlOnly = path.join(dir, 'kubectl-only');
  await mkdir(kubectlOnly);
  const kubectl = (await run('sh', ['-c', 'command -v kubectl'])).stdout.trim();
  await symlink(kubectl, path.join(kubectlOnly, 'kubectl'));
}, 180_000);

afterAll(() => rm(dir, { recursive: true, force: true }));

const sha256 = async (file: string) => createHash('sha256').update(await readFile(file)).digest('hex');
const platformFor = (archive: string) => manifest.spec.platforms.find((p) => path.posix.basename(p.uri) === archive)!;

/**
 * Installs `archive` under `prefix` as krew does (internal/installation: install.go, move.go):
 * checks the sha256, unpacks into a staging folder, moves each `files` match into the version's
 * folder, and links `bin` as bin/kubectl-<name>. Returns the bin folder to put on PATH.
 */
async function installAsKrew(archive: string, prefix: string): Promise<string> {
  const platform = platformFor(archive);
  const file = path.join(out, archive);
  if ((await sha256(file)) !== platform.sha256) throw new Error(`${archive}: sha256 mismatch`);
  const staging = path.join(prefix, 'staging');
  await mkdir(staging, { recursive: true });
  await run('tar', ['-xzf', file, '-C', staging]);
  const installDir = path.join(prefix, 'store', manifest.metadata.name, manifest.spec.version);
  await mkdir(installDir, { recursive: true });
  for (const { from, to } of platform.files) {
    const direct = path.join(staging, from);
    if (existsSync(direct)) {
      await rename(direct, path.join(installDir, to === '.' ? path.basename(from) : to));
      continue;
    }
    // krew globs `from`; ours are all DIR/*.
    if (path.posix.basename(from) !== '*') throw new Error(`this installer only knows DIR/* globs, not ${from}`);
    const fromDir = path.join(staging, path.posix.dirname(from));
    for (const name of await readdir(fromDir)) await rename(path.join(fromDir, name), path.join(installDir, to, name));
  }
  const binDir = path.join(prefix, 'bin');
  await mkdir(binDir, { recursive: true });
  const link = path.join(binDir, `kubectl-${manifest.metadata.name.replace(/-/g, '_')}`);
  await symlink(path.relative(binDir, path.join(installDir, platform.bin)), link);
  return binDir;
}

describe('npm run release', () => {
  test('writes plugin.yaml with the sha256 of the archive each platform names, and SHA256SUMS', async () => {
    expect(manifest.spec.platforms.map((p) => path.posix.basename(p.uri)).sort()).toEqual([BUNDLE_ARCHIVE, BUNDLE_ARCHIVE, SEA_ARCHIVE].sort());
    for (const p of manifest.spec.platforms) expect(p.sha256).toBe(await sha256(path.join(out, path.posix.basename(p.uri))));
    const sums = (await readFile(path.join(out, 'SHA256SUMS'), 'utf8')).trim().split('\n');
    for (const line of sums) {
      const [sum, name] = line.split(/\s+/);
      expect(await sha256(path.join(out, name!))).toBe(sum);
    }
    expect(sums.map((l) => l.split(/\s+/)[1]).sort()).toEqual(['kubectl-profefe-linux-amd64', SEA_ARCHIVE, BUNDLE_ARCHIVE, 'plugin.yaml'].sort());
  });

  test('the bundle archive is the npm package under kubectl-profefe/, without source maps', async () => {
    const { stdout } = await run('tar', ['-tzf', path.join(out, BUNDLE_ARCHIVE)]);
    const files = stdout.trim().split('\n').filter((f) => !f.endsWith('/'));
    for (const f of ['bin/kubectl-profefe', 'dist/kubectl-profefe.js', 'dist/merge-worker.js', 'dist/THIRD-PARTY-NOTICES.txt', 'package.json', 'README.md', 'LICENSE']) {
      expect(files).toContain(`kubectl-profefe/${f}`);
    }
    expect(files.filter((f) => !f.startsWith('kubectl-profefe/') || f.endsWith('.map') || f.includes('/src/') || f.includes('node_modules'))).toEqual([]);
  });

  test('installed like krew from the bundle archive, `kubectl profefe version` runs on the node on PATH', async () => {
    const bin = await installAsKrew(BUNDLE_ARCHIVE, path.join(dir, 'krew-bundle'));
    const env = { PATH: [bin, kubectlOnly, path.dirname(process.execPath)].join(path.delimiter), HOME: dir };
    const { stdout } = await run('kubectl', ['profefe', 'version'], { env });
    expect(stdout).toMatch(new RegExp(`^Version: ${tag}\\n`));
    expect(stdout).toContain(`Node.js: ${process.version} (V8 ${process.versions.v8}, `);
    expect((await run('kubectl', ['plugin', 'list'], { env }).catch((e) => e)).stdout).toContain(path.join(bin, 'kubectl-profefe'));
  });

  /** Runs the `cp` line of plugin.yaml's caveats for a krew root at `prefix`: kubectl's completion hook beside the plugin's link. */
  async function copyCompletionHookAsCaveatsSay(prefix: string): Promise<void> {
    const line = manifest.spec.caveats.split('\n').map((l) => l.trim()).find((l) => l.startsWith('cp '));
    if (!line) throw new Error('plugin.yaml caveats say nothing about kubectl_complete-profefe');
    await run('sh', ['-c', line], { env: { PATH: process.env.PATH, HOME: dir, KREW_ROOT: prefix } });
  }

  test('installed like krew from the bundle archive, `kubectl profefe <TAB>` completes once the caveats\' cp is done', async () => {
    const prefix = path.join(dir, 'krew-bundle-completion');
    const bin = await installAsKrew(BUNDLE_ARCHIVE, prefix);
    await copyCompletionHookAsCaveatsSay(prefix);
    const env = { PATH: [bin, kubectlOnly, path.dirname(process.execPath)].join(path.delimiter), HOME: dir };
    const { stdout } = await run('kubectl', ['__complete', 'profefe', 'comp'], { env });
    expect(stdout).toBe('completion\tPrint the shell completion script for bash, zsh or fish\n:4\n');
  });

  describe('the linux-amd64 single executable, installed like krew, with no node on PATH', () => {
    let bin: string;
    let go: GoTarget;
    let sandbox: Sandbox;
    let env: NodeJS.ProcessEnv;

    beforeAll(async () => {
      bin = await installAsKrew(SEA_ARCHIVE, path.join(dir, 'krew-sea'));
      go = await startGoTarget();
      sandbox = await startSandbox({
        pods: [{ namespace: 'shop', name: 'cart-1', annotations: { 'profefe.com/enable': 'true' }, forward: { 6060: { host: '127.0.0.1', port: go.port } } }],
      });
      env = {
        PATH: [bin, kubectlOnly].join(path.delimiter),
        HOME: dir,
        KUBECTL_PROFEFE_HOME: path.join(dir, 'sea-home'),
        KUBECONFIG: await sandbox.writeKubeconfig({ namespace: 'shop' }),
        KUBECACHEDIR: path.join(dir, 'kube-cache'),
      };
    }, 60_000);

    afterAll(async () => {
      await sandbox?.close();
      await go?.close();
    });

    test('`kubectl profefe <TAB>` completes through the hook the caveats copy (no node, no other command on PATH)', async () => {
      await copyCompletionHookAsCaveatsSay(path.join(dir, 'krew-sea'));
      // A generous bound on the API server's answer, so the machine's load cannot change it.
      const { stdout } = await run('kubectl', ['__complete', 'profefe', 'capture', '-n', ''], { env: { ...env, KUBECTL_PROFEFE_COMPLETION_TIMEOUT: '300s' } });
      expect(stdout).toBe('default\tActive\nshop\tActive\n:4\n');
    });

    test('kubectl profefe version says Node.js is built in', async () => {
      await expect(run('sh', ['-c', 'command -v node'], { env })).rejects.toThrow();
      const { stdout } = await run('kubectl', ['profefe', 'version'], { env });
      expect(stdout).toMatch(new RegExp(`^Version: ${tag}\\nCommit: [0-9a-f]{40}`));
      expect(stdout).toContain(`Node.js: ${process.version} (V8 ${process.versions.v8}, built into this executable)`);
    });

    test('captures through the API server, then writes the flame page with d3 inline', async () => {
      const profiles = path.join(dir, 'sea-profiles');
      const capture = await run('kubectl', ['profefe', 'capture', '--type', 'heap', '--output-dir', profiles], { env, timeout: 30_000 });
      expect(capture.stdout).toMatch(/1 of 1 profiles captured from 1 pod/);
      expect(capture.stderr).toBe('');
      const page = path.join(dir, 'sea-page.html');
      const open = await run('kubectl', ['profefe', 'open', path.join(profiles, 'cart-1', 'heap'), '--no-browser', '--output-file', page], { env });
      expect(open.stderr).toMatch(/^wrote the flame graph \(\d+ kB\)/);
      const html = await readFile(page, 'utf8');
      expect(html).toContain('https://d3js.org');
      expect(html).toContain('main.allocRing');
    }, 60_000);
  });
});
