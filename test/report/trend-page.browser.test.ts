/**
 * The trend page in a real browser: headless Chromium loads the page `trend --html` writes for
 * the synthetic day, with every request but the page's own refused; a person can look at the
 * screenshot it leaves in test/.cache/screenshots/trend-page.png.
 */
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { cutBuckets } from '../../src/trend/buckets.js';
import { buildTrend } from '../../src/trend/series.js';
import { trendJson, type TrendJson } from '../../src/report/trend-table.js';
import { renderTrendPage } from '../../src/report/trend-page.js';
import { scaledLabel } from '../../src/report/units.js';
import { LocalStore } from '../../src/store/local/local-store.js';
import { DAY_END, DAY_START, storeAsCollected, syntheticDay } from '../support/synthetic-day.js';
import { runCli } from '../support/run-cli.js';
import { launchChromium, loadPage, type LoadedPage } from './browser.js';

const SCREENSHOT = path.resolve('test/.cache/screenshots/trend-page.png');

let dir: string;
let browser: Browser;
let html: string;
let data: { meta: { title: string }; trend: TrendJson };
let loaded: LoadedPage;
let page: Page;

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'trend-browser-'));
  const storeDir = path.join(dir, 'store');
  const store = await LocalStore.open(storeDir);
  try {
    await storeAsCollected(store, syntheticDay());
  } finally {
    await store.close();
  }
  browser = await launchChromium();
  const file = path.join(dir, 'heap.html');
  const env = { HOME: dir, KUBECTL_PROFEFE_HOME: path.join(dir, 'home') };
  const run = await runCli(['trend', '--store-dir', storeDir, '--type', 'heap', '--from', DAY_START.toISOString(), '--to', DAY_END.toISOString(), '--step', '1h', '-o', 'html', '--output-file', file, '--no-browser'], { env });
  expect([run.code, run.stderr]).toEqual([0, expect.stringMatching(/^wrote the trend page \(\d+(\.\d)? kB\)\n$/)]);
  expect(run.stdout.toString()).toBe(`${file}\n`);
  html = await readFile(file, 'utf8');
  data = JSON.parse(/<script type="application\/json" id="trend-data">([\s\S]*?)<\/script>/.exec(html)![1]!);
  loaded = await loadPage(browser, html, { width: 1280, height: 1000 });
  page = loaded.page;
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await rm(dir, { recursive: true, force: true });
});

const paths = (p: Page, chart: string) => p.$$eval(`#${chart} .series path`, (ps) => ps.map((e) => e.getAttribute('d')));

describe('the trend page in Chromium, network refused', () => {
  test('renders both charts with no request leaving the page and no script error', async () => {
    expect(loaded.strayRequests).toEqual([]);
    expect(loaded.errors).toEqual([]);
    expect(await page.textContent('#title')).toBe('heap (inuse_space) of 2 services');
    expect(await page.textContent('#unit')).toBe('Unit: bytes');
    expect(await paths(page, 'services')).toHaveLength(2);
    expect(await paths(page, 'functions')).toHaveLength(data.trend.functions.length);
    await mkdir(path.dirname(SCREENSHOT), { recursive: true });
    await page.screenshot({ path: SCREENSHOT, fullPage: true });
  });

  test('the legend names every series with its last value, in pprof’s units', async () => {
    const legend = await page.$$eval('#functions .legend li', (lis) => lis.map((li) => [li.querySelector('.name')!.textContent, li.querySelector('.last')!.textContent]));
    expect(legend).toEqual(data.trend.functions.map((f) => [f.function, scaledLabel(Math.round(f.values[23]!), 'bytes', 'minimum')]));
  });

  test('hovering a bucket shows its time and every series’ value there, largest first', async () => {
    const box = (await page.$('#functions .overlay'))!;
    const b = (await box.boundingBox())!;
    // Bucket 18 of 24 (x from the first bucket's start to the last's).
    await page.mouse.move(b.x + (b.width * 18) / 23, b.y + b.height / 2);
    expect(await page.isVisible('#tooltip')).toBe(true);
    expect(await page.textContent('#tooltip .time')).toBe('2026-11-01 18:00 UTC to 2026-11-01 19:00 UTC');
    const rows = await page.$$eval('#tooltip tr', (trs) => trs.map((tr) => [tr.querySelector('.name')!.textContent, tr.querySelector('.value')!.textContent]));
    const want = data.trend.functions.map((f) => [f.function, f.values[18]!] as const).sort((x, y) => y[1] - x[1]);
    expect(rows).toEqual(want.map(([name, v]) => [name, scaledLabel(Math.round(v), 'bytes', 'minimum')]));
    await page.screenshot({ path: SCREENSHOT.replace(/\.png$/, '-hover.png'), fullPage: true });
    await page.mouse.move(0, 0);
    expect(await page.isVisible('#tooltip')).toBe(false);
  });

  test('a legend click hides a line and rescales; the log scale redraws with decades', async () => {
    const before = await paths(page, 'functions');
    await page.click('#functions .legend li:first-child');
    expect(await paths(page, 'functions')).toHaveLength(before.length - 1);
    expect(await page.getAttribute('#functions .legend li:first-child', 'class')).toBe('off');
    await page.click('#functions .legend li:first-child');
    expect(await paths(page, 'functions')).toEqual(before);
    await page.check('#log-scale');
    expect(await paths(page, 'functions')).not.toEqual(before);
    const ticks = await page.$$eval('#functions .axis text', (ts) => ts.map((t) => t.textContent));
    // Bytes in pprof's binary units: powers of 2.
    expect(ticks.filter((t) => /B$/.test(t!))).toEqual(['1MB', '2MB', '4MB', '8MB', '16MB', '32MB', '64MB']);
    await mkdir(path.dirname(SCREENSHOT), { recursive: true });
    await page.screenshot({ path: SCREENSHOT.replace(/\.png$/, '-log.png'), fullPage: true });
    await page.uncheck('#log-scale');
    expect(await paths(page, 'functions')).toEqual(before);
  });

  test('names from the profiles are text, not HTML: a hostile function name runs nothing and loads nothing', async () => {
    const from = new Date('2026-11-01T00:00:00Z');
    const buckets = cutBuckets(from, new Date(from.getTime() + 3 * 3600_000), 3600_000);
    const evil = '</script><img src="http://evil.test/x.png" onerror="window.pwned=1"><script>window.pwned=2</script>';
    const tops = [1, 2, 3].map((v) => ({ services: ['a\u202e'], functions: [{ key: 'k', name: evil, services: { 'a\u202e': v * 1000 } }] }));
    const trend = buildTrend(buckets, tops, { type: 'goroutine', unit: 'count' }, { nodes: 10 }, false);
    const hostile = await renderTrendPage(trendJson(trend, { type: 'goroutine', from, to: buckets[2]!.end, stepMs: 3600_000 }), { title: evil, fields: [['Store', evil]] });
    const l = await loadPage(browser, hostile);
    try {
      expect(l.strayRequests).toEqual([]);
      expect(l.errors).toEqual([]);
      expect(await l.page.evaluate(() => (globalThis as unknown as { pwned?: number }).pwned)).toBeUndefined();
      expect(await l.page.textContent('#title')).toBe(evil);
      expect(await l.page.textContent('#functions .legend .name')).toBe(evil);
      expect(await l.page.textContent('#functions .legend .last')).toBe('3000');
    } finally {
      await l.page.close();
    }
  });
});
