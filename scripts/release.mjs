#!/usr/bin/env node
// `npm run release [-- --out DIR]`: builds what a release publishes into release/ (or DIR):
//
//   kubectl-profefe-v<V>.tar.gz               the npm package's files under kubectl-profefe/: the
//                                             bundle and its launcher, run by node >= 20.19 on PATH
//   kubectl-profefe-v<V>-linux-amd64.tar.gz   kubectl-profefe/bin/kubectl-profefe, a single executable
//                                             with Node.js built in (Node's single executable
//                                             applications: the running node + the bundle, by postject),
//                                             and bin/kubectl_complete-profefe, kubectl's completion hook
//   kubectl-profefe-linux-amd64               that executable on its own
//   plugin.yaml                               the krew manifest: ./plugin.yaml with the archives' sha256
//   SHA256SUMS
//
// Run it on linux/amd64 (the executable is the running node binary) from a clean checkout: the
// commit and its date are built in, so the same commit gives the same bundle archive again.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, copyFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import * as esbuild from 'esbuild';
import postject from 'postject';
import * as tar from 'tar';
import { buildBundle, buildInfo, commonOptions, root, thirdPartyNotices } from './build.mjs';

/** The fuse Node's single executable applications look for (doc/api/single-executable-applications.md). */
const SEA_FUSE = 'NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2';
/**
 * The executable kubectl (>= 1.26) runs to complete `kubectl profefe ...`. Both archives carry it
 * in bin/; krew links only `bin:` into its bin folder, so plugin.yaml's caveats say how to copy it
 * there (krew has no field for a second executable: kubernetes-sigs/krew#812).
 */
const COMPLETION_HOOK = 'kubectl_complete-profefe';
/** What plugin.yaml's sha256 fields hold until a release fills them in. */
export const SHA256_PLACEHOLDER = 'filled in by npm run release';

const sha256 = (file) => createHash('sha256').update(readFileSync(file)).digest('hex');

/** The files `npm pack` puts in the package, as it lists them (dist/ as it is in the checkout). */
function packageFiles() {
  const out = execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  return JSON.parse(out)[0].files.map((f) => f.path).sort();
}

/**
 * A .tar.gz of `files` (relative to `cwd`, directories listed before their contents) that is the
 * same bytes for the same inputs: sorted, one mtime, no owner names.
 */
async function writeTarGz(file, cwd, files, mtime) {
  const entries = new Set();
  for (const f of files) {
    const parts = f.split('/');
    for (let i = 1; i < parts.length; i++) entries.add(parts.slice(0, i).join('/') + '/');
    entries.add(f);
  }
  await tar.c({ file, cwd, gzip: { level: 9 }, portable: true, mtime, noDirRecurse: true }, [...entries].sort());
}

/** The CommonJS script of the single executable: the same sources and options as dist/, in one file. */
async function buildSeaScript(outfile, info) {
  const options = commonOptions(info);
  await esbuild.build({
    ...options,
    absWorkingDir: root,
    stdin: { contents: "import { runFromProcess } from './src/cli/main.ts';\nvoid runFromProcess();\n", resolveDir: root, sourcefile: 'sea-main.ts', loader: 'ts' },
    outfile,
    // Node 20 runs a single executable's script as CommonJS only.
    format: 'cjs',
    // Worker scripts are looked for beside the executable; there are none, so work stays in-process.
    define: { 'import.meta.url': '__importMetaUrl' },
    banner: { js: "const __importMetaUrl = require('node:url').pathToFileURL(__filename).href;" },
  });
}

/** Node.js's own licence, which must travel with a binary that contains it. */
function nodeLicense() {
  const bin = path.dirname(process.execPath);
  const candidates = [process.env.NODE_LICENSE_FILE, path.join(bin, '..', 'LICENSE'), path.join(bin, '..', 'share', 'doc', 'node', 'LICENSE'), path.join(bin, '..', 'share', 'doc', 'nodejs', 'LICENSE')];
  const found = candidates.find((f) => f && existsSync(f));
  if (!found) throw new Error(`cannot find the LICENSE of the Node.js at ${process.execPath} (looked in ${candidates.filter(Boolean).join(', ')}); set NODE_LICENSE_FILE`);
  return readFileSync(found, 'utf8');
}

/** Builds the single executable at `out`: a copy of the running node with the bundle injected. */
async function buildSingleExecutable(out, work, info) {
  // A node built as a shared library (some distributions' packages) keeps the fuse in libnode, not in the executable.
  if (!readFileSync(process.execPath).includes(SEA_FUSE)) {
    throw new Error(`${process.execPath} cannot become a single executable (no ${SEA_FUSE} in it); run the release with the node binary from nodejs.org`);
  }
  const script = path.join(work, 'kubectl-profefe.cjs');
  await buildSeaScript(script, info);
  const blob = path.join(work, 'sea-prep.blob');
  const config = path.join(work, 'sea-config.json');
  // useCodeCache: V8's code cache of the script travels in the executable, so start-up skips compiling it.
  writeFileSync(config, JSON.stringify({ main: script, output: blob, disableExperimentalSEAWarning: true, useCodeCache: true }));
  execFileSync(process.execPath, ['--experimental-sea-config', config], { stdio: ['ignore', 'ignore', 'inherit'] });
  copyFileSync(process.execPath, out);
  chmodSync(out, 0o755);
  await postject.inject(out, 'NODE_SEA_BLOB', readFileSync(blob), { sentinelFuse: SEA_FUSE });
}

/** ./plugin.yaml with each platform's sha256 set from the archive its uri names (comments kept). */
function fillManifest(template, outDir, version) {
  let count = 0;
  const text = template.replace(/^(\s*)uri: (\S+)\n(\s*)sha256: .*$/gm, (_line, indent, uri, shaIndent) => {
    count++;
    const archive = path.join(outDir, path.posix.basename(uri));
    if (!existsSync(archive)) throw new Error(`plugin.yaml names ${path.posix.basename(uri)}, which this release did not build`);
    return `${indent}uri: ${uri}\n${shaIndent}sha256: "${sha256(archive)}"`;
  });
  if (count === 0) throw new Error('plugin.yaml has no `uri:` followed by `sha256:`');
  // The template's opening lines speak of the template; the rest of its comments hold.
  return text.replace(/^# Krew manifest, and the template[^\n]*\n(#[^\n]*\n)*?#\n/, `# Krew manifest of kubectl-profefe ${version}, written by npm run release.\n#\n`);
}

/** Builds every artefact into `outDir`; resolves with their names and sizes. */
export async function release(outDir) {
  if (process.platform !== 'linux' || process.arch !== 'x64') {
    throw new Error(`a release builds the linux-amd64 single executable from the running node, so it runs on linux/x64, not ${process.platform}/${process.arch}`);
  }
  const info = buildInfo();
  if (info.gitTreeState !== 'clean') console.error(`warning: building from a ${info.gitTreeState} tree; \`kubectl profefe version\` will say so`);
  const tag = `v${info.version}`;
  const template = readFileSync(path.join(root, 'plugin.yaml'), 'utf8');
  const manifestVersion = /^\s*version: (\S+)$/m.exec(template)?.[1];
  if (manifestVersion !== tag) throw new Error(`plugin.yaml says version ${manifestVersion} but package.json ${info.version}: make them agree`);

  rmSync(outDir, { recursive: true, force: true });
  mkdirSync(outDir, { recursive: true });
  const work = mkdtempSync(path.join(tmpdir(), 'kubectl-profefe-release-'));
  const mtime = new Date(info.buildDate);
  try {
    // The bundle archive: the npm package under kubectl-profefe/, with a bundle built for it
    // (dist/ of the checkout is left alone: tests may be running it).
    const bundleStage = path.join(work, 'bundle');
    const metafile = await buildBundle({ outdir: path.join(bundleStage, 'kubectl-profefe', 'dist'), info });
    const files = packageFiles().filter((f) => !f.startsWith('dist/'));
    for (const f of files) cpSync(path.join(root, f), path.join(bundleStage, 'kubectl-profefe', f));
    files.push(...readdirSync(path.join(bundleStage, 'kubectl-profefe', 'dist')).map((f) => `dist/${f}`));
    await writeTarGz(path.join(outDir, `kubectl-profefe-${tag}.tar.gz`), bundleStage, files.sort().map((f) => `kubectl-profefe/${f}`), mtime);

    // The single executable, alone and in its archive with the licences of everything inside it.
    const exe = path.join(outDir, 'kubectl-profefe-linux-amd64');
    await buildSingleExecutable(exe, work, info);
    const seaStage = path.join(work, 'sea');
    mkdirSync(path.join(seaStage, 'kubectl-profefe', 'bin'), { recursive: true });
    copyFileSync(exe, path.join(seaStage, 'kubectl-profefe', 'bin', 'kubectl-profefe'));
    chmodSync(path.join(seaStage, 'kubectl-profefe', 'bin', 'kubectl-profefe'), 0o755);
    // kubectl's completion hook: a shell script that runs the executable beside it.
    copyFileSync(path.join(root, 'bin', COMPLETION_HOOK), path.join(seaStage, 'kubectl-profefe', 'bin', COMPLETION_HOOK));
    chmodSync(path.join(seaStage, 'kubectl-profefe', 'bin', COMPLETION_HOOK), 0o755);
    for (const f of ['LICENSE', 'README.md']) copyFileSync(path.join(root, f), path.join(seaStage, 'kubectl-profefe', f));
    const nodeNotice = `${'='.repeat(78)}\nnode ${process.version} (built into the executable)\n${'='.repeat(78)}\n\n${nodeLicense().trim()}\n`;
    writeFileSync(path.join(seaStage, 'kubectl-profefe', 'THIRD-PARTY-NOTICES.txt'), `${thirdPartyNotices(metafile)}\n${nodeNotice}`);
    const seaFiles = ['LICENSE', 'README.md', 'THIRD-PARTY-NOTICES.txt', 'bin/kubectl-profefe', `bin/${COMPLETION_HOOK}`].map((f) => `kubectl-profefe/${f}`);
    await writeTarGz(path.join(outDir, `kubectl-profefe-${tag}-linux-amd64.tar.gz`), seaStage, seaFiles, mtime);

    writeFileSync(path.join(outDir, 'plugin.yaml'), fillManifest(template, outDir, tag));
    const artefacts = readdirSync(outDir).filter((f) => f !== 'SHA256SUMS').sort();
    writeFileSync(path.join(outDir, 'SHA256SUMS'), artefacts.map((f) => `${sha256(path.join(outDir, f))}  ${f}\n`).join(''));
    return [...artefacts, 'SHA256SUMS'].map((name) => ({ name, bytes: statSync(path.join(outDir, name)).size }));
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  const { values } = parseArgs({ options: { out: { type: 'string', default: path.join(root, 'release') } } });
  const outDir = path.resolve(values.out);
  for (const { name, bytes } of await release(outDir)) console.log(`${(bytes / 2 ** 20).toFixed(1).padStart(7)} MB  ${path.join(path.relative(process.cwd(), outDir) || '.', name)}`);
}
