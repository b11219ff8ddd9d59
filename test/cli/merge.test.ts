import { mkdtemp, mkdir, readFile, rm, writeFile, readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { decodeProfile, encodeProfile } from '../../src/pprof/index.js';
import { buildProfile, foldedStacks } from '../support/profile-builder.js';
import { runCli } from '../support/run-cli.js';

let dir: string;
const cpu = (stack: string, ns: number) => encodeProfile(buildProfile({ samples: [{ stack, values: [ns / 10_000_000, ns] }] }));

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'merge-cli-'));
  await mkdir(path.join(dir, 'cpu', 'nested'), { recursive: true });
  await writeFile(path.join(dir, 'cpu', 'a.pb.gz'), cpu('main;work', 20_000_000));
  await writeFile(path.join(dir, 'cpu', 'nested', 'b.pb.gz'), cpu('main;work', 30_000_000));
  await writeFile(path.join(dir, 'cpu', 'README.txt'), 'not a profile, and not picked up from a directory');
  await writeFile(path.join(dir, 'heap.pb.gz'), encodeProfile(buildProfile({
    sampleTypes: [['inuse_objects', 'count'], ['inuse_space', 'bytes']],
    periodType: ['space', 'bytes'],
    samples: [{ stack: 'main;alloc', values: [1, 4096] }],
  })));
  await writeFile(path.join(dir, '404.pb.gz'), '<html><body>404 page not found</body></html>');
});
afterAll(() => rm(dir, { recursive: true, force: true }));

describe('kubectl profefe merge', () => {
  test('writes the merge of files and directories to stdout', async () => {
    const run = await runCli(['merge', path.join(dir, 'cpu'), path.join(dir, 'cpu', 'a.pb.gz')]);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(foldedStacks(decodeProfile(run.stdout))).toBe('main;work 5,50000000');
  });

  test('reads a file named twice (another spelling of its path, or again in its directory) once', async () => {
    const a = path.join(dir, 'cpu', 'a.pb.gz');
    const again = path.join(dir, 'cpu', '.', 'nested', '..', 'a.pb.gz');
    const run = await runCli(['merge', a, again, path.join(dir, 'cpu'), '--nodes', '1']);
    expect(run.code).toBe(0);
    expect(run.stdout.toString()).toContain('Merged profiles: 2');
  });

  test('expands a quoted glob itself', async () => {
    const run = await runCli(['merge', `${dir}/cpu/**/*.pb.gz`]);
    expect(run.code).toBe(0);
    expect(foldedStacks(decodeProfile(run.stdout))).toBe('main;work 5,50000000');
  });

  test('--output-file writes the file and says so on stderr', async () => {
    const out = path.join(dir, 'out', 'merged.pb.gz');
    await mkdir(path.dirname(out), { recursive: true });
    const run = await runCli(['merge', path.join(dir, 'cpu'), '--output-file', out]);
    expect(run.code).toBe(0);
    expect(run.stdout.length).toBe(0);
    expect(run.stderr).toMatch(/^merged 2 profiles into .*merged\.pb\.gz \(\d+ B\)\n$/);
    expect(foldedStacks(decodeProfile(await readFile(out)))).toBe('main;work 5,50000000');
    expect((await readdir(path.dirname(out))).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });

  test('--nodes prints our header, then go tool pprof -top’s text (its column header as our tables print it)', async () => {
    const run = await runCli(['merge', path.join(dir, 'cpu'), '--nodes', '5']);
    expect(run.code).toBe(0);
    expect(run.stdout.toString()).toBe(
      [
        'Merged profiles: 2',
        'Type: cpu',
        'Sample types: samples, cpu',
        'Showing nodes accounting for 50ms, 100% of 50ms total',
        '      FLAT  FLAT%   SUM%        CUM   CUM%  FUNCTION',
        '      50ms   100%   100%       50ms   100%  work',
        '         0     0%   100%       50ms   100%  main',
        '',
      ].join('\n'),
    );
  });

  test('--nodes warns about a drop_frames Go cannot compile, and drops nothing, as pprof', async () => {
    const file = path.join(dir, 'bad-drop.pb.gz');
    await writeFile(file, encodeProfile(buildProfile({ dropFrames: '\\8', samples: [{ stack: 'main;runtime.mallocgc', values: [1, 10] }] })));
    const run = await runCli(['merge', file, '--nodes', '5']);
    expect(run.code).toBe(0);
    expect(run.stderr).toBe('warning: drop_frames "\\\\8" is not a valid regexp (invalid escape sequence: `\\8`); no frames dropped, as in pprof\n');
    expect(run.stdout.toString()).toMatch(/runtime\.mallocgc$/m);
  });

  const failures: [string, (d: string) => string[], number, RegExp][] = [
    ['a missing file', (d) => ['merge', path.join(d, 'nope.pb.gz')], 1, /nope\.pb\.gz: no such file or directory/],
    ['a glob that matches nothing', (d) => ['merge', `${d}/*.nothing`], 1, /no files match this pattern/],
    ['an HTML page among good profiles', (d) => ['merge', path.join(d, 'cpu'), path.join(d, '404.pb.gz')], 1, /404\.pb\.gz: got an HTML page/],
    ['different sample types', (d) => ['merge', path.join(d, 'cpu', 'a.pb.gz'), path.join(d, 'heap.pb.gz')], 1, /cannot merge .*heap\.pb\.gz into .*a\.pb\.gz: sample types differ/],
    ['an unknown --id (the store said only "nothing found")', (d) => ['merge', '--id', 'c0ffee00000000000000', '--store-dir', path.join(d, 'empty-store'), '--output-file', path.join(d, 'x.pb.gz')], 1, /^error: no profile with id "c0ffee00000000000000" in the local store in .*empty-store$/],
    ['--id ids of which none exists', (d) => ['merge', '--id', 'c0ffee00000000000000', '--id', 'c0ffee00000000000001', '--store-dir', path.join(d, 'empty-store'), '--output-file', path.join(d, 'x.pb.gz')], 1, /^error: none of the profile ids "c0ffee00000000000000", "c0ffee00000000000001" is in the local store/],
    ['no inputs', () => ['merge'], 2, /merge needs profile files, a directory, a glob, --service or --id/],
    ['--nodes with --output-file', (d) => ['merge', d, '--nodes', '3', '--output-file', 'x'], 2, /^error: --nodes prints the top functions \(-o table\|json\|yaml\); it cannot be combined with the merged profile/],
    ['an unknown sample type', (d) => ['merge', path.join(d, 'cpu'), '--nodes', '3', '--sample-type', 'inuse_space'], 2, /sample type "inuse_space" is not in this profile \(it has: samples, cpu\)/],
    ['a sample index out of range', (d) => ['merge', path.join(d, 'cpu'), '--nodes', '3', '--sample-index', '2'], 2, /^error: --sample-type: sample index 2 is not in this profile \(it has 2: 0 samples, 1 cpu\)$/m],
  ];
  test.each(failures)('fails on %s with one clear line', async (_name, args, code, why) => {
    const run = await runCli(args(dir));
    expect(run.code).toBe(code);
    expect(run.stdout.length).toBe(0);
    const lines = run.stderr.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^error: /);
    expect(lines[0]).toMatch(why);
    expect(lines.length).toBeLessThanOrEqual(2);
  });

  test('refuses to write binary to a terminal, with a hint', async () => {
    const run = await runCli(['merge', path.join(dir, 'cpu')], { stdoutIsTTY: true });
    expect(run.code).toBe(2);
    expect(run.stdout.length).toBe(0);
    expect(run.stderr).toMatch(/refusing to write a binary profile to the terminal \(binary output can mess up your terminal\); use --output-file FILE/);
  });
});

describe('kubectl profefe (top level)', () => {
  test('--help lists the four commands', async () => {
    const run = await runCli(['--help']);
    expect(run.code).toBe(0);
    for (const c of ['capture', 'get', 'merge', 'open']) expect(run.stdout.toString()).toContain(`kubectl profefe ${c}`);
  });


  test('an unknown command is a usage error', async () => {
    const run = await runCli(['merg']);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/unknown command "merg"\. Did you mean merge\?/);
  });
});
