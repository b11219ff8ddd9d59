/** kubectl-style examples block for a command's --help: a comment line, then the command. */
export function examples(...items: [comment: string, command: string][]): string {
  return 'Examples:\n' + items.map(([comment, command]) => `  # ${comment}\n  ${command}`).join('\n\n');
}
