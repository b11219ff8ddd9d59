/**
 * The completion protocol of cobra's hidden `__complete` command, which kubectl (>= 1.26) also reads
 * from a plugin's `kubectl_complete-<plugin>` executable (kubectl's pkg/cmd/plugin, pluginCompletion
 * and getPluginCompletions): one candidate per line, optionally followed by a tab and its
 * description, then a last line `:<directive>`. Our own shell scripts read the same format.
 */

/**
 * cobra's ShellCompDirective bits (spf13/cobra completions.go), which kubectl passes on to its
 * shell scripts unchanged. 0 with no candidates lets the shell complete file names.
 */
export const Directive = {
  /** No candidates: the shell completes file names. */
  default: 0,
  error: 1,
  /** No space after the candidate (a value that goes on, e.g. `key=`). */
  noSpace: 2,
  /** No file names when there are no candidates. */
  noFileComp: 4,
  /** The candidates are file extensions to filter file names by. */
  filterFileExt: 8,
  /** Directory names only. */
  filterDirs: 16,
  /** Keep the candidates in the given order (shells sort by default). */
  keepOrder: 32,
} as const;

/** One completion candidate: the word, and a short description shown beside it by zsh and fish. */
export interface Candidate {
  readonly value: string;
  readonly description?: string;
}

/** What a completion request answers: the candidates and a {@link Directive} (bits or-ed together). */
export interface Completion {
  readonly candidates: readonly Candidate[];
  readonly directive: number;
}

// Any control character (tab, newline and carriage return are the protocol's separators), the
// Unicode line separators, and the bidi controls that could disguise a name in the menu.
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/;
const UNSAFE_ALL = new RegExp(UNSAFE.source, 'g');

/** The longest description kept: zsh and fish show it on one line beside the candidate. */
const MAX_DESCRIPTION = 150;

/**
 * The protocol's text for `completion`: the candidates that are safe to offer, one a line, then
 * `:<directive>`. A candidate whose value holds a control character (a pod, service or id named
 * by someone else) is dropped, not escaped: an escaped name would complete to a word that names
 * nothing. In descriptions, control characters become spaces and long ones are cut. Candidates
 * starting with cobra's active-help marker (`_activeHelp_ `) are dropped too, so a stored name
 * cannot pose as a message.
 */
export function formatCompletion(completion: Completion): string {
  const lines: string[] = [];
  for (const c of completion.candidates) {
    if (c.value === '' || UNSAFE.test(c.value) || c.value.startsWith('_activeHelp_')) continue;
    let description = (c.description ?? '').replace(UNSAFE_ALL, ' ').replace(/\s+/g, ' ').trim();
    if (description.length > MAX_DESCRIPTION) description = `${description.slice(0, MAX_DESCRIPTION - 1)}…`;
    lines.push(description ? `${c.value}\t${description}` : c.value);
  }
  lines.push(`:${completion.directive}`);
  return `${lines.join('\n')}\n`;
}
