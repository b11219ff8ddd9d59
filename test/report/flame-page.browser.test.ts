/**
 * The flame graph page in a real browser: headless Chromium loads a page written from real Go
 * heap profiles with every request but the page's own refused, and a person can look at the
 * screenshot it leaves in test/.cache/screenshots/flame-graph.png.
 */
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { mergeProfileFiles } from '../../src/merge/merge-files.js';
import { buildCallTree } from '../../src/pprof/flame.js';
import { computeTop, decodeProfile, sampleTypesOf, type Profile } from '../../src/pprof/index.js';
import { absInt64, addInt64, compareInt64, type Int64 } from '../../src/pprof/int64.js';
import { percentage, scaledLabel } from '../../src/report/units.js';
import { diffFlamePageData, flamePageData, renderFlamePage, writeFlamePage, type FlamePageData } from '../../src/report/flame-page.js';
import { diffProfiles } from '../../src/pprof/diff.js';
import { floatCases, int64Cases, percentageCases, UNIT_PAIRS } from './format-cases.js';
import { goPprofTopText, parseTopText } from '../support/go-pprof.js';
import { generateProfiles } from '../support/go-target.js';
import { buildProfile } from '../support/profile-builder.js';
import { embeddedData, launchChromium, loadPage, type LoadedPage, transitionsDone } from './browser.js';

const SCREENSHOT = path.resolve('test/.cache/screenshots/flame-graph.png');
const HIGHLIGHT = '#e600e6'; // the page's search highlight, the fill of matching frames

let dir: string;
let browser: Browser;
let profile: Profile;
let files: string[];
let html: string;
let loaded: LoadedPage;
let page: Page;
let data: FlamePageData;

/** As the page prints: the table's and the flame graph's values in their units, percentages trimmed. */
const inTableUnit = (v: Int64, t: number) => scaledLabel(v, data.sampleTypes[t]!.unit, data.top[t]!.unit);
const inTreeUnit = (v: Int64, t: number) => scaledLabel(v, data.sampleTypes[t]!.unit, data.tree.unit[t]!);
const percent = (v: Int64, total: Int64) => percentage(v, total).trim();

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'flame-browser-'));
  [browser, files] = await Promise.all([launchChromium(), generateProfiles('heap', 10, path.join(dir, 'heap'), { seed: 7 })]);
  profile = (await mergeProfileFiles(files)).profile;
  const file = path.join(dir, 'heap.html');
  await writeFlamePage(file, profile, { files, profiles: files.length });
  html = await readFile(file, 'utf8');
  data = embeddedData(html);
  loaded = await loadPage(browser, html);
  page = loaded.page;
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await rm(dir, { recursive: true, force: true });
});

/** The widths of the frames, by the name d3-flame-graph puts on each frame's <g>. */
function frameWidths(p: Page, name: string): Promise<number[]> {
  return p.$$eval(`#flame-graph g.frame[name="${name}"] rect`, (rects) => rects.map((r) => Number(r.getAttribute('width'))));
}

function svgWidth(p: Page): Promise<number> {
  return p.$eval('#flame-graph svg', (svg) => Number(svg.getAttribute('width')));
}

describe('the flame graph page in Chromium, network refused', () => {
  test('renders with no request leaving the page and no script error', async () => {
    expect(loaded.strayRequests).toEqual([]);
    expect(loaded.errors).toEqual([]);
    expect(await page.$$eval('#flame-graph g.frame', (gs) => gs.length)).toBeGreaterThan(20);
    expect(await page.textContent('#title')).toBe('heap profile, 10 merged');
    expect(await page.textContent('#subtitle')).toBe('10 profiles');
  });

  test("the root spans the graph's full width, which is the page's", async () => {
    await transitionsDone(page); // d3-flame-graph sets widths in a short transition
    const width = await svgWidth(page);
    expect(width).toBe(await page.$eval('#flame-graph', (el) => el.clientWidth));
    expect(await frameWidths(page, 'root')).toEqual([width]);
  });

  test('clicking a frame zooms into it: it grows to the full width', async () => {
    const width = await svgWidth(page);
    // A frame between 5% and 60% of the width, below the root's single-caller chain.
    const target = await page.$$eval(
      '#flame-graph g.frame',
      (gs, w) => {
        // Not a placeholder for frames too narrow to draw (those zoom into their parent).
        const g = gs.find((el) => {
          const rw = Number(el.querySelector('rect')!.getAttribute('width'));
          return rw > 0.05 * w && rw < 0.6 * w && (el as unknown as { __data__: { data: { p?: number } } }).__data__.data.p === undefined;
        });
        if (!g) return null;
        g.setAttribute('data-test-zoomed', 'yes');
        return { name: g.getAttribute('name'), width: Number(g.querySelector('rect')!.getAttribute('width')) };
      },
      width,
    );
    expect(target).not.toBeNull();
    await page.click('#flame-graph g.frame[data-test-zoomed="yes"]');
    await page.waitForFunction(`Number(document.querySelector('#flame-graph g.frame[data-test-zoomed="yes"] rect').getAttribute('width')) > ${0.99 * width}`, undefined, { timeout: 5_000 });
    expect(loaded.errors).toEqual([]);
    await page.click('#reset-zoom');
    await page.waitForFunction(`Math.abs(Number(document.querySelector('#flame-graph g.frame[data-test-zoomed="yes"] rect').getAttribute('width')) - ${target!.width}) < 1`, undefined, { timeout: 5_000 });
  });

  test('hovering a frame shows its value and share in a tooltip', async () => {
    const root = (await page.$('#flame-graph g.frame[name="root"] rect'))!;
    await root.hover();
    const tip = page.locator('.d3-flame-graph-tip');
    await tip.waitFor({ state: 'visible' });
    const top = computeTop(profile);
    expect(await tip.textContent()).toBe(`root\n${inTreeUnit(top.total, top.sampleIndex)} (100%) total, 0 (0%) self`);
    await page.mouse.move(0, 0);
  });

  test('search highlights the matching frames and shows their share of the total', async () => {
    const before = await page.$$eval('#flame-graph g.frame rect', (rs, h) => rs.filter((r) => r.getAttribute('fill') === h).length, HIGHLIGHT);
    expect(before).toBe(0);
    await page.fill('#search', 'main\\.alloc');
    await page.press('#search', 'Enter');
    await page.waitForFunction(`/frames/.test(document.getElementById('search-result').textContent)`);
    const highlighted = await page.$$eval('#flame-graph g.frame', (gs, h) => gs.filter((g) => g.querySelector('rect')!.getAttribute('fill') === h).map((g) => g.getAttribute('name')), HIGHLIGHT);
    expect(highlighted.length).toBeGreaterThan(0);
    expect(highlighted.every((n) => /main\.alloc/i.test(n!))).toBe(true);
    // The share: the width of the outermost matching frames (a match inside a match is not counted twice).
    const tree = buildCallTree(profile);
    const t = tree.defaultSampleIndex;
    let share: Int64 = 0;
    let frames = 0;
    const insideMatch: boolean[] = [];
    const total = tree.total[t]!;
    for (let i = 1; i < tree.nameIndex.length; i++) {
      const matches = /main\.alloc/i.test(tree.names[tree.nameIndex[i]!]!) && total[i]! > 0;
      const inside = insideMatch[tree.parent[i]!] === true;
      if (matches) frames++;
      if (matches && !inside) share = addInt64(share, total[i]!);
      insideMatch[i] = inside || matches;
    }
    expect(await page.textContent('#search-result')).toBe(`${frames} frames, ${inTreeUnit(share, t)} = ${percent(share, tree.absoluteTotal[t]!)} of total`);
  });

  test('a search that is not a valid regexp is matched as text, without an error', async () => {
    await page.fill('#search', 'main.(*walker');
    await page.press('#search', 'Enter');
    await page.waitForFunction(`/frames|no match/.test(document.getElementById('search-result').textContent)`);
    expect(await page.textContent('#search-result')).toMatch(/^\d+ frames, /);
    expect(loaded.errors).toEqual([]);
  });

  test('the sample type switcher lists every type, starts at the default, and changes the totals', async () => {
    await page.fill('#search', 'main\\.alloc');
    await page.press('#search', 'Enter');
    await transitionsDone(page);
    await mkdir(path.dirname(SCREENSHOT), { recursive: true });
    await page.screenshot({ path: SCREENSHOT, fullPage: true });

    const options = await page.$$eval('#sample-type option', (os) => os.map((o) => o.textContent));
    expect(options).toEqual(sampleTypesOf(profile).map((t) => `${t.type} (${t.unit})`));
    expect(await page.inputValue('#sample-type')).toBe('3'); // inuse_space, as go tool pprof
    const inuse = computeTop(profile, 'inuse_space');
    expect(await page.textContent('#total')).toBe(`Total: ${inTableUnit(inuse.total, 3)} inuse_space`);

    await page.selectOption('#sample-type', { label: 'alloc_objects (count)' });
    const alloc = computeTop(profile, 'alloc_objects');
    expect(await page.textContent('#total')).toBe(`Total: ${inTableUnit(alloc.total, 0)} alloc_objects`);
    const first = await page.$$eval('#top-table tbody tr:first-child td', (tds) => tds.map((td) => td.textContent));
    const row = alloc.rows[0]!;
    expect(first).toEqual([row.function, inTableUnit(row.flat, 0), percent(row.flat, alloc.total), inTableUnit(row.cum, 0), percent(row.cum, alloc.total)]);
    // The graph is redrawn for the new type and the search is kept.
    await transitionsDone(page);
    expect(await frameWidths(page, 'root')).toEqual([await svgWidth(page)]);
    expect(await page.textContent('#search-result')).toMatch(/^\d+ frames, [\d.]+ = /);
    expect(loaded.errors).toEqual([]);
  });

  test('the top table shows the top functions, sortable by each column', async () => {
    await page.selectOption('#sample-type', { label: 'inuse_space (bytes)' });
    const top = computeTop(profile, 'inuse_space');
    const names = () => page.$$eval('#top-table tbody tr td:first-child', (tds) => tds.map((td) => td.textContent));
    expect(await names()).toEqual(top.rows.slice(0, 100).map((r) => r.function));
    expect((await names()).length).toBeGreaterThanOrEqual(Math.min(50, top.rows.length));

    // Sorted by |cum|, exactly; equal values keep pprof's order (a stable sort of its rows).
    await page.click('#top-table th:nth-child(4)'); // Cum, descending first
    const byCum = [...top.rows].sort((a, b) => compareInt64(absInt64(b.cum), absInt64(a.cum)));
    expect(await names()).toEqual(byCum.slice(0, 100).map((r) => r.function));
    expect(await page.getAttribute('#top-table th:nth-child(4)', 'aria-sort')).toBe('descending');
    await page.click('#top-table th:nth-child(4)');
    const byCumAscending = [...top.rows].sort((a, b) => compareInt64(absInt64(a.cum), absInt64(b.cum)));
    expect(await names()).toEqual(byCumAscending.slice(0, 100).map((r) => r.function));

    await page.click('#top-table th:nth-child(1)'); // Function, A to Z
    const sorted = [...top.rows].map((r) => r.function).sort();
    expect(await names()).toEqual(sorted.slice(0, 100));
  });

  test("the page's formatting (go-format.js) agrees with src/report in Chromium, BigInts included", async () => {
    type Format = { scaledLabel(v: number | bigint, from: string, to: string): string; percentage(v: number | bigint, t: number | bigint): string; formatFloat(x: number, verb: string, prec: number): string };
    const labels = UNIT_PAIRS.flatMap(([from, to]) => int64Cases().map((v): [string, string, string] => [String(v), from, to]));
    const inPage = await page.evaluate(
      ([ls, ps, fs]) => {
        const f = (globalThis as unknown as { kubectlProfefe: { format: Format } }).kubectlProfefe.format;
        const int = (s: string) => (Number.isSafeInteger(Number(s)) ? Number(s) : BigInt(s));
        return {
          labels: ls.map(([v, from, to]) => f.scaledLabel(int(v), from, to)),
          percentages: ps.map(([v, t]) => f.percentage(int(v), int(t))),
          floats: fs.map((x) => [f.formatFloat(x, 'f', 2), f.formatFloat(x, 'g', 2)]),
        };
      },
      [labels, percentageCases().map(([v, t]) => [String(v), String(t)]), floatCases()] as const,
    );
    expect(inPage.labels).toEqual(labels.map(([v, from, to]) => scaledLabel(BigInt(v) > BigInt(Number.MAX_SAFE_INTEGER) || BigInt(v) < -BigInt(Number.MAX_SAFE_INTEGER) ? BigInt(v) : Number(v), from, to)));
    expect(inPage.percentages).toEqual(percentageCases().map(([v, t]) => percentage(v, t)));
    const { formatFloat } = await import('../../src/report/go-format.js');
    expect(inPage.floats).toEqual(floatCases().map((x) => [formatFloat(x, 'f', 2), formatFloat(x, 'g', 2)]));
  });
});

describe('the issue’s cases in Chromium: the page’s table is go tool pprof -top -nodefraction=0’s', () => {
  test.each([
    ['block-huge', undefined],
    ['cpu-unsymbolized', undefined],
    ['heap-dropframes', 'alloc_space'],
    ['span-ids', undefined],
  ])('%s', async (name, sampleType) => {
    const file = path.resolve(`test/fixtures/cases/${name}.pb.gz`);
    const p = decodeProfile(await readFile(file));
    const { page: casePage, errors } = await loadPage(browser, await renderFlamePage(flamePageData(p, {}, { sampleType })));
    try {
      expect(errors).toEqual([]);
      const go = parseTopText(await goPprofTopText([file], { sampleIndex: sampleType, extraArgs: ['-nodefraction=0', '-edgefraction=0'] }));
      const rows = await casePage.$$eval('#top-table tbody tr', (trs) => trs.map((tr) => Array.from(tr.querySelectorAll('td') as ArrayLike<{ textContent: string | null }>, (td) => td.textContent)));
      expect(rows).toEqual(go.rows.map((r) => [r.name, r.flat, r.flatPct.trim(), r.cum, r.cumPct.trim()]));
      const total = /of (\S+) total$/.exec(go.legend[0]!)![1];
      expect(await casePage.textContent('#total')).toBe(`Total: ${total} ${computeTop(p, sampleType).sampleType.type}`);
    } finally {
      await casePage.close();
    }
  });
});

describe('a hostile profile in Chromium', () => {
  test('function names are shown as text: nothing injected, nothing requested', async () => {
    const evil = '</script><img src="http://evil.test/x.png" onerror="document.title=\'pwned\'">';
    const p = buildProfile({ samples: [{ stack: `main;${evil}`, values: [1, 10] }, { stack: 'main;ok', values: [1, 5] }] });
    const { page: hostile, errors, strayRequests } = await loadPage(browser, await renderFlamePage(flamePageData(p, { service: '<b>svc</b>' })));
    try {
      expect(strayRequests).toEqual([]);
      expect(errors).toEqual([]);
      expect(await hostile.title()).toBe('<b>svc</b> cpu · kubectl profefe');
      expect(await hostile.$$eval('img', (imgs) => imgs.length)).toBe(0);
      expect(await hostile.$$eval('#top-table tbody td:first-child', (tds) => tds.map((td) => td.textContent))).toContain(evil);
    } finally {
      await hostile.close();
    }
  });

  test('in the graph too: frame labels, tooltips, placeholders, the note of a zoom and search show names as text', async () => {
    const evil = '<img src="http://evil.test/y.png" onerror="document.title=\'pwned\'">&#60b';
    // At 1% the frame under the evil one (1 of 1001) is not drawn: zooming into the evil frame names it in the note.
    const p = buildProfile({ samples: [{ stack: `main;${evil};work`, values: [1, 1000] }, { stack: `main;${evil};${evil}x`, values: [1, 1] }, { stack: 'main;ok', values: [1, 100] }] });
    const { page: hostile, errors, strayRequests } = await loadPage(browser, await renderFlamePage(flamePageData(p, {}, { nodeFraction: 0.01 })));
    try {
      const evilFrame = `#flame-graph g.frame[name=${JSON.stringify(evil)}]`;
      await hostile.waitForFunction(`Number(document.querySelector(${JSON.stringify(`${evilFrame} rect`)})?.getAttribute('width')) > 0`, undefined, { timeout: 10_000 });
      await hostile.hover(`${evilFrame} rect`);
      const tip = hostile.locator('.d3-flame-graph-tip');
      await tip.waitFor({ state: 'visible' });
      expect(await tip.textContent()).toMatch(/^<img src="http:\/\/evil\.test\/y\.png"[^\n]*&#60b\n/);
      expect(await hostile.textContent('#details')).toContain(evil);
      await hostile.click(`${evilFrame} rect`);
      await hostile.waitForFunction(`document.getElementById('left-out').textContent.includes('of <img')`, undefined, { timeout: 10_000 });
      expect(await hostile.textContent('#left-out')).toContain(`(1% of ${evil})`);
      await hostile.hover('#flame-graph g.frame[name="(1 frame not drawn)"] rect');
      await hostile.waitForFunction(`document.querySelector('.d3-flame-graph-tip').textContent.includes('frames under <img')`, undefined, { timeout: 10_000 });
      await hostile.fill('#search', '<img');
      await hostile.press('#search', 'Enter');
      await hostile.waitForFunction(`/frames/.test(document.getElementById('search-result').textContent)`, undefined, { timeout: 10_000 });
      expect(await hostile.textContent('#search-result')).toMatch(/^2 frames, /);
      expect(await hostile.$$eval('img', (imgs) => imgs.length)).toBe(0);
      expect(await hostile.title()).not.toBe('pwned');
      expect(strayRequests).toEqual([]);
      expect(errors).toEqual([]);
    } finally {
      await hostile.close();
    }
  });
});

describe('a hostile header in Chromium', () => {
  test('the title, subtitle, fields, folded file names and a diff’s sides show outside strings as text', async () => {
    const evil = '<img src="http://evil.test/z.png" onerror="document.title=\'pwned\'">';
    const p = buildProfile({ samples: [{ stack: 'main;ok', values: [1, 5] }] });
    const files = [`/tmp/${evil}/a.pb.gz`, `/tmp/${evil}/b.pb.gz`];
    const pages = [
      await renderFlamePage(flamePageData(p, { files, profiles: 2, labels: [{ key: 'k', value: evil }], store: evil })),
      await renderFlamePage(flamePageData(p, { service: evil, type: evil, from: new Date(0), to: new Date(3_600_000), profiles: 2 })),
      await renderFlamePage(
        diffFlamePageData(diffProfiles(p, p), {
          base: evil,
          target: `${evil}2`,
          sides: { base: { name: evil, made: evil, durationNanos: 0, totals: [1, 5] }, target: { name: `${evil}2`, made: '1 profile', durationNanos: 1e9, totals: [1, 5], ratios: [1, 1] } },
        }),
      ),
    ];
    for (const html of pages) {
      const { page: hostile, errors, strayRequests } = await loadPage(browser, html);
      try {
        const header = await hostile.textContent('header');
        expect(header).toContain(evil);
        expect(await hostile.$$eval('img', (imgs) => imgs.length)).toBe(0);
        expect(await hostile.title()).not.toBe('pwned');
        expect(strayRequests).toEqual([]);
        expect(errors).toEqual([]);
      } finally {
        await hostile.close();
      }
    }
  });
});

describe('colours, labels and header of a profile in Chromium', () => {
  // Two profiles sharing the packages encoding/json and net/http, each with packages of its own.
  const first = buildProfile({
    samples: [
      { stack: 'main.main;net/http.(*conn).serve;encoding/json.Marshal;encoding/json.(*encodeState).marshal', values: [60, 600] },
      { stack: 'main.main;net/http.(*conn).serve;github.com/acme/shop/cart.(*Cart).Total', values: [30, 300] },
      { stack: 'main.main;runtime.mallocgc', values: [10, 100] },
      { stack: 'main.main;runtime.gcBgMarkWorker;runtime.gcDrain', values: [1, 10] },
    ],
  });
  const second = buildProfile({
    samples: [
      { stack: 'main.run;encoding/json.Unmarshal;encoding/json.(*decodeState).object', values: [50, 500] },
      { stack: 'main.run;net/http.HandlerFunc.ServeHTTP;gopkg.in/yaml%2ev3.Marshal', values: [40, 400] },
    ],
  });
  let pages: Page[] = [];
  const fills = (p: Page) =>
    p.$$eval('#flame-graph g.frame', (gs) => gs.map((g) => [g.getAttribute('name'), g.querySelector('rect')!.getAttribute('fill')] as [string, string]));
  beforeAll(async () => {
    pages = [];
    for (const p of [first, second]) pages.push((await loadPage(browser, await renderFlamePage(flamePageData(p, { files: ['/p/a.pb.gz'], profiles: 1 }, { nodeFraction: 0 })))).page);
    await Promise.all(pages.map(transitionsDone));
  });
  afterAll(async () => {
    await Promise.all(pages.map((p) => p.close()));
  });

  test('frames are coloured by Go package: one colour per package, the same on every page, different packages apart', async () => {
    const colourOf = new Map<string, string>();
    const packageOf = (name: string) => ({ 'main.main': 'main', 'main.run': 'main' })[name] ?? name.replace(/^(.*\/)?([^./]*)\..*$/, '$1$2');
    for (const p of pages) {
      for (const [name, fill] of await fills(p)) {
        if (name === 'root') continue;
        const pkg = packageOf(name);
        if (!colourOf.has(pkg)) colourOf.set(pkg, fill);
        expect([name, fill]).toEqual([name, colourOf.get(pkg)]);
      }
    }
    expect([...colourOf.keys()].sort()).toEqual(['encoding/json', 'github.com/acme/shop/cart', 'gopkg.in/yaml%2ev3', 'main', 'net/http', 'runtime']);
    expect(new Set(colourOf.values()).size).toBe(colourOf.size);
    for (const fill of colourOf.values()) expect(fill).toMatch(/^hsl\(\d+, \d+%, \d+%\)$/);
  });

  test('every frame wide enough for 3 characters has a label: its name, shorter forms of it, or a cut with an ellipsis', async () => {
    for (const width of [1280, 500]) {
      const p = pages[0]!;
      await p.setViewportSize({ width, height: 900 });
      await p.waitForFunction(`document.querySelector('#flame-graph svg').getAttribute('width') === String(document.getElementById('flame-graph').clientWidth)`);
      await transitionsDone(p);
      await p.waitForTimeout(0);
      const frames = await p.$$eval('#flame-graph g.frame', (gs) =>
        gs.map((g) => ({ name: g.getAttribute('name')!, width: Number(g.querySelector('rect')!.getAttribute('width')), label: g.querySelector('text.frame-label')?.textContent ?? '' })),
      );
      const charWidth = await p.evaluate<number>(`(() => {
        const text = document.querySelector('#flame-graph text.frame-label');
        return text.getComputedTextLength() / text.textContent.length;
      })()`);
      for (const f of frames) {
        const room = Math.floor((f.width - 6) / charWidth);
        if (room < 3) {
          expect([f.name, f.label]).toEqual([f.name, '']);
          continue;
        }
        expect(f.label.length).toBeGreaterThan(0);
        expect(f.label.length).toBeLessThanOrEqual(room);
        if (f.label.endsWith('…')) expect(f.name).toContain(f.label.slice(0, -1));
        else expect(f.name.endsWith(f.label)).toBe(true);
        if (f.name.length <= room) expect(f.label).toBe(f.name);
      }
      expect(frames.some((f) => f.label.endsWith('…') || (f.label !== f.name && f.label !== ''))).toBe(width === 500);
    }
  });

  test('a zoom says which frame is in view and what it holds, until Reset zoom', async () => {
    const p = pages[1]!;
    expect(await p.isDisabled('#reset-zoom')).toBe(true);
    expect(await p.isVisible('#zoom-state')).toBe(false);
    await p.click('#flame-graph g.frame[name="encoding/json.Unmarshal"] rect');
    await p.waitForFunction(`!document.getElementById('zoom-state').hidden`);
    // 500 of the 900 ns in all, in the graph's unit.
    expect(await p.textContent('#zoom-state')).toBe('Zoomed into encoding/json.Unmarshal: 500ns (55.56% of total)');
    await p.click('#reset-zoom');
    await p.waitForFunction(`document.getElementById('zoom-state').hidden`);
    expect(await p.isDisabled('#reset-zoom')).toBe(true);
    await transitionsDone(p);
  });

  test('frames narrower than 6 pixels have no border; wider ones a white one', async () => {
    const p = pages[0]!;
    const strokes = await p.evaluate<[number, string][]>(`Array.from(document.querySelectorAll('#flame-graph g.frame rect'), (r) => [Number(r.getAttribute('width')), getComputedStyle(r).stroke])`);
    expect(strokes.some(([w]) => w < 6)).toBe(true);
    for (const [w, stroke] of strokes) expect(stroke).toBe(w < 6 ? 'none' : 'rgb(255, 255, 255)');
  });

  test('the header: the kind of profile as the title, the file in the fields, several files folded', async () => {
    const p = pages[1]!;
    expect(await p.textContent('#title')).toBe('cpu profile');
    expect(await p.textContent('#meta')).toBe('File/p/a.pb.gzProfile time2023-11-14T22:13:20Z');
    expect(await p.isVisible('#meta-details')).toBe(false);
    const { page: many } = await loadPage(browser, await renderFlamePage(flamePageData(second, { files: ['/p/a.pb.gz', '/p/b.pb.gz', '/p/c.pb.gz'], profiles: 3 })));
    try {
      expect(await many.textContent('#title')).toBe('cpu profile, 3 merged');
      expect(await many.textContent('#subtitle')).toBe('3 profiles · 10s profiled');
      expect(await many.textContent('#meta-details summary')).toBe('3 files in /p');
      // Folded: the names are there, shown when opened.
      expect(await many.isVisible('#meta-details dd')).toBe(false);
      await many.click('#meta-details summary');
      expect(await many.textContent('#meta-details dd')).toBe('a.pb.gz, b.pb.gz, c.pb.gz');
    } finally {
      await many.close();
    }
  });
});

describe('frames below the node fraction in Chromium', () => {
  // 9950ns in all; at 1% the cutoff is 99ns: tiny1, tiny2 (and deep below it) and small are not drawn.
  const cpu = (stacks: Record<string, number>) => buildProfile({ samples: Object.entries(stacks).map(([stack, ns]) => ({ stack, values: [ns / 10, ns] })) });
  const pruned = cpu({ 'main;big': 9000, 'main;mid;a': 800, 'main;mid;tiny1': 50, 'main;mid;tiny2;deep': 40, 'main;small': 60 });
  // Values in the graph's unit, as pprof's flame graph chooses it (microseconds here): 99ns is 0.10us.
  const NOTE =
    'Not drawn: 4 frames narrower than 0.10us (1% of the total), 0.15us (1.51% of total) in all. ' +
    'The hatched frames "(N frames not drawn)" stand in for them: hover one for what it holds, click a frame to zoom in and draw its detail.';
  const AT_ROOT = ['(1 frame not drawn)', '(3 frames not drawn)', 'a', 'big', 'main', 'mid', 'root'];
  /** Waits until the frames drawn (with a width, once d3's transitions are over) are these. */
  const waitForFrames = (p: Page, names: string[]) =>
    p.waitForFunction(
      `JSON.stringify(Array.from(document.querySelectorAll('#flame-graph g.frame'))
        .filter((g) => Number(g.querySelector('rect').getAttribute('width')) > 0).map((g) => g.getAttribute('name')).sort()) === ${JSON.stringify(JSON.stringify(names))}`,
      undefined,
      { timeout: 10_000 },
    );
  /** Waits until a frame is this share of the graph's width (transitions end there). */
  const waitForShare = (p: Page, name: string, share: number) =>
    p.waitForFunction(
      `(() => {
        const rect = document.querySelector('#flame-graph g.frame[name=${JSON.stringify(name)}] rect');
        const width = Number(document.querySelector('#flame-graph svg').getAttribute('width'));
        return rect !== null && Math.abs(Number(rect.getAttribute('width')) / width - ${share}) < 1e-6;
      })()`,
      undefined,
      { timeout: 10_000 },
    );
  let loadedPage: LoadedPage;
  let p: Page;
  beforeAll(async () => {
    loadedPage = await loadPage(browser, await renderFlamePage(flamePageData(pruned, {}, { nodeFraction: 0.01 })));
    p = loadedPage.page;
  });
  afterAll(() => p?.close());

  test('are left out, each frame with a grey, hatched placeholder for its children not drawn, and the page says what they hold', async () => {
    await waitForFrames(p, AT_ROOT);
    expect(await p.textContent('#left-out')).toBe(NOTE);
    // The placeholder sits where its frames would be, as wide as they are together.
    await waitForShare(p, '(3 frames not drawn)', 90 / 9950);
    await waitForShare(p, 'mid', 890 / 9950);
    expect(await p.getAttribute('#flame-graph g.frame[name="(3 frames not drawn)"] rect', 'fill')).toBe('#dcdcdc');
    // Hatched by the page's mask; frames are not.
    const masks = await p.$$eval('#flame-graph g.frame', (gs) =>
      Object.fromEntries(gs.map((g) => [g.getAttribute('name'), (globalThis as unknown as { getComputedStyle(el: unknown): { mask: string } }).getComputedStyle(g.querySelector('rect')).mask])),
    );
    expect(masks['(3 frames not drawn)']).toContain('#not-drawn-hatch');
    expect(masks['(1 frame not drawn)']).toContain('#not-drawn-hatch');
    expect(masks['mid']).not.toContain('#not-drawn-hatch');
    await p.hover('#flame-graph g.frame[name="(3 frames not drawn)"] rect');
    const tip = p.locator('.d3-flame-graph-tip');
    await tip.waitFor({ state: 'visible' });
    expect(await tip.textContent()).toBe('(3 frames not drawn)\nframes under mid, each narrower than 0.10us (1% of the total)\n0.09us (0.9%) in all\nclick to zoom into mid and draw them');
    await p.mouse.move(0, 0);
    expect(loadedPage.errors).toEqual([]);
  });

  test('search counts and sums the frames that are not drawn too', async () => {
    await p.fill('#search', 'tiny|deep|small');
    await p.press('#search', 'Enter');
    await p.waitForFunction(`/frames/.test(document.getElementById('search-result').textContent)`);
    // deep is inside tiny2: counted, not summed twice.
    expect(await p.textContent('#search-result')).toBe('4 frames, 0.15us = 1.51% of total');
    await p.fill('#search', '');
    await p.press('#search', 'Enter');
  });

  test('zooming into a frame draws its detail; zooming out leaves it out again', async () => {
    await p.click('#flame-graph g.frame[name="mid"]');
    // main's placeholder is mid's sibling: hidden while mid is zoomed into.
    await waitForFrames(p, ['a', 'deep', 'main', 'mid', 'root', 'tiny1', 'tiny2']);
    await waitForShare(p, 'tiny1', 50 / 890);
    expect(await p.isHidden('#left-out')).toBe(true);

    await p.click('#reset-zoom');
    await waitForFrames(p, AT_ROOT);
    expect(await p.textContent('#left-out')).toBe(NOTE);
  });

  test('clicking a placeholder zooms into the frame whose children it stands for', async () => {
    await p.click('#flame-graph g.frame[name="(3 frames not drawn)"]');
    await waitForFrames(p, ['a', 'deep', 'main', 'mid', 'root', 'tiny1', 'tiny2']);
    await waitForShare(p, 'mid', 1);
    await p.click('#reset-zoom');
    await waitForFrames(p, AT_ROOT);
    expect(loadedPage.errors).toEqual([]);
  });

  test('the table counts every function, drawn or not', async () => {
    const names = await p.$$eval('#top-table tbody td:first-child', (tds) => tds.map((td) => td.textContent));
    expect(names).toEqual(computeTop(pruned).rows.map((r) => r.function));
    expect(names).toEqual(expect.arrayContaining(['tiny1', 'deep', 'small']));
  });

  test('a node fraction of 0 draws every frame and says nothing is left out', async () => {
    const { page: all, errors } = await loadPage(browser, await renderFlamePage(flamePageData(pruned, {}, { nodeFraction: 0 })));
    try {
      await waitForFrames(all, ['a', 'big', 'deep', 'main', 'mid', 'root', 'small', 'tiny1', 'tiny2']);
      expect(await all.isHidden('#left-out')).toBe(true);
      expect(errors).toEqual([]);
    } finally {
      await all.close();
    }
  });
});
