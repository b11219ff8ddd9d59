/**
 * Sharding the collector: N replicas of `collect` split the opted-in pods among themselves, each
 * taking the pods whose shard is its own, so together they cover every pod once. Every replica
 * still lists all pods (one paged list a round) and keeps its share; the API server cannot select
 * by hash.
 *
 * The shard of a pod is Jump Consistent Hash (John Lamping and Eric Veach, "A Fast, Minimal
 * Memory, Consistent Hash Algorithm", 2014, arXiv:1406.2294) of a 64-bit key taken from the pod's
 * `namespace/name`:
 * - stable: the same pod name maps to the same shard in every process, on every machine, after
 *   every restart (no seed, no process state);
 * - balanced: each of N shards gets 1/N of the keys in expectation;
 * - consistent: going from N to N+1 shards moves only the pods that now belong to the new shard
 *   N, 1/(N+1) of them in expectation, and nothing moves between the old shards (a plain
 *   `hash % N` moves about N/(N+1) of them). Its limit, shards numbered 0..N-1 that grow and
 *   shrink at the top, is exactly how a StatefulSet numbers and scales its pods.
 *
 * Why `namespace/name` and not the pod's UID: a pod that a StatefulSet recreates keeps its name
 * but gets a new UID, and it should stay with the collector that had it (its profiles keep
 * coming from the same place, and a rolling restart of the fleet does not reshuffle the
 * collectors' shares). A Deployment's new pods get new names, so there the two keys behave alike.
 * Names are also what a person sees, so anyone can tell which shard has a pod. A namespace/name
 * names one pod at a time, so no two replicas can both take a pod, nor both leave it.
 */
import { createHash } from 'node:crypto';

/** This replica's share: the pods whose shard is `index`, of `count` shards. */
export interface ShardSpec {
  /** 0 ≤ index < count */
  readonly index: number;
  /** the number of replicas, ≥ 1 */
  readonly count: number;
}

/** Jump Consistent Hash takes bucket counts up to 2^31 - 1 (its arithmetic is exact there). */
export const MAX_SHARDS = 2 ** 31 - 1;

const U64 = (1n << 64n) - 1n;
/** The linear congruential generator's multiplier from the paper's C++ code. */
const LCG_MULTIPLIER = 2862933555777941757n;

/**
 * The bucket (0..buckets-1) of a 64-bit key, exactly as the paper's reference C++ code computes
 * it (`JumpConsistentHash(uint64_t key, int32_t num_buckets)`, arXiv:1406.2294, figure 1): the
 * same key and count give the same bucket as the C++, Go and Rust implementations. About
 * ln(buckets) iterations. Throws RangeError unless `buckets` is an integer in 1..{@link MAX_SHARDS}.
 */
export function jumpConsistentHash(key: bigint, buckets: number): number {
  if (!Number.isInteger(buckets) || buckets < 1 || buckets > MAX_SHARDS) throw new RangeError(`jump consistent hash: buckets must be an integer in 1..${MAX_SHARDS}, got ${buckets}`);
  let k = BigInt.asUintN(64, key);
  let b = -1;
  let j = 0;
  while (j < buckets) {
    b = j;
    k = (k * LCG_MULTIPLIER + 1n) & U64;
    // (b + 1) × 2^31 / ((k >> 33) + 1), in doubles as the C++ does; the truncation is exact below 2^53.
    j = Math.floor((b + 1) * (2 ** 31 / (Number(k >> 33n) + 1)));
  }
  return b;
}

/**
 * The 64-bit key of a pod: the first 8 bytes, big-endian, of SHA-256 over the UTF-8 bytes of
 * `namespace/name`. SHA-256 so that any language can compute the same key (and keys of similar
 * names are unrelated); namespaces cannot contain `/`, so the string names one pod.
 */
export function podShardKey(namespace: string, name: string): bigint {
  return createHash('sha256').update(`${namespace}/${name}`, 'utf8').digest().readBigUInt64BE(0);
}

/** The shard (0..count-1) of the pod `namespace/name` among `count` shards. */
export function podShard(namespace: string, name: string, count: number): number {
  return jumpConsistentHash(podShardKey(namespace, name), count);
}

/** A predicate over discovered pods (anything with `namespace` and `pod`): true for the pods of `spec`'s shard. */
export function inShard(spec: ShardSpec): (pod: { readonly namespace: string; readonly pod: string }) => boolean {
  return (p) => spec.count === 1 || podShard(p.namespace, p.pod, spec.count) === spec.index;
}

/**
 * The part of a discovery that belongs to `spec`'s shard: its capture targets and its skipped
 * pods (so that a misconfigured pod is reported by one replica, not by all). Order is kept.
 */
export function takeShard<T extends { readonly namespace: string; readonly pod: string }, S extends { readonly namespace: string; readonly pod: string }>(
  discovery: { targets: T[]; skipped: S[] },
  spec: ShardSpec,
): { targets: T[]; skipped: S[] } {
  const mine = inShard(spec);
  return { targets: discovery.targets.filter(mine), skipped: discovery.skipped.filter(mine) };
}

/** `I/N`, as --shard takes it and the logs and metrics show it. */
export function formatShard(spec: ShardSpec): string {
  return `${spec.index}/${spec.count}`;
}
