import type { CommandModule } from 'yargs';
import { ExitCode } from '../errors.js';
import { writeAll } from './io.js';
import type { CommandContext } from './context.js';

/**
 * A command that is part of the plugin's interface but not built yet: it says so plainly and
 * fails, rather than printing anything that could be mistaken for a result.
 */
export function notAvailableCommand(ctx: CommandContext, command: string, describe: string): CommandModule {
  const name = command.split(' ')[0]!;
  return {
    command,
    describe: `${describe} (not available yet)`,
    builder: (y) => y.strict(false),
    handler: async () => {
      await writeAll(ctx.io.stderr, `error: 'kubectl profefe ${name}' is not available yet in this version of kubectl-profefe\n`);
      ctx.exitCode = ExitCode.failure;
    },
  };
}
