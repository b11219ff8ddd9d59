/**
 * A map from pprof ids (positive integers, usually dense from 1) to values: an array when
 * the ids are dense, a Map when they are not. Profiles reference locations by id millions
 * of times, so this lookup is on the hot path of decode checks and merges.
 */
export class IdMap<T> {
  private readonly dense: (T | undefined)[] | undefined;
  private readonly sparse: Map<number | bigint, T> | undefined;

  constructor(expectedCount: number, maxId: number | bigint) {
    if (typeof maxId === 'number' && maxId <= expectedCount * 2 + 1024) {
      this.dense = new Array<T | undefined>(maxId + 1);
    } else {
      this.sparse = new Map();
    }
  }

  /** Builds a map of items by their own `id`. */
  static byId<T extends { id: number | bigint }>(items: readonly T[]): IdMap<T> {
    let maxId: number | bigint = 0;
    for (const it of items) if (it.id > maxId) maxId = it.id;
    const map = new IdMap<T>(items.length, maxId);
    for (const it of items) map.set(it.id, it);
    return map;
  }

  get(id: number | bigint): T | undefined {
    if (this.dense) return typeof id === 'number' ? this.dense[id] : undefined;
    return this.sparse!.get(id);
  }

  set(id: number | bigint, value: T): void {
    if (this.dense && typeof id === 'number' && id < this.dense.length) this.dense[id] = value;
    else if (this.dense) throw new RangeError(`id ${id} outside the dense id range`);
    else this.sparse!.set(id, value);
  }
}
