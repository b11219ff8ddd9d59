/**
 * `kubectl profefe open`: targets (files, store ids, a store query) to a self-contained flame
 * graph page, the browser started and not waited for, `--pprof` with the real `go tool pprof`.
 * Real Go heap profiles, a real local store and our profefe-compatible server.
 */
import { chmod, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { pathToFileURL } from 'node:url';
import yargs from 'yargs';
import type { CommandContext } from '../../src/cli/shared/context.js';
import { browserCommand } from '../../src/cli/shared/browser.js';
import { isFileTarget } from '../../src/cli/shared/profile-source.js';
import { openCommand, resolveOpenOptions, runOpen, type OpenOptions } from '../../src/cli/open.js';
import { isExpectedError, UsageError } from '../../src/errors.js';
import { LocalStore } from '../../src/store/local/local-store.js';
import { startProfefeServer, type ProfefeServer } from '../../src/store/profefe/server.js';
import type { StoreOptions } from '../../src/store/open-store.js';
import { encodeProfile } from '../../src/pprof/index.js';
import { generateProfiles } from '../support/go-target.js';
import { buildProfile } from '../support/profile-builder.js';
import { embeddedData } from '../report/browser.js';

let dir: string;
let files: string[];
let localStore: StoreOptions;
let localIds: string[];
let served: LocalStore;
let server: ProfefeServer;
let profefeStore: StoreOptions;
let profefeIds: string[];
const NOW = new Date();

/**
 * Uploads the files as service auth (heap), all labelled namespace=shop, each from its own pod
 * with its own version: one snapshot per pod, so a window is the sum of the files.
 */
async function fill(store: LocalStore): Promise<string[]> {
  const ids: string[] = [];
  for (const [i, file] of files.entries()) {
    const meta = await store.upload({
      service: 'auth',
      type: 'heap',
      labels: [{ key: 'namespace', value: 'shop' }, { key: 'pod', value: `auth-${i}` }, { key: 'version', value: `1.${i}` }],
      body: await readFile(file),
    });
    ids.push(meta.id);
  }
  return ids;
}

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'open-cli-'));
  // The folder the pages' --output-file names: --output-file never creates one.
  await mkdir(path.join(dir, 'out'));
  files = await generateProfiles('heap', 3, path.join(dir, 'heap'), { seed: 9 });
  localStore = { storeDir: path.join(dir, 'local-store'), spoolDir: path.join(dir, 'spool') };
  // Closed again before the tests: the command opens the local store itself.
  const local = await LocalStore.open(localStore.storeDir);
  localIds = await fill(local);
  await local.close();
  served = await LocalStore.open(path.join(dir, 'served-store'));
  profefeIds = await fill(served);
  server = await startProfefeServer({ store: served, host: '127.0.0.1', port: 0 });
  profefeStore = { hostport: server.url, storeDir: path.join(dir, 'unused'), spoolDir: path.join(dir, 'spool') };
}, 60_000);

afterAll(async () => {
  await server?.close();
  await served?.close();
  await rm(dir, { recursive: true, force: true });
});

const deps = (extra: Partial<Parameters<typeof runOpen>[1]> = {}) => ({ env: {}, stderr: new PassThrough(), tmpDir: dir, ...extra });
const pageOf = async (file: string) => embeddedData(await readFile(file, 'utf8'));
const field = (data: Awaited<ReturnType<typeof pageOf>>, name: string) => data.meta.fields.find(([n]) => n === name)?.[1];
const heapQuery = (service = 'auth') => ({ service, type: 'heap' as const, from: new Date(NOW.getTime() - 86_400_000), to: new Date(NOW.getTime() + 60_000), labels: [] });
const noBrowser = (source: OpenOptions['source'], output?: string): OpenOptions => ({ source, output, browser: false, pprof: false });

describe('resolveOpenOptions', () => {
  const env = { KUBECTL_PROFEFE_HOME: '/home/me/.kp' };
  test.each([
    ['a directory is files', () => ({ targets: [tmpdir()] }), { kind: 'files', inputs: [tmpdir()] }],
    ['a quoted glob is files', () => ({ targets: ['profiles/**/*.pb.gz'] }), { kind: 'files', inputs: ['profiles/**/*.pb.gz'] }],
    ['a missing file with a profile name is files (and fails later, naming it)', () => ({ targets: ['cpu.pb.gz'] }), { kind: 'files', inputs: ['cpu.pb.gz'] }],
    ['anything else is a store id', () => ({ targets: ['c0ffee00000000000000'] }), { kind: 'ids', ids: ['c0ffee00000000000000'] }],
    ['--id is a store id whatever it looks like', () => ({ id: ['bucket/key.pb.gz'] }), { kind: 'ids', ids: ['bucket/key.pb.gz'] }],
    ['--service and --type are a query (allocs: the allocs deltas)', () => ({ service: 'auth', type: 'allocs', from: '2h' }), { kind: 'query', query: { service: 'auth', type: 'allocs' } }],
  ])('%s', (_name, args, source) => {
    const opts = resolveOpenOptions(args(), { env }, NOW);
    expect(opts.source).toMatchObject(source);
    expect(opts).toMatchObject({ browser: true, pprof: false });
    if (opts.source.kind !== 'files') expect(opts.source.store.storeDir).toBe('/home/me/.kp/store');
  });

  test.each([
    ['files and ids together', { targets: [tmpdir(), 'c0ffee00000000000000'] }, /give either files or store profiles, not both: ".*" is a file, "c0ffee00000000000000" \(no such file: taken as a store id\) is not/],
    ['files and --service', { targets: [tmpdir()], service: 'auth', type: 'heap' }, /give either files or store profiles, not both: .* --service is not/],
    ['--service with ids', { id: ['x'], service: 'auth', type: 'heap' }, /--service cannot be combined with profile ids \("x"\)/],
    ['nothing to open', {}, /open needs profile files, a directory, a glob, profile ids or --service/],
    ['--pprof with -o', { targets: [tmpdir()], pprof: true, output: 'x.html' }, /--pprof hands the profile to go tool pprof; it cannot be combined with -o\/--output/],
    ['--output-file that is not .html', { targets: [tmpdir()], 'output-file': 'heap.pb.gz' }, /^--output-file: the page needs a \.html name, got "heap\.pb\.gz"$/],
    ['-o that is not a format', { targets: [tmpdir()], output: 'json' }, /^-o\/--output: unknown output format "json" \(choose from html\)/],
    ['--service without --type', { service: 'auth' }, /opening stored profiles needs --type/],
    ['--type trace', { service: 'auth', type: 'trace' }, /traces are not pprof profiles/],
    ['an id with +', { id: ['a+b'] }, /profile ids never contain "\+"/],
    ['--node-fraction 1', { targets: [tmpdir()], 'node-fraction': 1 }, /--node-fraction must be a number from 0 \(draw every frame\) to below 1, got 1/],
    ['a negative --node-fraction', { targets: [tmpdir()], 'node-fraction': -0.01 }, /--node-fraction must be a number from 0 \(draw every frame\) to below 1, got -0.01/],
    ['--node-fraction that is not a number', { targets: [tmpdir()], 'node-fraction': NaN }, /--node-fraction must be a number from 0 \(draw every frame\) to below 1, got NaN/],
    ['--node-fraction with --pprof', { targets: [tmpdir()], pprof: true, 'node-fraction': 0.01 }, /--node-fraction is for the page; with --pprof it is pprof's own -nodefraction, in its UI/],
  ])('refuses %s', (_name, args, message) => {
    expect(() => resolveOpenOptions(args, { env }, NOW)).toThrow(UsageError);
    expect(() => resolveOpenOptions(args, { env }, NOW)).toThrow(message);
  });

  test('--node-fraction: the page leaves out frames below it (default 0.0005); 0 draws every frame', () => {
    expect(resolveOpenOptions({ targets: [tmpdir()] }, { env }, NOW).nodeFraction).toBe(0.0005);
    expect(resolveOpenOptions({ targets: [tmpdir()], 'node-fraction': 0 }, { env }, NOW).nodeFraction).toBe(0);
    expect(resolveOpenOptions({ targets: [tmpdir()], 'node-fraction': 0.01 }, { env }, NOW).nodeFraction).toBe(0.01);
  });

  test.each([
    ['an existing path', 'whatever', true, true],
    ['a glob', 'heap-*', false, true],
    ['a relative path', 'profiles/x', false, true],
    ['a profile file name', 'cpu.prof', false, true],
    ['a profefe id', 'cfuq3ti4dmfs73cc8gpg', false, false],
  ])('isFileTarget: %s', (_name, target, exists, expected) => {
    expect(isFileTarget(target, () => exists)).toBe(expected);
  });
});

describe('browserCommand', () => {
  const url = 'file:///tmp/p.html';
  test.each([
    ['$BROWSER, the URL appended', { BROWSER: 'firefox' }, 'linux', ['firefox', url]],
    ['$BROWSER with arguments and %s', { BROWSER: 'chromium --new-window %s' }, 'linux', ['chromium', '--new-window', url]],
    ['the first of a $BROWSER list', { BROWSER: 'w3m:lynx' }, 'linux', ['w3m', url]],
    ['xdg-open on Linux', {}, 'linux', ['xdg-open', url]],
    ['an empty $BROWSER is no browser', { BROWSER: '' }, 'linux', ['xdg-open', url]],
    ['open on macOS', {}, 'darwin', ['open', url]],
  ] as const)('%s', (_name, env, platform, argv) => {
    expect(browserCommand(url, env, platform)).toEqual(argv);
  });
});

describe('runOpen', () => {
  test('merges files into a page at -o, naming them and their count', async () => {
    const out = path.join(dir, 'out', 'files.html');
    const result = await runOpen(noBrowser({ kind: 'files', inputs: [path.join(dir, 'heap')] }, out), deps());
    expect(result).toMatchObject({ page: out, profiles: 3 });
    expect(result.browser).toBeUndefined();
    const data = await pageOf(out);
    expect(result.pageBytes).toBe((await readFile(out)).length);
    expect(data.sampleTypes.map((t) => t.type)).toEqual(['alloc_objects', 'alloc_space', 'inuse_objects', 'inuse_space']);
    expect(data.meta.title).toBe('heap profile, 3 merged');
    expect(data.meta.subtitle).toBe('3 profiles');
    expect(data.meta.details).toEqual([[`3 files in ${path.dirname(files[0]!)}`, files.map((f) => path.basename(f)).join(', ')]]);
    expect(data.tree.nodes).toBeGreaterThan(10);
  });

  test('writes to a new temporary file by default', async () => {
    const tmp = await mkdtemp(path.join(dir, 'tmp-'));
    const result = await runOpen(noBrowser({ kind: 'files', inputs: [files[0]!] }), deps({ tmpDir: tmp }));
    expect(path.dirname(result.page!)).toBe(tmp);
    expect(path.basename(result.page!)).toMatch(/^kubectl-profefe-heap-0001-[0-9a-z]+\.html$/);
    expect(await readdir(tmp)).toEqual([path.basename(result.page!)]);
  });

  test('starts $BROWSER on the page and does not wait for it', async () => {
    const seen = path.join(dir, 'browser-saw');
    const browser = path.join(dir, 'browser.sh');
    // Stays running like a browser would (far longer than the test); the test ends it by its pid.
    await writeFile(browser, `#!/bin/sh\necho "$$ $1" > '${seen}.tmp' && mv '${seen}.tmp' '${seen}'\nexec sleep 600\n`);
    await chmod(browser, 0o755);
    const out = path.join(dir, 'browser.html');
    const result = await runOpen({ ...noBrowser({ kind: 'files', inputs: [files[0]!] }, out), browser: true }, deps({ env: { BROWSER: browser, PATH: process.env.PATH } }));
    expect(result).toMatchObject({ page: out, browser, browserError: undefined });
    let line = '';
    while (!line) {
      line = await readFile(seen, 'utf8').catch(() => '');
      if (!line) await new Promise((r) => setTimeout(r, 50));
    }
    const [pid, url] = line.trim().split(' ');
    try {
      // runOpen did not wait for it: the browser is still running now.
      expect(() => process.kill(Number(pid), 0)).not.toThrow();
      expect(url).toBe(pathToFileURL(out).href);
    } finally {
      process.kill(Number(pid), 'SIGKILL');
    }
  });

  test('says why when the browser cannot be started, and keeps the page', async () => {
    const out = path.join(dir, 'no-browser.html');
    const result = await runOpen({ ...noBrowser({ kind: 'files', inputs: [files[0]!] }, out), browser: true }, deps({ env: { BROWSER: path.join(dir, 'no-such-browser') } }));
    expect(result.browserError).toBe(`${path.join(dir, 'no-such-browser')} not found`);
    expect((await readFile(out)).length).toBe(result.pageBytes);
  });

  test.each([
    ['the local store', () => localStore, /^the local store in /],
    ['profefe', () => profefeStore, /^profefe at http:\/\/127\.0\.0\.1:\d+$/],
  ])('merges a query from %s: service, type, window, shared labels and count in the page', async (_name, store, where) => {
    const out = path.join(dir, `query-${_name.replace(/\W/g, '')}.html`);
    const result = await runOpen(noBrowser({ kind: 'query', query: heapQuery(), store: store() }, out), deps());
    expect(result.profiles).toBe(3);
    const data = await pageOf(out);
    expect(data.meta.title).toBe('auth heap');
    expect(field(data, 'Service')).toBe('auth');
    // Snapshots are averaged per pod, and the page says so.
    expect(field(data, 'Type')).toBe('heap (average of 1 snapshot per pod, 3 pods)');
    expect(data.meta.subtitle).toMatch(/^3 profiles · \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ to \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ \(\S+\)$/);
    expect(field(data, 'Labels')).toBe('namespace=shop');
    expect(field(data, 'Store')).toMatch(where);
    // The same merge as from the files.
    const fromFiles = await pageOf(path.join(dir, 'out', 'files.html'));
    expect(data.top).toEqual(fromFiles.top);
  });

  test.each([
    ['the local store', () => localStore, () => localIds],
    ['profefe', () => profefeStore, () => profefeIds],
  ])('opens one stored profile by id from %s', async (_name, store, ids) => {
    const out = path.join(dir, `id-${_name.replace(/\W/g, '')}.html`);
    await runOpen(noBrowser({ kind: 'ids', ids: [ids()[1]!], store: store() }, out), deps());
    const data = await pageOf(out);
    expect(data.meta.title).toBe('heap profile');
    expect(field(data, 'Profile id')).toBe(ids()[1]);
  });

  test('merges several stored ids', async () => {
    const out = path.join(dir, 'ids.html');
    await runOpen(noBrowser({ kind: 'ids', ids: localIds, store: localStore }, out), deps());
    expect((await pageOf(out)).meta.details).toEqual([[`${localIds.length} profile ids`, localIds.join(', ')]]);
  });

  const failures: [string, () => OpenOptions['source'], RegExp][] = [
    ['an id that does not exist (local store)', () => ({ kind: 'ids', ids: ['c0ffee00000000000000'], store: localStore }), /^no profile with id "c0ffee00000000000000" in the local store in .*local-store$/],
    ['an id that does not exist (profefe)', () => ({ kind: 'ids', ids: ['c0ffee00000000000000'], store: profefeStore }), /^no profile with id "c0ffee00000000000000" in profefe at http:/],
    ['ids of which none exists', () => ({ kind: 'ids', ids: ['c0ffee00000000000000', 'c0ffee00000000000001'], store: localStore }), /^none of the profile ids "c0ffee00000000000000", "c0ffee00000000000001" is in the local store/],
    ['a query with no profiles (local store)', () => ({ kind: 'query', query: heapQuery('nobody'), store: localStore }), /^no heap profiles of service "nobody" between \S+ and \S+ in the local store in /],
    ['a query with no profiles (profefe)', () => ({ kind: 'query', query: { ...heapQuery(), labels: [{ key: 'version', value: '9.9' }] }, store: profefeStore }), /^no heap profiles of service "auth" with version=9\.9 between \S+ and \S+ in profefe at http:/],
    ['a missing file', () => ({ kind: 'files', inputs: [path.join(dir, 'nope.pb.gz')] }), /nope\.pb\.gz: no such file or directory$/],
  ];
  test.each(failures)('fails on %s with one clear line (exit status 1)', async (_name, source, message) => {
    const err = await runOpen(noBrowser(source(), path.join(dir, 'never.html')), deps()).then(
      () => undefined,
      (e: unknown) => e as Error,
    );
    expect(err).toBeDefined();
    expect(isExpectedError(err)).toBe(true);
    expect((err as Error & { exitCode: number }).exitCode).toBe(1);
    expect(err!.message).toMatch(message);
    expect(err!.message).not.toContain('\n');
    await expect(readFile(path.join(dir, 'never.html'))).rejects.toThrow(/ENOENT/);
  });

  test('refuses a --sample-type the profile does not have', async () => {
    const opts = { ...noBrowser({ kind: 'files', inputs: [files[0]!] }, path.join(dir, 'st.html')), sampleType: 'cpu' } as const;
    await expect(runOpen(opts, deps())).rejects.toThrow(new UsageError('--sample-type: sample type "cpu" is not in this profile (it has: alloc_objects, alloc_space, inuse_objects, inuse_space)'));
  });
});

describe('runOpen --pprof', () => {
  test('says Go is needed when go is not on PATH', async () => {
    const empty = await mkdtemp(path.join(dir, 'empty-path-'));
    const opts: OpenOptions = { source: { kind: 'files', inputs: [files[0]!] }, browser: false, pprof: true };
    const err = (await runOpen(opts, deps({ env: { PATH: empty } })).catch((e: unknown) => e)) as Error;
    expect(isExpectedError(err)).toBe(true);
    expect(err.message).toBe('--pprof needs the Go toolchain, and `go` is not on PATH; install Go (https://go.dev/dl/) or leave out --pprof for the built-in flame graph page');
    expect((await readdir(dir)).filter((n) => n.startsWith('kubectl-profefe-pprof-'))).toEqual([]);
  });

  test('serves the merged profile with go tool pprof -http until aborted', async () => {
    const tmp = await mkdtemp(path.join(dir, 'pprof-'));
    const stderr = new PassThrough();
    let output = '';
    stderr.on('data', (c: Buffer) => (output += c.toString()));
    const controller = new AbortController();
    const opts: OpenOptions = { source: { kind: 'files', inputs: files }, browser: false, pprof: true };
    const env = { PATH: process.env.PATH, HOME: tmp, PPROF_TMPDIR: tmp, PPROF_BINARY_PATH: '' };
    const running = runOpen(opts, { env, stderr, signal: controller.signal, tmpDir: tmp });
    try {
      // Until pprof says where it serves (a loaded machine takes its time; the test's timeout bounds it).
      let url: string | undefined;
      while (!url) {
        url = /Serving web UI on (http:\/\/localhost:\d+)/.exec(output)?.[1];
        if (!url) await new Promise((r) => setTimeout(r, 50));
      }
      expect(url).not.toMatch(/:0$/);
      const top = await fetch(`${url}/ui/top?si=alloc_space`);
      expect(top.status).toBe(200);
      expect(await top.text()).toContain('main.allocBytes');
      // The profile it serves is the merge, in a temporary directory of our own.
      expect((await readdir(tmp)).some((n) => n.startsWith('kubectl-profefe-pprof-'))).toBe(true);
    } finally {
      controller.abort();
    }
    await expect(running).resolves.toEqual({ profiles: 3 });
    expect((await readdir(tmp)).filter((n) => n.startsWith('kubectl-profefe-pprof-'))).toEqual([]);
  }, 120_000);
});

/** The open command module through yargs, as main wires it, with captured streams. */
async function openViaArgv(argv: string[], env: NodeJS.ProcessEnv = {}): Promise<{ stdout: string; stderr: string; error?: Error }> {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.on('data', (c: Buffer) => (out += c.toString()));
  stderr.on('data', (c: Buffer) => (err += c.toString()));
  const ctx: CommandContext = {
    io: { stdin: new PassThrough(), stdout, stderr, stdoutIsTTY: false, stderrIsTTY: false, color: false },
    env,
    signal: new AbortController().signal,
  };
  let error: Error | undefined;
  try {
    await yargs(argv)
      .command(openCommand(ctx))
      .strict()
      .exitProcess(false)
      .fail((msg, e) => {
        throw e ?? new UsageError(msg);
      })
      .parseAsync();
  } catch (e) {
    error = e as Error;
  }
  return { stdout: out, stderr: err, error };
}

describe('kubectl profefe open (the command module through yargs)', () => {
  test('--no-browser prints only the page path on stdout; stderr says what was written', async () => {
    const out = path.join(dir, 'argv', 'page.html');
    await mkdir(path.dirname(out), { recursive: true });
    const run = await openViaArgv(['open', path.join(dir, 'heap'), '--no-browser', '--output-file', out, '--sample-type', 'alloc_space']);
    expect(run.error).toBeUndefined();
    expect(run.stdout).toBe(`${out}\n`);
    expect(run.stderr).toMatch(/^wrote the flame graph of 3 merged profiles \(\d+(\.\d)? kB\)\n$/);
    expect((await pageOf(out)).defaultSampleIndex).toBe(1);
  });

  test('a drop_frames Go cannot compile: a warning, and nothing dropped from the page (as pprof)', async () => {
    const file = path.join(dir, 'argv', 'bad-drop.pb.gz');
    await mkdir(path.dirname(file), { recursive: true });
    await writeFile(file, encodeProfile(buildProfile({ dropFrames: 'runtime\\.(?=malloc)', samples: [{ stack: 'main;runtime.mallocgc', values: [1, 10] }] })));
    const out = path.join(dir, 'argv', 'bad-drop.html');
    const run = await openViaArgv(['open', file, '--no-browser', '--output-file', out]);
    expect(run.error).toBeUndefined();
    expect(run.stderr).toMatch(/^warning: drop_frames "runtime\\\\.\(\?=malloc\)" is not a valid regexp \(invalid or unsupported Perl syntax: `\(\?=`\); no frames dropped, as in pprof\nwrote the flame graph/);
    expect((await pageOf(out)).names).toContain('runtime.mallocgc');
  });

  test('opens the page with $BROWSER and says so on stderr', async () => {
    const seen = path.join(dir, 'argv-browser-saw');
    const browser = path.join(dir, 'argv-browser.sh');
    await writeFile(browser, `#!/bin/sh\necho "$1" > '${seen}'\n`);
    await chmod(browser, 0o755);
    const run = await openViaArgv(['open', files[0]!, '--output-file', path.join(dir, 'argv', 'b.html')], { BROWSER: browser, PATH: process.env.PATH });
    expect(run.error).toBeUndefined();
    expect(run.stdout).toBe('');
    expect(run.stderr).toMatch(new RegExp(`^wrote the flame graph to .*b\\.html \\(\\d+(\\.\\d)? kB\\), opening it with ${browser.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}\\n$`));
  });

  test.each([
    ['an unknown id', (d: string) => ['open', 'c0ffee00000000000000', '--store-dir', path.join(d, 'local-store'), '--no-browser'], /^no profile with id "c0ffee00000000000000" in the local store/],
    ['a query with no profiles', (d: string) => ['open', '--service', 'nobody', '--type', 'heap', '--store-dir', path.join(d, 'local-store'), '--no-browser'], /^no heap profiles of service "nobody" between/],
  ])('ends on %s with an error main reports in one line, exit status 1', async (_name, argv, message) => {
    const run = await openViaArgv(argv(dir), { KUBECTL_PROFEFE_HOME: path.join(dir, 'home') });
    expect(run.stdout).toBe('');
    expect(isExpectedError(run.error)).toBe(true);
    expect((run.error as Error & { exitCode: number }).exitCode).toBe(1);
    expect(run.error!.message).toMatch(message);
    expect(run.error!.message).not.toContain('\n');
  });
});
