import type { IOStreams } from './io.js';

/** What every command handler gets from `main`: the streams, environment and cancellation. */
export interface CommandContext {
  readonly io: IOStreams;
  readonly env: NodeJS.ProcessEnv;
  readonly signal: AbortSignal;
  /** Set by a handler when its command ends without an error but not with success. */
  exitCode: number;
}
