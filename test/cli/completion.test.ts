/**
 * Shell completion, with real parts: the engine's answers (`__complete`) from the commands' own
 * definitions, the sandbox API server's namespaces and pods, a local store filled by uploads
 * (and left open, holding its lock, as a running `serve` or capture would), our `serve`; then
 * real bash running the script `completion bash` prints, and real kubectl running
 * kubectl_complete-profefe from PATH for `kubectl profefe <TAB>`.
 */
import { execFile } from 'node:child_process';
import { chmod, copyFile, mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { encodeProfile } from '../../src/pprof/encode.js';
import { COMMANDS, commandNameOf } from '../../src/cli/main.js';
import { listedValues } from '../../src/cli/completion/command-spec.js';
import { formatCompletion } from '../../src/cli/completion/protocol.js';
import { LocalStore } from '../../src/store/local/local-store.js';
import { startSandbox, type Sandbox } from '../support/sandbox/sandbox.js';
import { startTestStore, type TestStore } from '../support/store-server.js';
import { buildProfile } from '../support/profile-builder.js';
import { runCli } from '../support/run-cli.js';

const run = promisify(execFile);
const BIN = path.resolve('bin');
/** kubectl's bash completion is built on the bash-completion package (Debian: bash-completion). */
const BASH_COMPLETION = '/usr/share/bash-completion/bash_completion';

let dir: string;
let sandbox: Sandbox;
let store: LocalStore;
let served: TestStore;
let env: NodeJS.ProcessEnv;
let hostileStore: string;
/** Ids of the local store, newest first. */
const ids: { id: string; service: string }[] = [];

/** A profile of `service` taken at a fixed time (seconds after 2026-01-01). */
const profile = (second: number, sampleTypes?: [string, string][]) =>
  encodeProfile(
    buildProfile({
      timeNanos: BigInt(Date.UTC(2026, 0, 1, 0, 0, second)) * 1_000_000n,
      sampleTypes,
      samples: [{ stack: 'main.main;main.work', values: sampleTypes ? sampleTypes.map(() => 5) : [1, 10_000_000] }],
    }),
  );
const HEAP: [string, string][] = [['alloc_objects', 'count'], ['alloc_space', 'bytes'], ['inuse_objects', 'count'], ['inuse_space', 'bytes']];

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'completion-'));
  sandbox = await startSandbox({
    pods: [
      { namespace: 'shop', name: 'cart-1', annotations: { 'profefe.com/enable': 'true' } },
      { namespace: 'shop', name: 'cart-2', phase: 'Pending' },
      { namespace: 'other', name: 'api-1' },
    ],
  });
  // Workloads for diff --rollout, scaled to no pods (the pod menus above stay as they are).
  const template = { labels: { app: 'web' }, containers: [{ name: 'app', image: 'registry.example/web:1' }] };
  sandbox.addDeployment({ namespace: 'shop', name: 'web', template, replicas: 0 });
  sandbox.addDeployment({ namespace: 'shop', name: 'worker', template: { ...template, labels: { app: 'worker' } }, replicas: 0 });
  sandbox.addStatefulSet({ namespace: 'shop', name: 'db', template: { ...template, labels: { app: 'db' } }, replicas: 0 });
  sandbox.addDaemonSet({ namespace: 'other', name: 'agent', template: { ...template, labels: { app: 'agent' } }, nodes: [] });
  const kubeconfig = await sandbox.writeKubeconfig({ dir, namespace: 'shop', contexts: [{ name: 'other-ctx', namespace: 'other' }] });
  const home = path.join(dir, 'home');
  // The default store (KUBECTL_PROFEFE_HOME/store), open for the whole run: it holds the lock.
  store = await LocalStore.open(path.join(home, 'store'));
  for (const [second, service, type] of [[1, 'auth', 'cpu'], [2, 'auth', 'heap'], [3, 'cart', 'heap']] as const) {
    const meta = await store.upload({ service, type, labels: [], body: profile(second, type === 'heap' ? HEAP : undefined) });
    ids.unshift({ id: meta.id, service });
  }
  served = await startTestStore(path.join(dir, 'served'));
  await served.store.upload({ service: 'remote-svc', type: 'cpu', labels: [], body: profile(4) });
  // A store whose index names services no one should see in a menu.
  hostileStore = path.join(dir, 'hostile');
  await mkdir(hostileStore);
  const line = (id: string, service: string) =>
    JSON.stringify({ id, service, type: 'cpu', labels: [], createdAt: '2026-01-01T00:00:00Z', uploadedAt: '2026-01-01T00:00:00.000Z', file: `blobs/${id.slice(0, 2)}/${id}.pb.gz`, size: 10 }) + '\n';
  await writeFile(path.join(hostileStore, 'index.jsonl'), [line('aa1', 'ok-svc'), line('aa2', 'bad\nsvc'), line('aa3', 'tab\tsvc'), line('aa4', '\u001b[31mred'), line('aa5', 'rtl\u202eevil'), line('aa6', 'ns:svc')].join(''));
  env = {
    PATH: `${BIN}${path.delimiter}${process.env.PATH}`,
    HOME: dir,
    KUBECONFIG: kubeconfig,
    KUBECACHEDIR: path.join(dir, 'cache'),
    KUBECTL_PROFEFE_HOME: home,
    // The cluster's and store's answers must not depend on how loaded the machine is: a generous
    // bound here; the test of the timeout sets its own.
    KUBECTL_PROFEFE_COMPLETION_TIMEOUT: '300s',
  };
  // Fixtures for file-name completion.
  await mkdir(path.join(dir, 'profiles', 'sub'), { recursive: true });
  await writeFile(path.join(dir, 'profiles', 'a.pb.gz'), profile(5));
  await writeFile(path.join(dir, 'profiles', 'b.pb.gz'), profile(6));
}, 120_000);

afterAll(async () => {
  await store?.close();
  await served?.close();
  await sandbox?.close();
  await rm(dir, { recursive: true, force: true });
});

/** The protocol's answer, parsed: the values, the descriptions by value, the directive. */
function parse(stdout: string) {
  const lines = stdout.split('\n').filter((l) => l !== '');
  const last = lines.pop() ?? '';
  expect(last).toMatch(/^:\d+$/);
  const values = lines.map((l) => l.split('\t')[0]!);
  const descriptions = Object.fromEntries(lines.map((l) => [l.split('\t')[0]!, l.split('\t')[1] ?? '']));
  return { values, descriptions, directive: Number(last.slice(1)) };
}

const complete = async (...words: string[]) => {
  const r = await runCli(['__complete', ...words], { env });
  expect(r.code).toBe(0);
  expect(r.stderr).toBe('');
  return parse(r.stdout.toString('utf8'));
};

describe('the completion engine (__complete)', () => {
  test('a first word completes to every command, with its help line', async () => {
    const r = await complete('');
    expect(r.values).toEqual(COMMANDS.map(commandNameOf));
    expect(r.descriptions.capture).toBe(COMMANDS[0]!.describe);
    expect(r.directive).toBe(4);
    expect((await complete('c')).values).toEqual(['capture', 'collect', 'completion']);
  });

  test("a command's flags come from its definition, with their help", async () => {
    const r = await complete('get', '-');
    expect(r.values).toEqual(expect.arrayContaining(['--service', '--type', '--profile-type', '--label', '-l', '--output', '-o', '--store-dir', '--help', '-h']));
    expect(r.descriptions['--service']).toMatch(/service/);
    expect((await complete('get', '--ser')).values).toEqual(['--service']);
    // Long names only after `--`; a flag given once is not offered again.
    expect((await complete('get', '--service', 'x', '--')).values).not.toContain('--service');
    expect((await complete('get', '--')).values.every((v) => v.startsWith('--'))).toBe(true);
  });

  test.each([
    ['a value listed in the help, after the flag', ['get', '-o', ''], ['json', 'yaml']],
    ['a value after --flag=, given alone as cobra gives it', ['get', '--output=y'], ['yaml']],
    ['a value glued to a one-letter flag', ['get', '-oj'], ['-ojson']],
    ['a positional with choices', ['completion', ''], ['bash', 'zsh', 'fish']],
    ['get resources, from the positional\'s help', ['get', 'p'], ['profiles', 'profile']],
    ["capture's comma-separated types: the last item", ['capture', '--type', 'cpu,h'], ['cpu,heap']],
  ])('%s', async (_what, words, expected) => {
    expect((await complete(...words)).values).toEqual(expect.arrayContaining(expected));
  });

  test.each([
    ['namespaces from the cluster', ['capture', '-n', ''], ['default', 'other', 'shop']],
    ["pods of the context's namespace, an opted-in one said so", ['capture', ''], ['cart-1', 'cart-2']],
    ['pods of -n', ['capture', '-n', 'other', ''], ['api-1']],
    ['pods of --namespace=', ['capture', '--namespace=other', ''], ['api-1']],
    ["pods of --context's namespace", ['capture', '--context', 'other-ctx', ''], ['api-1']],
    ['pods not named yet', ['capture', 'cart-1', ''], ['cart-2']],
    ["postmortem's pods, as capture's", ['postmortem', '-n', 'other', ''], ['api-1']],
    ["doctor's pods, as capture's", ['doctor', '-n', 'other', ''], ['api-1']],
    ['contexts of the kubeconfig', ['capture', '--context', ''], ['other-ctx', 'sandbox']],
  ])('%s', async (_what, words, expected) => {
    const r = await complete(...words);
    expect(r.values.sort()).toEqual(expected);
    expect(r.directive).toBe(4);
  });

  test.each([
    ['the workload types first, with no space after', ['diff', '--rollout', ''], ['daemonset/', 'deployment/', 'statefulset/'], 2 | 4],
    ['a type by its first letters', ['diff', '--rollout', 'st'], ['statefulset/'], 2 | 4],
    ["then the namespace's Deployments, under the type as typed", ['diff', '--rollout', 'deploy/'], ['deploy/web', 'deploy/worker'], 4],
    ['and by their first letters', ['diff', '--rollout=deployment/wo'], ['deployment/worker'], 4],
    ['StatefulSets', ['diff', '--rollout', 'sts/'], ['sts/db'], 4],
    ["DaemonSets of -n's namespace", ['diff', '-n', 'other', '--rollout', 'daemonset/'], ['daemonset/agent'], 4],
    ['not a workload type: nothing', ['diff', '--rollout', 'pod/'], [], 4],
  ])('diff --rollout: %s', async (_what, words, expected, directive) => {
    const r = await complete(...words);
    expect(r.values.sort()).toEqual(expected);
    expect(r.directive).toBe(directive);
  });

  test("diff --rollout's workloads say how many pods are ready", async () => {
    expect((await complete('diff', '--rollout', 'deployment/w')).descriptions['deployment/web']).toBe('0/0 ready');
  });

  test("pods' descriptions say their phase and whether they opted in", async () => {
    const r = await complete('capture', '');
    expect(r.descriptions['cart-1']).toBe('Running, profefe.com/enable');
    expect(r.descriptions['cart-2']).toBe('Pending');
  });

  test('-n and --kubeconfig on the line are honoured (a kubeconfig that does not exist: nothing)', async () => {
    expect((await complete('capture', '--kubeconfig', path.join(dir, 'none'), '')).values).toEqual([]);
  });

  test('services, stored types and ids from the local store, while another process holds its lock', async () => {
    expect((await complete('get', '--service', '')).values).toEqual(['auth', 'cart']);
    expect((await complete('top', '--service', 'auth', '--type', '')).values).toEqual(['cpu', 'heap']);
    expect((await complete('top', '--service', 'cart', '--type', '')).values).toEqual(['heap']);
    const all = await complete('get', 'profile', '');
    expect(all.values).toEqual(ids.map((i) => i.id));
    expect(all.descriptions[ids[0]!.id]).toBe('cart heap 2026-01-01T00:00:03Z');
    expect((await complete('get', 'profile', '--service', 'auth', '')).values).toEqual(ids.filter((i) => i.service === 'auth').map((i) => i.id));
    expect((await complete('merge', '--id', '')).values).toEqual(ids.map((i) => i.id));
  });

  test('services and ids from serve (--profefe-hostport, or PROFEFE_HOSTPORT)', async () => {
    const url = served.server.url;
    expect((await complete('get', '--profefe-hostport', url, '--service', '')).values).toEqual(['remote-svc']);
    const r = await runCli(['__complete', 'get', '--service', ''], { env: { ...env, PROFEFE_HOSTPORT: url } });
    expect(parse(r.stdout.toString('utf8')).values).toEqual(['remote-svc']);
    expect((await complete('get', 'profile', '--profefe-hostport', url, '--service', 'remote-svc', '')).values).toHaveLength(1);
  });

  test('names with control characters never reach the protocol', async () => {
    const r = await complete('get', '--store-dir', hostileStore, '--service', '');
    expect(r.values).toEqual(['ns:svc', 'ok-svc']);
  });

  test.each([
    ['profile files', ['merge', ''], 0],
    ['an output directory', ['capture', '--output-dir', ''], 16],
    ['a kubeconfig file', ['capture', '--kubeconfig', ''], 0],
    ['a free value', ['capture', '--seconds', ''], 4],
    ['an unknown command', ['nope', ''], 4],
  ])('%s: the directive tells the shell', async (_what, words, directive) => {
    const r = await complete(...(words as string[]));
    expect(r.values).toEqual([]);
    expect(r.directive).toBe(directive);
  });

  test('an API server that does not answer gives no candidates, quietly, after the timeout', async () => {
    // The timer starts before the request is sent and the server holds its answer 10 s from
    // arrival, so the 1 s timeout always comes first, however loaded the machine is.
    sandbox.faults.requestDelayMs = 10_000;
    try {
      const r = await runCli(['__complete', 'capture', '-n', ''], { env: { ...env, KUBECTL_PROFEFE_COMPLETION_TIMEOUT: '1s' } });
      expect({ code: r.code, stderr: r.stderr, stdout: r.stdout.toString('utf8') }).toEqual({ code: 0, stderr: '', stdout: ':4\n' });
    } finally {
      sandbox.faults.requestDelayMs = 0;
    }
  });
});

describe('the protocol and the definitions', () => {
  test.each([
    ['plain and described', [{ value: 'a' }, { value: 'b', description: 'the b' }], 4, 'a\nb\tthe b\n:4\n'],
    ['a newline, a tab, an escape or a bidi control in a value: dropped', [{ value: 'x\ny' }, { value: 'x\ty' }, { value: '\u001b[2J' }, { value: 'a\u202eb' }, { value: 'ok' }], 0, 'ok\n:0\n'],
    ['control characters in a description: spaces', [{ value: 'a', description: 'one\ntwo\tthree\u001b' }], 0, 'a\tone two three\n:0\n'],
    ["cobra's active-help marker: dropped", [{ value: '_activeHelp_ hi' }], 4, ':4\n'],
    ['nothing', [], 1, ':1\n'],
  ])('%s', (_what, candidates, directive, text) => {
    expect(formatCompletion({ candidates, directive })).toBe(text);
  });

  test.each([
    ['format: table|wide|json|yaml; with "profile ID": the file to write', ['table', 'wide', 'json', 'yaml']],
    ['summary format: table or json', ['table', 'json']],
    ['profiles (default), profile, services or types', ['profiles', 'profile', 'services', 'types']],
    ['profile type: cpu, heap (heap: in use; allocs: deltas)', ['cpu', 'heap']],
    ['write the merged profile to FILE instead of stdout', []],
    ['the capture window: duration of the CPU profile', []],
  ])('values listed in %j', (describe, values) => {
    expect(listedValues({ describe })).toEqual(values);
  });
});

describe('completion SHELL', () => {
  test.each([
    [['completion'], /completion needs a shell: bash, zsh, fish/],
    [['completion', 'tcsh'], /tcsh/],
  ])('%j is a usage error', async (argv, message) => {
    const r = await runCli(argv);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
  });

  test.each(['zsh', 'fish'])('%s: a script that asks kubectl-profefe __complete', async (shell) => {
    const r = await runCli(['completion', shell]);
    expect(r.code).toBe(0);
    const text = r.stdout.toString('utf8');
    expect(text).toContain('__complete');
    expect(text).toContain(shell === 'zsh' ? '#compdef kubectl-profefe' : 'complete -c kubectl-profefe');
  });
});

/**
 * COMP_WORDS as bash makes them from a line: split at spaces, and each `=` or `:` a word of its
 * own (they are in COMP_WORDBREAKS); a line ending in a space starts an empty word.
 */
function compWords(line: string): string[] {
  return line.split(' ').flatMap((token) => (token === '' ? [''] : token.split(/([=:])/).filter((p) => p !== '')));
}

/** Real bash: the script sourced, then its function called as readline would for `line` (cursor at the end); COMPREPLY, one a line. */
async function bashComplete(setup: string, fn: string, line: string): Promise<string[]> {
  const quoted = compWords(line).map((w) => `'${w.replace(/'/g, `'\\''`)}'`).join(' ');
  const script = `${setup}
COMP_WORDS=(${quoted}); COMP_CWORD=$((\${#COMP_WORDS[@]} - 1)); COMP_LINE='${line.replace(/'/g, `'\\''`)}'; COMP_POINT=\${#COMP_LINE}; COMPREPLY=()
${fn} 2>/dev/null
printf '%s\\n' "\${COMPREPLY[@]}"`;
  const { stdout } = await run('bash', ['-c', script], { env, cwd: dir });
  return stdout.split('\n').filter((l) => l !== '');
}

describe('bash, with the script of completion bash', () => {
  const ours = (line: string) => bashComplete('source <(kubectl-profefe completion bash)', '_kubectl_profefe_complete', `kubectl-profefe ${line}`);

  test('the script is valid bash', async () => {
    const { stdout: script } = await run(path.join(BIN, 'kubectl-profefe'), ['completion', 'bash'], { env });
    await run('bash', ['-n', '-c', script]);
  });

  test.each([
    ['commands', '', COMMANDS.map(commandNameOf)],
    ['flags', 'get --out', ['--output', '--output-file']],
    ['a value after --flag= (bash splits at =)', 'get --output=y', ['yaml']],
    ['every value after --flag=', 'get --output=', ['table', 'wide', 'json', 'yaml', 'name']],
    ['namespaces from the cluster', 'capture -n ', ['default', 'other', 'shop']],
    ['pods from the cluster', 'capture --context other-ctx a', ['api-1']],
    ['services from the store', 'merge --service ', ['auth', 'cart']],
    ['profile files, from the shell', 'merge profiles/', ['profiles/a.pb.gz', 'profiles/b.pb.gz', 'profiles/sub']],
    ['directories only for --output-dir', 'capture --output-dir profiles/', ['profiles/sub']],
    // bash splits the URL at each `:`, and replaces only what follows the last one.
    ['services of the store at a URL', () => `get --profefe-hostport ${served.server.url} --service `, ['remote-svc']],
    ['a name holding a break character: what follows the last one', () => `get --store-dir ${hostileStore} --service ns:s`, ['svc']],
  ])('%s', async (_what, line, expected) => {
    expect((await ours(typeof line === 'function' ? line() : line)).sort()).toEqual([...expected].sort());
  });
});

/** Whether `shell` is installed (CI installs zsh and fish; elsewhere their tests are skipped). */
const installed = (shell: string) => (process.env.PATH ?? '').split(path.delimiter).some((d) => existsSync(path.join(d, shell)));

(installed('zsh') ? describe : describe.skip)('zsh, with the script of completion zsh', () => {
  let script: string;
  beforeAll(async () => {
    script = path.join(dir, 'completion.zsh');
    await writeFile(script, (await run(path.join(BIN, 'kubectl-profefe'), ['completion', 'zsh'], { env })).stdout);
  });

  test('the script is valid zsh', async () => {
    await run('zsh', ['-n', script]);
  });

  test.each([
    ['commands', 'kubectl-profefe c', ['capture', 'collect', 'completion']],
    ['a value after --flag= keeps the flag in front', 'kubectl-profefe get --output=j', ['--output=json']],
    ['namespaces from the cluster', 'kubectl-profefe capture -n s', ['shop']],
    ['services from the store', 'kubectl-profefe top --service ', ['auth', 'cart']],
    ['profile files, from the shell', 'kubectl-profefe merge profiles/', ['a.pb.gz', 'b.pb.gz', 'sub']],
    ['directories only for --output-dir', 'kubectl-profefe capture --output-dir profiles/', ['sub']],
  ])('%s', async (_what, line, expected) => {
    // An interactive zsh in a pseudo-terminal (zsh/zpty) completes the line as a user's would.
    const { stdout } = await run('zsh', [path.resolve('test/support/zsh/capture.zsh'), script, line], { env, cwd: dir, timeout: 120_000 });
    expect(stdout.trim().split(' ').sort()).toEqual([...expected].sort());
  });
});

(installed('fish') ? describe : describe.skip)('fish, with the script of completion fish', () => {
  const fish = async (line: string) => {
    const { stdout } = await run('fish', ['--no-config', '-c', 'kubectl-profefe completion fish | source; complete -C $argv[1]', line], { env, cwd: dir });
    return stdout.split('\n').filter((l) => l !== '').map((l) => l.split('\t')[0]!);
  };

  test('the script is valid fish', async () => {
    const script = path.join(dir, 'completion.fish');
    await writeFile(script, (await run(path.join(BIN, 'kubectl-profefe'), ['completion', 'fish'], { env })).stdout);
    await run('fish', ['--no-execute', script]);
  });

  test.each([
    ['commands', 'kubectl-profefe c', ['capture', 'collect', 'completion']],
    ['a value after --flag= keeps the flag in front', 'kubectl-profefe get --output=j', ['--output=json']],
    ['namespaces from the cluster', 'kubectl-profefe capture -n ', ['default', 'other', 'shop']],
    ['ids from the store', 'kubectl-profefe get profile --service auth ', () => ids.filter((i) => i.service === 'auth').map((i) => i.id)],
    ['profile files, from the shell', 'kubectl-profefe merge profiles/', ['profiles/a.pb.gz', 'profiles/b.pb.gz', 'profiles/sub/']],
    ['directories only for --output-dir', 'kubectl-profefe capture --output-dir profiles/', ['profiles/sub/']],
  ])('%s', async (_what, line, expected) => {
    const want = typeof expected === 'function' ? expected() : expected;
    expect((await fish(line)).sort()).toEqual([...want].sort());
  });
});

describe('kubectl profefe <TAB> (real kubectl, kubectl_complete-profefe on PATH)', () => {
  const kubectlComplete = async (words: string[], e = env) => parse((await run('kubectl', ['__complete', 'profefe', ...words], { env: e })).stdout);

  test.each([
    ['commands', [''], COMMANDS.map(commandNameOf)],
    ['flag values', ['get', '-o', ''], ['table', 'wide', 'json', 'yaml', 'name']],
    ['namespaces from the cluster', ['capture', '-n', ''], ['default', 'other', 'shop']],
    ['pods of -n', ['capture', '-n', 'other', ''], ['api-1']],
    ['services from the store', ['top', '--service', ''], ['auth', 'cart']],
  ])('%s', async (_what, words, expected) => {
    const r = await kubectlComplete(words);
    expect(r.values.sort()).toEqual([...expected].sort());
    expect(r.directive).toBe(4);
  });

  test('a copy of kubectl_complete-profefe beside a link to kubectl-profefe works (krew: ~/.krew/bin)', async () => {
    const krewBin = path.join(dir, 'krew-bin');
    await mkdir(krewBin);
    await symlink(path.join(BIN, 'kubectl-profefe'), path.join(krewBin, 'kubectl-profefe'));
    await copyFile(path.join(BIN, 'kubectl_complete-profefe'), path.join(krewBin, 'kubectl_complete-profefe'));
    await chmod(path.join(krewBin, 'kubectl_complete-profefe'), 0o755);
    const others = (process.env.PATH ?? '').split(path.delimiter).filter((p) => path.resolve(p) !== BIN);
    const r = await kubectlComplete(['capture', '-n', 'sh'], { ...env, PATH: [krewBin, ...others].join(path.delimiter) });
    expect(r.values).toEqual(['shop']);
  });

  test("bash with kubectl's own completion script completes `kubectl profefe capture <TAB>`", async () => {
    if (!existsSync(BASH_COMPLETION)) throw new Error(`${BASH_COMPLETION} is missing: install bash-completion (kubectl's bash completion needs it)`);
    const setup = `source ${BASH_COMPLETION}\nsource <(kubectl completion bash)`;
    expect((await bashComplete(setup, '__start_kubectl', 'kubectl profefe capture ')).sort()).toEqual(['cart-1', 'cart-2']);
    expect(await bashComplete(setup, '__start_kubectl', 'kubectl profefe get --output=ya')).toEqual(['yaml']);
    expect(await bashComplete(setup, '__start_kubectl', 'kubectl prof')).toEqual(['profefe']);
  });

  (installed('zsh') ? test : test.skip)("zsh with kubectl's own completion script completes `kubectl profefe ...`", async () => {
    const script = path.join(dir, 'kubectl.zsh');
    await writeFile(script, (await run('kubectl', ['completion', 'zsh'], { env })).stdout);
    const zsh = async (line: string) => (await run('zsh', [path.resolve('test/support/zsh/capture.zsh'), script, line], { env, cwd: dir, timeout: 120_000 })).stdout.trim();
    expect(await zsh('kubectl profefe get --output=y')).toBe('--output=yaml');
    expect(await zsh('kubectl profefe capture -n o')).toBe('other');
  });

  (installed('fish') ? test : test.skip)("fish with kubectl's own completion script completes `kubectl profefe ...`", async () => {
    const fish = async (line: string) =>
      (await run('fish', ['--no-config', '-c', 'kubectl completion fish | source; complete -C $argv[1]', line], { env, cwd: dir })).stdout.split('\n').filter((l) => l !== '').map((l) => l.split('\t')[0]);
    expect(await fish('kubectl profefe get --output=y')).toEqual(['--output=yaml']);
    expect((await fish('kubectl profefe capture ')).sort()).toEqual(['cart-1', 'cart-2']);
  });
});
