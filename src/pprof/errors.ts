/**
 * Thrown when bytes are not a usable pprof profile: empty, truncated, text or HTML
 * instead of protobuf, or structurally invalid. The message is one line that says
 * which input (when known) and why.
 */
export class ProfileFormatError extends Error {
  override readonly name = 'ProfileFormatError';
  /** Exit status the CLI uses when this error ends a command. */
  readonly exitCode = 1;
  constructor(message: string, readonly source?: string) {
    super(source ? `${source}: ${message}` : message);
  }
}

/** Thrown when profiles cannot be combined (different sample or period types). */
export class IncompatibleProfilesError extends Error {
  override readonly name = 'IncompatibleProfilesError';
  readonly exitCode = 1;
}
