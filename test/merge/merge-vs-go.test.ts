/**
 * Our merge checked against the reference, `go tool pprof -proto`, on real profiles of every
 * type fetched from a running Go program, and on generated series whose stacks differ.
 */
import { execFile } from 'node:child_process';
import { copyFile, mkdtemp, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { computeTop, decodeProfile, mergeProfiles, sampleTypesOf } from '../../src/pprof/index.js';
import { ProfileMerger } from '../../src/pprof/merge.js';
import { fetchProfile, generateProfiles, startGoTarget, type GoTarget } from '../support/go-target.js';
import { goPprofProto, goPprofTop } from '../support/go-pprof.js';

const run = promisify(execFile);
const BIN = path.resolve('bin/kubectl-profefe');
const TYPES = ['cpu', 'heap', 'allocs', 'block', 'mutex', 'goroutine', 'threadcreate'] as const;

let target: GoTarget;
let dir: string;
const fetched: Record<string, string[]> = {};

/** Runs the real plugin binary (compiled dist/, as kubectl would) and returns its output file. */
async function pluginMerge(files: string[], out: string): Promise<string> {
  await run(process.execPath, [BIN, 'merge', ...files, '--output-file', out]);
  return out;
}

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'merge-vs-go-'));
  target = await startGoTarget();
  for (const type of TYPES) {
    fetched[type] = [];
    // CPU profiles of one process cannot overlap; the others are instantaneous.
    for (let i = 0; i < 3; i++) {
      const file = path.join(dir, `${type}-${i}.pb.gz`);
      await writeFile(file, await fetchProfile(target.url, type, 1));
      fetched[type]!.push(file);
    }
  }
}, 120_000);

afterAll(async () => {
  await target?.close();
  await rm(dir, { recursive: true, force: true });
});

/** Same sample types, same total and the same top-20 functions (flat and cum) as go's merge. */
async function expectSameAsGo(files: string[], name: string): Promise<void> {
  const ours = await pluginMerge(files, path.join(dir, `${name}.ours.pb.gz`));
  const reference = path.join(dir, `${name}.go.pb.gz`);
  await goPprofProto(files, reference);

  const ourProfile = decodeProfile(await readFile(ours));
  const goProfile = decodeProfile(await readFile(reference));
  expect(sampleTypesOf(ourProfile)).toEqual(sampleTypesOf(goProfile));
  expect(ourProfile.timeNanos).toBe(goProfile.timeNanos);
  expect(ourProfile.durationNanos).toBe(goProfile.durationNanos);

  for (const { type } of sampleTypesOf(goProfile)) {
    const [ourTop, goTop] = await Promise.all([goPprofTop([ours], { sampleIndex: type }), goPprofTop([reference], { sampleIndex: type })]);
    expect(ourTop.total).toBe(goTop.total);
    const top20 = (t: typeof goTop) => t.rows.slice(0, 20).map((r) => ({ name: r.name, flat: r.flat, cum: r.cum }));
    expect(top20(ourTop)).toEqual(top20(goTop));

    // Our own top over our merge agrees with pprof's reading of the reference merge.
    const own = computeTop(ourProfile, type);
    expect(own.total).toBe(goTop.total);
    expect(own.rows.slice(0, 20).map((r) => ({ name: r.function, flat: r.flat, cum: r.cum }))).toEqual(top20(goTop));
  }
}

describe('merge of real Go profiles matches go tool pprof -proto', () => {
  test.each(TYPES)('%s profiles from a running net/http/pprof server', async (type) => {
    for (const file of fetched[type]!) expect(() => decodeProfile(Buffer.alloc(0), file)).toThrow(/empty input/);
    for (const file of fetched[type]!) decodeProfile(await readFile(file), file);
    await expectSameAsGo(fetched[type]!, type);
  });

  test('40 generated heap profiles with differing stacks', async () => {
    const files = await generateProfiles('heap', 40, path.join(dir, 'gen-heap'), { seed: 3 });
    await expectSameAsGo(files, 'gen-heap');
  }, 120_000);

  test('20 generated CPU profiles with differing stacks', async () => {
    const files = await generateProfiles('cpu', 20, path.join(dir, 'gen-cpu'), { seed: 5, cpuMs: 60 });
    await expectSameAsGo(files, 'gen-cpu');
  }, 120_000);

  test('a bad file among good ones is named, and nothing is written', async () => {
    const bad = path.join(dir, 'not-found.pb.gz');
    await writeFile(bad, '<!DOCTYPE html><html><body>404 page not found</body></html>');
    const out = path.join(dir, 'never.pb.gz');
    const err = await run(process.execPath, [BIN, 'merge', ...fetched.heap!, bad, '--output-file', out]).catch((e: { code: number; stderr: string }) => e);
    expect((err as { code: number }).code).toBe(1);
    expect((err as { stderr: string }).stderr).toBe(`error: ${bad}: got an HTML page, not a pprof profile (starts "<!DOCTYPE html><html><body>404 page not found</body></html>"; wrong URL, port or path?)\n`);
    await expect(readFile(out)).rejects.toThrow(/ENOENT/);
  });

  test('cpu and heap cannot be merged: the error names both files and both type lists', async () => {
    const err = await run(process.execPath, [BIN, 'merge', fetched.cpu![0]!, fetched.heap![0]!, '--output-file', path.join(dir, 'x.pb.gz')]).catch((e) => e);
    expect(err.code).toBe(1);
    expect(err.stderr).toContain(`cannot merge ${fetched.heap![0]} into ${fetched.cpu![0]}: sample types differ ([alloc_objects/count alloc_space/bytes inuse_objects/count inuse_space/bytes] vs [samples/count cpu/nanoseconds])`);
  });

  test('thousands of inputs merge without running out of descriptors or memory', async () => {
    const many = path.join(dir, 'many');
    await mkdir(many);
    const copies: string[] = [];
    for (let i = 0; i < 3000; i++) {
      const file = path.join(many, `goroutine-${String(i).padStart(4, '0')}.pb.gz`);
      await copyFile(fetched.goroutine![i % 3]!, file);
      copies.push(file);
    }
    // A directory and a quoted glob: the argument list stays short however many files there are.
    for (const input of [many, `${many}/*.pb.gz`]) {
      const out = path.join(dir, 'many.pb.gz');
      const { stderr } = await run(process.execPath, ['--max-old-space-size=256', BIN, 'merge', input, '--output-file', out]);
      expect(stderr).toMatch(/^merged 3000 profiles into /);
      const merged = decodeProfile(await readFile(out));
      // What merge writes leaves out samples without a stack, as go tool pprof -proto does.
      const reference = new ProfileMerger({ dropStackless: true });
      for (const f of fetched.goroutine!) reference.add(decodeProfile(await readFile(f)));
      const three = reference.result();
      expect(computeTop(merged).total).toBe(1000 * Number(computeTop(three).total));
    }
  }, 120_000);
});
