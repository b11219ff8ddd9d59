/**
 * The flame graph page as data and as a file: what flamePageData embeds, and that the written
 * page carries everything inline (scripts, styles, data) and survives hostile function names.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { buildBundle } from '../../scripts/build.mjs';
import { diffProfiles } from '../../src/pprof/diff.js';
import { buildCallTree, buildDiffCallTree, columnValues } from '../../src/pprof/flame.js';
import { DEFAULT_NODE_FRACTION, diffFlamePageData, flamePageData, profileKind, renderFlamePage, scriptJson, unpackFlameTree, writeFlamePage, type FlamePageData } from '../../src/report/flame-page.js';
import { buildProfile } from '../support/profile-builder.js';
import { embeddedData } from './browser.js';

const HEAP_TYPES: [string, string][] = [['alloc_objects', 'count'], ['alloc_space', 'bytes'], ['inuse_objects', 'count'], ['inuse_space', 'bytes']];
const heap = buildProfile({
  sampleTypes: HEAP_TYPES,
  periodType: ['space', 'bytes'],
  timeNanos: 1_764_000_000_000_000_000n,
  samples: [
    { stack: 'main;handler;json.Marshal', values: [10, 4096, 1, 512] },
    { stack: 'main;handler', values: [5, 1024, 0, 0] },
    { stack: 'main;cache.Put', values: [1, 2048, 1, 2048] },
  ],
});

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'flame-page-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

describe('flamePageData', () => {
  test('embeds the call tree with every sample type and selects the one pprof shows', () => {
    const data = flamePageData(heap, {});
    expect(data.sampleTypes.map((t) => t.type)).toEqual(['alloc_objects', 'alloc_space', 'inuse_objects', 'inuse_space']);
    expect(data.defaultSampleIndex).toBe(3);
    const tree = unpackFlameTree(data.tree);
    const frames = tree.name.map((n, i) => `${'  '.repeat(tree.depth[i]!)}${data.names[n]} ${tree.self.map((s) => s[i]).join(',')}`);
    expect(frames).toEqual([
      'root 0,0,0,0',
      '  main 0,0,0,0',
      '    cache.Put 1,2048,1,2048',
      '    handler 5,1024,0,0',
      '      json.Marshal 10,4096,1,512',
    ]);
  });

  test('embeds a top table per sample type, rows as [name, flat, cum] in pprof order', () => {
    const data = flamePageData(heap, {});
    const rows = (t: number) => data.top[t]!.rows.map(([n, flat, cum]) => `${data.names[n]} ${flat} ${cum}`);
    expect(data.top.map((t) => t.total)).toEqual([16, 7168, 2, 2560]);
    expect(rows(3)).toEqual(['cache.Put 2048 2048', 'json.Marshal 512 512', 'handler 0 512', 'main 0 2560']);
    expect(rows(1)[0]).toBe('json.Marshal 4096 4096');
  });

  test.each([
    ['by name', 'alloc_space', 1],
    ['by index', '0', 0],
  ])('selects the --sample-type asked for, %s', (_how, wanted, index) => {
    expect(flamePageData(heap, {}, { sampleType: wanted }).defaultSampleIndex).toBe(index);
  });

  test('refuses a sample type the profile does not have, naming the ones it has', () => {
    expect(() => flamePageData(heap, {}, { sampleType: 'cpu' })).toThrow('sample type "cpu" is not in this profile (it has: alloc_objects, alloc_space, inuse_objects, inuse_space)');
  });

  const TIME: [string, string] = ['Profile time', '2025-11-24T16:00:00Z'];
  const metaCases: [string, Parameters<typeof flamePageData>[1], FlamePageData['meta']][] = [
    [
      'a store query: service and type in the title, then count, window and time profiled',
      {
        service: 'auth',
        type: 'heap',
        from: new Date('2026-11-25T10:00:00.500Z'),
        to: new Date('2026-11-25T11:00:00Z'),
        labels: [{ key: 'namespace', value: 'shop' }, { key: 'version', value: '1.3' }],
        profiles: 12,
        store: 'profefe at http://profefe:10100',
      },
      {
        title: 'auth heap',
        subtitle: '12 profiles · 2026-11-25T10:00:00Z to 2026-11-25T11:00:00Z (1h) · 10s profiled',
        fields: [['Service', 'auth'], ['Type', 'heap'], ['Labels', 'namespace=shop, version=1.3'], ['Store', 'profefe at http://profefe:10100'], TIME],
      },
    ],
    [
      'one file: the kind of profile in the title, the file in the fields',
      { files: ['/p/heap/a.pb.gz'], profiles: 1 },
      { title: 'heap profile', subtitle: '1 profile · 10s profiled', fields: [['File', '/p/heap/a.pb.gz'], TIME] },
    ],
    [
      'files from one directory: kind and count in the title, the names folded after the directory',
      { files: ['/p/heap/a.pb.gz', '/p/heap/b.pb.gz'], profiles: 2 },
      { title: 'heap profile, 2 merged', subtitle: '2 profiles · 10s profiled', fields: [TIME], details: [['2 files in /p/heap', 'a.pb.gz, b.pb.gz']] },
    ],
    [
      'many files: the first ten and a count, folded',
      { files: Array.from({ length: 12 }, (_, i) => `d${i}/p.pb.gz`), profiles: 12 },
      {
        title: 'heap profile, 12 merged',
        subtitle: '12 profiles · 10s profiled',
        fields: [TIME],
        details: [['12 files', `${Array.from({ length: 10 }, (_, i) => `d${i}/p.pb.gz`).join(', ')} and 2 more`]],
      },
    ],
    [
      'one store id',
      { ids: ['c0ffee00000000000000'], store: 'the local store in /s', profiles: 1 },
      { title: 'heap profile', subtitle: '1 profile · 10s profiled', fields: [['Profile id', 'c0ffee00000000000000'], ['Store', 'the local store in /s'], TIME] },
    ],
    [
      'several store ids, folded',
      { ids: ['c0ffee00000000000000', 'c0ffee00000000000001'], store: 'the local store in /s' },
      { title: 'heap profile, 2 merged', subtitle: '10s profiled', fields: [['Store', 'the local store in /s'], TIME], details: [['2 profile ids', 'c0ffee00000000000000, c0ffee00000000000001']] },
    ],
  ];
  test.each(metaCases)('shows what is known about the profile: %s', (_name, meta, expected) => {
    expect(flamePageData(heap, meta).meta).toEqual(expected);
  });

  test.each([
    ['cpu', [['samples', 'count'], ['cpu', 'nanoseconds']]],
    ['heap', HEAP_TYPES],
    ['goroutine', [['goroutine', 'count']]],
    ['block/mutex', [['contentions', 'count'], ['delay', 'nanoseconds']]],
    ['alloc_space,inuse_space', [['alloc_space', 'bytes'], ['inuse_space', 'bytes']]],
  ] as [string, [string, string][]][])('names the kind of profile from its sample types: %s', (kind, types) => {
    expect(profileKind(types.map(([type, unit]) => ({ type, unit })))).toBe(kind);
  });
});

describe('diffFlamePageData', () => {
  const target = buildProfile({
    sampleTypes: HEAP_TYPES,
    periodType: ['space', 'bytes'],
    samples: [
      { stack: 'main;handler;json.Marshal', values: [4, 1024, 1, 256] },
      { stack: 'main;handler;gzip', values: [2, 8192, 2, 8192] },
    ],
  });

  test("embeds the target's self values in self, the base's in baseSelf, on one tree", () => {
    const data = diffFlamePageData(diffProfiles(heap, target), { base: 'a.pb.gz', target: 'b.pb.gz' });
    expect(data.mode).toBe('diff');
    expect(flamePageData(heap, {}).mode).toBe('profile');
    const tree = unpackFlameTree(data.tree);
    const frames = tree.name.map((n, i) => `${'  '.repeat(tree.depth[i]!)}${data.names[n]} ${tree.baseSelf!.map((s) => s[i]).join(',')} → ${tree.self.map((s) => s[i]).join(',')}`);
    expect(frames).toEqual([
      'root 0,0,0,0 → 0,0,0,0',
      '  main 0,0,0,0 → 0,0,0,0',
      '    cache.Put 1,2048,1,2048 → 0,0,0,0',
      '    handler 5,1024,0,0 → 0,0,0,0',
      '      gzip 0,0,0,0 → 2,8192,2,8192',
      '      json.Marshal 10,4096,1,512 → 4,1024,1,256',
    ]);
  });

  test("embeds the diff's top tables: deltas in pprof's order, and the base's total", () => {
    const data = diffFlamePageData(diffProfiles(heap, target), {}, { sampleType: 'inuse_space' });
    expect(data.defaultSampleIndex).toBe(3);
    expect(data.top.map((t) => t.total)).toEqual([16, 7168, 2, 2560]);
    expect(data.top[3]!.rows.map(([n, flat, cum]) => `${data.names[n]} ${flat} ${cum}`)).toEqual([
      'gzip 8192 8192',
      'cache.Put -2048 -2048',
      'json.Marshal -256 -256',
      'handler 0 7936',
      'main 0 5888',
    ]);
  });

  test.each([
    ['two files', { base: '/p/before.pb.gz', target: '/p/after.pb.gz' }, 'heap diff: before.pb.gz → after.pb.gz', [['Base', '/p/before.pb.gz'], ['Target', '/p/after.pb.gz']]],
    [
      'two windows of a service',
      { base: 'heap profiles of service "auth" from A to B', target: 'heap profiles of service "auth" from C to D', service: 'auth', type: 'heap', store: 'the local store in /s' },
      'auth heap diff',
      [['Base', 'heap profiles of service "auth" from A to B'], ['Target', 'heap profiles of service "auth" from C to D'], ['Service', 'auth'], ['Type', 'heap'], ['Store', 'the local store in /s']],
    ],
  ] as [string, Parameters<typeof diffFlamePageData>[1], string, [string, string][]][])('names what was compared, not the merged times: %s', (_name, meta, title, fields) => {
    expect(diffFlamePageData(diffProfiles(heap, target), meta).meta).toEqual({ title, fields });
  });

  test("carries each side's count, duration and totals per sample type, and the target's normalization", () => {
    const side = { name: '/p/before.pb.gz', made: '1 profile', durationNanos: 4_000_000_000, totals: [16, 7168, 2, 2560] };
    const meta = diffFlamePageData(diffProfiles(heap, target), {
      base: '/p/before.pb.gz',
      target: '/p/after.pb.gz',
      sides: { base: side, target: { ...side, name: '/p/after.pb.gz', made: 'sum of 2 profiles', durationNanos: 0, totals: [6, 2n ** 60n, 3, 8448], ratios: [2.5, 1, 0.5, 1] } },
    }).meta;
    // The sides' table names them: no Base and Target fields besides.
    expect(meta.fields).toEqual([]);
    expect(meta.sides).toEqual([
      { role: 'Base', name: '/p/before.pb.gz', made: '1 profile', duration: '4s', totals: [16, 7168, 2, 2560] },
      { role: 'Target', name: '/p/after.pb.gz', made: 'sum of 2 profiles', totals: [6, '1152921504606846976', 3, 8448], ratios: [2.5, 1, 0.5, 1] },
    ]);
  });
});

describe('the packed tree', () => {
  test('carries the default node fraction, or the one asked for, and refuses one outside [0, 1)', () => {
    expect(flamePageData(heap, {}).nodeFraction).toBe(DEFAULT_NODE_FRACTION);
    expect(flamePageData(heap, {}, { nodeFraction: 0 }).nodeFraction).toBe(0);
    expect(diffFlamePageData(diffProfiles(heap, heap), {}, { nodeFraction: 0.01 }).nodeFraction).toBe(0.01);
    expect(() => flamePageData(heap, {}, { nodeFraction: 1 })).toThrow('node fraction 1 is not in [0, 1)');
    expect(() => flamePageData(heap, {}, { nodeFraction: -0.1 })).toThrow('node fraction -0.1 is not in [0, 1)');
  });

  test('packs names and depths in the fewest bytes, and self values only where a node has one', () => {
    const data = flamePageData(heap, {});
    expect(data.tree.nodes).toBe(5);
    expect([data.tree.name.bytes, data.tree.depth.bytes, data.tree.selfNodes.bytes]).toEqual([1, 1, 1]);
    // cache.Put, handler and json.Marshal have self values; root and main do not.
    expect(Buffer.from(data.tree.selfNodes.data, 'base64')).toEqual(Buffer.from([2, 3, 4]));
    expect(data.tree.self.map((c) => c.type)).toEqual(['float64', 'float64', 'float64', 'float64']);
  });

  test('reads back exactly: values beyond 2^53 as int64, many nodes and names in wider integers', () => {
    const samples = Array.from({ length: 300 }, (_, i) => ({ stack: `main;f${i}`, values: [1, i === 0 ? 2n ** 62n : i] as (number | bigint)[] }));
    const p = buildProfile({ samples });
    const data = flamePageData(p, {});
    expect([data.tree.name.bytes, data.tree.depth.bytes, data.tree.selfNodes.bytes]).toEqual([2, 1, 2]);
    expect(data.tree.self.map((c) => c.type)).toEqual(['float64', 'int64']);
    const tree = buildCallTree(p);
    expect(unpackFlameTree(data.tree)).toEqual({ name: Array.from(tree.nameIndex), depth: Array.from(tree.depth), self: tree.self.map((c) => columnValues(c)) });
    expect(unpackFlameTree(data.tree).self[1]).toContain(2n ** 62n);
  });

  test("reads back a diff's two sides", () => {
    const target = buildProfile({ samples: [{ stack: 'main;handler;gzip', values: [2, 8192, 2, 8192] }], sampleTypes: HEAP_TYPES, periodType: ['space', 'bytes'] });
    const diff = diffProfiles(heap, target);
    const tree = buildDiffCallTree(diff);
    const unpacked = unpackFlameTree(diffFlamePageData(diff, {}).tree);
    expect(unpacked.self).toEqual(tree.target.self.map((c) => columnValues(c)));
    expect(unpacked.baseSelf).toEqual(tree.base.self.map((c) => columnValues(c)));
  });
});

describe('scriptJson', () => {
  test('escapes < (and the JS line separators) so no string can end the script element', () => {
    const text = scriptJson({ name: '</script><script>alert(1)</script>', sep: '\u2028\u2029', ok: 'a>b&c' });
    expect(text).not.toMatch(/[<\u2028\u2029]/);
    expect(JSON.parse(text)).toEqual({ name: '</script><script>alert(1)</script>', sep: '\u2028\u2029', ok: 'a>b&c' });
  });
});

describe('the written page', () => {
  let html: string;
  let data: FlamePageData;
  beforeAll(async () => {
    const file = path.join(dir, 'heap.html');
    const bytes = await writeFlamePage(file, heap, { service: 'auth </title><b>', type: 'heap' });
    html = await readFile(file, 'utf8');
    expect(Buffer.byteLength(html)).toBe(bytes);
    data = embeddedData(html);
  });

  test('inlines every script and style: no src, no href, no url()', () => {
    expect(html).not.toMatch(/<script[^>]*\ssrc=/i);
    expect(html).not.toMatch(/<link\b/i);
    expect(html).not.toMatch(/url\(\s*['"]?(https?:)?\/\//i);
    expect(html).toContain('https://d3js.org v7'); // d3's own header: the library is in the page
    expect(html).toContain('d3-flame-graph'); // d3-flame-graph's CSS class, from its bundle and our CSS
    expect(html.match(/<script>/g)!.length).toBe(4); // d3, d3-flame-graph, the page's formatting and its own script
    expect(html).not.toMatch(/<!--inline:/);
  });

  test('escapes the title in HTML and carries the data as JSON', () => {
    expect(html).toContain('<title>auth &lt;/title&gt;&lt;b&gt; heap · kubectl profefe</title>');
    expect(data.meta.title).toBe('auth </title><b> heap');
    expect(data.sampleTypes).toHaveLength(4);
  });

  test('keeps a function named </script> inside the data', async () => {
    const hostile = buildProfile({ samples: [{ stack: 'main;</script><script>alert(1)</script>', values: [1, 1] }] });
    const page = await renderFlamePage(flamePageData(hostile, {}));
    expect(page.match(/<\/script>/g)!.length).toBe(5); // the data's and the four scripts' own
    expect(embeddedData(page).names).toContain('</script><script>alert(1)</script>');
  });
});

describe('the page from the bundle (as installed, and in the single executable)', () => {
  test('holds the same html, css, js, d3 and d3-flame-graph as the sources, in a chunk of its own', async () => {
    const out = path.join(dir, 'bundle');
    const metafile = await buildBundle({ outdir: out, entries: { 'flame-page': 'src/report/flame-page.ts' } });
    const bundled = (await import(path.join(out, 'flame-page.js'))) as typeof import('../../src/report/flame-page.js');
    const page = await bundled.renderFlamePage(flamePageData(heap, {}));
    expect(page).toBe(await renderFlamePage(flamePageData(heap, {})));
    // The texts are inlined at build time: no file of the sources or of d3 is read at run time.
    const assetChunks = Object.entries(metafile!.outputs).filter(([, o]) => Object.keys(o.inputs).some((i) => i.endsWith('src/report/flame-page-assets.ts')));
    expect(assetChunks).toHaveLength(1);
    expect(Object.keys(assetChunks[0]![1].inputs)).toEqual(['src/report/flame-page-assets.ts']);
  }, 60_000);
});
