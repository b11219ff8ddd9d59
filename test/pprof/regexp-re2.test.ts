/**
 * Go regexps as JS RegExps (drop_frames / keep_frames), checked against Go's regexp.Compile of
 * the same `^(...)$` pprof compiles: the same patterns are refused, and every other one matches
 * the same strings. Fixed patterns for each RE2 feature and each error, plus patterns generated
 * from a fixed seed.
 */
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { compileRe2 } from '../../src/pprof/regexp-re2.js';
import { generator } from '../report/format-cases.js';
import { goRef } from '../support/go-ref.js';

const INPUTS = [
  '', 'a', 'aa', 'aaa', 'b', 'ab', 'a.b', 'axb', 'a\nb', 'a\n', '\n', '\r', '\u2028', 'A', 'B', 'k', 'K', '\u212a', 's', 'S', '\u017f', 'σ', 'Σ', 'ς',
  'ǅ', 'Ǆ', 'ǆ', 'é', 'É', 'å', 'Å', '\u212b', 'αβγ', 'ΑΒΓ', 'abc', 'ABC', '123', ' \t', '😀', 'x{,2}', '{', 'a{,2}', 'runtime.mallocgc', 'RUNTIME.MALLOCGC',
  'runtime.newobject', 'runtime', 'main.readBody', 'main.', 'sync.', 'Foo::bar', 'operator()', 'ab\nab', 'a b', '_', 'x_y9', '\u0000', '\u0007', '\u00e9t\u00e9',
];

const PATTERNS = [
  'runtime\\..*', 'runtime\\.(malloc|new).*', '(?i)runtime\\..*', '(?i:RUNTIME)\\..*', '(?s)a.b', 'a.b', '(?m)a$\\n^b', 'a$', '(?m)a$', '^a', '\\Aab\\z',
  '[[:alpha:]]+', '[[:^digit:]]+', '[[:word:]]+', '[[:punct:][:space:]]+', '\\pL+', '\\p{Greek}+', '\\PL+', '\\p{^Greek}+', '\\P{^L}+', '\\p{Any}+', '\\pN+',
  '\\p{Lu}+', '\\p{C}', '(?i)\\p{Lu}+', '(?i)\\P{Lu}+', '(?i)\\p{Greek}+', '[\\p{Lu}\\d]+', '[^\\p{Lu}x]+', '(?i)[^\\P{Lu}]+', '(?P<pkg>runtime)\\..*',
  '\\Qa.b\\E', '\\Qa.b', '\\Q.*\\E.*', 'a\\.b', '\\x41', '\\x{1F600}', '\\x{212a}', '\\101', '\\0', '\\07', '[\\d\\s]+', '\\w+', '\\W+', '(?i)[k]', '(?i)k',
  '(?i)\\w+', '(?i)\\W+', '(?i)[^k]', '(?i)s', '(?i)σ', '(?i)ǅ', '(?i)é', '(?i)å', '[^a]', '[^\\n]', '[a-c]+', '(?i)[a-c]+', '[]a]', '[-a]', '[a-]', '[\\]]',
  'a{2}', 'a{2,}', 'a{1,2}', 'a{,2}', 'x{,2}', 'a{01}', '{', 'a{', 'a{1001}', 'a{1000}', 'x{2}{3}', '(a{500}){3}', '(a{10}){100}', '(a{10}){101}',
  '\\8', '\\1', '\\e', '\\Z', '\\G', '\\i', '\\C', '\\p', '\\p{Foo}', '\\pZ', '\\p{Zs}', '\\p{LC}', '\\p{Grek}', '(?<name>a)', '(?=a)', '(?!a)', '(?#c)',
  'a**', 'a*?', 'a*??', 'a+*', 'a{2}*', '*a', '(*a)', '(|*)', '(', ')', 'a)|(b', '[a', '[z-a]', '[[:foo:]]', '[[:alpha:]', '[:alpha:]', '.', '(?s).',
  'a\\b', '\\bab\\b', 'a\\Bb', '(?U)a+', '(?i-s:a.)', '(?-)', '(?i-)', '(?i', '(?-i-s)', '(?)', '(?:)', '()', 'a||b', '|', '^*', '$+', '\\b*', 'é', '\\é',
  '\\x', '\\x4', '\\xg1', '\\x{}', '\\x{110000}', '\\x{10FFFF}', '(?i)\\Qab\\E', 'a|(?i)B|c', 'a(?i)b|c', '((?i)a)b', '(?i)a(?-i)b', '(?P<x>a)(?P<x>b)',
  '(?P<>a)', '(?P<a-b>c)', '(?P<a', '\\_', '\\-', '\\ ', '\\\t', '[\\b]', '[\\Q]', '\\', 'a\\', '[\\', 'x*+', '(?i)[[:upper:]]+', '(?i)[[:^lower:]]+',
];

interface Verdict {
  error: boolean;
  matches?: boolean[];
}

async function goVerdicts(patterns: string[]): Promise<Verdict[]> {
  const answers = await goRef(patterns.map((pattern) => ({ op: 'regexp', pattern, inputs: INPUTS })));
  return answers.map((a) => (a.error !== undefined ? { error: true } : { error: false, matches: a.matches }));
}

function ourVerdict(pattern: string): Verdict {
  const r = compileRe2(`^(${pattern})$`);
  if ('error' in r) return { error: true };
  return { error: false, matches: INPUTS.map((s) => r.regexp.test(s)) };
}

/** Patterns from a small RE2 grammar, from a fixed seed. */
function generated(count: number): string[] {
  const rnd = generator(17);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
  const atoms = ['a', 'b', 'k', 's', 'σ', 'é', '.', '\\.', '\\w', '\\W', '\\d', '\\s', '[a-c]', '[^a]', '[[:alpha:]]', '\\pL', '\\p{Greek}', '\\PL', '\\x41',
    '\\Qa.\\E', '^', '$', '\\b', '\\A', '\\z', '(?i)', '(?s)', '(?m)', '(?-i)', '\\n'];
  const reps = ['', '', '', '*', '+', '?', '{2}', '{1,3}', '{0,}', '*?', '**', '{2}{2}'];
  const gen = (depth: number): string => {
    let out = '';
    const n = 1 + Math.floor(rnd() * 4);
    for (let i = 0; i < n; i++) {
      const r = rnd();
      if (r < 0.15 && depth < 3) out += `(${gen(depth + 1)})` + pick(reps);
      else if (r < 0.25 && depth < 3) out += `(?:${gen(depth + 1)}|${gen(depth + 1)})` + pick(reps);
      else if (r < 0.3 && depth < 3) out += `(?i:${gen(depth + 1)})`;
      else out += pick(atoms) + pick(reps);
    }
    return out;
  };
  return Array.from({ length: count }, () => gen(0));
}

describe('compileRe2', () => {
  test.each([
    ['fixed patterns, one per RE2 feature and per error Go reports', PATTERNS],
    ['1000 patterns generated from a fixed seed', generated(1000)],
  ])('%s: refused and matching exactly as Go regexp', async (_name, patterns) => {
    const go = await goVerdicts(patterns);
    const mismatches = patterns.flatMap((p, i) => {
      const ours = ourVerdict(p);
      if (ours.error !== go[i]!.error) return [`${JSON.stringify(p)}: ours ${ours.error ? 'refused' : 'compiled'}, Go ${go[i]!.error ? 'refused' : 'compiled'}`];
      if (ours.error) return [];
      return INPUTS.flatMap((s, j) => (ours.matches![j] === go[i]!.matches![j] ? [] : [`${JSON.stringify(p)} on ${JSON.stringify(s)}: ours ${ours.matches![j]}, Go ${go[i]!.matches![j]}`]));
    });
    expect(mismatches).toEqual([]);
  });

  test('errors are worded like Go’s', () => {
    expect(compileRe2('a**')).toEqual({ error: 'invalid nested repetition operator: `**`' });
    expect(compileRe2('(?<n>a)')).toEqual({ error: 'invalid or unsupported Perl syntax: `(?<`' });
    expect(compileRe2('\\8')).toEqual({ error: 'invalid escape sequence: `\\8`' });
  });
});

describe('re2-tables.ts', () => {
  test('is what test/support/re2-tables prints with the Go on PATH', async () => {
    const dir = path.resolve('test/support/re2-tables');
    const env = { ...process.env, GOFLAGS: '', GOPROXY: 'off', GOTOOLCHAIN: 'local', GOWORK: 'off', CGO_ENABLED: '0', GOCACHE: process.env.GOCACHE || path.resolve('test/.cache/gocache') };
    const { stdout } = await promisify(execFile)('go', ['run', '.'], { cwd: dir, env, maxBuffer: 1 << 24 });
    expect(await readFile(path.resolve('src/pprof/re2-tables.ts'), 'utf8')).toBe(stdout);
  }, 60_000);
});
