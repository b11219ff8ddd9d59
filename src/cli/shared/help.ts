/** The widest line of an examples block: yargs would re-wrap a longer one at 80 columns, without the `\`. */
const EXAMPLE_WIDTH = 78;

/**
 * A command as an example shows it, within {@link EXAMPLE_WIDTH} columns: broken between words
 * with a shell continuation (` \`), a flag kept with its value, so the lines still paste and run.
 */
function commandLines(command: string): string[] {
  const words = command.split(' ');
  // A flag and its value travel together: `--service auth` is never split.
  // So does a command after `&&` or `|`, which starts its own line if it cannot follow.
  const units: string[] = [];
  for (const word of words) {
    const last = units[units.length - 1];
    if (last !== undefined && /^(&&|\|) /.test(last)) units[units.length - 1] = `${last} ${word}`;
    else if (last !== undefined && (/^-{1,2}[\w-]+$/.test(last) || last === '&&' || last === '|') && !word.startsWith('-')) units[units.length - 1] = `${last} ${word}`;
    else units.push(word);
  }
  const lines: string[] = [];
  let line = '  ' + units.shift();
  for (const unit of units) {
    if (`${line} ${unit} \\`.length > EXAMPLE_WIDTH) {
      lines.push(line + ' \\');
      line = '      ' + unit;
    } else line = `${line} ${unit}`;
  }
  return [...lines, line];
}

/** A comment as an example shows it: `  # ` lines within {@link EXAMPLE_WIDTH} columns. */
function commentLines(comment: string): string[] {
  const lines: string[] = [];
  let line = '  #';
  for (const word of comment.split(' ')) {
    if (`${line} ${word}`.length > EXAMPLE_WIDTH && line !== '  #') {
      lines.push(line);
      line = '  #';
    }
    line = `${line} ${word}`;
  }
  return [...lines, line];
}

/** kubectl-style examples block for a command's --help: a comment line, then the command. */
export function examples(...items: [comment: string, command: string][]): string {
  return 'Examples:\n' + items.map(([comment, command]) => [...commentLines(comment), ...commandLines(command)].join('\n')).join('\n\n');
}
