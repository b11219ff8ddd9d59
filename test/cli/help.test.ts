/** Every command's --help in one order: its positionals and own options first, then the shared groups. */
import { runCli } from '../support/run-cli.js';

const ORDER = ['Positionals:', 'Options:', 'Store options:', 'Kubernetes options:', 'Examples:'];

test.each(['capture', 'collect', 'get', 'merge', 'top', 'trend', 'diff', 'open', 'serve'])('%s --help: Positionals, Options, then Store and Kubernetes options, then Examples', async (command) => {
  const run = await runCli([command, '--help']);
  expect(run.code).toBe(0);
  const headings = run.stdout.toString().split('\n').filter((l) => ORDER.includes(l));
  expect(headings).toEqual(ORDER.filter((h) => headings.includes(h)));
  expect(headings).toContain('Options:');
});

test.each(['capture', 'collect', 'get', 'merge', 'top', 'trend', 'diff', 'open', 'serve', 'push'])('%s --help: --help and --version close the options', async (command) => {
  const lines = (await runCli([command, '--help'])).stdout.toString().split('\n');
  const options = lines.slice(lines.indexOf('Options:') + 1);
  const flags = options.slice(0, options.findIndex((l) => l === '')).filter((l) => /^\s+-/.test(l)).map((l) => l.trim().split(/[ ,]/)[0]);
  expect(flags.slice(-2).sort()).toEqual(['--version', '-h']);
});
