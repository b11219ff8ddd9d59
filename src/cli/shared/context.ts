import type { IOStreams } from './io.js';

/**
 * What every command handler gets from `main`: the streams, environment and cancellation. A
 * handler that returns succeeded; one that fails throws, and `main` turns that into the exit code.
 */
export interface CommandContext {
  readonly io: IOStreams;
  readonly env: NodeJS.ProcessEnv;
  readonly signal: AbortSignal;
}
