/** The widest an example's line may be: yargs would wrap a longer one at 80 columns without the `\`. */
const EXAMPLE_WIDTH = 78;

/**
 * A command as an example shows it: within {@link EXAMPLE_WIDTH} columns, broken before a flag
 * with a shell continuation (` \`) so that the lines still paste and run as one command.
 */
function exampleLines(command: string): string {
  const words = command.split(' ');
  const lines: string[] = [];
  let line = '  ' + words.shift();
  for (const word of words) {
    const next = `${line} ${word}`;
    if (next.length + 2 > EXAMPLE_WIDTH && word.startsWith('-')) {
      lines.push(line + ' \\');
      line = '      ' + word;
    } else line = next;
  }
  return [...lines, line].join('\n');
}

/** kubectl-style examples block for a command's --help: a comment line, then the command. */
export function examples(...items: [comment: string, command: string][]): string {
  return 'Examples:\n' + items.map(([comment, command]) => `  # ${comment}\n${exampleLines(command)}`).join('\n\n');
}
