import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Function as PprofFunction, Line, Location, Sample } from 'pprof-format';
import { mergeProfileFiles } from '../../src/merge/merge-files.js';
import { computeDiffTop, diffProfiles, diffTotal } from '../../src/pprof/diff.js';
import { buildCallTree, buildDiffCallTree, columnValues, ROOT_FRAME, topFromCallTree, type CallTree, type DiffCallTree, type Int64Column } from '../../src/pprof/flame.js';
import { computeTop, type Profile, type TopReport } from '../../src/pprof/index.js';
import { addInt64, subInt64, type Int64 } from '../../src/pprof/int64.js';
import { generateProfiles } from '../support/go-target.js';
import { seededRandom } from '../support/synthetic-profile.js';
import { buildProfile, type SampleSpec } from '../support/profile-builder.js';

/** The tree as readable lines in preorder: indentation = depth, then `name total/self` per sample type. */
function outline(tree: CallTree): string[] {
  const lines: string[] = [];
  for (let i = 0; i < tree.nameIndex.length; i++) {
    const values = tree.total.map((tot, t) => `${tot[i]}/${tree.self[t]![i]}`).join(' ');
    lines.push(`${'  '.repeat(tree.depth[i]!)}${tree.names[tree.nameIndex[i]!]} ${values}`);
  }
  return lines;
}

const tree = (samples: SampleSpec[]) => buildCallTree(buildProfile({ samples }));

/** What topFromCallTree and computeTop must agree on: the total, and every row's name, flat and cum, in order. */
const numbers = (r: Pick<TopReport, 'total' | 'sampleType' | 'sampleIndex' | 'rows'>) => ({
  sampleType: r.sampleType,
  sampleIndex: r.sampleIndex,
  total: r.total,
  rows: r.rows.map((row) => ({ function: row.function, flat: row.flat, cum: row.cum })),
});

describe('buildCallTree', () => {
  const cases: [string, SampleSpec[], string[]][] = [
    [
      'sums samples with equal stacks and keeps different stacks apart',
      [
        { stack: 'main;work', values: [1, 10] },
        { stack: 'main;work', values: [2, 20], labels: { span: 'a' } },
        { stack: 'main;idle', values: [1, 5] },
      ],
      ['root 4/0 35/0', '  main 4/0 35/0', '    idle 1/1 5/5', '    work 3/3 30/30'],
    ],
    [
      'gives a frame self value when samples end there, and total with its callees',
      [
        { stack: 'main;handler', values: [1, 10] },
        { stack: 'main;handler;json', values: [1, 30] },
      ],
      ['root 2/0 40/0', '  main 2/0 40/0', '    handler 2/1 40/10', '      json 1/1 30/30'],
    ],
    [
      'keeps each recursive call as a deeper frame',
      [{ stack: 'main;fib;fib;fib', values: [1, 50] }],
      ['root 1/0 50/0', '  main 1/0 50/0', '    fib 1/0 50/0', '      fib 1/0 50/0', '        fib 1/1 50/50'],
    ],
    [
      'keeps the same function under different callers apart',
      [
        { stack: 'main;a;log', values: [1, 1] },
        { stack: 'main;b;log', values: [1, 2] },
      ],
      ['root 2/0 3/0', '  main 2/0 3/0', '    a 1/0 1/0', '      log 1/1 1/1', '    b 1/0 2/0', '      log 1/1 2/2'],
    ],
    [
      'sorts siblings by name whatever the sample order',
      [
        { stack: 'main;zeta', values: [1, 1] },
        { stack: 'main;Alpha', values: [1, 1] },
        { stack: 'main;alpha', values: [1, 1] },
      ],
      ['root 3/0 3/0', '  main 3/0 3/0', '    Alpha 1/1 1/1', '    alpha 1/1 1/1', '    zeta 1/1 1/1'],
    ],
    [
      'leaves out samples whose values are all zero, keeps those with one non-zero type',
      [
        { stack: 'main;nothing', values: [0, 0] },
        { stack: 'main;some', values: [0, 7] },
      ],
      ['root 0/0 7/0', '  main 0/0 7/0', '    some 0/0 7/7'],
    ],
    ['gives a profile without samples a lone root', [], ['root 0/0 0/0']],
  ];
  test.each(cases)('%s', (_name, samples, expected) => {
    expect(outline(tree(samples))).toEqual(expected);
  });

  test('names the root "root", lists parents before children and gives consistent depths', () => {
    const t = tree([
      { stack: 'main;a;b', values: [1, 1] },
      { stack: 'main;c', values: [1, 1] },
      { stack: 'init', values: [1, 1] },
    ]);
    expect(t.names[t.nameIndex[0]!]).toBe(ROOT_FRAME);
    expect(t.parent[0]).toBe(-1);
    for (let i = 1; i < t.parent.length; i++) {
      expect(t.parent[i]).toBeLessThan(i);
      expect(t.depth[i]).toBe(t.depth[t.parent[i]!]! + 1);
    }
    expect(Array.from(t.parent)).toEqual([-1, 0, 0, 2, 3, 2]); // root, init, main, a, b, c
  });

  test('carries every sample type, and reports the default one like go tool pprof', () => {
    const p = buildProfile({
      sampleTypes: [['alloc_objects', 'count'], ['alloc_space', 'bytes'], ['inuse_objects', 'count'], ['inuse_space', 'bytes']],
      periodType: ['space', 'bytes'],
      samples: [{ stack: 'main;alloc', values: [1, 2, 3, 4] }],
    });
    const t = buildCallTree(p);
    expect(t.sampleTypes.map((s) => s.type)).toEqual(['alloc_objects', 'alloc_space', 'inuse_objects', 'inuse_space']);
    expect(t.defaultSampleIndex).toBe(3);
    expect(t.total.map((v) => v[0])).toEqual([1, 2, 3, 4]);
  });

  test('counts samples without a location at the root', () => {
    const p = buildProfile({ samples: [{ stack: 'main', values: [1, 1] }] });
    p.sample.push(new Sample({ locationId: [], value: [2, 20] }));
    expect(outline(buildCallTree(p))).toEqual(['root 3/2 21/20', '  main 1/1 1/1']);
  });

  test('makes a frame of each inlined function, caller first, and names line-less locations as pprof does: [binary] or <unknown>', () => {
    const p = buildProfile({ samples: [{ stack: 'main;parse', values: [1, 10] }] });
    // pprof lists a location's lines innermost first: parse inlined strconv.Atoi here.
    const atoi = new PprofFunction({ id: p.function.length + 1, name: p.stringTable.dedup('strconv.Atoi') });
    p.function.push(atoi);
    const locationOf = (name: string) =>
      p.location.find((l) => p.stringTable.strings[Number(p.function.find((f) => f.id === l.line[0]!.functionId)!.name)] === name)!;
    const parse = locationOf('parse');
    parse.line = [new Line({ functionId: atoi.id, line: 3 }), ...parse.line];
    const bare = new Location({ id: p.location.length + 1, address: 0x4abcd0 });
    const mapped = new Location({ id: p.location.length + 2, address: 0x4abce0, mappingId: 1 });
    p.location.push(bare, mapped);
    p.sample.push(new Sample({ locationId: [bare.id, locationOf('main').id], value: [1, 1] }));
    p.sample.push(new Sample({ locationId: [mapped.id, locationOf('main').id], value: [1, 2] }));
    expect(outline(buildCallTree(p))).toEqual([
      'root 3/0 13/0',
      '  main 3/0 13/0',
      '    <unknown> 1/1 1/1',
      '    [server] 1/1 2/2',
      '    parse 1/0 10/0',
      '      strconv.Atoi 1/1 10/10',
    ]);
  });
});

describe('topFromCallTree', () => {
  const cases: [string, SampleSpec[]][] = [
    ['flat at the leaf, cum with callees', [{ stack: 'main;handler;json', values: [1, 30] }, { stack: 'main;handler', values: [1, 10] }]],
    ['recursion counted once per sample in cum', [{ stack: 'main;fib;fib;fib', values: [1, 50] }, { stack: 'main;fib;work;fib', values: [1, 7] }]],
    ['negative values: |flat| orders, total sums absolute values', [{ stack: 'main;gc', values: [1, -5] }, { stack: 'main;alloc', values: [1, 3] }]],
    ['a function called root is a function like any other', [{ stack: 'main;root', values: [1, 4] }, { stack: 'root;x', values: [1, 2] }]],
    ['ties on flat are ordered by name', [{ stack: 'b', values: [1, 1] }, { stack: 'a', values: [1, 1] }, { stack: 'c;a', values: [0, 1] }]],
  ];
  test.each(cases)('is computeTop for the profile: %s', (_name, samples) => {
    const p = buildProfile({ samples });
    const t = buildCallTree(p);
    for (const type of [0, 1]) expect(numbers(topFromCallTree(t, type))).toEqual(numbers(computeTop(p, String(type))));
  });

  test('refuses a sample index the tree does not have', () => {
    expect(() => topFromCallTree(tree([{ stack: 'a', values: [1, 1] }]), 2)).toThrow('sample index 2 out of range (the profile has 2 sample types)');
  });
});

describe('buildCallTree on real Go profiles', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'flame-tree-'));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  test('gives the top table of computeTop for every sample type of merged Go heap profiles', async () => {
    const files = await generateProfiles('heap', 5, dir, { seed: 5 });
    const profile = (await mergeProfileFiles(files)).profile;
    const t = buildCallTree(profile);
    expect(t.sampleTypes.map((s) => s.type)).toEqual(['alloc_objects', 'alloc_space', 'inuse_objects', 'inuse_space']);
    let rows = 0;
    for (let type = 0; type < t.sampleTypes.length; type++) {
      const top = computeTop(profile, String(type));
      expect(numbers(topFromCallTree(t, type))).toEqual(numbers(top));
      expect(t.total[type]![0]).toBe(top.total);
      rows += top.rows.length;
    }
    expect(rows).toBeGreaterThan(40);
  });
});

/** A diff tree as readable lines: `name base→target` of one sample type, indented by depth. */
function diffOutline(tree: DiffCallTree, t = 1): string[] {
  return Array.from(tree.nameIndex, (name, i) => `${'  '.repeat(tree.depth[i]!)}${tree.names[name]} ${tree.base.total[t]![i]}→${tree.target.total[t]![i]}`);
}

/** A CPU profile (samples/count, cpu/nanoseconds) from `stack: ns` pairs; one sample per 10 ns. */
const cpu = (stacks: Record<string, number>) => buildProfile({ samples: Object.entries(stacks).map(([stack, ns]) => ({ stack, values: [ns / 10, ns] })) });

/** The sum of a sample type over every sample: for a diff profile, target minus base. */
const sumOf = (p: Profile, t: number) => p.sample.reduce<Int64>((sum, s) => addInt64(sum, s.value[t] as Int64), 0);
const at = (col: Int64Column, i: number) => columnValues(col)[i]!;

describe('buildDiffCallTree', () => {
  const cases: [string, Record<string, number>, Record<string, number>, string[]][] = [
    [
      'keeps base and target apart in every frame: grown, shrunk, gone and new code',
      { 'main;a': 100, 'main;b': 50, 'main;c': 30 },
      { 'main;a': 70, 'main;b': 80, 'main;e': 40 },
      ['root 180→190', '  main 180→190', '    a 100→70', '    b 50→80', '    c 30→0', '    e 0→40'],
    ],
    [
      'sums each side over its callees, like the totals of a call tree',
      { 'main;handler': 10, 'main;handler;json': 30 },
      { 'main;handler;json': 50, 'main;handler;gzip': 20 },
      ['root 40→70', '  main 40→70', '    handler 40→70', '      gzip 0→20', '      json 30→50'],
    ],
    [
      'keeps a frame whose two sides cancel out',
      { 'main;a': 20, 'main;b': 10 },
      { 'main;a': 10, 'main;b': 20 },
      ['root 30→30', '  main 30→30', '    a 20→10', '    b 10→20'],
    ],
    ['gives a profile against itself equal sides', { 'main;a': 20 }, { 'main;a': 20 }, ['root 20→20', '  main 20→20', '    a 20→20']],
    ['gives an empty base zeros', {}, { 'main;a': 20 }, ['root 0→20', '  main 0→20', '    a 0→20']],
  ];
  test.each(cases)('%s', (_name, base, target, expected) => {
    const diff = diffProfiles(cpu(base), cpu(target));
    const tree = buildDiffCallTree(diff);
    expect(diffOutline(tree)).toEqual(expected);
    // As a CallTree it is the diff: self and total are target minus base.
    for (let t = 0; t < 2; t++) {
      columnValues(tree.self[t]!).forEach((v, i) => expect(v).toBe(subInt64(at(tree.target.self[t]!, i), at(tree.base.self[t]!, i))));
      columnValues(tree.total[t]!).forEach((v, i) => expect(v).toBe(subInt64(at(tree.target.total[t]!, i), at(tree.base.total[t]!, i))));
    }
  });

  test("the root's delta is the diff profile's sum, and its 100% is pprof's diff total (the base's)", () => {
    const diff = diffProfiles(cpu({ 'main;a': 100, 'main;b': 50, 'main;c': 30 }), cpu({ 'main;a': 70, 'main;b': 80, 'main;e': 40 }));
    const tree = buildDiffCallTree(diff);
    for (let t = 0; t < 2; t++) {
      expect(tree.total[t]![0]).toBe(sumOf(diff, t));
      expect(tree.absoluteTotal[t]).toBe(diffTotal(diff, t));
    }
    expect(tree.total[1]![0]).toBe(10);
    expect(tree.absoluteTotal).toEqual([18, 180]);
  });

  test('has the nodes of buildCallTree on the same profile, whose values are its deltas', () => {
    const diff = diffProfiles(cpu({ 'main;a;b': 10, 'main;c': 30, 'init;x': 5 }), cpu({ 'main;a': 20, 'main;c;d': 30 }));
    const tree = buildDiffCallTree(diff);
    const plain = buildCallTree(diff);
    expect(tree.names).toEqual(plain.names);
    expect(tree.nameIndex).toEqual(plain.nameIndex);
    expect(tree.parent).toEqual(plain.parent);
    expect(tree.self).toEqual(plain.self);
    expect(tree.total).toEqual(plain.total);
  });

  test('takes a profile without base samples as all target', () => {
    const tree = buildDiffCallTree(cpu({ 'main;a': 20 }));
    expect(diffOutline(tree)).toEqual(['root 0→20', '  main 0→20', '    a 0→20']);
    expect(tree.absoluteTotal).toEqual([2, 20]);
  });

  test('counts only samples labelled pprof::base=true as the base, whatever their other labels', () => {
    const diff = buildProfile({
      samples: [
        { stack: 'main;a', values: [-1, -10], labels: { 'pprof::base': 'true', version: '1.2' } },
        { stack: 'main;a', values: [2, 20], labels: { 'pprof::base': 'false' } },
        { stack: 'main;a', values: [3, 30], labels: { 'pprof::base': 1 } },
      ],
    });
    expect(diffOutline(buildDiffCallTree(diff))).toEqual(['root 10→50', '  main 10→50', '    a 10→50']);
  });

  test.each([
    ['go tool pprof’s hand-checked case', { 'main;a': 100, 'main;b': 50, 'main;c': 30, 'main;d;a': 20 }, { 'main;a': 70, 'main;b': 50, 'main;e': 40, 'main;d;a': 60 }],
    ['recursion on both sides', { 'main;fib;fib': 30, 'main;fib': 10 }, { 'main;fib;fib;fib': 50, 'main;fib;x;fib': 10 }],
  ])('gives computeDiffTop’s report through topFromCallTree: %s', (_name, base, target) => {
    const diff = diffProfiles(cpu(base), cpu(target));
    const tree = buildDiffCallTree(diff);
    for (const t of [0, 1]) expect(numbers(topFromCallTree(tree, t))).toEqual(numbers(computeDiffTop(diff, String(t))));
  });
});

describe('buildDiffCallTree on real Go profiles', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'diff-tree-'));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  test('splits a diff of two Go heap profiles into the two call trees, and gives computeDiffTop for every sample type', async () => {
    // Two processes walking different call paths: two snapshots of one process were once equal in
    // every value on a loaded machine (a heap profile is published by the GC, not when written).
    const [baseFile] = await generateProfiles('heap', 1, path.join(dir, 'base'), { seed: 11 });
    const [targetFile] = await generateProfiles('heap', 1, path.join(dir, 'target'), { seed: 12 });
    const base = (await mergeProfileFiles([baseFile!])).profile;
    const target = (await mergeProfileFiles([targetFile!])).profile;
    const diff = diffProfiles(base, target);
    const tree = buildDiffCallTree(diff);
    const [baseTree, targetTree] = [buildCallTree(base), buildCallTree(target)];
    let changed = 0;
    for (let t = 0; t < tree.sampleTypes.length; t++) {
      expect(numbers(topFromCallTree(tree, t))).toEqual(numbers(computeDiffTop(diff, String(t))));
      expect(tree.total[t]![0]).toBe(sumOf(diff, t));
      // Each side's root is its profile's total.
      expect(tree.base.total[t]![0]).toBe(baseTree.total[t]![0]);
      expect(tree.target.total[t]![0]).toBe(targetTree.total[t]![0]);
      changed += columnValues(tree.total[t]!).filter((v) => v !== 0).length;
    }
    expect(changed).toBeGreaterThan(0);
    // Each side's frames, by path, are its own call tree's.
    const framesOf = (names: string[], nameIndex: Int32Array, parent: Int32Array, column: Int64Column) => {
      const total = columnValues(column);
      const paths: string[] = [];
      const frames = new Map<string, Int64>();
      for (let i = 0; i < nameIndex.length; i++) {
        paths[i] = i === 0 ? '' : `${paths[parent[i]!]};${names[nameIndex[i]!]}`;
        if (total[i] !== 0) frames.set(paths[i]!, total[i]!);
      }
      return frames;
    };
    const t = tree.defaultSampleIndex;
    expect(framesOf(tree.names, tree.nameIndex, tree.parent, tree.base.total[t]!)).toEqual(framesOf(baseTree.names, baseTree.nameIndex, baseTree.parent, baseTree.total[t]!));
    expect(framesOf(tree.names, tree.nameIndex, tree.parent, tree.target.total[t]!)).toEqual(framesOf(targetTree.names, targetTree.nameIndex, targetTree.parent, targetTree.total[t]!));
  });
});

describe('call trees of values beyond 2^53', () => {
  test('sum exactly, with Go’s int64 wrap-around, and give computeTop’s exact report', () => {
    const p = buildProfile({
      samples: [
        { stack: 'main;a', values: [1, 2n ** 53n + 1n] },
        { stack: 'main;a', values: [1, 2n ** 53n + 1n], labels: { span: 1 } },
        { stack: 'main;b', values: [1, 2n ** 62n] },
        { stack: 'main;b;c', values: [1, 2n ** 62n] },
      ],
    });
    const t = buildCallTree(p);
    expect(outline(t)).toEqual([
      `root 4/0 ${-(2n ** 63n) + 2n ** 54n + 2n}/0`,
      `  main 4/0 ${-(2n ** 63n) + 2n ** 54n + 2n}/0`,
      `    a 2/2 ${2n ** 54n + 2n}/${2n ** 54n + 2n}`,
      `    b 2/1 ${-(2n ** 63n)}/${2n ** 62n}`,
      `      c 1/1 ${2n ** 62n}/${2n ** 62n}`,
    ]);
    expect(numbers(topFromCallTree(t, 1))).toEqual(numbers(computeTop(p)));
    expect(t.absoluteTotal[1]).toBe(-(2n ** 63n) + 2n ** 54n + 2n);
  });
});

describe('stacks as the call tree finds them', () => {
  test('keeps thousands of distinct stacks apart and sums the repeated ones, as computeTop does', () => {
    const rnd = seededRandom(3);
    const stacks = Array.from({ length: 5000 }, () => ['main', ...Array.from({ length: 2 + rnd(12) }, () => `f${rnd(300)}`)].join(';'));
    const samples: SampleSpec[] = Array.from({ length: 20_000 }, () => ({ stack: stacks[rnd(stacks.length)]!, values: [1, 1 + rnd(1000)] }));
    const p = buildProfile({ samples });
    const t = buildCallTree(p);
    for (const type of [0, 1]) expect(numbers(topFromCallTree(t, type))).toEqual(numbers(computeTop(p, String(type))));
    // One node per distinct path of names from the root.
    const paths = new Set(samples.flatMap((s) => s.stack.split(';').map((_, i, names) => names.slice(0, i + 1).join(';'))));
    expect(t.nameIndex.length).toBe(paths.size + 1);
  });

  test('tells location ids beyond 2^53 apart exactly, where doubles would take them for one', () => {
    const p = buildProfile({
      samples: [
        { stack: 'main;a', values: [1, 10] },
        { stack: 'main;b', values: [1, 20] },
        { stack: 'main;a', values: [1, 30] },
      ],
    });
    // Locations a and b get ids 2^60 and 2^60 + 1: the same double.
    const byName = (name: string) => p.location.find((l) => p.stringTable.strings[Number(p.function.find((f) => f.id === l.line[0]!.functionId)!.name)] === name)!;
    const [a, b] = [byName('a'), byName('b')];
    const ids = new Map<number | bigint, bigint>([[a.id, 2n ** 60n], [b.id, 2n ** 60n + 1n]]);
    for (const s of p.sample) s.locationId = s.locationId.map((id) => ids.get(id) ?? id);
    a.id = 2n ** 60n;
    b.id = 2n ** 60n + 1n;
    expect(outline(buildCallTree(p))).toEqual(['root 3/0 60/0', '  main 3/0 60/0', '    a 2/2 40/40', '    b 1/1 20/20']);
  });
});
