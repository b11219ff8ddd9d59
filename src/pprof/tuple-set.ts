/**
 * Interns tuples of uint32 words: each distinct tuple gets the next index (0, 1, 2, ...). The
 * merger keys samples, locations and functions by value with it; an int64 takes two words (low,
 * high), so keys are exact without strings, BigInt or an object per entry. Open addressing over
 * typed arrays: growing costs a rehash of the indexes, never a copy of a key.
 */
export class TupleSet {
  /** Every tuple's words, one after another; tuple i is words[starts[i] .. starts[i + 1]). */
  private words = new Uint32Array(64);
  private starts = new Uint32Array(17);
  private hashes = new Int32Array(16);
  /** index + 1 of the tuple in each slot, 0 for an empty slot; the length is a power of two. */
  private slots = new Int32Array(32);
  /** How many tuples there are. */
  size = 0;

  /** The index of `key[0..n)` (whose {@link hashWords} is `hash`), or -1. */
  find(key: Uint32Array, n: number, hash: number): number {
    const slots = this.slots;
    const mask = slots.length - 1;
    for (let s = hash & mask; ; s = (s + 1) & mask) {
      const entry = slots[s]!;
      if (entry === 0) return -1;
      const index = entry - 1;
      if (this.hashes[index] === hash && this.equals(index, key, n)) return index;
    }
  }

  /** The index of `key[0..n)`, adding it when it is new: then the result is the old `size`. */
  intern(key: Uint32Array, n: number, hash: number): number {
    const slots = this.slots;
    const mask = slots.length - 1;
    let s = hash & mask;
    for (; ; s = (s + 1) & mask) {
      const entry = slots[s]!;
      if (entry === 0) break;
      const index = entry - 1;
      if (this.hashes[index] === hash && this.equals(index, key, n)) return index;
    }
    const index = this.size++;
    if (index >= this.hashes.length) this.growEntries();
    const start = this.starts[index]!;
    if (start + n > this.words.length) this.words = grow(this.words, start + n);
    this.words.set(key.subarray(0, n), start);
    this.starts[index + 1] = start + n;
    this.hashes[index] = hash;
    slots[s] = index + 1;
    // Keep the load under one half: probes stay short.
    if (this.size * 2 > slots.length) this.rehash();
    return index;
  }

  /** The words of tuple `index` (a view, valid until the next intern). */
  tuple(index: number): Uint32Array {
    return this.words.subarray(this.starts[index]!, this.starts[index + 1]!);
  }

  private equals(index: number, key: Uint32Array, n: number): boolean {
    const start = this.starts[index]!;
    if (this.starts[index + 1]! - start !== n) return false;
    const words = this.words;
    for (let i = 0; i < n; i++) if (words[start + i] !== key[i]) return false;
    return true;
  }

  /** Doubles the room for tuples: `starts` stays one longer than `hashes`. */
  private growEntries(): void {
    const starts = new Uint32Array(this.hashes.length * 2 + 1);
    starts.set(this.starts);
    this.starts = starts;
    const hashes = new Int32Array(this.hashes.length * 2);
    hashes.set(this.hashes);
    this.hashes = hashes;
  }

  private rehash(): void {
    const slots = new Int32Array(this.slots.length * 2);
    const mask = slots.length - 1;
    for (let index = 0; index < this.size; index++) {
      let s = this.hashes[index]! & mask;
      while (slots[s] !== 0) s = (s + 1) & mask;
      slots[s] = index + 1;
    }
    this.slots = slots;
  }
}

/** FNV-1a over words, with a final mix so that the low bits (the slot) depend on every word. */
export function hashWords(key: Uint32Array, n: number): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < n; i++) h = Math.imul(h ^ key[i]!, 0x01000193);
  return finishHash(h);
}

/** One step of {@link hashWords}, for callers that hash while they fill the key. */
export function mixHash(h: number, word: number): number {
  return Math.imul(h ^ word, 0x01000193);
}

export const HASH_SEED = 0x811c9dc5;

/** The last step of {@link hashWords}. */
export function finishHash(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  return h | 0;
}

/** A copy of `a` at least `min` long (doubling). */
export function grow<T extends Uint32Array | Int32Array | Float64Array>(a: T, min: number): T {
  let n = a.length * 2;
  while (n < min) n *= 2;
  const out = new (a.constructor as new (n: number) => T)(n);
  out.set(a);
  return out;
}
