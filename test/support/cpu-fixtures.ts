/**
 * Real Go CPU profiles with fixed bytes (test/fixtures/go-cpu, see its README): for tests that
 * compare CPU reports with `go tool pprof`, so that none depends on how many samples a CPU
 * profile taken on a loaded machine happens to get.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { gunzipSync, gzipSync } from 'node:zlib';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const fixtures = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'fixtures', 'go-cpu');

/** The fixture of a seed (1-5) and index (1-2). */
export function cpuFixture(seed: number, n: 1 | 2): string {
  return path.join(fixtures, `cpu-seed${seed}-${n}.pb.gz`);
}

/**
 * Copies fixtures into `dir` as `cpu-0001.pb.gz`... (names like go-target gen's), returning the
 * copies. Each copy is stamped as taken at `takenAt` (default: now) less one second per later
 * copy, so that a store's time windows relative to now find them whenever the test runs; only
 * time_nanos changes (samples, locations and strings are the fixture's bytes).
 */
export async function copyCpuFixtures(dir: string, which: [seed: number, n: 1 | 2][], takenAt = new Date()): Promise<string[]> {
  await mkdir(dir, { recursive: true });
  return Promise.all(
    which.map(async ([seed, n], i) => {
      const out = path.join(dir, `cpu-${String(i + 1).padStart(4, '0')}.pb.gz`);
      const ns = BigInt(takenAt.getTime() - (which.length - 1 - i) * 1000) * 1_000_000n;
      await writeFile(out, withTimeNanos(await readFile(cpuFixture(seed, n)), ns));
      return out;
    }),
  );
}

/** A gzipped profile.proto with its time_nanos (field 9) set to `ns`, every other byte unchanged. */
export function withTimeNanos(gzipped: Uint8Array, ns: bigint): Buffer {
  const raw = gunzipSync(gzipped);
  const kept: Buffer[] = [];
  let pos = 0;
  const varint = (): bigint => {
    let v = 0n;
    for (let shift = 0n; ; shift += 7n) {
      const b = raw[pos++]!;
      v |= BigInt(b & 0x7f) << shift;
      if (b < 0x80) return v;
    }
  };
  while (pos < raw.length) {
    const start = pos;
    const tag = Number(varint());
    const wire = tag & 7;
    if (wire === 0) varint();
    else if (wire === 1) pos += 8;
    else if (wire === 5) pos += 4;
    else if (wire === 2) {
      const len = Number(varint());
      pos += len;
    } else throw new Error(`wire type ${wire} at ${start}`);
    if (tag >> 3 !== 9) kept.push(raw.subarray(start, pos));
  }
  const encoded: number[] = [9 << 3];
  for (let v = ns; ; v >>= 7n) {
    if (v < 0x80n) {
      encoded.push(Number(v));
      break;
    }
    encoded.push(Number(v & 0x7fn) | 0x80);
  }
  return gzipSync(Buffer.concat([...kept, Buffer.from(encoded)]));
}
