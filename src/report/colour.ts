/**
 * Colour where a person reads faster with it: `error:` prefixes, a diff's growth (red) and
 * shrinkage (green), failed rows of capture and collect. Only on a terminal, never with NO_COLOR
 * set (https://no-color.org) and never in JSON: callers pass whether colour is on.
 */
import { Chalk, type ChalkInstance } from 'chalk';
import type { IOStreams } from './streams.js';

/** Styles that colour when `enabled`, and leave text as it is otherwise. */
export function palette(enabled: boolean): ChalkInstance {
  return new Chalk({ level: enabled ? 1 : 0 });
}

/** Colour on stderr: a terminal, NO_COLOR unset (IOStreams.color). */
export function stderrPalette(io: IOStreams): ChalkInstance {
  return palette(io.color);
}

/** Colour on stdout: stdout a terminal too (a table piped to a file or `less` stays plain). */
export function stdoutPalette(io: IOStreams): ChalkInstance {
  return palette(io.color && io.stdoutIsTTY);
}
