#!/usr/bin/env node
// `npm run build`: bundles the CLI with esbuild into dist/ (ESM, code splitting), the form the
// npm package and the krew archive ship and bin/kubectl-profefe runs. tsc only typechecks
// (`npm run typecheck`); the tests run the TypeScript sources and, where they say so, this bundle.
//
// What the bundle is:
//   dist/kubectl-profefe.js   the entry: main.ts, yargs and each command's --help line
//   dist/<name>-<hash>.js     chunks, each loaded by the first command that needs it (client-node
//                             only for capture and collect, the flame page only for open and diff --html)
//   dist/<name>-worker.js     worker threads, beside the chunks that start them
//   dist/THIRD-PARTY-NOTICES.txt  the licences of the packages bundled in
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import * as esbuild from 'esbuild';

export const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(path.join(root, 'package.json'));

/**
 * The worker scripts: each `new URL('./NAME.js', import.meta.url)` in src/ names src/<dir>/NAME.ts.
 * They become entries of their own, written flat into dist/ like the chunks, so the URL made
 * relative to whichever chunk holds the caller finds them.
 */
export function workerEntries() {
  const entries = {};
  const visit = (dir) => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const file = path.join(dir, e.name);
      if (e.isDirectory()) visit(file);
      else if (e.name.endsWith('.ts')) {
        for (const [, name] of readFileSync(file, 'utf8').matchAll(/new URL\('\.\/([\w-]+)\.js', import\.meta\.url\)/g)) {
          const source = path.join(dir, `${name}.ts`);
          if (!existsSync(source)) throw new Error(`${path.relative(root, file)} starts ./${name}.js, but there is no ${path.relative(root, source)}`);
          if (entries[name] && entries[name] !== source) throw new Error(`two workers are called ${name}: ${entries[name]} and ${source}`);
          entries[name] = source;
        }
      }
    }
  };
  visit(path.join(root, 'src'));
  return entries;
}

/** What `kubectl profefe version` reports; the date is the commit's, so a clean tree builds the same bytes again. */
export function buildInfo() {
  const { version } = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8'));
  const git = (...args) => execFileSync('git', args, { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  try {
    const gitCommit = git('rev-parse', 'HEAD');
    const dirty = git('status', '--porcelain', '--untracked-files=no') !== '';
    return { version, gitCommit, gitTreeState: dirty ? 'dirty' : 'clean', buildDate: dirty ? new Date().toISOString().replace(/\.\d+Z$/, 'Z') : git('log', '-1', '--format=%cI', 'HEAD') };
  } catch {
    return { version, gitCommit: 'unknown', gitTreeState: 'unknown', buildDate: new Date().toISOString().replace(/\.\d+Z$/, 'Z') };
  }
}

/** Packages whose files the flame page inlines as text (not bundled code, so not in the metafile). */
const PAGE_LIBRARIES = ['d3', 'd3-flame-graph'];
/** An installed package's folder: up from its main file to its package.json (most do not export it). */
function packageDir(pkg) {
  for (let dir = path.dirname(require.resolve(pkg)); dir !== path.dirname(dir); dir = path.dirname(dir)) {
    const manifest = path.join(dir, 'package.json');
    if (existsSync(manifest) && JSON.parse(readFileSync(manifest, 'utf8')).name === pkg) return dir;
  }
  throw new Error(`cannot find the package.json of ${pkg}`);
}

/** The texts the flame page inlines, as src/report/flame-page-assets.ts reads them from the sources. */
function flamePageAssets() {
  const own = (name) => readFileSync(path.join(root, 'src/report/flame-page', name), 'utf8');
  const library = (pkg, file) => readFileSync(path.join(path.dirname(require.resolve(pkg)), file), 'utf8');
  return {
    template: own('page.html'),
    css: own('page.css'),
    format: own('go-format.js'),
    js: own('page.js'),
    d3: library('d3', 'd3.min.js'),
    flamegraph: library('d3-flame-graph', 'd3-flamegraph.umd.min.js'),
  };
}

/** Replaces src/report/flame-page-assets.ts with a module that holds the texts (its own chunk, loaded by the page only). */
const inlineFlamePageAssets = {
  name: 'inline-flame-page-assets',
  setup(build) {
    build.onLoad({ filter: /[\\/]src[\\/]report[\\/]flame-page-assets\.ts$/ }, () => ({
      contents: `const assets = ${JSON.stringify(flamePageAssets())};\nexport async function loadFlamePageAssets() { return assets; }\n`,
      loader: 'js',
    }));
  },
};

/** Replaces src/report/trend-page-assets.ts with a module that holds the trend page's texts, as it reads them from the sources. */
const inlineTrendPageAssets = {
  name: 'inline-trend-page-assets',
  setup(build) {
    build.onLoad({ filter: /[\\/]src[\\/]report[\\/]trend-page-assets\.ts$/ }, () => {
      const read = (name) => readFileSync(path.join(root, 'src/report', name), 'utf8');
      const assets = { template: read('trend-page/page.html'), css: read('trend-page/page.css'), format: read('flame-page/go-format.js'), js: read('trend-page/page.js') };
      return { contents: `const assets = ${JSON.stringify(assets)};\nexport async function loadTrendPageAssets() { return assets; }\n`, loader: 'js' };
    });
  },
};

/** Replaces src/build-info.ts with the values of this build. */
function inlineBuildInfo(info) {
  return {
    name: 'inline-build-info',
    setup(build) {
      build.onLoad({ filter: /[\\/]src[\\/]build-info\.ts$/ }, () => ({ contents: `export const BUILD_INFO = ${JSON.stringify(info)};\n`, loader: 'js' }));
    },
  };
}

/**
 * Optional packages that bundled code tries inside try/catch and works without (ws' native
 * add-ons, node-fetch's `encoding`): in the bundle they are modules that throw, so nothing looks
 * for them on disk (the single executable's require would warn that it cannot).
 */
const OPTIONAL_PACKAGES = ['bufferutil', 'utf-8-validate', 'encoding'];
const leaveOutOptionalPackages = {
  name: 'leave-out-optional-packages',
  setup(build) {
    const filter = new RegExp(`^(${OPTIONAL_PACKAGES.join('|')})$`);
    build.onResolve({ filter }, (args) => ({ path: args.path, namespace: 'left-out' }));
    build.onLoad({ filter: /.*/, namespace: 'left-out' }, (args) => ({
      contents: `throw new Error(${JSON.stringify(`${args.path} is not bundled into kubectl-profefe`)});`,
      loader: 'js',
    }));
  },
};

/**
 * esbuild options shared by the ESM bundle and the single executable's script. CommonJS
 * packages inside an ESM bundle call `require` for Node's built-ins: the banner gives them one.
 */
export function commonOptions(info = buildInfo()) {
  return {
    bundle: true,
    platform: 'node',
    target: 'node20.19',
    minify: true,
    // Function and class names stay, for the stack of an internal error.
    keepNames: true,
    legalComments: 'none',
    logLevel: 'warning',
    plugins: [inlineBuildInfo(info), inlineFlamePageAssets, inlineTrendPageAssets, leaveOutOptionalPackages],
  };
}

/**
 * Builds the ESM bundle into `outdir` (emptied first); resolves with esbuild's metafile.
 * `entries` (output name: source) default to the CLI; the workers are always added.
 * @param {{ outdir?: string, info?: ReturnType<typeof buildInfo>, entries?: Record<string, string> }} [options]
 */
export async function buildBundle({ outdir = path.join(root, 'dist'), info = buildInfo(), entries = { 'kubectl-profefe': 'src/cli/main.ts' } } = {}) {
  rmSync(outdir, { recursive: true, force: true });
  const result = await esbuild.build({
    ...commonOptions(info),
    absWorkingDir: root,
    entryPoints: { ...entries, ...workerEntries() },
    outdir,
    format: 'esm',
    splitting: true,
    entryNames: '[name]',
    chunkNames: '[name]-[hash]',
    banner: { js: "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);" },
    metafile: true,
  });
  writeFileSync(path.join(outdir, 'THIRD-PARTY-NOTICES.txt'), thirdPartyNotices(result.metafile));
  return result.metafile;
}

/** The name, version, licence and licence text of every package with code or text in the bundle. */
export function thirdPartyNotices(metafile) {
  const dirs = new Set(PAGE_LIBRARIES.map(packageDir));
  for (const output of Object.values(metafile.outputs)) {
    for (const [input, { bytesInOutput }] of Object.entries(output.inputs)) {
      const m = /^(.*node_modules\/(?:@[^/]+\/)?[^/]+)\//.exec(input);
      if (m && bytesInOutput > 0) dirs.add(path.join(root, m[1]));
    }
  }
  const sections = [...dirs].map((dir) => {
    const pkg = JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8'));
    const licenseFile = readdirSync(dir).find((f) => /^licen[cs]e(\.md|\.txt)?$/i.test(f));
    const text = licenseFile ? readFileSync(path.join(dir, licenseFile), 'utf8').trim() : `(no licence file in the package; package.json says ${pkg.license})`;
    return { name: pkg.name, version: pkg.version, license: pkg.license ?? 'UNKNOWN', text };
  });
  sections.sort((a, b) => a.name.localeCompare(b.name) || a.version.localeCompare(b.version));
  const unique = sections.filter((s, i) => i === 0 || s.name !== sections[i - 1].name || s.version !== sections[i - 1].version);
  return (
    'kubectl-profefe bundles code from these packages, under these licences.\n\n' +
    unique.map((s) => `${'='.repeat(78)}\n${s.name} ${s.version} (${s.license})\n${'='.repeat(78)}\n\n${s.text}\n`).join('\n')
  );
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  const metafile = await buildBundle();
  const outputs = Object.entries(metafile.outputs);
  const total = outputs.reduce((n, [, o]) => n + o.bytes, 0);
  console.error(`dist/: ${outputs.length} files, ${(total / 2 ** 20).toFixed(1)} MB`);
}
