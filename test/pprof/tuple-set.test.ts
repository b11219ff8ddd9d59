import { hashWords, TupleSet } from '../../src/pprof/tuple-set.js';

describe('TupleSet', () => {
  // 5000 tuples cross every doubling of the entry arrays and of the slots (a bug once lost the
  // hash of entry 512 when the two grew apart, so that tuple was added a second time).
  const key = (i: number) => Uint32Array.from({ length: 1 + (i % 6) }, (_, k) => (k === 0 ? i : (i * 2654435761 + k) >>> 0));

  test('gives each new tuple the next index and every known tuple its own, across every growth', () => {
    const set = new TupleSet();
    const wrong: string[] = [];
    for (let i = 0; i < 5000; i++) {
      const k = key(i);
      const index = set.intern(k, k.length, hashWords(k, k.length));
      if (index !== i) wrong.push(`intern ${i}: ${index}`);
    }
    for (let i = 0; i < 5000; i++) {
      const k = key(i);
      const found = set.find(k, k.length, hashWords(k, k.length));
      const again = set.intern(k, k.length, hashWords(k, k.length));
      if (found !== i || again !== i || set.tuple(i).join() !== k.join()) wrong.push(`${i}: found ${found}, again ${again}, tuple ${set.tuple(i).join()}`);
    }
    expect(wrong).toEqual([]);
    expect(set.size).toBe(5000);
  });

  test('tuples that share a hash or a prefix stay apart; the empty tuple is one tuple', () => {
    const set = new TupleSet();
    const a = Uint32Array.of(1, 2, 3);
    expect(set.intern(a, 3, 42)).toBe(0);
    expect(set.intern(a, 2, 42)).toBe(1); // a prefix, same hash
    expect(set.intern(Uint32Array.of(1, 2, 4), 3, 42)).toBe(2);
    expect(set.intern(a, 0, 7)).toBe(3);
    expect(set.intern(Uint32Array.of(9), 0, 7)).toBe(3);
    expect(set.find(Uint32Array.of(1, 2, 5), 3, 42)).toBe(-1);
  });
});
