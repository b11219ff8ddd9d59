import type { Argv, CommandModule } from 'yargs';
import { UsageError } from '../errors.js';
import { completeWords, type CompletableCommand } from './completion/engine.js';
import { Directive, formatCompletion } from './completion/protocol.js';
import { completionScript, SHELLS, type Shell } from './completion/scripts.js';
import { liveSources } from './completion/sources.js';
import type { CommandContext } from './shared/context.js';
import { examples } from './shared/help.js';
import { writeAll } from './shared/io.js';

export interface CompletionOptions {
  readonly shell: Shell;
}

interface CompletionArgs {
  shell?: string;
}

/** The name kubectl looks for on PATH to complete `kubectl profefe` (kubectl >= 1.26, pkg/cmd/plugin). */
export const KUBECTL_COMPLETION_EXECUTABLE = 'kubectl_complete-profefe';

/** `completion SHELL`: prints the script that completes kubectl-profefe in bash, zsh or fish (scripts.ts). */
export function completionCommand(ctx: CommandContext): CommandModule<object, CompletionArgs> {
  return {
    command: 'completion [shell]',
    describe: 'Print the shell completion script for bash, zsh or fish',
    builder: (y: Argv) =>
      y
        .usage(
          'Usage: kubectl profefe completion bash|zsh|fish\n\n' +
            'Prints a script that completes kubectl-profefe in the shell: commands, flags and their values, ' +
            'namespaces and pods from the cluster (-n, --context and --kubeconfig on the line count), ' +
            'services, types and profile ids from the store, file names for profiles.\n\n' +
            `For \`kubectl profefe <TAB>\` (kubectl 1.26 or newer, with kubectl's own completion loaded), ` +
            `kubectl runs ${KUBECTL_COMPLETION_EXECUTABLE} from PATH: npm install -g puts it beside ` +
            'kubectl-profefe; krew links only kubectl-profefe, so copy it once beside that link (below).',
        )
        .positional('shell', { type: 'string', choices: [...SHELLS], describe: 'the shell to complete in' })
        .epilog(
          examples(
            ['bash: load in this shell, and in every new one', 'source <(kubectl-profefe completion bash)\n  echo \'source <(kubectl-profefe completion bash)\' >> ~/.bashrc'],
            ['zsh (compinit loaded): load in this shell, or install on $fpath', 'source <(kubectl-profefe completion zsh)\n  kubectl-profefe completion zsh > "${fpath[1]}/_kubectl-profefe"'],
            ['fish', 'kubectl-profefe completion fish > ~/.config/fish/completions/kubectl-profefe.fish'],
            [
              'kubectl profefe <TAB> after a krew install (with kubectl completion loaded)',
              `cp "\${KREW_ROOT:-$HOME/.krew}"/store/profefe/*/bin/${KUBECTL_COMPLETION_EXECUTABLE} \\\n     "\${KREW_ROOT:-$HOME/.krew}/bin/"`,
            ],
          ),
        ),
    handler: async (args) => {
      const opts = resolveCompletionOptions(args);
      await writeAll(ctx.io.stdout, completionScript(opts.shell));
    },
  };
}

/** The shell named; UsageError when none or another is. */
export function resolveCompletionOptions(args: CompletionArgs): CompletionOptions {
  const shell = args.shell;
  if (shell === undefined) throw new UsageError(`completion needs a shell: ${SHELLS.join(', ')}`);
  if (!(SHELLS as readonly string[]).includes(shell)) throw new UsageError(`unknown shell "${shell}" (choose ${SHELLS.join(', ')})`);
  return { shell: shell as Shell };
}

/**
 * Answers one completion request, `kubectl-profefe __complete WORD...` (the last word is the one
 * being completed, '' for a new one), in cobra's protocol on stdout. Always succeeds: kubectl
 * drops a failing helper's whole answer, so a failure is the error directive.
 */
export async function runCompletionRequest(words: readonly string[], commands: readonly CompletableCommand[], ctx: CommandContext): Promise<void> {
  let text: string;
  try {
    text = formatCompletion(await completeWords(words, { commands, sources: liveSources(ctx.env, ctx.signal), env: ctx.env }));
  } catch {
    text = formatCompletion({ candidates: [], directive: Directive.error });
  }
  await writeAll(ctx.io.stdout, text);
}
