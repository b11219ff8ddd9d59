import type { ProgressContext } from '../../report/progress.js';
import type { CommandContext } from './context.js';

/** --progress / --no-progress as yargs parses them (yargs' boolean negation gives `progress: false`). */
export interface ProgressFlagArgs {
  progress?: boolean;
}

/**
 * The flag of every command that shows progress: `--no-progress` hides it even on a terminal
 * (a terminal recorder, a console that cannot take cursor motion). Spread into `.options(...)`.
 */
export const PROGRESS_FLAG = {
  progress: { type: 'boolean', default: true, describe: 'show a progress line on stderr when it is a terminal (--no-progress: never)' },
} as const;

/** What report/progress.ts needs to decide whether to show progress. */
export function progressContext(ctx: Pick<CommandContext, 'io' | 'env'>, args: ProgressFlagArgs): ProgressContext {
  return { io: ctx.io, env: ctx.env, disabled: args.progress === false };
}
