import { isSea } from 'node:sea';
import type { Argv, CommandModule } from 'yargs';
import { BUILD_INFO, type BuildInfo } from '../build-info.js';
import { UsageError } from '../errors.js';
import { renderYaml } from '../report/yaml.js';
import type { CommandContext } from './shared/context.js';
import { examples } from './shared/help.js';
import { writeAll } from './shared/io.js';

export interface VersionOptions {
  readonly output: 'text' | 'json' | 'yaml';
}

/** What `version` reports: the build, and the Node.js that runs it (kubectl reports its Go). */
export interface VersionInfo extends BuildInfo {
  readonly nodeVersion: string;
  readonly v8Version: string;
  /** `os/arch`, as kubectl writes it (linux/amd64). */
  readonly platform: string;
  /** 'single-executable' when Node.js is built in (the linux-amd64 release), else 'node'. */
  readonly runtime: 'node' | 'single-executable';
  /** The file running: the node binary, or this executable. */
  readonly executable: string;
}

interface VersionArgs {
  output?: string;
}

export function versionCommand(ctx: CommandContext): CommandModule<object, VersionArgs> {
  return {
    command: 'version',
    describe: 'Print the version of kubectl-profefe and of the Node.js running it',
    builder: (y: Argv) =>
      y
        .usage('Usage: kubectl profefe version [-o json]\n\nPrints the version, the commit it was built from and the Node.js it runs on, like kubectl version --client.')
        .option('output', { alias: 'o', type: 'string', requiresArg: true, describe: 'json or yaml for a machine-readable answer' })
        .epilog(examples(['The version, for a bug report', 'kubectl profefe version'], ['The same as JSON', 'kubectl profefe version -o json'])),
    handler: async (args) => {
      const opts = resolveVersionOptions(args);
      await writeAll(ctx.io.stdout, renderVersion(runVersion(), opts));
    },
  };
}

/** Validates -o; throws UsageError naming the flag. */
export function resolveVersionOptions(args: VersionArgs): VersionOptions {
  const output = args.output ?? 'text';
  if (output !== 'text' && output !== 'json' && output !== 'yaml') throw new UsageError(`-o/--output must be json or yaml (or left out), got "${output}"`);
  return { output };
}

/** The build info and the running Node.js. */
export function runVersion(): VersionInfo {
  const arch = process.arch === 'x64' ? 'amd64' : process.arch;
  return {
    ...BUILD_INFO,
    nodeVersion: process.version,
    v8Version: process.versions.v8,
    platform: `${process.platform}/${arch}`,
    runtime: isSea() ? 'single-executable' : 'node',
    executable: process.execPath,
  };
}

function renderVersion(v: VersionInfo, opts: VersionOptions): string {
  if (opts.output === 'json') return JSON.stringify({ clientVersion: v }, null, 2) + '\n';
  // As `kubectl version -o yaml`: the same object as -o json.
  if (opts.output === 'yaml') return renderYaml({ clientVersion: v });
  const commit = v.gitCommit === 'unknown' ? 'unknown' : `${v.gitCommit}${v.gitTreeState === 'dirty' ? ' (dirty)' : ''}`;
  return (
    `Version: v${v.version}\n` +
    `Commit: ${commit}${v.buildDate ? `, built ${v.buildDate}` : ''}\n` +
    `Node.js: ${v.nodeVersion} (V8 ${v.v8Version}, ${v.runtime === 'single-executable' ? 'built into this executable' : v.executable})\n` +
    `Platform: ${v.platform}\n`
  );
}
