/**
 * Real Go CPU profiles with fixed bytes (test/fixtures/go-cpu, see its README): for tests that
 * compare CPU reports with `go tool pprof`, so that none depends on how many samples a CPU
 * profile taken on a loaded machine happens to get.
 */
import { copyFile, mkdir } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const fixtures = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'fixtures', 'go-cpu');

/** The fixture of a seed (1-5) and index (1-2). */
export function cpuFixture(seed: number, n: 1 | 2): string {
  return path.join(fixtures, `cpu-seed${seed}-${n}.pb.gz`);
}

/** Copies fixtures into `dir` as `cpu-0001.pb.gz`... (names like go-target gen's), returning the copies. */
export async function copyCpuFixtures(dir: string, which: [seed: number, n: 1 | 2][]): Promise<string[]> {
  await mkdir(dir, { recursive: true });
  return Promise.all(
    which.map(async ([seed, n], i) => {
      const out = path.join(dir, `cpu-${String(i + 1).padStart(4, '0')}.pb.gz`);
      await copyFile(cpuFixture(seed, n), out);
      return out;
    }),
  );
}
