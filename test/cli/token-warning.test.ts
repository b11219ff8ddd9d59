import { runCli } from '../support/run-cli.js';

describe('a token on the command line', () => {
  test.each([
    [['serve', '--token', 's3cret', '--port', '-1'], '--token'],
    [['get', 'services', '--profefe-token=s3cret', '--profefe-hostport', 'http://127.0.0.1:1', '-o', 'bogus'], '--profefe-token'],
  ])('%j warns that ps shows it', async (argv, flag) => {
    const run = await runCli(argv);
    expect(run.stderr.split('\n')[0]).toBe(`warning: ${flag} is visible to other users in ps; set PROFEFE_TOKEN instead`);
    expect(run.stderr).not.toMatch(/s3cret/);
  });

  test.each([
    [['doctor', '--token', 's3cret', '--kubeconfig', '/nonexistent/config']],
    [['capture', '--token=s3cret', '--kubeconfig', '/nonexistent/config']],
  ])("%j: kubectl's --token (the API server's) is pointed at a kubeconfig, not at PROFEFE_TOKEN", async (argv) => {
    const run = await runCli(argv);
    expect(run.stderr.split('\n')[0]).toBe("warning: --token is visible to other users in ps; put it in a kubeconfig's user (users[].user.token) instead");
    expect(run.stderr).not.toMatch(/s3cret/);
  });

  test('PROFEFE_TOKEN draws no warning', async () => {
    const run = await runCli(['serve', '--port', '-1'], { env: { PROFEFE_TOKEN: 's3cret' } });
    expect(run.stderr).not.toMatch(/warning/);
  });
});
