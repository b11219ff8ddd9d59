/**
 * One meaning per flag (issue 14): -l/--selector is a Kubernetes label selector on store labels
 * (the same answers from the local store, from `serve`, and from the real profefe collector when
 * /tmp/profefe-bin/profefe or PROFEFE_BIN is there); -o is a format and --output-file a file;
 * --nodes everywhere (--top deprecated); kind: List; get types from the store.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { load } from 'js-yaml';
import { decodeProfile, encodeProfile } from '../../src/pprof/index.js';
import { LocalStore } from '../../src/store/local/local-store.js';
import { ProfefeClient } from '../../src/store/profefe/client.js';
import type { ProfileStore, StoreLabel } from '../../src/store/store.js';
import { buildProfile, foldedStacks } from '../support/profile-builder.js';
import { goPprofTopText } from '../support/go-pprof.js';
import { runCli } from '../support/run-cli.js';
import { startTestStore, type TestStore } from '../support/store-server.js';

/** Six CPU profiles of service "web", one per pod, each with its own stack and its own second. */
const T0 = Date.UTC(2026, 0, 15, 10, 0, 0);
const WINDOW = ['--from', '2026-01-15T09:00:00Z', '--to', '2026-01-15T11:00:00Z'];
const PODS: Record<string, Record<string, string>> = {
  'web-1': { env: 'prod', tier: 'front', url: '10.0.0.1:6060' },
  'web-2': { env: 'prod', tier: 'back' },
  'web-3': { env: 'staging', tier: 'front' },
  'web-4': { env: 'dev' },
  'web-5': { canary: 'true' },
  'web-6': { env: 'staging', tier: 'back', canary: 'true' },
};
const podNumber = (pod: string) => Number(pod.slice(4));
const profileOf = (pod: string) =>
  encodeProfile(buildProfile({ timeNanos: BigInt(T0 + podNumber(pod) * 1000) * 1_000_000n, samples: [{ stack: `main;${pod.replace('-', '')}`, values: [podNumber(pod), podNumber(pod) * 10_000_000] }] }));
const labelsOf = (pod: string): StoreLabel[] =>
  Object.entries({ ...PODS[pod], pod })
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .map(([key, value]) => ({ key, value }));

let dir: string;
let served: TestStore;
let profefe: { url: string; child: ChildProcess } | undefined;
const PROFEFE_BIN = process.env.PROFEFE_BIN ?? '/tmp/profefe-bin/profefe';

async function uploadAll(store: Pick<ProfileStore, 'upload'>): Promise<void> {
  // In created_at order: profefe's badger label index misses matches otherwise (docs/profefe-api.md).
  for (const pod of Object.keys(PODS)) await store.upload({ service: 'web', type: 'cpu', labels: labelsOf(pod), body: profileOf(pod) });
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** The real profefe collector with its badger store, once it answers /api/0/version (a few tries at a new port if one was taken meanwhile). */
async function startProfefe(): Promise<{ url: string; child: ChildProcess }> {
  for (let attempt = 0; ; attempt++) {
    const port = await freePort();
    const child = spawn(PROFEFE_BIN, ['-addr', `127.0.0.1:${port}`, '-badger.dir', path.join(dir, `badger-${attempt}`)], { stdio: 'ignore' });
    const exited = new Promise<'exited'>((resolve) => child.once('exit', () => resolve('exited')));
    const url = `http://127.0.0.1:${port}`;
    for (;;) {
      const state = await Promise.race([exited, fetch(`${url}/api/0/version`).then((r) => (r.ok ? 'up' : 'down'), () => 'down'), new Promise((r) => setTimeout(() => r('down'), 200))]);
      if (state === 'up') return { url, child };
      if (state === 'exited') break;
      await new Promise((r) => setTimeout(r, 100));
    }
    if (attempt === 4) throw new Error(`${PROFEFE_BIN} did not start`);
  }
}

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'flags-cli-'));
  const local = await LocalStore.open(path.join(dir, 'local'));
  try {
    await uploadAll(local);
  } finally {
    await local.close();
  }
  served = await startTestStore(path.join(dir, 'served'));
  await uploadAll(served.store);
  if (existsSync(PROFEFE_BIN)) {
    profefe = await startProfefe();
    const client = new ProfefeClient({ baseUrl: profefe.url });
    try {
      await uploadAll(client);
    } finally {
      await client.close();
    }
  }
}, 120_000);

afterAll(async () => {
  await served?.close();
  if (profefe) {
    const exited = new Promise((resolve) => profefe!.child.once('exit', resolve));
    profefe.child.kill('SIGTERM');
    await exited;
  }
  await rm(dir, { recursive: true, force: true });
});

/** Where a command reads: the local store (its folder), `serve`, or the real profefe. */
const stores: [string, () => NodeJS.ProcessEnv | undefined][] = [
  ['the local store', () => ({ HOME: dir, KUBECTL_PROFEFE_HOME: path.join(dir, 'home') })],
  ['serve', () => ({ HOME: dir, PROFEFE_HOSTPORT: served.server.url })],
  ['the real profefe collector', () => (profefe ? { HOME: dir, PROFEFE_HOSTPORT: profefe.url } : undefined)],
];
const storeArgs = (name: string) => (name === 'the local store' ? ['--store-dir', path.join(dir, 'local')] : []);

/** The pods of `get profiles -o json` (a kind: List). */
async function podsOf(args: string[], env: NodeJS.ProcessEnv, store: string): Promise<string[]> {
  const run = await runCli(['get', 'profiles', '--service', 'web', ...WINDOW, ...storeArgs(store), ...args, '-o', 'json'], { env });
  expect(run.stderr).toBe('');
  expect(run.code).toBe(0);
  const list = JSON.parse(run.stdout.toString()) as { kind: string; items: { labels: Record<string, string> }[] };
  expect(list.kind).toBe('List');
  return list.items.map((i) => i.labels.pod!).sort();
}

// Kubernetes' semantics: a missing key matches != and notin; comma and repeated -l are AND.
const SELECTIONS: [string, string[], string[]][] = [
  ['equality', ['-l', 'env=prod'], ['web-1', 'web-2']],
  ['== and a second term', ['-l', 'env==prod,tier=front'], ['web-1']],
  ['inequality (a missing key matches)', ['-l', 'env!=prod'], ['web-3', 'web-4', 'web-5', 'web-6']],
  ['in', ['-l', 'env in (staging,dev)'], ['web-3', 'web-4', 'web-6']],
  ['notin (a missing key matches)', ['-l', 'env notin (prod,staging)'], ['web-4', 'web-5']],
  ['existence', ['-l', 'canary'], ['web-5', 'web-6']],
  ['absence', ['-l', '!canary'], ['web-1', 'web-2', 'web-3', 'web-4']],
  ['absence of env', ['-l', '!env'], ['web-5']],
  ['set and absence', ['-l', 'env=staging,!canary'], ['web-3']],
  ['in and inequality', ['-l', 'tier in (front),env!=staging'], ['web-1']],
  ['-l twice is AND', ['-l', 'env=prod', '-l', 'tier=back'], ['web-2']],
  ['--selector', ['--selector', 'tier'], ['web-1', 'web-2', 'web-3', 'web-6']],
  ['--label K=V: the exact value, any characters', ['--label', 'url=10.0.0.1:6060'], ['web-1']],
  ['--label and -l together', ['--label', 'env=staging', '-l', 'canary'], ['web-6']],
  ['a selector nothing matches', ['-l', 'env=qa'], []],
  ['--limit keeps the newest N of what the selector matched', ['-l', 'env!=prod', '--limit', '2'], ['web-5', 'web-6']],
  ['--limit with exact pairs only', ['-l', 'env=prod', '--limit', '1'], ['web-2']],
];

describe.each(stores)('-l/--selector on %s', (name, envOf) => {
  test.each(SELECTIONS)('%s: %j selects %j', async (_what, args, pods) => {
    const env = envOf();
    if (!env) return; // no profefe binary on this machine: the other stores still run
    expect(await podsOf(args, env, name)).toEqual(pods);
  });

  test('merge -l writes the merge of exactly the selected profiles, which go tool pprof reads', async () => {
    const env = envOf();
    if (!env) return;
    const out = path.join(dir, `merged-${name.replace(/\W+/g, '-')}.pb.gz`);
    const run = await runCli(['merge', '--service', 'web', '--type', 'cpu', ...WINDOW, ...storeArgs(name), '-l', 'env notin (prod),!canary', '--output-file', out], { env });
    expect(run.code).toBe(0);
    expect(foldedStacks(decodeProfile(await readFile(out)))).toBe(['main;web3 3,30000000', 'main;web4 4,40000000'].join('\n'));
    // go tool pprof reads it as it reads (and merges) the two selected profiles themselves.
    const sources = ['web-3', 'web-4'].map((pod) => path.join(dir, `${pod}.pb.gz`));
    for (const [i, pod] of ['web-3', 'web-4'].entries()) await writeFile(sources[i]!, profileOf(pod));
    expect(await goPprofTopText([out])).toBe(await goPprofTopText(sources));
  });
});

describe('a selector that cannot be parsed is a usage error: exit 2, one line in apimachinery\'s words', () => {
  test.each([
    [['get', 'profiles', '--service', 'web', '-l', 'env=a b'], "error: -l/--selector \"env=a b\": found 'b', expected: ',' or 'end of string'"],
    [['get', 'profiles', '--service', 'web', '-l', 'x!!y'], "error: -l/--selector \"x!!y\": unable to parse requirement: found '!', expected: in, notin, =, ==, !=, gt, lt"],
    [['merge', '--service', 'web', '--type', 'cpu', '-l', 'env in (a'], "error: -l/--selector \"env in (a\": unable to parse requirement: found '', expected: ',' or ')'"],
    [['top', '-l', 'url=10.0.0.1:6060'], /^error: -l\/--selector "url=10\.0\.0\.1:6060": unable to parse requirement: values\[0\]\[url\]: Invalid value: "10\.0\.0\.1:6060": a valid label must be an empty string or consist of/],
    [['diff', '--service', 'web', '--type', 'cpu', '--base-selector', ',x'], "error: --base-selector \",x\": found ',', expected: !, identifier, or 'end of string'"],
    [['open', '--service', 'web', '--type', 'cpu', '--selector=-bad'], /^error: -l\/--selector "-bad": unable to parse requirement: <nil>: Invalid value: "-bad": name part must consist of/],
    [['capture', '-l', 'app=(x)'], "error: -l/--selector \"app=(x)\": unable to parse requirement: found '(', expected: identifier"],
  ])('%j', async (argv, message) => {
    const run = await runCli(argv as string[], { env: { HOME: dir, PROFEFE_HOSTPORT: served.server.url } });
    expect(run.code).toBe(2);
    expect(run.stdout.length).toBe(0);
    const [first, ...rest] = run.stderr.trimEnd().split('\n');
    if (typeof message === 'string') expect(first).toBe(message);
    else expect(first).toMatch(message);
    expect(rest.every((l) => l.startsWith('See '))).toBe(true);
  });
});

describe('-o is a format, --output-file a file', () => {
  const env = () => ({ HOME: dir, PROFEFE_HOSTPORT: served.server.url });
  const file = () => path.join(dir, 'one.pb.gz');
  beforeAll(() => writeFile(file(), profileOf('web-1')));

  test('merge -o yaml prints the top functions as YAML, and writes no file named yaml', async () => {
    const run = await runCli(['merge', file(), '-o', 'yaml'], { env: env() });
    expect(run.code).toBe(0);
    expect(load(run.stdout.toString())).toEqual([
      { function: 'web1', flat: 10_000_000, cum: 10_000_000 },
      { function: 'main', flat: 0, cum: 10_000_000 },
    ]);
    expect(existsSync('yaml')).toBe(false);
  });

  test('merge -o pprof --output-file writes the profile go tool pprof reads; the table has top\'s header', async () => {
    const out = path.join(dir, 'out.pb.gz');
    const run = await runCli(['merge', file(), '-o', 'pprof', '--output-file', out], { env: env() });
    expect(run.code).toBe(0);
    expect(run.stderr).toMatch(new RegExp(`^merged 1 profile into ${out.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} \\(\\d+ B\\)\n$`));
    const go = await goPprofTopText([out]);
    expect(go).toContain('web1');
    const table = (await runCli(['merge', out, '--nodes', '5'])).stdout.toString();
    expect(table).toContain('      FLAT  FLAT%   SUM%        CUM   CUM%  FUNCTION\n');
  });

  test('-o FILE still works, with kubectl\'s deprecation wording on stderr', async () => {
    const out = path.join(dir, 'old-style.pb.gz');
    const run = await runCli(['merge', file(), '-o', out], { env: env() });
    expect(run.code).toBe(0);
    expect(run.stderr.split('\n')[0]).toBe(`Flag --output with a file name has been deprecated, use --output-file ${out} instead`);
    expect(foldedStacks(decodeProfile(await readFile(out)))).toBe('main;web1 1,10000000');
  });

  test('--top is --nodes, with kubectl\'s deprecation wording', async () => {
    const run = await runCli(['merge', file(), '--top', '1'], { env: env() });
    expect(run.code).toBe(0);
    expect(run.stderr).toBe('Flag --top has been deprecated, use --nodes instead\n');
    expect(run.stdout.toString()).toBe((await runCli(['merge', file(), '--nodes', '1'])).stdout.toString());
  });

  test.each([
    ['merge', 'x.pb.gz', (out: string) => ['merge', file(), '--output-file', out]],
    ['open', 'page.html', (out: string) => ['open', file(), '--no-browser', '--output-file', out]],
    ['diff -o html', 'page.html', (out: string) => ['diff', file(), file(), '-o', 'html', '--no-browser', '--output-file', out]],
  ])('%s: --output-file in a folder that does not exist fails in one line and creates nothing', async (_what, name, argv) => {
    const out = path.join(dir, `no-such-folder-${name}`, name);
    const run = await runCli(argv(out), { env: env() });
    expect(run.code).toBe(1);
    expect(run.stderr).toBe(`error: ${out}: No such file or directory\n`);
    expect(existsSync(path.dirname(out))).toBe(false);
  });

  test.each([
    ['merge to a terminal', ['merge', 'FILE'], /^error: refusing to write a binary profile to the terminal \(binary output can mess up your terminal\); use --output-file FILE, or redirect \(> merged\.pb\.gz\)$/],
    ['get profile to a terminal', ['get', 'profile', 'some-id'], /^error: refusing to write a binary profile to the terminal/],
  ])('refuses %s', async (_what, argv, message) => {
    const run = await runCli(argv.map((a) => (a === 'FILE' ? file() : a)), { env: env(), stdoutIsTTY: true });
    expect(run.code).toBe(2);
    expect(run.stderr.split('\n')[0]).toMatch(message);
  });

  test('a pipe gets the binary profile', async () => {
    const run = await runCli(['merge', file()], { env: env(), stdoutIsTTY: false });
    expect(run.code).toBe(0);
    expect(foldedStacks(decodeProfile(run.stdout))).toBe('main;web1 1,10000000');
  });

  test.each([
    ['merge -o with no format or path', ['merge', 'FILE', '-o', 'merged'], 'error: -o/--output: unknown output format "merged" (choose from pprof, table, json, yaml); to write a file use --output-file merged'],
    ['merge --nodes with -o pprof', ['merge', 'FILE', '--nodes', '3', '-o', 'pprof'], 'error: --nodes prints the top functions (-o table|json|yaml); it cannot be combined with the merged profile (-o pprof, --output-file)'],
    ['merge --top and --nodes', ['merge', 'FILE', '--top', '3', '--nodes', '3'], 'error: --top is the deprecated name of --nodes; give only --nodes'],
    ['-o FILE and --output-file', ['merge', 'FILE', '-o', 'a.pb.gz', '--output-file', 'b.pb.gz'], 'error: -o/--output is the format (pprof, table, json, yaml); the file is --output-file, got both "a.pb.gz" and "b.pb.gz"'],
    ['get a list to a file', ['get', 'services', '--output-file', 'x'], 'error: --output-file writes a profile (get profile ID); a list prints to stdout (redirect it: > FILE)'],
    ['get -o of a list', ['get', 'services', '-o', 'xml'], 'error: -o/--output: unknown output format "xml" (choose from table, wide, json, yaml, name)'],
    ['top -o name', ['top', '-o', 'name'], 'error: -o/--output: unknown output format "name" (choose from table, wide, json, yaml)'],
    // Another command's format is a format mistaken, not a file name: no --output-file hint.
    ['diff -o wide', ['diff', 'FILE', 'FILE', '-o', 'wide'], 'error: -o/--output: unknown output format "wide" (choose from table, json, yaml, html)'],
    ['open -o json', ['open', 'FILE', '-o', 'json'], 'error: -o/--output: unknown output format "json" (choose from html)'],
    ['open --output-file without .html', ['open', 'FILE', '--output-file', 'page.txt'], 'error: --output-file: the page needs a .html name, got "page.txt"'],
  ])('%s: exit 2, one line', async (_what, argv, message) => {
    const run = await runCli(argv.map((a) => (a === 'FILE' ? file() : a)), { env: env() });
    expect(run.code).toBe(2);
    expect(run.stderr.split('\n')[0]).toBe(message);
    expect(run.stdout.length).toBe(0);
  });
});

describe('lists and names', () => {
  const env = () => ({ HOME: dir, PROFEFE_HOSTPORT: served.server.url });

  test('get -o yaml is a kind: List as kubectl prints one, and -o json the same', async () => {
    const yaml = await runCli(['get', 'profiles', '--service', 'web', ...WINDOW, '-l', 'env=dev', '-o', 'yaml'], { env: env() });
    expect(yaml.code).toBe(0);
    const text = yaml.stdout.toString();
    expect(text.startsWith('apiVersion: v1\nitems:\n- id: ')).toBe(true);
    expect(text.endsWith('kind: List\nmetadata:\n  resourceVersion: ""\n')).toBe(true);
    const json = await runCli(['get', 'profiles', '--service', 'web', ...WINDOW, '-l', 'env=dev', '-o', 'json'], { env: env() });
    expect(load(text)).toEqual(JSON.parse(json.stdout.toString()));
    expect(load(text)).toMatchObject({ apiVersion: 'v1', kind: 'List', metadata: { resourceVersion: '' }, items: [{ service: 'web', type: 'cpu', labels: { env: 'dev', pod: 'web-4' } }] });
  });

  test('a shorthand\'s value attached, as kubectl users type it: -ojson, -oyaml, -lenv=dev', async () => {
    const spaced = await runCli(['get', 'profiles', '--service', 'web', ...WINDOW, '-l', 'env=dev', '-o', 'json'], { env: env() });
    const attached = await runCli(['get', 'profiles', '--service', 'web', ...WINDOW, '-lenv=dev', '-ojson'], { env: env() });
    expect(attached.code).toBe(0);
    expect(attached.stdout.toString()).toBe(spaced.stdout.toString());
    const yaml = await runCli(['get', 'profiles', '--service', 'web', ...WINDOW, '-lenv=dev', '-oyaml'], { env: env() });
    expect(load(yaml.stdout.toString())).toEqual(JSON.parse(spaced.stdout.toString()));
  });

  test('bidi and control characters in labels and service names are escapes in YAML and JSON: the same value, inert on a terminal', async () => {
    const service = 'evil\u202egpj.exe';
    const labels = [{ key: 'note', value: 'a\u202eb\u0007c\u2028d' }];
    await served.store.upload({ service, type: 'cpu', labels, body: profileOf('web-1') });
    for (const format of ['yaml', 'json']) {
      const run = await runCli(['get', 'profiles', '--service', service, ...WINDOW, '-o', format], { env: env() });
      expect(run.code).toBe(0);
      const text = run.stdout.toString();
      expect(text).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/);
      expect(text).toContain('\\u202e');
      const list = (format === 'yaml' ? load(text) : JSON.parse(text)) as { items: { service: string; labels: Record<string, string> }[] };
      expect(list.items[0]).toMatchObject({ service, labels: { note: labels[0]!.value } });
    }
    const services = await runCli(['get', 'services', '-o', 'yaml'], { env: env() });
    expect(services.stdout.toString()).toContain('- name: "evil\\u202egpj.exe"\n');
  });

  test('get types lists the types stored (for one service with --service)', async () => {
    await served.store.upload({ service: 'cache', type: 'heap', labels: [], body: encodeProfile(buildProfile({ timeNanos: BigInt(T0) * 1_000_000n, sampleTypes: [['inuse_space', 'bytes']], periodType: ['space', 'bytes'], samples: [{ stack: 'main;alloc', values: [4096] }] })) });
    const all = await runCli(['get', 'types', ...WINDOW, '-o', 'name'], { env: env() });
    expect(all.stdout.toString()).toBe('type/cpu\ntype/heap\n');
    const web = await runCli(['get', 'types', '--service', 'web', ...WINDOW], { env: env() });
    expect(web.stdout.toString()).toBe('NAME\ncpu\n');
    const none = await runCli(['get', 'types', '--service', 'nobody', ...WINDOW], { env: env() });
    expect(none.stdout.length).toBe(0);
    expect(none.stderr).toMatch(/^No profiles for service "nobody" between 2026-01-15T09:00:00\.000Z and 2026-01-15T11:00:00\.000Z in profefe at http:\/\/127\.0\.0\.1:\d+, so no types\.\n$/);
  });

  test('get --type with nothing found names the type and the selector', async () => {
    const run = await runCli(['get', '--service', 'web', '--type', 'heap', ...WINDOW, '-l', 'env=prod'], { env: env() });
    expect(run.code).toBe(0);
    expect(run.stderr).toMatch(/^No heap profiles found for service "web" matching env=prod between /);
  });

  test('top -o yaml and -o wide work; the table shortens long service names, wide shows them whole', async () => {
    const long = 'payments-gateway-production-europe-west3';
    await served.store.upload({ service: long, type: 'cpu', labels: [], body: profileOf('web-2') });
    const args = ['top', '--type', 'cpu', ...WINDOW, '--service', 'web', '--service', long];
    const yaml = await runCli([...args, '-o', 'yaml'], { env: env() });
    expect(yaml.code).toBe(0);
    const json = await runCli([...args, '-o', 'json'], { env: env() });
    expect(load(yaml.stdout.toString())).toEqual(JSON.parse(json.stdout.toString()));
    const table = (await runCli(args, { env: env() })).stdout.toString();
    const wide = (await runCli([...args, '-o', 'wide'], { env: env() })).stdout.toString();
    expect(table).toMatch(/ web {3}payments-g…ope-west3 {3}FUNCTION\n/);
    expect(table).not.toContain(long);
    expect(wide).toContain(` web   ${long}   FUNCTION\n`);
  });

  test('no stray files: --output-file and -o never leave a temporary file behind', async () => {
    expect((await readdir(dir)).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });
});
