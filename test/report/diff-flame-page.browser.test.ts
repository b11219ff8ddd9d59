/**
 * The flame graph page of `kubectl profefe diff --html` in a real browser: headless Chromium loads
 * the page of a diff of two real Go CPU profiles, written by runDiff, with every request but the
 * page's own refused. A person can look at the screenshot it leaves in
 * test/.cache/screenshots/diff-flame-graph.png.
 */
import { readFileSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { resolveDiffOptions, runDiff, type DiffResult } from '../../src/cli/diff.js';
import { computeDiffTop, diffProfiles } from '../../src/pprof/diff.js';
import { decodeProfile, encodeProfile } from '../../src/pprof/index.js';
import { buildDiffCallTree, columnValues, type DiffCallTree } from '../../src/pprof/flame.js';
import { subInt64, type Int64 } from '../../src/pprof/int64.js';
import { percentage, scaledLabel } from '../../src/report/units.js';
import { renderFlamePage, diffFlamePageData, type FlamePageData } from '../../src/report/flame-page.js';
import { copyCpuFixtures } from '../support/cpu-fixtures.js';
import { buildProfile } from '../support/profile-builder.js';
import { embeddedData, launchChromium, loadPage, type LoadedPage, transitionsDone } from './browser.js';

const SCREENSHOT = path.resolve('test/.cache/screenshots/diff-flame-graph.png');
// The page's colours (page.js): grey for no change, red where the target grew, blue where it shrank.
const NO_CHANGE = 'rgb(224, 224, 224)';
const GREW = 'rgb(230, 70, 60)';
const SHRANK = 'rgb(70, 130, 225)';

let dir: string;
let browser: Browser;
let files: string[];
let result: DiffResult;
let tree: DiffCallTree;
let html: string;
let loaded: LoadedPage;
let page: Page;

/** What a drawn frame is: its path from the root, the base and target it carries, and its computed fill. */
interface DrawnFrame {
  path: string;
  name: string;
  base: number;
  target: number;
  fill: string;
  width: number;
}

/** Every frame drawn, read from the SVG and the datum d3 keeps on each frame's <g>; with `placeholders`, those for frames not drawn too. */
function drawnFrames(p: Page, placeholders = false): Promise<DrawnFrame[]> {
  return p.$$eval('#flame-graph g.frame', (gs, withPlaceholders) =>
    gs.filter((g) => withPlaceholders || (g as unknown as { __data__: { data: { p?: number } } }).__data__.data.p === undefined).map((g) => {
      type Node = { data: { n: string; b: number; t: number }; parent: Node | null };
      const computedFill = (el: unknown) => (globalThis as unknown as { getComputedStyle(el: unknown): { fill: string } }).getComputedStyle(el).fill;
      const d = (g as unknown as { __data__: Node }).__data__;
      const names: string[] = [];
      for (let n: Node | null = d; n; n = n.parent) names.unshift(n.data.n);
      const rect = g.querySelector('rect')!;
      return { path: names.join(';'), name: d.data.n, base: d.data.b, target: d.data.t, fill: computedFill(rect), width: Number(rect.getAttribute('width')) };
    }),
    placeholders,
  );
}

/** The tree's nodes by path from the root (`root;main;a`), as drawnFrames names them. */
function nodesByPath(t: DiffCallTree): Map<string, number> {
  const paths: string[] = [];
  const byPath = new Map<string, number>();
  for (let i = 0; i < t.nameIndex.length; i++) {
    paths[i] = i === 0 ? t.names[0]! : `${paths[t.parent[i]!]};${t.names[t.nameIndex[i]!]}`;
    byPath.set(paths[i]!, i);
  }
  return byPath;
}

/** Growth, shrinkage or neither, from a fill `rgb(r, g, b)`: red over blue is growth. */
function colourKind(fill: string): 'grew' | 'shrank' | 'unchanged' {
  const [r, , b] = /rgb\((\d+), (\d+), (\d+)\)/.exec(fill)!.slice(1).map(Number) as [number, number, number];
  return r > b ? 'grew' : b > r ? 'shrank' : 'unchanged';
}

let data: FlamePageData;
/** As the page prints: flame graph values in the tree's unit, the table's in the table's, percentages trimmed. */
const inTreeUnit = (v: Int64, t: number) => scaledLabel(v, data.sampleTypes[t]!.unit, data.tree.unit[t]!);
const inTableUnit = (v: Int64, t: number) => scaledLabel(v, data.sampleTypes[t]!.unit, data.top[t]!.unit);
const signed = (v: Int64, format: (v: Int64) => string) => (v > 0 ? '+' : '') + format(v);
const percent = (v: Int64, total: Int64) => percentage(v, total).trim();
/** A change relative to its base, as the page says it: `+25.00%`, `-26.32%`. */
const relative = (delta: Int64, base: Int64) => (delta > 0 ? '+' : '-') + percent(delta, base);
const at = (col: Parameters<typeof columnValues>[0], i: number) => columnValues(col)[i]!;

function svgWidth(p: Page): Promise<number> {
  return p.$eval('#flame-graph svg', (svg) => Number(svg.getAttribute('width')));
}

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'diff-flame-browser-'));
  // Fixed real CPU profiles: one taken during the test on a loaded machine can come out empty.
  files = await copyCpuFixtures(path.join(dir, 'cpu'), [[3, 1], [3, 2], [4, 1], [5, 2]]);
  browser = await launchChromium();
  const file = path.join(dir, 'diff.html');
  const opts = resolveDiffOptions({ base: files[0], target: files[3], html: true, output: file, browser: false }, { env: {} });
  result = await runDiff(opts);
  tree = buildDiffCallTree(result.profile);
  html = await readFile(file, 'utf8');
  data = embeddedData(html);
  loaded = await loadPage(browser, html);
  page = loaded.page;
  await transitionsDone(page); // d3-flame-graph sets widths in a short transition
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await rm(dir, { recursive: true, force: true });
});

/** The cells of the sides' table, row by row. */
const sideRows = (p: Page) => p.evaluate<string[][]>(`Array.from(document.querySelectorAll('#sides tbody tr'), (tr) => Array.from(tr.querySelectorAll('td'), (td) => td.textContent))`);
/** A side as its row shows it: role, count, duration, total of sample type `t` (pprof's auto unit), name. */
const sideRow = (role: string, file: string, t: number, unit: string) => {
  const p = decodeProfile(readFileSync(file));
  let total = 0;
  for (const s of p.sample) total += Number(s.value[t]);
  return [role, '1 profile', scaledLabel(p.durationNanos as number, 'nanoseconds', 'auto'), scaledLabel(total, unit, 'auto'), file];
};

describe('the diff flame graph page in Chromium, network refused', () => {
  test('renders the diff of two Go CPU profiles with no request leaving the page and no script error', async () => {
    expect(result.page).toEqual({ page: path.join(dir, 'diff.html'), pageBytes: Buffer.byteLength(html) });
    expect(embeddedData(html).mode).toBe('diff');
    expect(loaded.strayRequests).toEqual([]);
    expect(loaded.errors).toEqual([]);
    expect(await page.$$eval('#flame-graph g.frame', (gs) => gs.length)).toBeGreaterThan(20);
    expect(await page.textContent('#title')).toBe('cpu diff: cpu-0001.pb.gz → cpu-0004.pb.gz');
    expect(await page.textContent('#meta')).toBe('');
    expect(await page.isVisible('#legend')).toBe(true);
  });

  test("the root spans the graph's full width, and is as wide as the larger side summed from the self values", async () => {
    const width = await svgWidth(page);
    expect(width).toBe(await page.$eval('#flame-graph', (el) => el.clientWidth));
    const frames = await drawnFrames(page);
    expect(frames.filter((f) => f.path === 'root').map((f) => f.width)).toEqual([width]);
    // Every frame is at least as wide as each of its sides, on the root's scale.
    const t = tree.defaultSampleIndex;
    let rootWidth = 0;
    for (let i = 0; i < tree.nameIndex.length; i++) rootWidth += Math.max(Number(at(tree.base.self[t]!, i)), Number(at(tree.target.self[t]!, i)));
    for (const f of frames) expect(f.width).toBeGreaterThanOrEqual((Math.max(f.base, f.target) / rootWidth) * width - 1e-6);
  });

  test('frames carry the base and target of the call tree, red where the target grew and blue where it shrank', async () => {
    const frames = await drawnFrames(page);
    const byPath = nodesByPath(tree);
    const t = tree.defaultSampleIndex;
    for (const f of frames) {
      const i = byPath.get(f.path);
      expect(i).toBeDefined();
      expect([f.base, f.target]).toEqual([at(tree.base.total[t]!, i!), at(tree.target.total[t]!, i!)]);
      expect(colourKind(f.fill)).toBe(f.target > f.base ? 'grew' : f.target < f.base ? 'shrank' : 'unchanged');
      // Code that is new, or gone, is fully coloured.
      if (f.base === 0) expect(f.fill).toBe(GREW);
      if (f.target === 0) expect(f.fill).toBe(SHRANK);
    }
    expect(frames.filter((f) => colourKind(f.fill) === 'grew').length).toBeGreaterThan(0);
    expect(frames.filter((f) => colourKind(f.fill) === 'shrank').length).toBeGreaterThan(0);
    // The root's change is the diff's: target total minus base total.
    const root = frames.find((f) => f.path === 'root')!;
    expect(root.target - root.base).toBe(at(tree.total[t]!, 0));
  });

  test('hovering a frame shows its base, target and signed change in the tooltip', async () => {
    const frames = await drawnFrames(page);
    // The widest frame below the walker's entry that is on both sides and changed by a fifth or more.
    const changed = frames
      .filter((f) => f.path.split(';').length > 4 && f.base > 0 && f.target > 0 && Math.abs(f.target - f.base) >= 0.2 * Math.max(f.base, f.target))
      .sort((a, b) => b.width - a.width)[0]!;
    expect(changed).toBeDefined();
    const t = tree.defaultSampleIndex;
    const fmt = (v: Int64) => inTreeUnit(v, t);
    const [baseTotal, targetTotal] = [at(tree.base.total[t]!, 0), at(tree.target.total[t]!, 0)];
    const delta = changed.target - changed.base;
    await page.$$eval(
      '#flame-graph g.frame',
      (gs, wanted) => {
        type Node = { data: { n: string }; parent: Node | null };
        for (const g of gs) {
          const names: string[] = [];
          for (let n: Node | null = (g as unknown as { __data__: Node }).__data__; n; n = n.parent) names.unshift(n.data.n);
          if (names.join(';') === wanted) g.setAttribute('data-test-hover', 'yes');
        }
      },
      changed.path,
    );
    await page.hover('#flame-graph g.frame[data-test-hover="yes"] rect');
    const tip = page.locator('.d3-flame-graph-tip');
    await tip.waitFor({ state: 'visible' });
    const change = relative(delta, changed.base);
    expect(await tip.textContent()).toBe(
      `${changed.name}\nbase ${fmt(changed.base)} (${percent(changed.base, baseTotal)}) → target ${fmt(changed.target)} (${percent(changed.target, targetTotal)})\n${signed(delta, fmt)} (${change})`,
    );
    expect(await page.textContent('#details')).toBe(`${changed.name}: base ${fmt(changed.base)} → target ${fmt(changed.target)}, ${signed(delta, fmt)} (${change})`);
    await page.waitForTimeout(300); // the tooltip fades in
    await mkdir(path.dirname(SCREENSHOT), { recursive: true });
    await page.screenshot({ path: SCREENSHOT, fullPage: true });
    await page.mouse.move(0, 0);
  });

  test("the table is the diff's: signed flat and cum deltas, sorted by the size of the flat change", async () => {
    const top = computeDiffTop(result.profile);
    const fmt = (v: Int64) => inTableUnit(v, top.sampleIndex);
    const rows = await page.$$eval('#top-table tbody tr', (trs) => trs.map((tr) => Array.from(tr.querySelectorAll('td') as ArrayLike<{ textContent: string | null }>, (td) => td.textContent ?? '')));
    expect(rows).toEqual(top.rows.slice(0, 100).map((r) => [r.function, signed(r.flat, fmt), percent(r.flat, top.total), signed(r.cum, fmt), percent(r.cum, top.total)]));
    const deltas = rows.flatMap((r) => [r[1]!, r[3]!]);
    expect(deltas.some((d) => d.startsWith('+'))).toBe(true);
    expect(deltas.some((d) => d.startsWith('-'))).toBe(true);
    expect(await page.$$eval('#top-table th', (ths) => ths.map((th) => th.textContent))).toEqual(['Function', 'Flat Δ', 'Flat%', 'Cum Δ', 'Cum%']);
    const [base, target] = [at(tree.base.total[1]!, 0), at(tree.target.total[1]!, 0)];
    const delta = subInt64(target, base);
    expect(await page.textContent('#total')).toBe(`cpu: base ${fmt(base)} → target ${fmt(target)}, ${signed(delta, fmt)} (${delta === 0 ? 'no change' : relative(delta, base)})`);
  });

  test('search sums the base and target of the matching frames', async () => {
    await page.fill('#search', 'main\\.walk');
    await page.press('#search', 'Enter');
    await page.waitForFunction(`/frames/.test(document.getElementById('search-result').textContent)`);
    expect(await page.textContent('#search-result')).toMatch(/^\d+ frames, base \S+ → target \S+, [+-]?\S+ \((new|no change|[+-]?[\d.]+%)\)$/);
    await page.fill('#search', '');
    await page.press('#search', 'Enter');
    expect(loaded.errors).toEqual([]);
  });

  test("the sides' table shows each side's count, duration and total of the sample type shown", async () => {
    expect(await page.isVisible('#sides')).toBe(true);
    expect(await sideRows(page)).toEqual([sideRow('Base', files[0]!, 1, 'nanoseconds'), sideRow('Target', files[3]!, 1, 'nanoseconds')]);
    // Durations within 5% of each other: not normalized, and nothing says so.
    expect(result.normalized).toBeUndefined();
    expect(await page.$$eval('#sides .normalized', (els) => els.length)).toBe(0);
  });

  test('the sample type switcher redraws the diff and its table for the other type', async () => {
    expect(await page.$$eval('#sample-type option', (os) => os.map((o) => o.textContent))).toEqual(['samples (count)', 'cpu (nanoseconds)']);
    expect(await page.inputValue('#sample-type')).toBe('1');
    await page.selectOption('#sample-type', { label: 'samples (count)' });
    await transitionsDone(page);
    const top = computeDiffTop(result.profile, 'samples');
    const first = await page.$$eval('#top-table tbody tr:first-child td', (tds) => tds.map((td) => td.textContent));
    const row = top.rows[0]!;
    const fmt = (v: Int64) => inTableUnit(v, 0);
    expect(first).toEqual([row.function, signed(row.flat, fmt), percent(row.flat, top.total), signed(row.cum, fmt), percent(row.cum, top.total)]);
    expect(await page.textContent('#total')).toMatch(/^samples: base \d+ → target \d+, /);
    expect(await sideRows(page)).toEqual([sideRow('Base', files[0]!, 0, 'count'), sideRow('Target', files[3]!, 0, 'count')]);
    const frames = await drawnFrames(page);
    expect(frames.filter((f) => f.path === 'root').map((f) => f.width)).toEqual([await svgWidth(page)]);
    const byPath = nodesByPath(tree);
    for (const f of frames) expect([f.base, f.target]).toEqual([at(tree.base.total[0]!, byPath.get(f.path)!), at(tree.target.total[0]!, byPath.get(f.path)!)]);
    expect(loaded.errors).toEqual([]);
  });
});

describe('a hand-built diff in Chromium', () => {
  test('code that is gone keeps its base width; widths sum the larger side of each frame', async () => {
    const cpu = (stacks: Record<string, number>) => buildProfile({ samples: Object.entries(stacks).map(([stack, ns]) => ({ stack, values: [ns / 10, ns] })) });
    // a shrank from 100 to 50, b is gone (50), c is new (50), d did not change (40).
    const diff = diffProfiles(cpu({ 'main;a': 100, 'main;b': 50, 'main;d': 40 }), cpu({ 'main;a': 50, 'main;c': 50, 'main;d': 40 }));
    const { page: p, errors, strayRequests } = await loadPage(browser, await renderFlamePage(diffFlamePageData(diff, { base: 'before.pb.gz', target: 'after.pb.gz' })));
    try {
      await transitionsDone(p);
      expect(strayRequests).toEqual([]);
      expect(errors).toEqual([]);
      const width = await svgWidth(p);
      const frames = new Map((await drawnFrames(p)).map((f) => [f.path, f]));
      // The root is 100 + 50 + 50 + 40 = 240 wide: a's base, b's base, c's target, d.
      const share = (path: string) => frames.get(path)!.width / width;
      expect(share('root;main;a')).toBeCloseTo(100 / 240, 6);
      expect(share('root;main;b')).toBeCloseTo(50 / 240, 6);
      expect(share('root;main;c')).toBeCloseTo(50 / 240, 6);
      expect(share('root;main;d')).toBeCloseTo(40 / 240, 6);
      expect(frames.get('root;main;b')!.fill).toBe(SHRANK);
      expect(frames.get('root;main;c')!.fill).toBe(GREW);
      expect(frames.get('root;main;d')!.fill).toBe(NO_CHANGE);
      // a lost half of its larger side: halfway from grey to blue.
      expect(frames.get('root;main;a')!.fill).toBe('rgb(147, 177, 225)');
      // main: 190 → 140, a change of 50 on 190.
      expect(colourKind(frames.get('root;main')!.fill)).toBe('shrank');
      expect(await p.textContent('#total')).toBe('cpu: base 190ns → target 140ns, -50ns (-26.32%)');
    } finally {
      await p.close();
    }
  });

  test("frames below the node fraction are not drawn, and their change still colours their callers", async () => {
    const cpu = (stacks: Record<string, number>) => buildProfile({ samples: Object.entries(stacks).map(([stack, ns]) => ({ stack, values: [ns / 10, ns] })) });
    // The graph is 1000 + 40 wide; at 5% the cutoff is 52: b (and tiny under it) are not drawn.
    const diff = diffProfiles(cpu({ 'main;a': 1000, 'main;b;tiny': 5 }), cpu({ 'main;a': 1000, 'main;b;tiny': 40 }));
    const { page: p, errors, strayRequests } = await loadPage(browser, await renderFlamePage(diffFlamePageData(diff, { base: 'before.pb.gz', target: 'after.pb.gz' }, { nodeFraction: 0.05 })));
    try {
      await p.waitForFunction(`document.querySelector('#flame-graph g.frame[name="(2 frames not drawn)"] rect')?.getAttribute('width') > 0`, undefined, { timeout: 10_000 });
      expect(strayRequests).toEqual([]);
      expect(errors).toEqual([]);
      const frames = new Map((await drawnFrames(p, true)).map((f) => [f.path, f]));
      expect([...frames.keys()].sort()).toEqual(['root', 'root;main', 'root;main;(2 frames not drawn)', 'root;main;a']);
      const placeholder = frames.get('root;main;(2 frames not drawn)')!;
      expect([placeholder.base, placeholder.target]).toEqual([5, 40]);
      expect(colourKind(placeholder.fill)).toBe('grew');
      // Coloured like a frame, and hatched so that it never passes for one.
      expect(await p.$eval('#flame-graph g.frame[name="(2 frames not drawn)"] rect', (r) => (globalThis as unknown as { getComputedStyle(el: unknown): { mask: string } }).getComputedStyle(r).mask)).toContain('#not-drawn-hatch');
      expect(await p.$eval('#flame-graph g.frame[name="a"] rect', (r) => (globalThis as unknown as { getComputedStyle(el: unknown): { mask: string } }).getComputedStyle(r).mask)).toBe('none');
      // main changed only below the cutoff: it is red all the same.
      expect(colourKind(frames.get('root;main')!.fill)).toBe('grew');
      expect(frames.get('root;main;a')!.fill).toBe(NO_CHANGE);
      expect(await p.textContent('#left-out')).toBe(
        'Not drawn: 2 frames narrower than 5% of the graph, base 5ns → target 40ns, +35ns (+700.00%) in all. ' +
          'The hatched frames "(N frames not drawn)" stand in for them: hover one for what it holds, click a frame to zoom in and draw its detail.',
      );
    } finally {
      await p.close();
    }
  });
});

describe('a normalized diff in Chromium', () => {
  test("a 4 s base and a 10 s target: the target's row says it was normalized, by how much, and the colours are the diff's", async () => {
    const withDuration = async (file: string, seconds: number) => {
      const p = decodeProfile(await readFile(file));
      p.durationNanos = BigInt(seconds) * 1_000_000_000n;
      const out = path.join(dir, `${path.basename(file, '.pb.gz')}-${seconds}s.pb.gz`);
      await writeFile(out, encodeProfile(p));
      return out;
    };
    const [base, target] = [await withDuration(files[0]!, 4), await withDuration(files[3]!, 10)];
    const file = path.join(dir, 'normalized.html');
    const normalized = await runDiff(resolveDiffOptions({ base, target, html: true, output: file, browser: false }, { env: {} }));
    expect(normalized.normalized?.automatic).toMatch(/the sides cover 4s and 10s/);
    const ratio = normalized.normalized!.ratios[1]!;
    const { page: p, errors } = await loadPage(browser, await readFile(file, 'utf8'));
    try {
      const rows = await sideRows(p);
      expect(rows[0]).toEqual(['Base', '1 profile', '4s', sideRow('Base', base, 1, 'nanoseconds')[3], base]);
      expect(rows[1]).toEqual(['Target', '1 profile', '10s', `${sideRow('Target', target, 1, 'nanoseconds')[3]}, normalized ×${Number(ratio.toPrecision(3))} to the base’s`, target]);
      const fills = await p.$$eval('#flame-graph g.frame rect', (rects) => rects.map((r) => r.getAttribute('fill')));
      // Diff colours only: grey to red or blue, never a package colour (hsl).
      expect(fills.every((f) => /^rgb\(/.test(f ?? '') || f === '#e600e6')).toBe(true);
      expect(fills).toContain(NO_CHANGE);
      expect(errors).toEqual([]);
    } finally {
      await p.close();
    }
  });
});
