/**
 * Where `open` (and `diff --html`) put a page when no file is named: a per-user pages folder
 * (never /tmp, where pages piled up, one per run), keeping the newest KEPT_PAGES of ours and
 * nothing else touched. Real heap profiles of a Go program; modification times are set, not waited for.
 */
import { mkdtemp, readdir, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { KEPT_PAGES, newPagePath, pagesDir } from '../../src/cli/shared/browser.js';
import { generateProfiles } from '../support/go-target.js';
import { runCli } from '../support/run-cli.js';

let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'open-pages-'));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

test.each([
  ['KUBECTL_PROFEFE_HOME first', { KUBECTL_PROFEFE_HOME: '/k', XDG_CACHE_HOME: '/x', HOME: '/h' }, 'linux', '/k/pages'],
  ['then XDG_CACHE_HOME', { XDG_CACHE_HOME: '/x', HOME: '/h' }, 'linux', '/x/kubectl-profefe/pages'],
  ['then ~/.cache', { HOME: '/h' }, 'linux', '/h/.cache/kubectl-profefe/pages'],
  ['~/Library/Caches on macOS', { HOME: '/h' }, 'darwin', '/h/Library/Caches/kubectl-profefe/pages'],
] as const)('pages go to the per-user cache folder: %s', (_name, env, platform, expected) => {
  expect(pagesDir(env, platform)).toBe(expected);
});

test('open without -o writes its page in the pages folder and says where', async () => {
  const [heap] = await generateProfiles('heap', 1, path.join(dir, 'heap'));
  const home = path.join(dir, 'home');
  const run = await runCli(['open', heap!, '--no-browser'], { env: { KUBECTL_PROFEFE_HOME: home, HOME: home } });
  expect([run.code, run.stderr]).toEqual([0, expect.stringMatching(/^wrote the flame graph \(/)]);
  const page = run.stdout.toString().trim();
  expect(path.dirname(page)).toBe(path.join(home, 'pages'));
  expect((await stat(page)).size).toBeGreaterThan(0);
}, 120_000);

test(`the pages folder keeps our newest ${KEPT_PAGES} pages and leaves other files alone`, async () => {
  const pages = path.join(dir, 'pages');
  const base = Date.UTC(2026, 0, 1) / 1000;
  const written: string[] = [];
  for (let i = 0; i < KEPT_PAGES + 5; i++) {
    const page = await newPagePath(`p${i}`, {}, pages);
    await writeFile(page, `page ${i}\n`);
    // Each page a minute newer than the last, whatever the clock did.
    await utimes(page, base + i * 60, base + i * 60);
    written.push(path.basename(page));
  }
  await writeFile(path.join(pages, 'notes.html'), 'mine\n');
  await utimes(path.join(pages, 'notes.html'), base - 3600, base - 3600);
  const next = await newPagePath('last', {}, pages);
  const left = (await readdir(pages)).sort();
  // The newest KEPT_PAGES - 1 of ours, room for the one about to be written, and the user's file.
  expect(left).toEqual([...written.slice(-(KEPT_PAGES - 1)), 'notes.html'].sort());
  expect(path.dirname(next)).toBe(pages);
});
