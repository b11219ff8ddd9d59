/**
 * --max-inflated-size and --max-samples: parsed and checked like the other size flags, offered
 * by every command that decodes profiles, and handed to what decodes. A profile over a limit
 * fails with a line naming the flag; the same profile passes with the limit raised (the child
 * processes of test/hostile/raised-limits.test.ts show it through capture, collect and serve).
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { resolveCaptureOptions } from '../../src/cli/capture.js';
import { resolveCollectOptions } from '../../src/cli/collect.js';
import { resolveDiffOptions } from '../../src/cli/diff.js';
import { resolveDecodeLimits } from '../../src/cli/shared/limit-flags.js';
import { resolveMergeOptions } from '../../src/cli/merge.js';
import { resolveOpenOptions } from '../../src/cli/open.js';
import { resolveServeOptions } from '../../src/cli/serve.js';
import { resolveTopOptions } from '../../src/cli/top.js';
import { UsageError } from '../../src/errors.js';
import { DEFAULT_DECODE_LIMITS } from '../../src/pprof/index.js';
import { runCli } from '../support/run-cli.js';
import { largeStringProfile, manySamplesProfile } from '../support/pprof-bombs.js';

const RAISED = { 'max-inflated-size': 100, 'max-samples': 3_000_000 };
const RAISED_LIMITS = { ...DEFAULT_DECODE_LIMITS, maxInflatedBytes: 100 * 2 ** 20, maxSamples: 3_000_000 };

describe('resolveDecodeLimits', () => {
  test.each([
    ['no flags: the defaults', {}, DEFAULT_DECODE_LIMITS],
    ['sizes in MiB, fractions allowed', { 'max-inflated-size': 0.5 }, { ...DEFAULT_DECODE_LIMITS, maxInflatedBytes: 2 ** 19 }],
    ['both raised', RAISED, RAISED_LIMITS],
  ])('%s', (_what, args, limits) => {
    expect(resolveDecodeLimits(args)).toEqual(limits);
  });

  test.each([
    [{ 'max-inflated-size': 0 }, '--max-inflated-size must be a positive number of MiB, got 0'],
    [{ 'max-inflated-size': NaN }, '--max-inflated-size must be a positive number of MiB, got NaN'],
    [{ 'max-inflated-size': 5000 }, '--max-inflated-size must be at most 4096 MiB, got 5000'],
    [{ 'max-samples': 0 }, '--max-samples must be a whole number >= 1, got 0'],
    [{ 'max-samples': 1.5 }, '--max-samples must be a whole number >= 1, got 1.5'],
  ])('%j is refused naming the flag', (args, message) => {
    expect(() => resolveDecodeLimits(args)).toThrow(UsageError);
    expect(() => resolveDecodeLimits(args)).toThrow(message);
  });
});

describe('every command that decodes profiles takes the flags', () => {
  const env = { KUBECTL_PROFEFE_HOME: '/nonexistent' };
  const ctx = { env, io: { stdoutIsTTY: false } } as never;
  test.each([
    ['capture', () => resolveCaptureOptions({ ...RAISED }, env), (o: any) => [o.decodeLimits, o.store.decodeLimits]],
    ['collect', () => resolveCollectOptions({ ...RAISED, once: true }, env), (o: any) => [o.decodeLimits, o.store.decodeLimits]],
    ['serve', () => resolveServeOptions({ ...RAISED }, env), (o: any) => [o.decodeLimits]],
    ['merge (files)', () => resolveMergeOptions({ ...RAISED, inputs: ['a.pb.gz'] }, ctx), (o: any) => [o.decodeLimits]],
    ['merge (store)', () => resolveMergeOptions({ ...RAISED, service: 's', type: 'cpu' }, ctx), (o: any) => [o.decodeLimits, o.source.store.decodeLimits]],
    ['top', () => resolveTopOptions({ ...RAISED }, ctx), (o: any) => [o.store.decodeLimits]],
    ['diff', () => resolveDiffOptions({ ...RAISED, base: 'a.pb.gz', target: 'b.pb.gz' }, ctx), (o: any) => [o.store.decodeLimits]],
    ['open (files)', () => resolveOpenOptions({ ...RAISED, targets: ['a.pb.gz'] }, ctx), (o: any) => [o.decodeLimits]],
    ['open (store)', () => resolveOpenOptions({ ...RAISED, service: 's', type: 'cpu' }, ctx), (o: any) => [o.decodeLimits, o.source.store.decodeLimits]],
  ])('%s', async (_command, resolve, limitsOf) => {
    // Some resolve asynchronously (merge imports the store query code only when it is used).
    for (const limits of limitsOf(await resolve())) expect(limits).toEqual(RAISED_LIMITS);
  });

  test.each(['capture', 'collect', 'serve', 'merge', 'top', 'diff', 'open'])('%s --help lists --max-inflated-size and --max-samples with their defaults', async (command) => {
    const run = await runCli([command, '--help']);
    expect(run.code).toBe(0);
    const help = run.stdout.toString().replace(/\s+/g, ' ');
    expect(help).toMatch(/ --max-inflated-size largest profile once decompressed, in MiB \([^)]*\) \[default: 64\] /);
    expect(help).toMatch(/ --max-samples most samples in one profile \([^)]*\) \[default: 2000000\] /);
  });
});

describe('merge, top and diff of a file over a limit', () => {
  let dir: string;
  let big: string;
  let many: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'limit-flags-'));
    big = path.join(dir, 'big.pb.gz');
    many = path.join(dir, 'many.pb.gz');
    await writeFile(big, largeStringProfile(65));
    await writeFile(many, manySamplesProfile(2_000_001));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  test.each([
    ['merge --nodes', (f: string) => ['merge', f, '--nodes', '1']],
    ['diff', (f: string) => ['diff', f, f]],
    ['open', (f: string) => ['open', f, '--no-browser', '--output-file', path.join(dir, 'page.html')]],
  ])('%s: one error line naming --max-inflated-size; passes with it raised', async (_what, argv) => {
    const refused = await runCli(argv(big));
    expect({ code: refused.code, stderr: refused.stderr }).toEqual({
      code: 1,
      stderr: `error: ${big}: inflates to more than 64 MiB (the --max-inflated-size limit)\n`,
    });
    const raised = await runCli([...argv(big), '--max-inflated-size', '66']);
    expect({ code: raised.code, stderr: raised.stderr }).toEqual({ code: 0, stderr: expect.not.stringMatching(/error/) });
  });

  test('merge: one error line naming --max-samples; passes with it raised', async () => {
    const out = path.join(dir, 'merged.pb.gz');
    const refused = await runCli(['merge', many, '--output-file', out]);
    expect({ code: refused.code, stderr: refused.stderr }).toEqual({ code: 1, stderr: `error: ${many}: more than 2000000 samples (the --max-samples limit)\n` });
    const raised = await runCli(['merge', many, '--output-file', out, '--max-samples', '2000001']);
    expect({ code: raised.code, stderr: raised.stderr }).toEqual({ code: 0, stderr: `merged 1 profile into ${out} (${raised.stderr.match(/\((.*)\)/)![1]})\n` });
  });
});
