// Flame page benchmark (issue 13, goals 2 and 6): for synthetic and real profiles of 10k, 100k and
// 1.4M samples, the call tree's build time, the page's write time (profile in memory to file on
// disk, its call tree included) and size, and its first render in headless Chromium (navigation
// to the page's ready mark), medians of BENCH_PAGE_RUNS runs (default 5) with their ranges.
// The reference, measured in the same run on the same profile: pprof's own flame graph page
// (`go tool pprof -http`'s /flamegraph, Go's pprof as installed), its request time, size, and
// first render in the same Chromium (navigation to its load event: it draws in an inline script).
//
// Synthetic: random stacks of 8 to 32 frames of 2,000 functions, 140 samples per stack (the
// worst case of test/ui/flame-page-size.test.ts: 1.4M samples over 10,000 stacks, 186k nodes),
// encoded and decoded again as `open` would read it.
// Real: merges of the Go test target's heap profiles (bench/.data/heap-1000, as BENCH=merge).
//
//   BENCH=page npm run bench
//   BENCH_PAGE_SIZES=10000,100000 BENCH_PAGE_KINDS=synthetic BENCH=page npm run bench
//   BENCH_PAGE_PPROF=0 ...            without the reference (pprof's page of 1.4M samples takes a while)
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { chromium } from 'playwright-core';
import { buildBundle } from '../scripts/build.mjs';
import { data, percentile, root } from './common.mjs';

const RUNS = Number(process.env.BENCH_PAGE_RUNS ?? 5);
const SIZES = (process.env.BENCH_PAGE_SIZES ?? '10000,100000,1400000').split(',').map(Number);
const KINDS = (process.env.BENCH_PAGE_KINDS ?? 'synthetic,heap').split(',');
const WITH_PPROF = process.env.BENCH_PAGE_PPROF !== '0';
const SAMPLES_PER_STACK = 140;
const HEAP_PROFILES = 1000;

/** The shipped code (the bundle, the page's assets inlined) for the modules measured, and the synthetic profile. */
async function loadModules() {
  const outdir = path.join(root, 'bench/.build/page');
  await buildBundle({
    outdir,
    entries: {
      'flame-page': 'src/ui/flame-page.ts',
      flame: 'src/pprof/flame.ts',
      pprof: 'src/pprof/index.ts',
      'merge-files': 'src/merge/merge-files.ts',
      synthetic: 'test/support/synthetic-profile.ts',
    },
  });
  const load = (name) => import(path.join(outdir, `${name}.js`));
  const [page, flame, pprof, merge, synthetic] = await Promise.all(['flame-page', 'flame', 'pprof', 'merge-files', 'synthetic'].map(load));
  return { ...page, ...flame, ...pprof, ...merge, ...synthetic };
}

/** The Go target's heap profiles (generated once, like BENCH=merge's). */
function heapProfiles(bin) {
  const dir = path.join(data, `heap-${HEAP_PROFILES}`);
  const have = existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith('.pb.gz')).length : 0;
  if (have < HEAP_PROFILES) {
    rmSync(dir, { recursive: true, force: true });
    console.error(`generating ${HEAP_PROFILES} heap profiles into ${path.relative(root, dir)} (once) ...`);
    execFileSync(bin, ['gen', '-kind', 'heap', '-n', String(HEAP_PROFILES), '-out', dir, '-seed', '7'], { stdio: ['ignore', 'ignore', 'inherit'] });
  }
  return readdirSync(dir).filter((f) => f.endsWith('.pb.gz')).sort().map((f) => path.join(dir, f));
}

/** The merge of the first heap profiles that hold at least `samples` samples between them (merging sums equal stacks: it has far fewer). */
async function heapMerge(m, files, samples) {
  let inputSamples = 0;
  let k = 0;
  while (k < files.length && inputSamples < samples) inputSamples += m.decodeProfile(readFileSync(files[k++])).sample.length;
  return { profile: (await m.mergeProfileFiles(files.slice(0, k))).profile, profiles: k, inputSamples };
}

function launchChromium() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM_PATH || '/usr/bin/chromium',
    args: ['--headless=new', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}

/**
 * Loads a page in a fresh context with every request but the page's own refused; resolves with
 * the milliseconds from navigation to `ready` (evaluated in the page once `selector` is there)
 * and the errors and stray requests seen.
 */
async function firstRender(browser, html, selector, ready) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  const problems = [];
  page.on('pageerror', (err) => problems.push(`pageerror: ${err.message}`));
  const url = 'http://flame-page.test/page.html';
  await page.route('**/*', (route) => {
    if (route.request().url() === url) return route.fulfill({ status: 200, contentType: 'text/html; charset=utf-8', body: html });
    problems.push(`request: ${route.request().url()}`);
    return route.abort('blockedbyclient');
  });
  try {
    await page.goto(url, { timeout: 120_000 });
    await page.waitForSelector(selector, { timeout: 120_000 });
    const ms = await page.evaluate(ready);
    return { ms, problems };
  } finally {
    await context.close();
  }
}

const ourReady = () => globalThis.kubectlProfefe.renderMs;
const loadEventEnd = () => performance.getEntriesByType('navigation')[0].loadEventEnd;

/** `go tool pprof -http` on a profile file; resolves with its URL and a close(). */
function startPprof(file) {
  return new Promise((resolve, reject) => {
    const child = spawn('go', ['tool', 'pprof', '-http=127.0.0.1:', '-no_browser', file], { stdio: ['ignore', 'pipe', 'pipe'] });
    const onLine = (line) => {
      const m = /Serving web UI on (http:\/\/\S+)/.exec(line);
      if (m) resolve({ url: m[1].replace(/\/$/, ''), close: () => new Promise((done) => (child.once('exit', done), child.kill('SIGINT'))) });
    };
    createInterface({ input: child.stdout }).on('line', onLine);
    createInterface({ input: child.stderr }).on('line', onLine);
    child.once('exit', (code) => reject(new Error(`go tool pprof -http exited ${code}`)));
  });
}

/** Median and range of some numbers. */
const stats = (xs) => ({ median: percentile(xs, 50), min: Math.min(...xs), max: Math.max(...xs) });

/** Measures one profile: ours RUNS times, pprof's page RUNS times, interleaved so load on the machine hits both alike. */
async function measureCase(m, browser, dir, name, profile) {
  const pb = path.join(dir, `${name}.pb.gz`);
  writeFileSync(pb, m.encodeProfile(profile));
  const pprof = WITH_PPROF ? await startPprof(pb) : undefined;
  const ours = { tree: [], write: [], render: [], bytes: 0, nodes: 0, problems: [] };
  const ref = { write: [], render: [], bytes: 0, problems: [] };
  try {
    for (let run = 0; run < RUNS; run++) {
      let started = performance.now();
      const tree = m.buildCallTree(profile);
      ours.tree.push(performance.now() - started);
      ours.nodes = tree.nameIndex.length;
      const file = path.join(dir, `${name}.html`);
      started = performance.now();
      ours.bytes = await m.writeFlamePage(file, profile, { profiles: 1 });
      ours.write.push(performance.now() - started);
      const r = await firstRender(browser, readFileSync(file), 'body[data-ready="true"]', ourReady);
      ours.render.push(r.ms);
      ours.problems.push(...r.problems);
      if (pprof) {
        started = performance.now();
        const res = await fetch(`${pprof.url}/ui/flamegraph`);
        const html = Buffer.from(await res.arrayBuffer());
        ref.write.push(performance.now() - started);
        ref.bytes = html.length;
        const p = await firstRender(browser, html, '#chart svg', loadEventEnd);
        ref.render.push(p.ms);
        ref.problems.push(...p.problems);
      }
      console.error(`${name} run ${run + 1}: tree ${ours.tree.at(-1).toFixed(0)} ms, write ${ours.write.at(-1).toFixed(0)} ms, render ${ours.render.at(-1).toFixed(0)} ms` + (pprof ? `; pprof's page ${ref.write.at(-1).toFixed(0)} ms, render ${ref.render.at(-1).toFixed(0)} ms` : ''));
    }
  } finally {
    await pprof?.close();
  }
  return {
    samples: profile.sample.length,
    nodes: ours.nodes,
    tree: stats(ours.tree),
    write: stats(ours.write),
    render: stats(ours.render),
    bytes: ours.bytes,
    problems: [...new Set(ours.problems)],
    ref: pprof ? { write: stats(ref.write), render: stats(ref.render), bytes: ref.bytes, problems: [...new Set(ref.problems)] } : undefined,
  };
}

const seconds = (s) => `${(s.median / 1000).toFixed(2)} s (${(s.min / 1000).toFixed(2)}-${(s.max / 1000).toFixed(2)})`;
const mb = (b) => `${(b / 2 ** 20).toFixed(1)} MB`;
const count = (n) => (n >= 1e6 ? `${(n / 1e6).toFixed(2)}M` : n >= 1e3 ? `${(n / 1e3).toFixed(n >= 1e5 ? 0 : 1)}k` : String(n));

/** Runs the benchmark; prints a markdown table. */
export async function benchPage(bin) {
  const m = await loadModules();
  const dir = mkdtempSync(path.join(tmpdir(), 'bench-page-'));
  const browser = await launchChromium();
  const rows = [];
  try {
    const files = KINDS.includes('heap') ? heapProfiles(bin) : [];
    for (const kind of KINDS) {
      for (const size of SIZES) {
        let profile;
        let what;
        if (kind === 'synthetic') {
          const stacks = Math.round(size / SAMPLES_PER_STACK);
          // Decoded, as `open` has it: every sample with arrays of its own (at 1.4M samples over the
          // default decode limit of 64 MiB inflated).
          profile = m.decodeProfile(m.encodeProfile(m.syntheticHeapProfile(size, stacks)), 'synthetic', { maxInflatedBytes: 2 ** 30 });
          what = `synthetic, ${count(stacks)} stacks`;
        } else {
          const merged = await heapMerge(m, files, size);
          profile = merged.profile;
          what = `Go heap, merge of ${merged.profiles} (${count(merged.inputSamples)} samples)`;
        }
        rows.push({ kind, what, ...(await measureCase(m, browser, dir, `${kind}-${size}`, profile)) });
      }
    }
  } finally {
    await browser.close();
    rmSync(dir, { recursive: true, force: true });
  }

  console.log(`\nflame page (BENCH=page): medians of ${RUNS} runs (min-max); first render = navigation to the ready mark in headless Chromium, 1280x900\n`);
  console.log("| profile | samples (merged) | tree nodes | tree | page written | page size | first render | pprof's page: written | size | first render |");
  console.log('|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
  for (const r of rows) {
    const ref = r.ref ? `${seconds(r.ref.write)} | ${mb(r.ref.bytes)} | ${seconds(r.ref.render)}` : '| |';
    console.log(`| ${r.what} | ${count(r.samples)} | ${count(r.nodes)} | ${seconds(r.tree)} | ${seconds(r.write)} | ${mb(r.bytes)} | ${seconds(r.render)} | ${ref} |`);
  }
  const problems = rows.flatMap((r) => [...r.problems.map((p) => `ours, ${r.what}: ${p}`), ...(r.ref?.problems ?? []).map((p) => `pprof's, ${r.what}: ${p}`)]);
  for (const p of problems) console.log(`\n- ${p}`);
  const worst = rows.find((r) => r.kind === 'synthetic' && r.samples >= 1_400_000);
  if (worst) {
    console.log(`\ngoal 2 (1.4M samples, ${count(worst.nodes)} nodes): page written ${seconds(worst.write)} (goal <= 1 s), first render ${seconds(worst.render)} (goal <= 1 s)` + (worst.ref ? `; pprof's page ${seconds(worst.ref.write)}, first render ${seconds(worst.ref.render)}` : ''));
  }
  console.log('goal 6: page written and first render must grow linearly or better with the samples (compare the rows of a kind).');
}
