// Flame page benchmark (issue 13, goals 2 and 6): for synthetic and real profiles of 10k, 100k and
// 1.4M samples, the call tree's build time, the page's write time (profile in memory to file on
// disk, its call tree included) and size, and its first render in headless Chromium (navigation
// to the first drawing painted: the page's ready mark), medians of BENCH_PAGE_RUNS runs (default
// 5) with their ranges, in wall-clock and in CPU time. Both pages are served to Chromium by an
// HTTP server on 127.0.0.1; each of our steps starts after a full garbage collection (the profile
// stays live through all runs: other steps' garbage is not ours to collect).
// The reference, measured in the same run on the same profile: pprof's own flame graph page
// (`go tool pprof -http`'s /flamegraph, Go's pprof as installed), its request time, size, and
// first render in the same Chromium (navigation to the frame painted after its load event: it
// draws in an inline script).
//
// Synthetic: random stacks of 8 to 32 frames of 2,000 functions, 140 samples per stack (the
// worst case of test/report/flame-page-size.test.ts: 1.4M samples over 10,000 stacks, 186k nodes),
// encoded and decoded again as `open` would read it.
// Real: merges of the Go test target's heap profiles (bench/.data/heap-1000, as BENCH=merge).
//
//   BENCH=page npm run bench
//   BENCH_PAGE_SIZES=10000,100000 BENCH_PAGE_KINDS=synthetic BENCH=page npm run bench
//   BENCH_PAGE_PPROF=0 ...            without the reference (pprof's page of 1.4M samples takes a while)
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { cpus, loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { PerformanceObserver } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import v8 from 'node:v8';
import vm from 'node:vm';
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
      'flame-page': 'src/report/flame-page.ts',
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
 * Loads a page in a fresh context, served by an HTTP server on 127.0.0.1 (as `go tool pprof -http`
 * serves its own: the bytes reach Chromium through its network stack, not through the DevTools
 * protocol), with every other request refused; resolves with
 * the milliseconds from navigation to `ready` (a function evaluated in the page until it gives them),
 * the CPU time Chromium's renderer and GPU processes spent until then (what the load costs
 * without the waiting a shared machine adds), and the errors and stray requests seen.
 */
async function firstRender(browser, cdp, html, ready) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  const problems = [];
  page.on('pageerror', (err) => problems.push(`pageerror: ${err.message}`));
  const server = createServer((req, res) => res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'content-length': html.length }).end(html));
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${server.address().port}/page.html`;
  await page.route('**/*', (route) => {
    if (route.request().url() === url) return route.continue();
    problems.push(`request: ${route.request().url()}`);
    return route.abort('blockedbyclient');
  });
  // Both pages draw in inline scripts before their load event: the drawing is painted in the frame after it.
  await page.addInitScript(() => addEventListener('load', () => requestAnimationFrame(() => setTimeout(() => (globalThis.firstPaintMs = performance.now())))));
  try {
    const before = await pageProcessesCpu(cdp);
    await page.goto(url, { timeout: 120_000 });
    await page.waitForFunction(ready, undefined, { timeout: 120_000, polling: 20 });
    const after = await pageProcessesCpu(cdp);
    const ms = await page.evaluate(ready);
    let cpuMs = 0;
    for (const [id, t] of after) cpuMs += (t - (before.get(id) ?? 0)) * 1000;
    return { ms, cpuMs, problems };
  } finally {
    await context.close();
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
}

/** CPU seconds of Chromium's renderer and GPU processes, by process id. */
async function pageProcessesCpu(cdp) {
  const { processInfo } = await cdp.send('SystemInfo.getProcessInfo');
  return new Map(processInfo.filter((p) => p.type === 'renderer' || p.type === 'GPU').map((p) => [p.id, p.cpuTime]));
}

/** CPU milliseconds a process and its descendants have used (utime + stime from /proc, 10 ms steps). */
function processTreeCpuMs(pid) {
  let ms = 0;
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /, '').split(' ');
    ms = ((Number(fields[11]) + Number(fields[12])) * 1000) / 100;
    for (const child of readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').split(' ').filter(Boolean)) ms += processTreeCpuMs(Number(child));
  } catch {
    // gone
  }
  return ms;
}

// A full garbage collection before each step measured here: the profile's decoded objects (about
// 800 MB at 1.4M samples) stay live through every run, so the garbage one step leaves (pprof's
// 46 MB page passing through, the previous run's tree) would otherwise be marked and swept in
// the next step's time. The garbage collections inside a step are its own, and are counted.
v8.setFlagsFromString('--expose-gc');
const collectGarbage = vm.runInNewContext('gc');
const gcPauses = [];
new PerformanceObserver((list) => gcPauses.push(...list.getEntries().map((e) => ({ start: e.startTime, ms: e.duration })))).observe({ entryTypes: ['gc'] });
/** Milliseconds of garbage collection pauses on this thread that started between two performance.now() times. */
const gcPausesBetween = async (from, to) => {
  await new Promise((r) => setTimeout(r, 50)); // the observer is called back asynchronously
  return gcPauses.filter((p) => p.start >= from && p.start <= to).reduce((sum, p) => sum + p.ms, 0);
};

/** This process's CPU time, all threads (V8's garbage collector's included). */
const ownCpuMs = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};

// The ready marks: navigation to the first frame painted after the load event (both pages draw
// in inline scripts, before it), once the graph is there; undefined until then.
const ourReady = () => (document.querySelector('#flame-graph svg') ? globalThis.firstPaintMs : undefined);
const pprofReady = () => (document.querySelector('#chart svg') ? globalThis.firstPaintMs : undefined);

/** `go tool pprof -http` on a profile file; resolves with its URL and a close(). */
function startPprof(file) {
  return new Promise((resolve, reject) => {
    const child = spawn('go', ['tool', 'pprof', '-http=127.0.0.1:', '-no_browser', file], { stdio: ['ignore', 'pipe', 'pipe'] });
    const onLine = (line) => {
      const m = /Serving web UI on (http:\/\/\S+)/.exec(line);
      if (m) resolve({ url: m[1].replace(/\/$/, ''), pid: child.pid, close: () => new Promise((done) => (child.once('exit', done), child.kill('SIGINT'))) });
    };
    createInterface({ input: child.stdout }).on('line', onLine);
    createInterface({ input: child.stderr }).on('line', onLine);
    child.once('exit', (code) => reject(new Error(`go tool pprof -http exited ${code}`)));
  });
}

/** Median and range of some numbers. */
const stats = (xs) => ({ median: percentile(xs, 50), min: Math.min(...xs), max: Math.max(...xs) });

/** Measures one profile: ours RUNS times, pprof's page RUNS times, interleaved so load on the machine hits both alike. */
async function measureCase(m, browser, cdp, dir, name, profile) {
  const pb = path.join(dir, `${name}.pb.gz`);
  writeFileSync(pb, m.encodeProfile(profile));
  const pprof = WITH_PPROF ? await startPprof(pb) : undefined;
  const ours = { tree: [], treeCpu: [], write: [], writeCpu: [], writeGc: [], render: [], renderBusy: [], bytes: 0, nodes: 0, problems: [] };
  const ref = { write: [], writeCpu: [], render: [], renderBusy: [], bytes: 0, problems: [] };
  try {
    for (let run = 0; run < RUNS; run++) {
      collectGarbage();
      let started = performance.now();
      let cpu = ownCpuMs();
      const tree = m.buildCallTree(profile);
      ours.tree.push(performance.now() - started);
      ours.treeCpu.push(ownCpuMs() - cpu);
      ours.nodes = tree.nameIndex.length;
      const file = path.join(dir, `${name}.html`);
      collectGarbage();
      started = performance.now();
      cpu = ownCpuMs();
      ours.bytes = await m.writeFlamePage(file, profile, { profiles: 1 });
      const ended = performance.now();
      ours.write.push(ended - started);
      ours.writeCpu.push(ownCpuMs() - cpu);
      ours.writeGc.push(await gcPausesBetween(started, ended));
      const r = await firstRender(browser, cdp, readFileSync(file), ourReady);
      ours.render.push(r.ms);
      ours.renderBusy.push(r.cpuMs);
      ours.problems.push(...r.problems);
      if (pprof) {
        started = performance.now();
        cpu = processTreeCpuMs(pprof.pid);
        const res = await fetch(`${pprof.url}/ui/flamegraph`);
        const html = Buffer.from(await res.arrayBuffer());
        ref.write.push(performance.now() - started);
        ref.writeCpu.push(processTreeCpuMs(pprof.pid) - cpu);
        ref.bytes = html.length;
        const p = await firstRender(browser, cdp, html, pprofReady);
        ref.render.push(p.ms);
        ref.renderBusy.push(p.cpuMs);
        ref.problems.push(...p.problems);
      }
      console.error(
        `${name} run ${run + 1}: tree ${ours.tree.at(-1).toFixed(0)} ms, write ${ours.write.at(-1).toFixed(0)} ms (CPU ${ours.writeCpu.at(-1).toFixed(0)}, GC ${ours.writeGc.at(-1).toFixed(0)}), render ${ours.render.at(-1).toFixed(0)} ms (CPU ${ours.renderBusy.at(-1).toFixed(0)})` +
          (pprof ? `; pprof's page ${ref.write.at(-1).toFixed(0)} ms (CPU ${ref.writeCpu.at(-1).toFixed(0)}), render ${ref.render.at(-1).toFixed(0)} ms (CPU ${ref.renderBusy.at(-1).toFixed(0)})` : ''),
      );
    }
  } finally {
    await pprof?.close();
  }
  const all = (o) => Object.fromEntries(Object.entries(o).map(([k, v]) => [k, Array.isArray(v) && typeof v[0] === 'number' ? stats(v) : v]));
  return {
    samples: profile.sample.length,
    nodes: ours.nodes,
    ...all(ours),
    problems: [...new Set(ours.problems)],
    ref: pprof ? { ...all(ref), problems: [...new Set(ref.problems)] } : undefined,
  };
}

const cpuSeconds = (s) => `${(s.median / 1000).toFixed(2)} s`;
const seconds = (s) => `${(s.median / 1000).toFixed(2)} s (${(s.min / 1000).toFixed(2)}-${(s.max / 1000).toFixed(2)})`;
const mb = (b) => `${(b / 2 ** 20).toFixed(1)} MB`;
const count = (n) => (n >= 1e6 ? `${(n / 1e6).toFixed(2)}M` : n >= 1e3 ? `${(n / 1e3).toFixed(n >= 1e5 ? 0 : 1)}k` : String(n));

/** Runs the benchmark; prints a markdown table. */
export async function benchPage(bin) {
  const m = await loadModules();
  const dir = mkdtempSync(path.join(tmpdir(), 'bench-page-'));
  const browser = await launchChromium();
  const cdp = await browser.newBrowserCDPSession();
  const rows = [];
  try {
    const files = KINDS.includes('heap') ? heapProfiles(bin) : [];
    for (const kind of KINDS) {
      for (const size of SIZES) {
        let profile;
        let what;
        let inputSamples = size;
        if (kind === 'synthetic') {
          const stacks = Math.round(size / SAMPLES_PER_STACK);
          // Decoded, as `open` has it: every sample with arrays of its own (at 1.4M samples over the
          // default decode limit of 64 MiB inflated).
          profile = m.decodeProfile(m.encodeProfile(m.syntheticHeapProfile(size, stacks)), 'synthetic', { maxInflatedBytes: 2 ** 30 });
          what = `synthetic, ${count(stacks)} stacks`;
        } else {
          const merged = await heapMerge(m, files, size);
          profile = merged.profile;
          inputSamples = merged.inputSamples;
          what = `Go heap, merge of ${merged.profiles} (${count(merged.inputSamples)} samples)`;
        }
        rows.push({ kind, what, inputSamples, ...(await measureCase(m, browser, cdp, dir, `${kind}-${size}`, profile)) });
      }
    }
  } finally {
    await browser.close();
    rmSync(dir, { recursive: true, force: true });
  }

  const load = loadavg().map((l) => l.toFixed(1)).join(', ');
  console.log(`\nflame page (BENCH=page): medians of ${RUNS} runs (min-max), wall clock; first render = navigation to the first drawing painted, in headless Chromium at 1280x900. Load average at the end: ${load} (${cpus().length} CPUs)\n`);
  console.log("| profile | samples (merged) | tree nodes | tree | page written | page size | first render | pprof's page: written | size | first render |");
  console.log('|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
  for (const r of rows) {
    const ref = r.ref ? `${seconds(r.ref.write)} | ${mb(r.ref.bytes)} | ${seconds(r.ref.render)}` : '| |';
    console.log(`| ${r.what} | ${count(r.samples)} | ${count(r.nodes)} | ${seconds(r.tree)} | ${seconds(r.write)} | ${mb(r.bytes)} | ${seconds(r.render)} | ${ref} |`);
  }
  console.log(
    "\nThe same runs in CPU time, medians: this process's (all its threads, the garbage collector's included) for the tree and the page, pprof's processes' for its page, and Chromium's renderer and GPU processes' for the first render. On a shared machine the wall clock above is these plus the waiting. " +
      'Each of our steps starts after a full garbage collection; the pauses for garbage collection inside the page write are its own (median shown).\n',
  );
  console.log("| profile | tree | page written | of which GC pauses | first render | pprof's page: written | first render |");
  console.log('|---|---:|---:|---:|---:|---:|---:|');
  for (const r of rows) {
    const ref = r.ref ? `${cpuSeconds(r.ref.writeCpu)} | ${cpuSeconds(r.ref.renderBusy)}` : '|';
    console.log(`| ${r.what} | ${cpuSeconds(r.treeCpu)} | ${cpuSeconds(r.writeCpu)} | ${cpuSeconds(r.writeGc)} | ${cpuSeconds(r.renderBusy)} | ${ref} |`);
  }
  const problems = rows.flatMap((r) => [...r.problems.map((p) => `ours, ${r.what}: ${p}`), ...(r.ref?.problems ?? []).map((p) => `pprof's, ${r.what}: ${p}`)]);
  for (const p of problems) console.log(`\n- ${p}`);
  const worst = rows.find((r) => r.kind === 'synthetic' && r.samples >= 1_400_000);
  if (worst) {
    const vs = (ours, ref) => (ref ? `, ${(ref.median / ours.median).toFixed(1)}x faster than pprof's page (${seconds(ref)})` : '');
    console.log(`\ngoal 2 (1.4M samples, ${count(worst.nodes)} nodes): page written in ${seconds(worst.write)}, CPU ${cpuSeconds(worst.writeCpu)} (goal <= 1 s)${vs(worst.write, worst.ref?.write)}`);
    console.log(`goal 2: first render in ${seconds(worst.render)}, CPU ${cpuSeconds(worst.renderBusy)} (goal <= 1 s)${vs(worst.render, worst.ref?.render)}`);
  }
  for (const kind of KINDS) {
    // By the samples that went in: a merge sums equal stacks, so a heap merge has far fewer.
    const of = rows.filter((r) => r.kind === kind).sort((a, b) => a.inputSamples - b.inputSamples);
    if (of.length < 2) continue;
    const growthOf = (rows, key) => rows.slice(1).map((r, i) => `${(r[key].median / rows[i][key].median).toFixed(1)}x`).join(', ');
    const growth = (key) => growthOf(of, key);
    const samples = of.slice(1).map((r, i) => `${(r.inputSamples / of[i].inputSamples).toFixed(0)}x`).join(', ');
    console.log(`goal 6, ${kind}: from size to size the samples (before merging) grow ${samples}; page written ${growth('write')} (CPU ${growth('writeCpu')}), first render ${growth('render')} (CPU ${growth('renderBusy')}): linear or better where each is at most the samples' growth.`);
    const refs = of.map((r) => r.ref);
    if (refs.every(Boolean)) console.log(`goal 6, ${kind}, the reference: pprof's page written ${growthOf(refs, 'write')} (CPU ${growthOf(refs, 'writeCpu')}), first render ${growthOf(refs, 'render')} (CPU ${growthOf(refs, 'renderBusy')}).`);
  }
}
