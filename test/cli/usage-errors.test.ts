/**
 * Every command with every kind of mistake a kubectl user makes, run through the built CLI
 * (bin/kubectl-profefe, as kubectl runs it): each is a usage error, exit 2, with one error line
 * in kubectl's (cobra/pflag's) words naming the flag once, then the "See ... -h" hint. No stack.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import yargs from 'yargs';
import { YARGS_FAILURE_STRINGS, parseNumberFlag, usageErrorFromYargs } from '../../src/cli/shared/usage-errors.js';
import { parseResourceArg, podNameOf } from '../../src/cli/shared/resource-names.js';

const BIN = path.resolve('bin/kubectl-profefe');
let home: string;

beforeAll(async () => {
  home = await mkdtemp(path.join(tmpdir(), 'usage-errors-'));
});
afterAll(async () => {
  await rm(home, { recursive: true, force: true });
});

interface Run {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** The built CLI with no cluster and no store configured: a usage error must come before either is needed. */
function runBuilt(argv: readonly string[]): Promise<Run> {
  const env = { PATH: process.env.PATH ?? '', HOME: home, KUBECONFIG: path.join(home, 'no-kubeconfig'), XDG_DATA_HOME: path.join(home, 'data'), NO_COLOR: '1' };
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, ...argv], { env, timeout: 120_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? ((err as { code?: number }).code ?? null) : 0, stdout, stderr });
    });
  });
}

/** Runs every row with at most `width` children at once (the machine has 2 cores), results in row order. */
async function pool<T, R>(items: readonly T[], width: number, work: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  await Promise.all(Array.from({ length: width }, async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await work(items[i]!);
    }
  }));
  return results;
}

const needsArg = (flag: string) => `flag needs an argument: ${flag}`;
const invalid = (value: string, flag: string, why: string) => `invalid argument "${value}" for "${flag}" flag: ${why}`;

/** [command, argv after the command, the error line (exact, or a pattern when another branch owns the words)]. */
const ROWS: [string, string[], string | RegExp][] = [
  // capture
  ['capture', ['-n'], "flag needs an argument: 'n' in -n"],
  ['capture', ['--namespace'], needsArg('--namespace')],
  ['capture', ['-An'], "flag needs an argument: 'n' in -An"],
  ['capture', ['--url'], needsArg('--url')],
  // pflag's attached values: -nshop is -n shop (yargs read -n -s -h -o -p, and printed the help with exit 0)
  ['capture', ['-nshop', '--url', 'http://127.0.0.1:1'], '--url cannot be combined with -n/--namespace: a URL target is not a pod'],
  ['merge', ['x.pb.gz', '-nfoo'], "unknown shorthand flag: 'n' in -nfoo"],
  ['get', ['--service', 'x', '-ofoo'], '-o/--output: unknown output format "foo" (choose from table, wide, json, yaml, name)'],
  ['get', ['--service', 'x', '-la in (b'], `-l/--selector "a in (b": unable to parse requirement: found '', expected: ',' or ')'`],
  ['capture', ['--seconds'], needsArg('--seconds')],
  ['capture', ['--all-namespace'], 'unknown flag: --all-namespace'],
  ['capture', ['-x'], "unknown shorthand flag: 'x' in -x"],
  ['capture', ['--seconds', 'abc'], invalid('abc', '--seconds', 'not a whole number of seconds (30, or a duration: 30s, 2m)')],
  ['capture', ['--seconds', '1.5s'], invalid('1.5s', '--seconds', 'not a whole number of seconds')],
  ['capture', ['--seconds', '0'], invalid('0', '--seconds', 'must be at least 1')],
  ['capture', ['--concurrency', 'many'], invalid('many', '--concurrency', 'not a whole number')],
  ['capture', ['--max-profile-size', '1MiB'], invalid('1MiB', '--max-profile-size', 'not a number')],
  ['capture', ['--max-profile-size', '0'], invalid('0', '--max-profile-size', 'must be above 0')],
  ['merge', ['x.pb.gz', '--max-inflated-size', '0'], invalid('0', '--max-inflated-size', 'must be above 0')],
  ['serve', ['--max-body-size', '-1'], invalid('-1', '--max-body-size', 'must be above 0')],
  ['capture', ['--request-timeout', 'abc'], /^error: invalid argument "abc" for "--request-timeout" flag: /],
  ['capture', ['--type', 'cpus'], /^error: --type: unknown profile type "cpus"/],
  ['capture', ['-o', 'xml'], /^error: -o\/--output.*"xml"/],
  ['capture', ['deploy/web'], 'capture takes pods, not deployments: name pods (NAME or pod/NAME) or select them with -l'],
  ['capture', ['foo/web'], 'the server doesn\'t have a resource type "foo"'],
  // collect
  ['collect', ['--interval'], needsArg('--interval')],
  ['collect', ['--once', '--interval', '5x'], invalid('5x', '--interval', 'not a duration (like 120h, 30m or 7d)')],
  ['collect', ['--once', '--jitter', 'lots'], invalid('lots', '--jitter', 'not a number')],
  ['collect', ['--once', '--seconds', '30x'], /^error: invalid argument "30x" for "--seconds" flag: not a whole number of seconds/],
  ['collect', ['--once', '--metrics-addr', 'nonsense'], invalid('nonsense', '--metrics-addr', 'expected HOST:PORT, like 0.0.0.0:9090 (port 0-65535)')],
  ['collect', ['--onse'], 'unknown flag: --onse'],
  // A duration no time can be counted back by (it made an Invalid Date, and the store's "bad request").
  ['collect', ['--trigger-cooldown', '9999999999h'], invalid('9999999999h', '--trigger-cooldown', 'longer than 2562047h (about 292 years, Go\'s longest duration)')],
  ['postmortem', ['x', '--window', '9999999999h'], invalid('9999999999h', '--window', 'longer than 2562047h (about 292 years, Go\'s longest duration)')],
  ['collect', ['extra'], 'unknown command "extra" for "kubectl profefe collect"'],
  // get
  ['get', ['--service'], needsArg('--service')],
  ['get', ['-o'], "flag needs an argument: 'o' in -o"],
  ['get', ['--limit', 'ten'], invalid('ten', '--limit', 'not a whole number')],
  ['get', ['profiles', '--service', 'auth', '--from', 'yesterday'], /^error: --from: cannot read "yesterday" as a time/],
  ['get', ['profiles', '--service', 'auth', '--from', '99999999999999999999h'], invalid('99999999999999999999h', '--from', 'longer than 2562047h (about 292 years, Go\'s longest duration)')],
  ['get', ['-o', 'xml'], /^error: -o\/--output: .*"xml"/],
  ['get', ['--services'], 'unknown flag: --services'],
  ['get', ['profiles', 'id', 'third'], 'accepts at most 2 arg(s), received 3'],
  // merge
  ['merge', ['x.pb.gz', '-o'], "flag needs an argument: 'o' in -o"],
  ['merge', ['x.pb.gz', '--top', 'abc'], invalid('abc', '--top', 'not a whole number')],
  ['merge', ['x.pb.gz', '--top', '-3'], invalid('-3', '--top', 'must be at least 0')],
  ['merge', ['x.pb.gz', '--max-samples', '1e3.5'], invalid('1e3.5', '--max-samples', 'not a whole number')],
  ['merge', ['x.pb.gz', '-o', 'gzip'], /^error: -o\/--output: .*"gzip"/],
  ['merge', ['x.pb.gz', '--nodes', 'all'], invalid('all', '--nodes', 'not a whole number')],
  ['merge', ['x.pb.gz', '--no-such'], 'unknown flag: --no-such'],
  ['merge', ['x.pb.gz', '-z'], "unknown shorthand flag: 'z' in -z"],
  // top
  ['top', ['--nodes'], needsArg('--nodes')],
  ['top', ['--nodes', 'abc'], invalid('abc', '--nodes', 'not a whole number')],
  ['top', ['--from', 'soon'], /^error: --from: cannot read "soon" as a time/],
  ['top', ['--node'], 'unknown flag: --node'],
  ['top', ['-o', 'xml'], /^error: -o\/--output: .*"xml"/],
  ['top', ['cpu'], 'unknown command "cpu" for "kubectl profefe top"'],
  ['trend', ['--nodes', 'abc'], invalid('abc', '--nodes', 'not a whole number')],
  ['trend', ['-o', 'xml'], /^error: -o\/--output: .*"xml"/],
  // diff
  ['diff', ['a', 'b', '--nodes'], needsArg('--nodes')],
  ['diff', ['a', 'b', '--nodes', 'ten'], invalid('ten', '--nodes', 'not a whole number')],
  ['diff', ['a', 'b', '--html', '--node-fraction', '2'], invalid('2', '--node-fraction', 'must be below 1')],
  ['diff', ['a', 'b', 'c'], 'accepts at most 2 arg(s), received 3'],
  ['diff', ['a', 'b', '--normalise-all'], 'unknown flag: --normalise-all'],
  // open
  ['open', ['--node-fraction'], needsArg('--node-fraction')],
  ['open', ['x.pb.gz', '--node-fraction', 'half'], invalid('half', '--node-fraction', 'not a number')],
  ['open', ['x.pb.gz', '--limit', '1.5'], invalid('1.5', '--limit', 'not a whole number')],
  ['open', ['x.pb.gz', '-q'], "unknown shorthand flag: 'q' in -q"],
  // serve
  ['serve', ['--port'], needsArg('--port')],
  ['serve', ['--port', 'abc'], invalid('abc', '--port', 'not a whole number')],
  ['serve', ['--port', '70000'], invalid('70000', '--port', 'must be at most 65535')],
  ['serve', ['--decode-heap-size', 'abc'], invalid('abc', '--decode-heap-size', 'not a whole number')],
  ['serve', ['--merge-workers', '0'], invalid('0', '--merge-workers', 'must be at least 1')],
  ['serve', ['--retention', 'forever'], invalid('forever', '--retention', 'not a duration (like 120h, 30m or 7d)')],
  ['serve', ['--request-timeout', '30'], invalid('30', '--request-timeout', 'not a duration (like 120h, 30m or 7d)')],
  ['serve', ['--adress', '0.0.0.0'], 'unknown flag: --adress'],
  ['serve', ['now'], 'unknown command "now" for "kubectl profefe serve"'],
  // push
  ['push', ['--profefe-hostport'], needsArg('--profefe-hostport')],
  ['push', ['--all'], 'unknown flag: --all'],
  ['push', ['-A'], "unknown shorthand flag: 'A' in -A"],
  ['push', ['spool'], 'unknown command "spool" for "kubectl profefe push"'],
  // version
  ['version', ['-o'], "flag needs an argument: 'o' in -o"],
  ['version', ['-o', 'xml'], '-o/--output must be json or yaml (or left out), got "xml"'],
  ['version', ['--client'], 'unknown flag: --client'],
  ['version', ['extra'], 'unknown command "extra" for "kubectl profefe version"'],
  // completion
  ['completion', [], 'completion needs a shell: bash, zsh, fish'],
  ['completion', ['tcsh'], 'invalid argument "tcsh" for "kubectl profefe completion": must be one of bash, zsh, fish'],
  ['completion', ['bash', 'zsh'], 'accepts at most 1 arg(s), received 2'],
  ['completion', ['bash', '--shel'], 'unknown flag: --shel'],
  // A positional is no flag (yargs keeps positionals as options), and a boolean takes pflag's words only.
  ['completion', ['bash', '--shell', 'zsh'], 'unknown flag: --shell'],
  ['get', ['--resource', 'services'], 'unknown flag: --resource'],
  ['merge', ['--inputs', 'x.pb.gz'], 'unknown flag: --inputs'],
  ['capture', ['--pods=x'], 'unknown flag: --pods'],
  ['get', ['services', '--progress=maybe'], invalid('maybe', '--progress', 'strconv.ParseBool: parsing "maybe": invalid syntax')],
  ['diff', ['a', 'b', '--normalize=yes'], invalid('yes', '--normalize', 'strconv.ParseBool: parsing "yes": invalid syntax')],
  // no command
  ['', ['captures'], /^error: unknown command "captures"/],
  ['', ['frobnicate'], 'unknown command "frobnicate" for "kubectl profefe"'],
];

describe('usage errors of the built CLI', () => {
  let runs: Run[];
  beforeAll(async () => {
    runs = await pool(ROWS, 2, ([command, rest]) => runBuilt(command ? [command, ...rest] : rest));
  }, 600_000);

  test.each(ROWS.map((row, i) => [`${row[0] || '(none)'} ${row[1].join(' ')}`, i] as const))('%s: exit 2, one line naming the flag once, the hint', (_name, i) => {
    const [command, , expected] = ROWS[i]!;
    const run = runs[i]!;
    expect({ stderr: run.stderr, code: run.code }).toEqual({ stderr: expect.any(String), code: 2 });
    expect(run.stdout).toBe('');
    const lines = run.stderr.trimEnd().split('\n');
    expect(lines).toHaveLength(2);
    if (typeof expected === 'string') expect(lines[0]).toBe(`error: ${expected}`);
    else expect(lines[0]).toMatch(expected);
    expect(lines[1]).toBe(`See 'kubectl profefe ${command ? command + ' ' : ''}-h'.`);
    // The flag once: yargs named an unknown flag once per spelling (all-namespace, allNamespace).
    const flag = /(--[a-z-]+)/.exec(lines[0]!)?.[1];
    if (flag) expect(lines[0]!.match(new RegExp(`${flag}(?![\\w-])`, 'g'))).toHaveLength(1);
    expect(run.stderr).not.toMatch(/internal error|\n\s+at /);
  });
});

describe('help', () => {
  test('help CMD prints that command\'s help, as kubectl help get does', async () => {
    const [help, dashH] = await Promise.all([runBuilt(['help', 'capture']), runBuilt(['capture', '--help'])]);
    expect(help.code).toBe(0);
    expect(help.stdout).toBe(dashH.stdout);
    expect(help.stdout).toMatch(/^Usage: kubectl profefe capture /);
    expect(help.stderr).toBe('');
  });

  test('help alone prints the root help', async () => {
    const [help, dashH] = await Promise.all([runBuilt(['help']), runBuilt(['--help'])]);
    expect(help.code).toBe(0);
    expect(help.stdout).toBe(dashH.stdout);
    expect(help.stdout).toMatch(/Usage: kubectl profefe COMMAND/);
  });

  test('help of an unknown command is a usage error', async () => {
    const run = await runBuilt(['help', 'capturez']);
    expect(run.code).toBe(2);
    expect(run.stderr).toBe('error: unknown command "capturez" for "kubectl profefe"\nSee \'kubectl profefe -h\'.\n');
  });

  test('every command\'s usage lines and examples fit 80 columns', async () => {
    const commands = ['capture', 'collect', 'get', 'merge', 'top', 'trend', 'diff', 'postmortem', 'doctor', 'open', 'serve', 'push', 'version', 'completion'];
    const runs = await pool(commands, 2, (c) => runBuilt([c, '--help']));
    const long = runs.flatMap((run, i) => {
      const [usage, ...rest] = run.stdout.split('\nExamples:\n');
      const synopsis = usage!.split('\n').filter((l) => l.startsWith('Usage:'));
      return [...synopsis, ...rest.join('').split('\n')].filter((line) => line.length > 80).map((line) => `${commands[i]}: ${line}`);
    });
    expect(long).toEqual([]);
  });
});

describe('the marked yargs strings', () => {
  // yargs words its failures through y18n; the layer replaces these keys. If a yargs version renames
  // one, this fails here, rather than the CLI falling back to yargs' English.
  test('every key the layer replaces is one of yargs\' own', async () => {
    const en = JSON.parse(await readFile(path.resolve('node_modules/yargs/locales/en.json'), 'utf8')) as Record<string, unknown>;
    for (const key of Object.keys(YARGS_FAILURE_STRINGS)) expect(Object.keys(en)).toContain(key);
  });

  test('yargs reports a missing value and an unknown flag in the marked form', async () => {
    const failures: string[] = [];
    const parser = () =>
      yargs()
        .option('namespace', { alias: 'n', type: 'string', requiresArg: true })
        .strict()
        .exitProcess(false)
        .updateStrings(YARGS_FAILURE_STRINGS as unknown as Record<string, string>)
        .fail((msg) => {
          failures.push(msg);
        });
    await parser().parseAsync(['-n']);
    await parser().parseAsync(['--all-namespace']);
    const facts = (argv: string[]) => ({ argv, aliases: { namespace: ['n'], n: ['namespace'] }, commandPath: 'kubectl profefe' });
    expect(usageErrorFromYargs(failures[0]!, facts(['-n'])).message).toBe("flag needs an argument: 'n' in -n");
    expect(usageErrorFromYargs(failures[1]!, facts(['--all-namespace'])).message).toBe('unknown flag: --all-namespace');
  });
});

describe('numbers and TYPE/NAME', () => {
  test.each([
    ['30', 30],
    ['30s', 30],
    ['2m', 120],
    ['1m30s', 90],
    ['1h', 3600],
  ])('--seconds %s is %i seconds', (raw, seconds) => {
    expect(parseNumberFlag(raw, { flag: '--seconds', whole: true, min: 1, seconds: true })).toBe(seconds);
  });

  test('a repeated flag\'s last value counts, as with pflag', () => {
    expect(parseNumberFlag([1, '7'], { flag: '--top', whole: true })).toBe(7);
  });

  test.each([
    ['web-0', { resource: 'pods', name: 'web-0' }],
    ['pod/web-0', { resource: 'pods', name: 'web-0' }],
    ['pods/web-0', { resource: 'pods', name: 'web-0' }],
    ['po/web-0', { resource: 'pods', name: 'web-0' }],
    ['Pod/web-0', { resource: 'pods', name: 'web-0' }],
    ['deploy/web', { resource: 'deployments', name: 'web' }],
    ['sts/db', { resource: 'statefulsets', name: 'db' }],
    // TYPE.GROUP and TYPE.VERSION.GROUP, as kubectl 1.32 reads them; `kubectl get deploy -o name` prints deployment.apps/web.
    ['deployment.apps/web', { resource: 'deployments', name: 'web' }],
    ['deployments.v1.apps/web', { resource: 'deployments', name: 'web' }],
    ['sts.apps/db', { resource: 'statefulsets', name: 'db' }],
    ['daemonset.apps/agent', { resource: 'daemonsets', name: 'agent' }],
    ['pods./web-0', { resource: 'pods', name: 'web-0' }],
    ['pod.v1./web-0', { resource: 'pods', name: 'web-0' }],
  ])('%s is read as kubectl reads it', (arg, want) => {
    expect(parseResourceArg(arg)).toEqual(want);
  });

  test.each([
    ['deployment.extensions/web', 'the server doesn\'t have a resource type "deployment"'],
    ['deployment.v2.apps/web', 'the server doesn\'t have a resource type "deployment"'],
    ['pod.apps/web-0', 'the server doesn\'t have a resource type "pod"'],
    ['foo.apps/web', 'the server doesn\'t have a resource type "foo"'],
  ])('%s: a group the type is not in is refused in kubectl\'s words', (arg, message) => {
    expect(() => parseResourceArg(arg)).toThrow(message);
  });

  test('pod names: pod/NAME is the pod, another type is refused in one line', () => {
    expect(podNameOf('po/web-0', 'capture')).toBe('web-0');
    expect(() => podNameOf('deployment/web', 'capture')).toThrow('capture takes pods, not deployments: name pods (NAME or pod/NAME) or select them with -l');
    expect(() => podNameOf('pod/a/b', 'capture')).toThrow('arguments in resource/name form must have a single resource and name');
  });
});
