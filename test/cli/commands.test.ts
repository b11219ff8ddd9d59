/**
 * The top level: each command's module is imported only when its command runs, so main's table
 * of commands must say what the modules say; and `version`.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { load } from 'js-yaml';
import { COMMANDS, commandNameOf } from '../../src/cli/main.js';
import type { CommandContext } from '../../src/cli/shared/context.js';
import { runCli } from '../support/run-cli.js';

const pkg = JSON.parse(await readFile('package.json', 'utf8'));

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'commands-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

const ctx: CommandContext = {
  io: { stdin: new PassThrough(), stdout: new PassThrough(), stderr: new PassThrough(), stdoutIsTTY: false, stderrIsTTY: false, color: false },
  env: {},
  signal: new AbortController().signal,
};

describe('the table of commands', () => {
  test.each(COMMANDS.map((c) => [commandNameOf(c), c] as const))('%s: its module has the command string and description --help lists', async (_name, entry) => {
    const module = await entry.load(ctx);
    expect({ command: module.command, describe: module.describe }).toEqual({ command: entry.command, describe: entry.describe });
  });

  test('--help lists every command without loading any', async () => {
    const run = await runCli(['--help']);
    expect(run.code).toBe(0);
    for (const c of COMMANDS) expect(run.stdout.toString()).toContain(`kubectl profefe ${c.command}`);
  });

  test('a command runs when another command\'s name is also in the arguments', async () => {
    const run = await runCli(['get', '--service', 'capture'], { env: { KUBECTL_PROFEFE_HOME: dir } });
    expect(run.code).toBe(0);
    expect(run.stderr).toMatch(/^No profiles found for service "capture" between/);
  });
});

describe('kubectl profefe version', () => {
  test('prints the version, the commit (unknown from the sources) and the Node.js running it', async () => {
    const run = await runCli(['version']);
    expect(run.code).toBe(0);
    expect(run.stdout.toString()).toBe(
      `Version: v${pkg.version}\nCommit: unknown\nNode.js: ${process.version} (V8 ${process.versions.v8}, ${process.execPath})\nPlatform: ${process.platform}/${process.arch === 'x64' ? 'amd64' : process.arch}\n`,
    );
  });

  test('-o json answers like kubectl version --client -o json, under clientVersion', async () => {
    const run = await runCli(['version', '-o', 'json']);
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout.toString()).clientVersion).toMatchObject({ version: pkg.version, gitCommit: 'unknown', nodeVersion: process.version, runtime: 'node' });
  });

  test('-o yaml answers the same object as -o json, as kubectl version -o yaml', async () => {
    const [json, yaml] = await Promise.all([runCli(['version', '-o', 'json']), runCli(['version', '-o', 'yaml'])]);
    expect(yaml.code).toBe(0);
    expect(load(yaml.stdout.toString())).toEqual(JSON.parse(json.stdout.toString()));
  });

  test('another -o is a usage error naming the flag', async () => {
    const run = await runCli(['version', '-o', 'xml']);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/^error: -o\/--output must be json or yaml \(or left out\), got "xml"\nSee 'kubectl profefe version -h'\.\n$/);
  });
});
