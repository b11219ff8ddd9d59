/** Every command's --help in one order: its positionals and own options first, then the shared groups. */
import { runCli } from '../support/run-cli.js';

const ORDER = ['Positionals:', 'Options:', 'Store options:', 'Kubernetes options:', 'Examples:'];

test.each(['capture', 'collect', 'get', 'merge', 'top', 'trend', 'diff', 'postmortem', 'doctor', 'open', 'serve'])('%s --help: Positionals, Options, then Store and Kubernetes options, then Examples', async (command) => {
  const run = await runCli([command, '--help']);
  expect(run.code).toBe(0);
  const headings = run.stdout.toString().split('\n').filter((l) => ORDER.includes(l));
  expect(headings).toEqual(ORDER.filter((h) => headings.includes(h)));
  expect(headings).toContain('Options:');
});

test.each(['capture', 'collect', 'get', 'merge', 'top', 'trend', 'diff', 'postmortem', 'doctor', 'open', 'serve', 'push'])('%s --help: --help and --version close the options', async (command) => {
  const lines = (await runCli([command, '--help'])).stdout.toString().split('\n');
  const options = lines.slice(lines.indexOf('Options:') + 1);
  const flags = options.slice(0, options.findIndex((l) => l === '')).filter((l) => /^\s+-/.test(l)).map((l) => l.trim().split(/[ ,]/)[0]);
  expect(flags.slice(-2).sort()).toEqual(['--version', '-h']);
});

// A paragraph hard-wrapped in the source at 90-100 columns came out ragged at 80 (a long line, then
// one word alone): each paragraph is one line, wrapped by yargs to the terminal (main.ts: at most 100).
test.each(['capture', 'collect', 'get', 'merge', 'top', 'trend', 'diff', 'postmortem', 'doctor', 'open', 'serve', 'push', 'completion', 'version'])('%s --help: the description is wrapped to the terminal, not in the source', async (command) => {
  const width = Math.min(100, process.stdout.columns || 100);
  const lines = (await runCli([command, '--help'])).stdout.toString().split('\n');
  const text = lines.slice(lines.findIndex((l) => l === '') + 1, lines.findIndex((l) => ORDER.includes(l)));
  expect(text.length).toBeGreaterThan(0);
  for (let i = 0; i + 1 < text.length; i++) {
    const [line, next] = [text[i]!, text[i + 1]!];
    expect(line.length).toBeLessThanOrEqual(width);
    // A line followed by more of its paragraph is full: the next word would not have fitted.
    if (line !== '' && next !== '') expect(`${line} ${next.split(' ')[0]}`.length).toBeGreaterThan(width);
  }
});

test.each([
  ['capture', true], ['collect', true], ['push', true],
  ['get', false], ['top', false], ['trend', false], ['diff', false], ['merge', false], ['open', false], ['postmortem', false], ['doctor', false],
])('%s --help lists --spool-dir: %s (only the commands that keep what they could not upload)', async (command, listed) => {
  expect((await runCli([command, '--help'])).stdout.toString().includes('--spool-dir')).toBe(listed);
});
