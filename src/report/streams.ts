import type { Readable, Writable } from 'node:stream';

/** The process's streams, passed in so that commands can be run and tested without a terminal. */
export interface IOStreams {
  readonly stdin: Readable;
  readonly stdout: Writable;
  readonly stderr: Writable;
  /** stdout is a terminal: binary output is refused and tables may use colour. */
  readonly stdoutIsTTY: boolean;
  /** stderr is a terminal: spinners and progress lines are shown. */
  readonly stderrIsTTY: boolean;
  /** Colour allowed: stderr a terminal and NO_COLOR unset (stdout must be a terminal too for its own colour; see report/colour.ts). */
  readonly color: boolean;
  /** stdout's width when it is a terminal (reports that wrap long lines use it); undefined for pipes and files. */
  readonly columns?: number;
}

/** Writes to a stream and waits until it is flushed, so a piped consumer gets every byte. */
export function writeAll(stream: Writable, data: string | Uint8Array): Promise<void> {
  return new Promise((resolve, reject) => {
    stream.write(data, (err) => (err ? reject(err) : resolve()));
  });
}
