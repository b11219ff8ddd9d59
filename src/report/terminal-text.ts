/**
 * Text from outside (pod annotations and error bodies, store labels and service names, profile
 * strings, file names) is shown with its control characters escaped, so that it cannot set a
 * terminal's title, clear the screen, move the cursor or hide what follows (CVE-2021-42574's
 * bidi overrides included). Every table, log line and error message that holds such text goes
 * through here.
 */

// C0 controls and DEL, C1 controls (U+0080-U+009F: 8-bit CSI, OSC, ...), the line and paragraph
// separators, and the bidirectional embeddings, overrides and isolates.
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

const NAMED: Readonly<Record<string, string>> = { '\n': '\\n', '\r': '\\r', '\t': '\\t' };

/**
 * `text` with every control character written as an escape Go's %q would use (`\x1b`, `\n`,
 * `\t`, `\u202e`); printable text, backslashes included, is unchanged. Safe to print on a
 * terminal; not meant to be parsed back.
 */
export function escapeTerminal(text: string): string {
  return text.replace(UNSAFE, (c) => NAMED[c] ?? (c.charCodeAt(0) < 0x100 ? `\\x${hex(c, 2)}` : `\\u${hex(c, 4)}`));
}

/** Whether `text` holds a character that {@link escapeTerminal} would escape. */
export function hasControlCharacters(text: string): boolean {
  return new RegExp(UNSAFE.source).test(text);
}

/**
 * JSON.stringify, with the characters JSON allows raw but a terminal acts on (DEL, C1 controls,
 * U+2028/U+2029, bidi controls) written as `\uXXXX`: still valid JSON, parsed to the same value.
 * JSON.stringify already escapes C0 controls.
 */
export function jsonForTerminal(value: unknown, space?: number): string {
  return JSON.stringify(value, null, space).replace(/[\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g, (c) => `\\u${hex(c, 4)}`);
}

/** `text` on one line: every run of white space (newlines included) one space, none at the ends. For messages that quote multi-line text (error bodies). */
export function oneLine(text: string): string {
  return text.replace(/\s+/g, ' ').trim();
}

function hex(c: string, width: number): string {
  return c.charCodeAt(0).toString(16).padStart(width, '0');
}
