/**
 * The collector's shards (src/collect/shard.ts): Jump Consistent Hash against the reference C++
 * code's outputs, the pod key against sha256sum, and over a fixed set of 10,000 pod names: every
 * pod in exactly one shard, balanced shares, and few pods moved when a shard is added.
 */
import {
  formatShard,
  inShard,
  jumpConsistentHash,
  podShard,
  podShardKey,
  takeShard,
  type ShardSpec,
} from '../../src/collect/shard.js';
import { ordinalFromPodName, parseShard, resolveShard } from '../../src/cli/shared/shard-flags.js';
import { UsageError } from '../../src/errors.js';

/** 10,000 pods over 25 namespaces, named as a Deployment's would be numbered. Fixed: no randomness. */
const PODS = Array.from({ length: 10_000 }, (_, i) => ({ namespace: `team-${i % 25}`, pod: `api-${String(i).padStart(5, '0')}` }));
const key = (p: { namespace: string; pod: string }) => `${p.namespace}/${p.pod}`;
/**
 * How far a shard's share, and the share moved from N to N+1 shards, may be from 1/N and 1/(N+1):
 * one percentage point. For 10,000 keys the binomial standard deviation of a share is at most
 * 0.005 (N = 2); the measured worst cases over N = 1..16 are 0.0070 (share) and 0.0068 (moved).
 */
const SHARE_BOUND = 0.01;

describe('jumpConsistentHash', () => {
  // From dgryski/go-jump's jump_test.go, "Generated from the reference C++ code": the bucket for 1..N buckets.
  test.each([
    [0n, [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]],
    [1n, [0, 0, 0, 0, 0, 0, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 17, 17]],
    [0xdeadbeefn, [0, 1, 2, 3, 3, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 16, 16, 16]],
    [0x0ddc0ffeebadf00dn, [0, 1, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 15, 15, 15, 15]],
  ])('key %s gives the reference C++ buckets for 1, 2, 3, ... buckets', (k, buckets) => {
    expect(buckets.map((_, i) => jumpConsistentHash(k, i + 1))).toEqual(buckets);
  });

  test.each([
    // Rust's jumphash crate (from rust-jumphash and jmphash-rs) and Python's jump package.
    [123456n, 1000, 984],
    [256n, 1024, 520],
    // Keys above 2^63 are unsigned 64-bit, as in C++.
    [2n ** 64n - 1n, 1, 0],
  ])('key %s over %s buckets is bucket %s', (k, n, want) => {
    expect(jumpConsistentHash(k, n)).toBe(want);
  });

  test.each([[0], [-1], [1.5], [2 ** 31], [NaN]])('refuses %s buckets', (n) => {
    expect(() => jumpConsistentHash(1n, n)).toThrow(RangeError);
  });
});

describe('podShardKey and podShard', () => {
  test('the key is the first 8 bytes of SHA-256 over "namespace/name" (printf default/web-0 | sha256sum: 53842afe623a6f1e...)', () => {
    expect(podShardKey('default', 'web-0')).toBe(0x53842afe623a6f1en);
  });

  test('a pod keeps its shard for a given N, whatever else is in the cluster (no state, no seed)', () => {
    const before = PODS.slice(0, 100).map((p) => podShard(p.namespace, p.pod, 7));
    const again = PODS.slice(0, 100).reverse().map((p) => podShard(p.namespace, p.pod, 7)).reverse();
    expect(again).toEqual(before);
  });

  test('the namespace is part of the key: the same name in two namespaces is two keys', () => {
    expect(podShardKey('a', 'web-0')).not.toBe(podShardKey('b', 'web-0'));
    // "a/b" + "c" and "a" + "b/c" cannot both be pods: namespaces hold no "/".
    expect(podShardKey('a', 'bc')).not.toBe(podShardKey('ab', 'c'));
  });
});

describe('shares over 10,000 fixed pod names', () => {
  const shardsOf = (n: number) => PODS.map((p) => podShard(p.namespace, p.pod, n));

  test.each(Array.from({ length: 16 }, (_, i) => [i + 1]))('N = %s: every pod is in exactly one shard, each within 1 point of 1/N', (n) => {
    const seen = new Map<string, number>();
    for (let index = 0; index < n; index++) {
      const mine = takeShard({ targets: PODS, skipped: [] }, { index, count: n }).targets;
      expect(Math.abs(mine.length / PODS.length - 1 / n)).toBeLessThanOrEqual(SHARE_BOUND);
      for (const p of mine) seen.set(key(p), (seen.get(key(p)) ?? 0) + 1);
    }
    expect(seen.size).toBe(PODS.length);
    expect([...seen.values()].filter((times) => times !== 1)).toEqual([]);
  });

  test.each(Array.from({ length: 16 }, (_, i) => [i + 1, i + 2]))('from %s to %s shards, about 1/(N+1) of the pods move, all of them to the new shard', (n, next) => {
    const before = shardsOf(n);
    const after = shardsOf(next);
    const moved = PODS.map((_, i) => i).filter((i) => before[i] !== after[i]);
    expect(Math.abs(moved.length / PODS.length - 1 / next)).toBeLessThanOrEqual(SHARE_BOUND);
    expect(new Set(moved.map((i) => after[i]))).toEqual(new Set([n]));
  });

  test('a plain hash % N would move most pods instead (why the consistent hash)', () => {
    const mod = (n: number) => PODS.map((p) => Number(podShardKey(p.namespace, p.pod) % BigInt(n)));
    const [ten, eleven] = [mod(10), mod(11)];
    const moved = ten.filter((s, i) => s !== eleven[i]).length / PODS.length;
    expect(moved).toBeGreaterThan(0.85);
  });
});

describe('inShard and takeShard', () => {
  test('one shard of one takes every pod', () => {
    expect(PODS.every(inShard({ index: 0, count: 1 }))).toBe(true);
  });

  test('takeShard filters the skipped pods too, so a misconfigured pod is reported by one replica', () => {
    const skipped = PODS.slice(0, 50).map((p) => ({ ...p, reason: 'bad port' }));
    const parts = [0, 1, 2].map((index) => takeShard({ targets: [], skipped }, { index, count: 3 }).skipped);
    expect(parts.flat().map(key).sort()).toEqual(skipped.map(key).sort());
    for (const [index, part] of parts.entries()) for (const p of part) expect(podShard(p.namespace, p.pod, 3)).toBe(index);
  });
});

describe('--shard and --shards', () => {
  test.each([
    ['0/1', { index: 0, count: 1 }],
    ['2/3', { index: 2, count: 3 }],
    [' 9/10 ', { index: 9, count: 10 }],
  ])('--shard %j is %j', (text, want) => {
    expect(parseShard(text)).toEqual(want);
    expect(formatShard(want as ShardSpec)).toBe(text.trim());
  });

  test.each([['3/3'], ['4/3'], ['0/0'], ['-1/3'], ['1'], ['a/b'], ['1/2/3'], ['1.5/3'], ['0/99999999999'], ['']])('--shard %j is a usage error', (text) => {
    expect(() => parseShard(text)).toThrow(UsageError);
    expect(() => parseShard(text)).toThrow(`--shard must be I/N with 0 <= I < N (this replica's shard, of N), e.g. --shard 0/3; got "${text}"`);
  });

  test.each([
    ['kubectl-profefe-collector-0', 0],
    ['web-12', 12],
    ['a-b-3', 3],
    ['web', undefined],
    ['web-', undefined],
    ['web-01', undefined],
    ['web-x1', undefined],
    ['7', undefined],
  ])('the StatefulSet ordinal of %j is %s', (name, want) => {
    expect(ordinalFromPodName(name)).toBe(want);
  });

  const noHost = () => {
    throw new Error('the host name is not read when POD_NAME is set');
  };

  test.each<[string, Parameters<typeof resolveShard>[0], NodeJS.ProcessEnv, string, ShardSpec | undefined]>([
    ['no flag: every pod', {}, {}, 'x', undefined],
    ['--shard', { shard: '1/4' }, { POD_NAME: 'web-3' }, 'x', { index: 1, count: 4 }],
    ['--shards from POD_NAME', { shards: '4' }, { POD_NAME: 'kubectl-profefe-collector-3' }, 'x', { index: 3, count: 4 }],
    ['--shards from the host name without POD_NAME', { shards: 4 }, {}, 'kubectl-profefe-collector-2', { index: 2, count: 4 }],
    ['--shards from the host name with an empty POD_NAME', { shards: 2 }, { POD_NAME: '' }, 'c-0', { index: 0, count: 2 }],
  ])('%s', (_name, flags, env, host, want) => {
    expect(resolveShard(flags, env, env.POD_NAME ? noHost : () => host)).toEqual(want);
  });

  test.each<[string, Parameters<typeof resolveShard>[0], NodeJS.ProcessEnv, string]>([
    ['both flags', { shard: '0/2', shards: 2 }, {}, '--shard and --shards cannot be used together: --shard I/N names the shard, --shards N takes it from the StatefulSet ordinal in the pod name'],
    ['--shards 0', { shards: '0' }, { POD_NAME: 'c-0' }, '--shards must be a whole number >= 1 (the StatefulSet\'s replicas), got "0"'],
    ['--shards 1.5', { shards: 1.5 }, { POD_NAME: 'c-0' }, '--shards must be a whole number >= 1 (the StatefulSet\'s replicas), got "1.5"'],
    ['--shards three', { shards: 'three' }, { POD_NAME: 'c-0' }, '--shards must be a whole number >= 1 (the StatefulSet\'s replicas), got "three"'],
    ['no ordinal in POD_NAME', { shards: 3 }, { POD_NAME: 'collector-7d9f8-xk2lp' }, '--shards 3: cannot tell this replica\'s shard: POD_NAME "collector-7d9f8-xk2lp" does not end in -ORDINAL as a StatefulSet pod\'s name does (set POD_NAME from the downward API, or use --shard I/N)'],
    ['no ordinal in the host name', { shards: 3 }, {}, '--shards 3: cannot tell this replica\'s shard: the host name "laptop" does not end in -ORDINAL as a StatefulSet pod\'s name does (set POD_NAME from the downward API, or use --shard I/N)'],
    ['an ordinal not below N', { shards: 3 }, { POD_NAME: 'kubectl-profefe-collector-3' }, '--shards 3: this replica\'s ordinal 3 (POD_NAME "kubectl-profefe-collector-3") is not below 3; the StatefulSet\'s replicas and --shards must be equal'],
  ])('%s is a one-line usage error', (_name, flags, env, message) => {
    const resolve = () => resolveShard(flags, env, () => 'laptop');
    expect(resolve).toThrow(UsageError);
    expect(resolve).toThrow(message);
    expect(message).not.toContain('\n');
  });
});
