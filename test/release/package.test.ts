/**
 * What `npm pack` ships (`npm test` builds dist/ first): the launcher, the bundle, the licences
 * and the README, no sources or source maps, and nothing that points at a file it does not ship.
 */
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
let files: string[];

beforeAll(async () => {
  const { stdout } = await run('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { maxBuffer: 1 << 24 });
  files = (JSON.parse(stdout)[0].files as { path: string }[]).map((f) => f.path).sort();
}, 60_000);

/** The relative files a shipped script loads: imports, dynamic imports, workers. */
function references(file: string, text: string): string[] {
  const specifiers = [...text.matchAll(/(?:from\s*|import\s*\(\s*|new URL\(\s*)["'](\.{1,2}\/[^"']+)["']/g)].map((m) => m[1]!);
  return specifiers.map((s) => path.posix.normalize(path.posix.join(path.posix.dirname(file), s)));
}

describe('the npm package', () => {
  test('ships the launcher, the bundle, its third-party notices, the licence and the README', () => {
    for (const f of ['bin/kubectl-profefe', 'bin/kubectl_complete-profefe', 'dist/kubectl-profefe.js', 'dist/merge-worker.js', 'dist/THIRD-PARTY-NOTICES.txt', 'LICENSE', 'README.md', 'package.json']) expect(files).toContain(f);
    expect(files.filter((f) => !/^(bin|dist)\//.test(f) && !['LICENSE', 'README.md', 'package.json'].includes(f))).toEqual([]);
  });

  test('ships no source maps and no sources', () => {
    expect(files.filter((f) => f.endsWith('.map') || f.endsWith('.ts') || f.startsWith('src/'))).toEqual([]);
  });

  test('every file a shipped script loads is shipped too, and none names a source map', async () => {
    const missing: string[] = [];
    for (const f of files.filter((f) => f.endsWith('.js') || f.startsWith('bin/'))) {
      const text = await readFile(f, 'utf8');
      expect({ f, sourceMap: text.includes('sourceMappingURL') }).toEqual({ f, sourceMap: false });
      for (const ref of references(f, text)) if (!files.includes(ref)) missing.push(`${f} -> ${ref}`);
    }
    expect(missing).toEqual([]);
  });

  test('has no dependencies to install: everything it imports is bundled into dist/', async () => {
    const pkg = JSON.parse(await readFile('package.json', 'utf8'));
    expect(pkg.dependencies ?? {}).toEqual({});
    expect(pkg.bin).toEqual({ 'kubectl-profefe': 'bin/kubectl-profefe', 'kubectl_complete-profefe': 'bin/kubectl_complete-profefe' });
  });
});
