/**
 * drop_frames / keep_frames: our RemoveUninteresting against pprof's own (test/support/go-ref
 * runs profile.RemoveUninteresting of the pprof behind `go tool pprof`) on generated profiles:
 * Go method names, C++ names, inlined frames, address-only and nameless frames, keep patterns
 * that rescue a frame, RE2-only syntax, and patterns Go cannot compile (nothing pruned).
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { IdMap } from '../../src/pprof/id-map.js';
import { decodeProfile, encodeProfile, type Profile } from '../../src/pprof/index.js';
import { removeUninteresting, simplifyFunc } from '../../src/pprof/prune.js';
import { goRef } from '../support/go-ref.js';
import { buildProfile, type SampleSpec } from '../support/profile-builder.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'prune-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

/** Each sample as go-ref prints it: frames root first (a location's lines caller first), then values. */
function stacks(p: Profile): string[] {
  const s = p.stringTable.strings;
  const functions = IdMap.byId(p.function);
  const locations = IdMap.byId(p.location);
  return p.sample.map((smp) => {
    const frames: string[] = [];
    for (let i = smp.locationId.length - 1; i >= 0; i--) {
      const loc = locations.get(smp.locationId[i]!)!;
      if (loc.line.length === 0) frames.push(`0x${loc.address.toString(16)}`);
      for (let j = loc.line.length - 1; j >= 0; j--) frames.push(s[Number(functions.get(loc.line[j]!.functionId)!.name)]!);
    }
    return `${frames.join(';')} ${smp.value.join(',')}`;
  });
}

const SAMPLES: SampleSpec[] = [
  { stack: 'runtime.main;main.main;main.handler;runtime.mallocgc;runtime.nextFreeFast', values: [1, 10] },
  { stack: 'runtime.main;main.main;main.(*Server).Serve;main.readBody+runtime.makeslice+runtime.mallocgc', values: [2, 20] },
  { stack: 'runtime.main;main.main;main.parse+strconv.Atoi+runtime.keepalive', values: [3, 30] },
  { stack: 'runtime.goexit;runtime.gcBgMarkWorker;runtime.gcDrain', values: [4, 40] },
  { stack: 'main.main;Foo::bar(int);(anonymous namespace)::baz(char*);operator()(int)', values: [5, 50] },
  { stack: 'main.main;.ppc.entry;@0x461010;#12;runtime.memmove', values: [6, 60] },
  { stack: 'main.main;sync.(*Mutex).Lock;sync.runtime_SemacquireMutex', values: [7, 70] },
  { stack: 'runtime.mallocgc;main.inner', values: [8, 80] },
];

// Every row has three entries: with two, jest would pass its `done` callback as `keep`.
const CASES: [name: string, drop: string, keep: string | undefined][] = [
  ['runtime frames and everything they call', 'runtime\\..*', undefined],
  ['a keep pattern rescues a frame', 'runtime\\..*', 'runtime\\.keepalive'],
  ['allocator internals by alternation', 'runtime\\.(mallocgc|makeslice|nextFreeFast)', undefined],
  ['simplifyFunc: a Go method is matched as its package and a dot', 'main\\.|sync\\.', undefined],
  ['simplifyFunc: C++ argument lists and reserved names', 'Foo::bar|operator\\(\\)|\\(anonymous namespace\\)::baz', undefined],
  ['simplifyFunc: a leading dot is dropped', 'ppc\\.entry', undefined],
  ['RE2 only: \\A, \\z, [[:alpha:]], \\pL and (?P<name>)', '\\A(?P<pkg>runtime)\\.[[:alpha:]]+\\pL*\\z', undefined],
  ['RE2 only: (?i) and \\Q...\\E', '(?i)RUNTIME\\Q.\\Emalloc.*', undefined],
  ['a pattern Go cannot compile: nothing is pruned', 'runtime\\.(?=malloc)', undefined],
  ['a keep pattern Go cannot compile: nothing is pruned', 'runtime\\..*', '\\8'],
  ['an empty name never matches (nameless and address-only frames stay)', '.*memmove|', undefined],
];

describe('removeUninteresting', () => {
  test.each(CASES)('%s: as profile.RemoveUninteresting', async (name, drop, keep) => {
    const file = path.join(dir, `${name.replace(/\W+/g, '-').slice(0, 50)}.pb.gz`);
    await writeFile(file, encodeProfile(buildProfile({ samples: SAMPLES, dropFrames: drop, keepFrames: keep })));
    const [go] = await goRef([{ op: 'removeUninteresting', file }]);
    const ours = removeUninteresting(decodeProfile(await readFile(file)));
    expect(stacks(ours.profile)).toEqual(go!.samples);
    expect(ours.warning !== undefined).toBe(go!.error !== undefined);
  });

  test('without drop_frames the profile is returned as it is', () => {
    const p = buildProfile({ samples: SAMPLES });
    expect(removeUninteresting(p).profile).toBe(p);
  });

  test('does not modify its input', () => {
    const p = buildProfile({ samples: SAMPLES, dropFrames: 'runtime\\..*' });
    const before = stacks(p);
    expect(stacks(removeUninteresting(p).profile)).not.toEqual(before);
    expect(stacks(p)).toEqual(before);
  });
});

describe('simplifyFunc', () => {
  test.each([
    ['main.(*T).Run', 'main.'],
    ['Foo::bar(int)', 'Foo::bar'],
    ['Foo::operator()(int)', 'Foo::operator()'],
    ['(anonymous namespace)::f(x)', '(anonymous namespace)::f'],
    ['.ppc.entry', 'ppc.entry'],
    ['runtime.mallocgc', 'runtime.mallocgc'],
  ])('%s -> %s', (name, simple) => {
    expect(simplifyFunc(name)).toBe(simple);
  });
});
