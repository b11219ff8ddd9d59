/**
 * The error classes a command may end with, each carrying its exit status. `src/cli/main.ts`
 * turns them into a one-line `error: ...` message; anything else is a bug and shows its stack.
 */

/** Exit statuses, in one place. */
export const ExitCode = {
  ok: 0,
  /** The command failed: bad input, unreachable cluster or store, nothing captured. */
  failure: 1,
  /** Wrong flags or arguments. */
  usage: 2,
  /** Some of the work succeeded and some failed (e.g. a few pods could not be captured). */
  partial: 3,
  /** stdout was closed by its reader before everything was written (128 + SIGPIPE). */
  brokenPipe: 141,
  /** A bug in kubectl-profefe (EX_SOFTWARE). */
  internal: 70,
} as const;

/** Wrong flags or arguments; the CLI adds a pointer to the command's --help. */
export class UsageError extends Error {
  override readonly name: string = 'UsageError';
  readonly exitCode: number = ExitCode.usage;
}

/** A file or path given by the user could not be read or written. */
export class InputError extends Error {
  override readonly name: string = 'InputError';
  readonly exitCode: number = ExitCode.failure;
}

/** The Kubernetes API refused or failed a request. */
export class KubeError extends Error {
  override readonly name: string = 'KubeError';
  readonly exitCode: number = ExitCode.failure;
}

/**
 * The resource metrics API (metrics.k8s.io, src/kube/pod-metrics.ts) cannot be used: `not-served`
 * (404: no metrics-server, or its APIService not registered), `forbidden` (403: the role lacks
 * `pods` `list` in API group `metrics.k8s.io`). Asking again will not help; a 503 while
 * metrics-server restarts is a plain KubeError.
 */
export class MetricsApiUnavailable extends KubeError {
  override readonly name: string = 'MetricsApiUnavailable';
  constructor(message: string, readonly reason: 'not-served' | 'forbidden') {
    super(message);
  }
}

/** The profile store refused or failed a request. */
export class StoreError extends Error {
  override readonly name: string = 'StoreError';
  readonly exitCode: number = ExitCode.failure;
}

/** The command did not do what was asked, for a reason no other class names (nothing was captured). */
export class CommandFailure extends Error {
  override readonly name: string = 'CommandFailure';
  readonly exitCode: number = ExitCode.failure;
}

/** A failure the command's own output already shows (its table, its log lines): `main` adds no `error:` line. */
export class ReportedFailure extends CommandFailure {
  override readonly name: string = 'ReportedFailure';
  override readonly exitCode: number;
  /** `exitCode`: failure (1) by default; partial (3) when the output shows that some of the work was done. */
  constructor(message: string, exitCode: number = ExitCode.failure) {
    super(message);
    this.exitCode = exitCode;
  }
}

/** Part of the work failed; the rest was done and has been reported. */
export class PartialFailure extends Error {
  override readonly name: string = 'PartialFailure';
  readonly exitCode: number = ExitCode.partial;
}

/** Why a server could not listen, by Node's error code (net.Server 'error' event; getaddrinfo's for host names). */
const LISTEN_REASONS: Record<string, string> = {
  EADDRINUSE: 'the port is in use',
  EACCES: 'permission denied',
  EADDRNOTAVAIL: 'no such address here',
  ENOTFOUND: 'no such host',
  EAI_AGAIN: 'the host name cannot be resolved now (DNS)',
  EAI_FAIL: 'the host name cannot be resolved (DNS)',
};

/**
 * A failure to listen on `host:port` as one CommandFailure line (exit 1) naming the flags that
 * chose the address (serve's --address and --port, collect's --metrics-addr); an error of another
 * kind is returned as it is (a bug stays a bug).
 */
export function listenFailure(err: unknown, host: string, port: number, flags: string): unknown {
  const code = (err as NodeJS.ErrnoException)?.code;
  const reason = code ? LISTEN_REASONS[code] : undefined;
  if (!reason) return err;
  const where = host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
  return new CommandFailure(`cannot listen on ${where}: ${reason} (${flags})`, { cause: err });
}

/** An error the CLI reports in one line, as opposed to a bug. */
export function isExpectedError(err: unknown): err is Error & { exitCode: number } {
  return err instanceof Error && typeof (err as { exitCode?: unknown }).exitCode === 'number';
}
