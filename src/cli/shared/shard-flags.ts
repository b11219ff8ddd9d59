/**
 * --shard I/N and --shards N of `collect`: which share of the pods this replica takes
 * (src/collect/shard.ts hashes the pods into shares). Errors are one-line UsageErrors naming the flag.
 */
import { hostname as osHostname } from 'node:os';
import { MAX_SHARDS, type ShardSpec } from '../../collect/shard.js';
import { UsageError } from '../../errors.js';

/** `I/N` as a ShardSpec; throws UsageError naming --shard unless both are whole numbers with 0 ≤ I < N. */
export function parseShard(text: string): ShardSpec {
  const m = /^(\d{1,10})\/(\d{1,10})$/.exec(text.trim());
  const index = m ? Number(m[1]) : NaN;
  const count = m ? Number(m[2]) : NaN;
  if (!m || !(count >= 1 && count <= MAX_SHARDS) || !(index < count)) {
    throw new UsageError(`--shard must be I/N with 0 <= I < N (this replica's shard, of N), e.g. --shard 0/3; got "${text}"`);
  }
  return { index, count };
}

/**
 * The ordinal of a StatefulSet pod from its name, `<statefulset>-<ordinal>` (the ordinal in
 * decimal, no leading zeros), or undefined when the name does not end that way.
 */
export function ordinalFromPodName(name: string): number | undefined {
  const m = /-(0|[1-9]\d{0,9})$/.exec(name);
  return m ? Number(m[1]) : undefined;
}

/** The sharding flags of `collect` as yargs parses them. */
export interface ShardFlags {
  /** --shard I/N */
  readonly shard?: string;
  /** --shards N: the shard index is the StatefulSet ordinal in this pod's name (the text as given, or a number) */
  readonly shards?: string | number;
}

/**
 * This replica's shard from `--shard I/N`, or from `--shards N` with the ordinal at the end of
 * this pod's name: `POD_NAME` in `env` (set from the downward API, `metadata.name`), else the
 * host name (a pod's host name is its name). Undefined when neither flag is given (take every
 * pod). Throws a one-line UsageError naming the flag: both flags, a malformed one, N < 1, no
 * ordinal in the name, or an ordinal ≥ N (the StatefulSet has more replicas than --shards says).
 */
export function resolveShard(flags: ShardFlags, env: NodeJS.ProcessEnv, hostname: () => string = osHostname): ShardSpec | undefined {
  const { shard, shards } = flags;
  if (shard !== undefined && shards !== undefined) throw new UsageError('--shard and --shards cannot be used together: --shard I/N names the shard, --shards N takes it from the StatefulSet ordinal in the pod name');
  if (shard !== undefined) return parseShard(String(shard));
  if (shards === undefined) return undefined;
  const count = /^\s*\d{1,10}\s*$/.test(String(shards)) ? Number(shards) : NaN;
  if (!(count >= 1 && count <= MAX_SHARDS)) throw new UsageError(`--shards must be a whole number >= 1 (the StatefulSet's replicas), got "${shards}"`);
  const fromEnv = env.POD_NAME !== undefined && env.POD_NAME !== '';
  const name = fromEnv ? env.POD_NAME! : hostname();
  const source = fromEnv ? 'POD_NAME' : 'the host name';
  const ordinal = ordinalFromPodName(name);
  if (ordinal === undefined) {
    throw new UsageError(`--shards ${count}: cannot tell this replica's shard: ${source} ${JSON.stringify(name)} does not end in -ORDINAL as a StatefulSet pod's name does (set POD_NAME from the downward API, or use --shard I/N)`);
  }
  if (ordinal >= count) {
    throw new UsageError(`--shards ${count}: this replica's ordinal ${ordinal} (${source} ${JSON.stringify(name)}) is not below ${count}; the StatefulSet's replicas and --shards must be equal`);
  }
  return { index: ordinal, count };
}
