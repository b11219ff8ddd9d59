import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Function as PprofFunction, Line, Location, Sample } from 'pprof-format';
import { mergeProfileFiles } from '../../src/merge/merge-files.js';
import { buildCallTree, ROOT_FRAME, topFromCallTree, type CallTree } from '../../src/pprof/flame.js';
import { computeTop } from '../../src/pprof/index.js';
import { generateProfiles } from '../support/go-target.js';
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

  test('makes a frame of each inlined function, caller first, and names line-less locations by address', () => {
    const p = buildProfile({ samples: [{ stack: 'main;parse', values: [1, 10] }] });
    // pprof lists a location's lines innermost first: parse inlined strconv.Atoi here.
    const atoi = new PprofFunction({ id: p.function.length + 1, name: p.stringTable.dedup('strconv.Atoi') });
    p.function.push(atoi);
    const locationOf = (name: string) =>
      p.location.find((l) => p.stringTable.strings[Number(p.function.find((f) => f.id === l.line[0]!.functionId)!.name)] === name)!;
    const parse = locationOf('parse');
    parse.line = [new Line({ functionId: atoi.id, line: 3 }), ...parse.line];
    const bare = new Location({ id: p.location.length + 1, address: 0x4abcd0 });
    p.location.push(bare);
    p.sample.push(new Sample({ locationId: [bare.id, locationOf('main').id], value: [1, 1] }));
    expect(outline(buildCallTree(p))).toEqual([
      'root 2/0 11/0',
      '  main 2/0 11/0',
      '    0x00000000004abcd0 1/1 1/1',
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
    for (const type of [0, 1]) expect(topFromCallTree(t, type)).toEqual(computeTop(p, String(type)));
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
      expect(topFromCallTree(t, type)).toEqual(top);
      expect(t.total[type]![0]).toBe(top.total);
      rows += top.rows.length;
    }
    expect(rows).toBeGreaterThan(40);
  });
});
