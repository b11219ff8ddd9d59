/**
 * Big cases for the flame graph page: the merge of 200 real Go heap profiles, and a synthetic
 * worst case (1.4M samples over 10,000 distinct random stacks, far more distinct frames than
 * real programs have). Reports page size and times (they vary with the machine, so only the size
 * is bounded) on the console and in test/.cache/flame-page-size.json.
 */
import { mkdir, mkdtemp, rm, writeFile, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Browser } from 'playwright-core';
import { mergeProfileFiles } from '../../src/merge/merge-files.js';
import { decodeProfile } from '../../src/pprof/index.js';
import { buildCallTree } from '../../src/pprof/flame.js';
import { writeFlamePage } from '../../src/report/flame-page.js';
import { generateProfiles } from '../support/go-target.js';
import { syntheticHeapProfile } from '../support/synthetic-profile.js';
import { launchChromium, loadPage } from './browser.js';

const REPORT = path.resolve('test/.cache/flame-page-size.json');

let dir: string;
let browser: Browser;
const reports: Record<string, unknown> = {};
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'flame-size-'));
  browser = await launchChromium();
});
afterAll(async () => {
  await mkdir(path.dirname(REPORT), { recursive: true });
  await writeFile(REPORT, JSON.stringify(reports, null, 2) + '\n');
  await browser?.close();
  await rm(dir, { recursive: true, force: true });
});

// Both size tests take seconds on an idle machine and minutes on a loaded one (their timeouts).
test('the page of a merge of 200 heap profiles stays a few MB and renders in Chromium', async () => {
  const files = await generateProfiles('heap', 200, path.join(dir, 'heap'), { seed: 1 });
  let inputSamples = 0;
  for (const f of files.slice(0, 20)) inputSamples += decodeProfile(await readFile(f)).sample.length;
  const { profile } = await mergeProfileFiles(files);

  const started = performance.now();
  const tree = buildCallTree(profile);
  const treeMs = performance.now() - started;
  const file = path.join(dir, 'big.html');
  const bytes = await writeFlamePage(file, profile, { files, profiles: files.length });
  const writeMs = performance.now() - started;

  const loadStarted = performance.now();
  const { page, errors, strayRequests, renderMs } = await loadPage(browser, await readFile(file));
  const loadMs = performance.now() - loadStarted;
  const frames = await page.$$eval('#flame-graph g.frame', (gs) => gs.length);
  await page.close();

  const report = {
    profiles: files.length,
    inputSamplesEstimate: Math.round((inputSamples / 20) * files.length),
    mergedSamples: profile.sample.length,
    treeNodes: tree.nameIndex.length,
    pageBytes: bytes,
    treeMs: Math.round(treeMs),
    writePageMs: Math.round(writeMs),
    firstRenderMs: Math.round(renderMs),
    loadToReadyMs: Math.round(loadMs),
    framesDrawn: frames,
  };
  reports.heap200 = report;
  console.log(`flame page, merge of 200 heap profiles: ${JSON.stringify(report)}`);

  expect(errors).toEqual([]);
  expect(strayRequests).toEqual([]);
  expect(frames).toBeGreaterThan(100);
  expect(bytes).toBeLessThan(8 * 2 ** 20);
}, 600_000);

test('a synthetic worst case, 1.4M samples over 10,000 random stacks, stays a few MB and renders', async () => {
  const profile = syntheticHeapProfile(1_400_000, 10_000);
  const started = performance.now();
  const tree = buildCallTree(profile);
  const treeMs = performance.now() - started;
  const file = path.join(dir, 'synthetic.html');
  const bytes = await writeFlamePage(file, profile, { profiles: 200 });
  const writeMs = performance.now() - started;
  const { page, errors, strayRequests, renderMs } = await loadPage(browser, await readFile(file));
  const switchStarted = Date.now();
  await page.selectOption('#sample-type', { label: 'alloc_space (bytes)' });
  const switchMs = Date.now() - switchStarted;
  await page.close();

  const report = {
    samples: profile.sample.length,
    treeNodes: tree.nameIndex.length,
    pageBytes: bytes,
    treeMs: Math.round(treeMs),
    writePageMs: Math.round(writeMs),
    firstRenderMs: Math.round(renderMs),
    switchTypeMs: switchMs,
  };
  reports.synthetic = report;
  console.log(`flame page, synthetic worst case: ${JSON.stringify(report)}`);
  expect(errors).toEqual([]);
  expect(strayRequests).toEqual([]);
  expect(bytes).toBeLessThan(8 * 2 ** 20);
}, 600_000);
