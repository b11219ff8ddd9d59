/**
 * A synthetic heap profile for the flame page's worst cases (test/ui/flame-page-size.test.ts and
 * `BENCH=page`): many random deep stacks over far more distinct frames than real programs have.
 */
import { Function as PprofFunction, Line, Location, Profile, Sample, StringTable, ValueType } from 'pprof-format';

/** A deterministic PRNG (mulberry32): `rnd(n)` is an integer in [0, n), the same sequence for a seed. */
export function seededRandom(seed: number): (n: number) => number {
  let a = seed;
  return (n) => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return Math.floor((((t ^ (t >>> 14)) >>> 0) / 4294967296) * n);
  };
}

/**
 * A heap profile (alloc_objects, alloc_space, inuse_objects, inuse_space) with `samples` samples
 * spread at random over `stacks` random stacks of 8 to 32 frames drawn from 2,000 functions
 * under three roots; the same arguments give the same profile. 1.4M samples over 10,000 stacks
 * make a call tree of about 186k nodes.
 */
export function syntheticHeapProfile(samples: number, stacks: number): Profile {
  const rnd = seededRandom(42);
  const strings = new StringTable();
  const functions: PprofFunction[] = [];
  const locations: Location[] = [];
  for (let i = 1; i <= 2000; i++) {
    functions.push(new PprofFunction({ id: i, name: strings.dedup(`example.com/pkg${i % 37}.(*Type${i % 11}).method${i}`) }));
    locations.push(new Location({ id: i, line: [new Line({ functionId: i, line: 1 })] }));
  }
  const stackList: number[][] = [];
  for (let s = 0; s < stacks; s++) {
    const depth = 8 + rnd(25);
    const stack = [1 + rnd(3)]; // a few roots, as runtime.main and friends
    for (let d = 1; d < depth; d++) stack.push(1 + rnd(2000));
    stackList.push(stack.reverse()); // leaf first, as pprof stores them
  }
  const sample: Sample[] = [];
  for (let i = 0; i < samples; i++) {
    const inuse = rnd(2);
    const size = 16 + rnd(4096);
    sample.push(new Sample({ locationId: stackList[rnd(stacks)]!, value: [1, size, inuse, inuse * size] }));
  }
  const types = ['alloc_objects/count', 'alloc_space/bytes', 'inuse_objects/count', 'inuse_space/bytes'].map((t) => t.split('/'));
  return new Profile({
    sampleType: types.map(([type, unit]) => new ValueType({ type: strings.dedup(type!), unit: strings.dedup(unit!) })),
    sample,
    location: locations,
    function: functions,
    stringTable: strings,
    timeNanos: 1_764_000_000_000_000_000n,
  });
}
