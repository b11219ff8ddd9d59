/**
 * Streams for running a command in-process (runCollector and the like): nothing is a terminal,
 * no colour, and stdout read as the JSON lines collect logs, one record per complete line.
 */
import { PassThrough } from 'node:stream';
import type { IOStreams } from '../../src/report/streams.js';

/** Streams that discard what they are given (stdout is drained, so writers never wait). */
export function quietIO(): IOStreams {
  return { stdin: new PassThrough(), stdout: new PassThrough().resume(), stderr: new PassThrough().resume(), stdoutIsTTY: false, stderrIsTTY: false, color: false };
}

/**
 * Streams whose stdout fills `records` as lines complete (a record split across chunks is joined
 * first), so a test can watch a running collector; a line that is not JSON throws in the writer.
 */
export function jsonLinesIO(): { io: IOStreams; records: Record<string, unknown>[] } {
  const stdout = new PassThrough();
  const records: Record<string, unknown>[] = [];
  let partial = '';
  stdout.on('data', (chunk: Buffer) => {
    const lines = (partial + chunk.toString()).split('\n');
    partial = lines.pop()!;
    for (const line of lines) if (line !== '') records.push(JSON.parse(line) as Record<string, unknown>);
  });
  return { io: { ...quietIO(), stdout }, records };
}
