/**
 * Go regexps (RE2 syntax, regexp.Compile) as JS RegExps, for the drop_frames and keep_frames of
 * a profile, which pprof compiles with Go's regexp package.
 *
 * The parser follows Go's regexp/syntax (parse.go, with the Perl flags regexp.Compile uses) so
 * that what Go refuses is refused here, and emits an equivalent JS RegExp (u flag) for what it
 * accepts. Only whether a string matches is kept: every group is non-capturing and repetition
 * is greedy ((?U) and lazy operators change which match is found, never whether there is one).
 * Go's semantics that JS spells differently are made explicit: `.` excludes only `\n`; `^` and
 * `$` are the text's ends unless (?m), and then also just after / before a `\n`; `\b` is ASCII;
 * (?i) folds with Go's (Unicode 13) simple case folding, scoped as Go scopes flags; \pL,
 * \p{Greek}, [[:alpha:]], \Q...\E, \A, \z, (?P<name>...) and octal and \x{...} escapes.
 * Not checked: Go's limits on the size of a compiled program (only huge patterns reach them).
 */
import { CATEGORIES, FOLD_ORBITS, SCRIPTS } from './re2-tables.js';

/** A compiled pattern, or why Go's regexp.Compile would refuse it (in Go's words). */
export type Re2Result = { readonly regexp: RegExp } | { readonly error: string };

const MAX_RUNE = 0x10ffff;

/** A character class: code point ranges, plus Unicode properties JS can test but we do not enumerate. */
interface ClassSet {
  /** Sorted, merged [lo, hi] pairs. */
  ranges: number[];
  /** JS class atoms (`\p{..}`, or a negated folded property `[^\p{..}...]`), matched in union with `ranges`. */
  atoms: string[];
  /** Whether `atoms` holds a negated atom, which must be emitted as an alternative. */
  negatedAtoms: string[];
}

type Node =
  | { t: 'class'; set: ClassSet; negate: boolean }
  | { t: 'assert'; js: string }
  | { t: 'concat'; subs: Node[] }
  | { t: 'alt'; subs: Node[] }
  | { t: 'group'; sub: Node; capture: boolean }
  | { t: 'repeat'; min: number; max: number; braces: boolean; sub: Node };

interface Flags {
  fold: boolean;
  dotNL: boolean;
  oneLine: boolean;
}

class Re2Error extends Error {}

/** Compiles a Go regexp; never throws for bad syntax (see Re2Result). */
export function compileRe2(pattern: string): Re2Result {
  try {
    const node = new Parser(pattern).parse();
    checkRepeats(node, 1000);
    if (height(node) > 1000) throw new Re2Error(`expression nests too deeply: \`${pattern}\``);
    return { regexp: new RegExp(emit(node), 'u') };
  } catch (err) {
    if (err instanceof Re2Error) return { error: err.message };
    throw err;
  }
}

function fail(code: string, expr: string): never {
  throw new Re2Error(`${code}: \`${expr}\``);
}

/** One group being parsed: its finished alternatives, the current one, and what `)` restores. */
interface Frame {
  alts: Node[];
  items: Node[];
  flags: Flags;
  /** Whether this is a group (the outermost frame is not), and whether it captures (for Go's height limit). */
  group: boolean;
  capture?: boolean;
}

class Parser {
  private flags: Flags = { fold: false, dotNL: false, oneLine: true };
  private readonly frames: Frame[] = [];

  constructor(private readonly whole: string) {}

  private get frame(): Frame {
    return this.frames[this.frames.length - 1]!;
  }

  parse(): Node {
    this.frames.push({ alts: [], items: [], flags: { ...this.flags }, group: false });
    let t = this.whole;
    let lastRepeat = '';
    while (t !== '') {
      let repeat = '';
      const c = t[0]!;
      switch (c) {
        case '(':
          if (t.length >= 2 && t[1] === '?') t = this.perlFlags(t);
          else {
            this.frames.push({ alts: [], items: [], flags: { ...this.flags }, group: true, capture: true });
            t = t.slice(1);
          }
          break;
        case '|':
          this.frame.alts.push(concat(this.frame.items));
          this.frame.items = [];
          t = t.slice(1);
          break;
        case ')': {
          if (!this.frame.group) fail('unexpected )', this.whole);
          const f = this.frames.pop()!;
          this.flags = f.flags;
          this.frame.items.push({ t: 'group', sub: alternate([...f.alts, concat(f.items)]), capture: f.capture === true });
          t = t.slice(1);
          break;
        }
        case '^':
          this.push({ t: 'assert', js: this.flags.oneLine ? BEGIN_TEXT : '(?:^|(?<=\\n))' });
          t = t.slice(1);
          break;
        case '$':
          this.push({ t: 'assert', js: this.flags.oneLine ? END_TEXT : '(?:$|(?=\\n))' });
          t = t.slice(1);
          break;
        case '.':
          this.push({ t: 'class', set: this.flags.dotNL ? setOf([0, MAX_RUNE]) : setOf([0, 9, 11, MAX_RUNE]), negate: false });
          t = t.slice(1);
          break;
        case '[':
          t = this.parseClass(t);
          break;
        case '*':
        case '+':
        case '?': {
          const [min, max] = c === '*' ? [0, -1] : c === '+' ? [1, -1] : [0, 1];
          const after = this.repeat(min, max, false, t, t.slice(1), lastRepeat);
          repeat = t;
          t = after;
          break;
        }
        case '{': {
          const r = parseRepeat(t);
          if (!r) {
            this.literal(0x7b);
            t = t.slice(1);
            break;
          }
          const { min, max, rest } = r;
          if (min < 0 || min > 1000 || max > 1000 || (max >= 0 && min > max)) fail('invalid repeat count', t.slice(0, t.length - rest.length));
          const after = this.repeat(min, max, true, t, rest, lastRepeat);
          repeat = t;
          t = after;
          break;
        }
        case '\\':
          t = this.backslash(t);
          break;
        default: {
          const cp = t.codePointAt(0)!;
          this.literal(cp);
          t = t.slice(cp > 0xffff ? 2 : 1);
        }
      }
      lastRepeat = repeat;
    }
    if (this.frames.length !== 1) fail('missing closing )', this.whole);
    return alternate([...this.frame.alts, concat(this.frame.items)]);
  }

  private push(n: Node): void {
    this.frame.items.push(n);
  }

  private literal(cp: number): void {
    const set = setOf([cp, cp]);
    this.push({ t: 'class', set: this.flags.fold ? foldSet(set) : set, negate: false });
  }

  /** parser.repeat: applies to the last item; two repetition operators in a row are an error. */
  private repeat(min: number, max: number, braces: boolean, before: string, after: string, lastRepeat: string): string {
    if (after.startsWith('?')) after = after.slice(1); // non-greedy: the same matches
    if (lastRepeat !== '') fail('invalid nested repetition operator', lastRepeat.slice(0, lastRepeat.length - after.length));
    const items = this.frame.items;
    if (items.length === 0) fail('missing argument to repetition operator', before.slice(0, before.length - after.length));
    items[items.length - 1] = { t: 'repeat', min, max, braces, sub: items[items.length - 1]! };
    return after;
  }

  /** parser.parsePerlFlags: (?P<name>, (?flags), (?flags: and what Go refuses. */
  private perlFlags(s: string): string {
    if (s.length > 4 && s[2] === 'P' && s[3] === '<') {
      const end = s.indexOf('>');
      if (end < 0) fail('invalid named capture', s);
      const name = s.slice(4, end);
      if (!/^[A-Za-z0-9_]+$/.test(name)) fail('invalid named capture', s.slice(0, end + 1));
      this.frames.push({ alts: [], items: [], flags: { ...this.flags }, group: true, capture: true });
      return s.slice(end + 1);
    }
    let t = s.slice(2);
    const flags = { ...this.flags };
    let sign = 1;
    let sawFlag = false;
    while (t !== '') {
      const c = String.fromCodePoint(t.codePointAt(0)!);
      t = t.slice(c.length);
      switch (c) {
        case 'i':
          flags.fold = sign > 0;
          sawFlag = true;
          continue;
        case 'm':
          flags.oneLine = sign < 0;
          sawFlag = true;
          continue;
        case 's':
          flags.dotNL = sign > 0;
          sawFlag = true;
          continue;
        case 'U':
          sawFlag = true; // ungreedy: the same matches
          continue;
        case '-':
          if (sign < 0) break;
          sign = -1;
          sawFlag = false;
          continue;
        case ':':
        case ')':
          if (sign < 0 && !sawFlag) break;
          if (c === ':') this.frames.push({ alts: [], items: [], flags: { ...this.flags }, group: true });
          this.flags = flags;
          return t;
      }
      break;
    }
    fail('invalid or unsupported Perl syntax', s.slice(0, s.length - t.length));
  }

  /** A backslash outside a class: \A \z \b \B \Q..\E, \p \P, \d \s \w, or an escaped character. */
  private backslash(t: string): string {
    if (t.length >= 2) {
      switch (t[1]) {
        case 'A':
          this.push({ t: 'assert', js: BEGIN_TEXT });
          return t.slice(2);
        case 'z':
          this.push({ t: 'assert', js: END_TEXT });
          return t.slice(2);
        case 'b':
          this.push({ t: 'assert', js: `(?:(?<=${WORD})(?!${WORD})|(?<!${WORD})(?=${WORD}))` });
          return t.slice(2);
        case 'B':
          this.push({ t: 'assert', js: `(?:(?<=${WORD})(?=${WORD})|(?<!${WORD})(?!${WORD}))` });
          return t.slice(2);
        case 'C':
          return fail('invalid escape sequence', t.slice(0, 2));
        case 'Q': {
          const end = t.indexOf('\\E', 2);
          const lit = end < 0 ? t.slice(2) : t.slice(2, end);
          for (const ch of lit) this.literal(ch.codePointAt(0)!);
          return end < 0 ? '' : t.slice(end + 2);
        }
      }
    }
    const set: ClassSet = { ranges: [], atoms: [], negatedAtoms: [] };
    const afterProp = this.unicodeClass(t, set);
    if (afterProp !== undefined) {
      this.push({ t: 'class', set, negate: false });
      return afterProp;
    }
    const afterPerl = this.perlClass(t, set);
    if (afterPerl !== undefined) {
      this.push({ t: 'class', set, negate: false });
      return afterPerl;
    }
    const [cp, rest] = parseEscape(t);
    this.literal(cp);
    return rest;
  }

  /** \d \s \w \D \S \W (parsePerlClassEscape), into `set`; undefined when `s` is not one. */
  private perlClass(s: string, set: ClassSet): string | undefined {
    if (s.length < 2 || s[0] !== '\\') return undefined;
    const g = PERL_GROUPS[s.slice(0, 2)];
    if (!g) return undefined;
    this.appendGroup(set, g);
    return s.slice(2);
  }

  /** parser.appendGroup: a fixed group, folded first when (?i), negated after. */
  private appendGroup(set: ClassSet, g: { sign: number; ranges: number[] }): void {
    let ranges = clean(g.ranges);
    if (this.flags.fold) ranges = foldRanges(ranges);
    addRanges(set, g.sign < 0 ? negateRanges(ranges) : ranges);
  }

  /** \pN, \p{Greek}, \P{L}, \p{^Han} (parseUnicodeClass) into `set`; undefined when `s` is not one. */
  private unicodeClass(s: string, set: ClassSet): string | undefined {
    if (s.length < 2 || s[0] !== '\\' || (s[1] !== 'p' && s[1] !== 'P')) return undefined;
    let sign = s[1] === 'P' ? -1 : 1;
    const c = s.codePointAt(2);
    if (c === undefined) fail('invalid character class range', s.slice(0, 2));
    let seq: string;
    let name: string;
    let rest: string;
    if (c !== 0x7b) {
      const ch = String.fromCodePoint(c);
      seq = s.slice(0, 2 + ch.length);
      name = ch;
      rest = s.slice(seq.length);
    } else {
      const end = s.indexOf('}');
      if (end < 0) fail('invalid character class range', s);
      seq = s.slice(0, end + 1);
      name = s.slice(3, end);
      rest = s.slice(end + 1);
    }
    if (name.startsWith('^')) {
      sign = -sign;
      name = name.slice(1);
    }
    let atoms: string[];
    if (name === 'Any') atoms = [];
    else if (CATEGORY_SET.has(name)) atoms = name === 'C' ? ['\\p{Cc}', '\\p{Cf}', '\\p{Co}', '\\p{Cs}'] : [`\\p{${name}}`];
    else if (SCRIPT_SET.has(name)) atoms = [`\\p{Script=${name}}`];
    else fail('invalid character class range', seq);
    if (name === 'Any') {
      if (sign > 0) addRanges(set, [0, MAX_RUNE]);
      return rest;
    }
    // Folding adds the whole orbit of every code point in the property (Go's FoldCategory/FoldScript).
    const extra = this.flags.fold ? orbitsMeeting(new RegExp(`[${atoms.join('')}]`, 'u')) : [];
    if (sign > 0) {
      set.atoms.push(...atoms);
      addRanges(set, extra);
    } else set.negatedAtoms.push(`[^${atoms.join('')}${rangesToClass(extra)}]`);
    return rest;
  }

  /** parser.parseClass: `[...]`, with POSIX names, \p, Perl classes, escapes and ranges. */
  private parseClass(s: string): string {
    let t = s.slice(1);
    const set: ClassSet = { ranges: [], atoms: [], negatedAtoms: [] };
    let negate = false;
    if (t.startsWith('^')) {
      negate = true;
      t = t.slice(1);
    }
    let first = true; // `]` and `-` are literal first
    while (t === '' || t[0] !== ']' || first) {
      first = false;
      if (t.length > 2 && t[0] === '[' && t[1] === ':') {
        const named = this.namedClass(t, set);
        if (named !== undefined) {
          t = named;
          continue;
        }
      }
      const afterProp = this.unicodeClass(t, set);
      if (afterProp !== undefined) {
        t = afterProp;
        continue;
      }
      const afterPerl = this.perlClass(t, set);
      if (afterPerl !== undefined) {
        t = afterPerl;
        continue;
      }
      const rng = t;
      let lo: number;
      [lo, t] = classChar(t, s);
      let hi = lo;
      if (t.length >= 2 && t[0] === '-' && t[1] !== ']') {
        [hi, t] = classChar(t.slice(1), s);
        if (hi < lo) fail('invalid character class range', rng.slice(0, rng.length - t.length));
      }
      addRanges(set, this.flags.fold ? foldRanges([lo, hi]) : [lo, hi]);
    }
    this.push({ t: 'class', set, negate });
    return t.slice(1);
  }

  /** `[:alpha:]` inside a class (parseNamedClass); undefined when `s` does not hold one. */
  private namedClass(s: string, set: ClassSet): string | undefined {
    const i = s.indexOf(':]', 2);
    if (i < 0) return undefined;
    const name = s.slice(0, i + 2);
    const g = POSIX_GROUPS[name];
    if (!g) fail('invalid character class range', name);
    this.appendGroup(set, g);
    return s.slice(i + 2);
  }
}

const WORD = '[0-9A-Za-z_]';
// JS's own ^ and $ (no m flag): lookarounds on [\s\S] misbehave inside a surrogate pair in V8.
const BEGIN_TEXT = '^';
const END_TEXT = '$';
const CATEGORY_SET = new Set(CATEGORIES.split(' '));
const SCRIPT_SET = new Set(SCRIPTS.split(' '));

const DIGIT = [0x30, 0x39];
const SPACE = [0x9, 0xa, 0xc, 0xd, 0x20, 0x20];
const WORDR = [0x30, 0x39, 0x41, 0x5a, 0x5f, 0x5f, 0x61, 0x7a];
const PERL_GROUPS: Record<string, { sign: number; ranges: number[] }> = {
  '\\d': { sign: 1, ranges: DIGIT },
  '\\D': { sign: -1, ranges: DIGIT },
  '\\s': { sign: 1, ranges: SPACE },
  '\\S': { sign: -1, ranges: SPACE },
  '\\w': { sign: 1, ranges: WORDR },
  '\\W': { sign: -1, ranges: WORDR },
};
const POSIX: Record<string, number[]> = {
  alnum: [0x30, 0x39, 0x41, 0x5a, 0x61, 0x7a],
  alpha: [0x41, 0x5a, 0x61, 0x7a],
  ascii: [0x0, 0x7f],
  blank: [0x9, 0x9, 0x20, 0x20],
  cntrl: [0x0, 0x1f, 0x7f, 0x7f],
  digit: [0x30, 0x39],
  graph: [0x21, 0x7e],
  lower: [0x61, 0x7a],
  print: [0x20, 0x7e],
  punct: [0x21, 0x2f, 0x3a, 0x40, 0x5b, 0x60, 0x7b, 0x7e],
  space: [0x9, 0xd, 0x20, 0x20],
  upper: [0x41, 0x5a],
  word: [0x30, 0x39, 0x41, 0x5a, 0x5f, 0x5f, 0x61, 0x7a],
  xdigit: [0x30, 0x39, 0x41, 0x46, 0x61, 0x66],
};
const POSIX_GROUPS: Record<string, { sign: number; ranges: number[] }> = Object.fromEntries(
  Object.entries(POSIX).flatMap(([name, ranges]) => [
    [`[:${name}:]`, { sign: 1, ranges }],
    [`[:^${name}:]`, { sign: -1, ranges }],
  ]),
);

/** parseRepeat: {n}, {n,} or {n,m} with no leading zeros; undefined when it is not one (then `{` is literal). */
function parseRepeat(s: string): { min: number; max: number; rest: string } | undefined {
  const m = /^\{(0|[1-9][0-9]*)(?:(,)(0|[1-9][0-9]*)?)?\}/.exec(s);
  if (!m) return undefined;
  const big = (d: string) => (d.length > 8 ? -1 : Number(d)); // Go's parseInt stops at 1e8
  const min = big(m[1]!);
  let max = m[2] === undefined ? min : m[3] === undefined ? -1 : big(m[3]);
  if (m[3] !== undefined && max < 0) return { min: -1, max: -1, rest: s.slice(m[0].length) };
  if (m[2] === undefined) max = min;
  return { min, max, rest: s.slice(m[0].length) };
}

/** parser.parseEscape: one escaped character (octal, \x, C escapes, punctuation); rejects the rest as Go does. */
function parseEscape(s: string): [number, string] {
  let t = s.slice(1);
  if (t === '') fail('trailing backslash at end of expression', '');
  const c = t.codePointAt(0)!;
  t = t.slice(c > 0xffff ? 2 : 1);
  const bad = (): never => fail('invalid escape sequence', s.slice(0, s.length - t.length));
  if (c < 0x80 && !/[0-9A-Za-z]/.test(String.fromCharCode(c))) return [c, t];
  const ch = String.fromCharCode(c);
  if (ch >= '1' && ch <= '7' && !(t !== '' && t[0]! >= '0' && t[0]! <= '7')) return bad(); // a backreference
  if (ch >= '0' && ch <= '7') {
    let r = c - 0x30;
    for (let i = 1; i < 3 && t !== '' && t[0]! >= '0' && t[0]! <= '7'; i++) {
      r = r * 8 + (t.charCodeAt(0) - 0x30);
      t = t.slice(1);
    }
    return [r, t];
  }
  switch (ch) {
    case 'x': {
      if (t === '') return bad();
      const d = t.codePointAt(0)!;
      t = t.slice(d > 0xffff ? 2 : 1);
      if (d === 0x7b) {
        const m = /^([0-9A-Fa-f]+)\}/.exec(t);
        if (!m) {
          // Go stops at the first bad character; the expression it quotes ends there.
          const stop = /^[0-9A-Fa-f]*/.exec(t)![0].length;
          t = t.slice(Math.min(stop + 1, t.length));
          return bad();
        }
        const v = parseInt(m[1]!, 16);
        t = t.slice(m[0].length);
        if (v > MAX_RUNE) return bad();
        return [v, t];
      }
      const e = t.codePointAt(0);
      if (e === undefined) return bad();
      t = t.slice(e > 0xffff ? 2 : 1);
      const hex = String.fromCodePoint(d) + String.fromCodePoint(e);
      if (!/^[0-9A-Fa-f]{2}$/.test(hex)) return bad();
      return [parseInt(hex, 16), t];
    }
    case 'a':
      return [7, t];
    case 'f':
      return [12, t];
    case 'n':
      return [10, t];
    case 'r':
      return [13, t];
    case 't':
      return [9, t];
    case 'v':
      return [11, t];
  }
  return bad();
}

/** parser.parseClassChar: a class member, escaped or not. */
function classChar(s: string, wholeClass: string): [number, string] {
  if (s === '') fail('missing closing ]', wholeClass);
  if (s[0] === '\\') return parseEscape(s);
  const cp = s.codePointAt(0)!;
  return [cp, s.slice(cp > 0xffff ? 2 : 1)];
}

// ---- classes as code point ranges ----

function setOf(ranges: number[]): ClassSet {
  return { ranges: clean(ranges), atoms: [], negatedAtoms: [] };
}

function addRanges(set: ClassSet, ranges: number[]): void {
  set.ranges = clean([...set.ranges, ...ranges]);
}

/** cleanClass: sorted, merged, adjacent ranges joined. */
function clean(r: number[]): number[] {
  const pairs: [number, number][] = [];
  for (let i = 0; i < r.length; i += 2) pairs.push([r[i]!, r[i + 1]!]);
  pairs.sort((a, b) => a[0] - b[0] || b[1] - a[1]);
  const out: number[] = [];
  for (const [lo, hi] of pairs) {
    if (out.length > 0 && lo <= out[out.length - 1]! + 1) out[out.length - 1] = Math.max(out[out.length - 1]!, hi);
    else out.push(lo, hi);
  }
  return out;
}

function negateRanges(r: number[]): number[] {
  const out: number[] = [];
  let next = 0;
  for (let i = 0; i < r.length; i += 2) {
    if (r[i]! > next) out.push(next, r[i]! - 1);
    next = r[i + 1]! + 1;
  }
  if (next <= MAX_RUNE) out.push(next, MAX_RUNE);
  return out;
}

let orbits: number[][] | undefined;
/** Go's simple case-folding orbits (re2-tables.ts), parsed once. */
function foldOrbits(): number[][] {
  orbits ??= FOLD_ORBITS.split(';').map((g) => g.split(',').map((h) => parseInt(h, 16)));
  return orbits;
}

/** appendFoldedRange for every range: each code point with the rest of its orbit. */
function foldRanges(r: number[]): number[] {
  const out = [...r];
  for (const orbit of foldOrbits()) {
    if (orbit.some((cp) => inRanges(r, cp))) for (const cp of orbit) out.push(cp, cp);
  }
  return clean(out);
}

function foldSet(set: ClassSet): ClassSet {
  return { ranges: foldRanges(set.ranges), atoms: set.atoms, negatedAtoms: set.negatedAtoms };
}

/** The code points of every orbit with a member matching `property`, as ranges. */
function orbitsMeeting(property: RegExp): number[] {
  const out: number[] = [];
  for (const orbit of foldOrbits()) {
    if (orbit.some((cp) => property.test(String.fromCodePoint(cp)))) for (const cp of orbit) out.push(cp, cp);
  }
  return clean(out);
}

function inRanges(r: number[], cp: number): boolean {
  for (let i = 0; i < r.length; i += 2) if (cp >= r[i]! && cp <= r[i + 1]!) return true;
  return false;
}

// ---- the checks Go makes on the whole tree ----

/** repeatIsValid: nested counted repetitions may not exceed 1000 copies of the innermost. */
function checkRepeats(node: Node, n: number): void {
  const walk = (re: Node, budget: number): boolean => {
    if (re.t === 'repeat' && re.braces) {
      let m = re.max;
      if (m === 0) return true;
      if (m < 0) m = re.min;
      if (m > budget) return false;
      if (m > 0) budget = Math.floor(budget / m);
    }
    return subsOf(re).every((s) => walk(s, budget));
  };
  const check = (re: Node): void => {
    if (re.t === 'repeat' && re.braces && (re.min >= 2 || re.max >= 2) && !walk(re, n)) fail('invalid repeat count', `{${re.min},${re.max}}`);
    subsOf(re).forEach(check);
  };
  check(node);
}

/** Roughly Go's parse-tree height: non-capturing groups leave no node of their own. */
function height(node: Node): number {
  let h = 0;
  for (const s of subsOf(node)) h = Math.max(h, height(s));
  return node.t === 'group' && !node.capture ? h : h + 1;
}

function subsOf(n: Node): Node[] {
  switch (n.t) {
    case 'concat':
    case 'alt':
      return n.subs;
    case 'group':
    case 'repeat':
      return [n.sub];
    default:
      return [];
  }
}

function concat(items: Node[]): Node {
  return items.length === 1 ? items[0]! : { t: 'concat', subs: items };
}

function alternate(alts: Node[]): Node {
  return alts.length === 1 ? alts[0]! : { t: 'alt', subs: alts };
}

// ---- JS source ----

function emit(n: Node): string {
  switch (n.t) {
    case 'assert':
      return n.js;
    case 'concat':
      return n.subs.map(emit).join('');
    case 'alt':
      return `(?:${n.subs.map(emit).join('|')})`;
    case 'group':
      return `(?:${emit(n.sub)})`;
    case 'repeat': {
      const q = n.min === 0 && n.max === -1 ? '*' : n.min === 1 && n.max === -1 ? '+' : n.min === 0 && n.max === 1 ? '?' : n.max === -1 ? `{${n.min},}` : n.min === n.max ? `{${n.min}}` : `{${n.min},${n.max}}`;
      return `(?:${emit(n.sub)})${q}`;
    }
    case 'class':
      return emitClass(n.set, n.negate);
  }
}

function rangesToClass(r: number[]): string {
  let s = '';
  for (let i = 0; i < r.length; i += 2) s += r[i] === r[i + 1] ? esc(r[i]!) : `${esc(r[i]!)}-${esc(r[i + 1]!)}`;
  return s;
}

function esc(cp: number): string {
  return /[0-9A-Za-z]/.test(String.fromCharCode(cp)) && cp < 0x80 ? String.fromCharCode(cp) : `\\u{${cp.toString(16)}}`;
}

function emitClass(set: ClassSet, negate: boolean): string {
  if (!negate && set.atoms.length === 0 && set.negatedAtoms.length === 0 && set.ranges.length === 2 && set.ranges[0] === set.ranges[1]) return esc(set.ranges[0]!);
  const plain = `[${rangesToClass(set.ranges)}${set.atoms.join('')}]`;
  if (set.negatedAtoms.length === 0) return negate ? `[^${plain.slice(1)}` : plain;
  const union = `(?:${[plain, ...set.negatedAtoms].join('|')})`;
  return negate ? `(?:(?!${union})[\\s\\S])` : union;
}
