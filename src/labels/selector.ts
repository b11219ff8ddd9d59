/**
 * Kubernetes label selectors (`-l/--selector`), parsed, validated, matched and printed as
 * apimachinery does it: k8s.io/apimachinery pkg/labels/selector.go (`labels.Parse`, the lexer,
 * `Requirement.Matches`, `String`) with the key and value rules of pkg/api/validate/content
 * (`IsLabelKey`, `IsLabelValue`). Error messages are apimachinery's words. Pure: no I/O.
 *
 * Grammar (labels.Parse):
 *   selector    ::= requirement | requirement "," selector          (comma = AND)
 *   requirement ::= ["!"] KEY [ ("in" | "notin") "(" VALUES ")" | ("=" | "==" | "!=" | ">" | "<") VALUE ]
 * `KEY` alone means the key exists, `!KEY` that it does not.
 */

/** selection.Operator's spellings. */
export type SelectorOperator = 'in' | 'notin' | '=' | '==' | '!=' | 'exists' | '!' | 'gt' | 'lt';

/** One requirement: `key operator values` (values sorted and unique, like sets.String.List()). */
export interface LabelRequirement {
  readonly key: string;
  readonly operator: SelectorOperator;
  readonly values: readonly string[];
}

/** Requirements ANDed, sorted by key (stable, as apimachinery's sort.Sort(ByKey) keeps them for equal keys in practice). Empty: everything. */
export type LabelSelector = readonly LabelRequirement[];

/** A label set to match against: pairs, a key may repeat (profefe keeps duplicate keys). */
export interface LabelPair {
  readonly key: string;
  readonly value: string;
}

/** A selector that labels.Parse refuses; the message is apimachinery's. */
export class SelectorParseError extends Error {
  override readonly name = 'SelectorParseError';
}

const BINARY_OPERATORS = ['in', 'notin', '=', '==', '!=', 'gt', 'lt'];

type Token = 'error' | 'end' | ')' | ',' | '!' | '==' | '=' | '>' | 'id' | 'in' | '<' | '!=' | 'notin' | '(';

const LITERAL_TOKENS: Readonly<Record<string, Token>> = {
  ')': ')',
  ',': ',',
  '!': '!',
  '==': '==',
  '=': '=',
  '>': '>',
  in: 'in',
  '<': '<',
  '!=': '!=',
  notin: 'notin',
  '(': '(',
};

const isWhitespace = (ch: string) => ch === ' ' || ch === '\t' || ch === '\r' || ch === '\n';
const isSpecialSymbol = (ch: string) => ch === '=' || ch === '!' || ch === '(' || ch === ')' || ch === ',' || ch === '>' || ch === '<';

interface Item {
  readonly tok: Token;
  readonly lit: string;
}

/** The lexer of selector.go: identifiers run to the next special symbol or white space; operators are the longest literal token. */
function lex(s: string): Item[] {
  const items: Item[] = [];
  let pos = 0;
  for (;;) {
    while (pos < s.length && isWhitespace(s[pos]!)) pos++;
    if (pos >= s.length) {
      items.push({ tok: 'end', lit: '' });
      return items;
    }
    if (isSpecialSymbol(s[pos]!)) {
      let buffer = '';
      let last: Item | undefined;
      while (pos < s.length && isSpecialSymbol(s[pos]!)) {
        buffer += s[pos];
        const tok = LITERAL_TOKENS[buffer];
        if (tok !== undefined) last = { tok, lit: buffer };
        else if (last !== undefined) break;
        pos++;
      }
      // scanSpecialSymbol unreads the character that broke the token.
      if (last === undefined) items.push({ tok: 'error', lit: `error expected: keyword found '${buffer}'` });
      else items.push(last);
      continue;
    }
    let buffer = '';
    while (pos < s.length && !isSpecialSymbol(s[pos]!) && !isWhitespace(s[pos]!)) buffer += s[pos++];
    items.push({ tok: LITERAL_TOKENS[buffer] ?? 'id', lit: buffer });
  }
}

/** The parser of selector.go, over the scanned items; `in` and `notin` are identifiers where values are expected. */
class Parser {
  private position = 0;
  constructor(private readonly items: Item[]) {}

  private lookahead(values: boolean): Item {
    return asValue(this.items[this.position]!, values);
  }

  private consume(values: boolean): Item {
    return asValue(this.items[this.position++]!, values);
  }

  parse(): LabelRequirement[] {
    const requirements: LabelRequirement[] = [];
    for (;;) {
      const { tok, lit } = this.lookahead(true);
      if (tok === 'id' || tok === '!') {
        let r: LabelRequirement;
        try {
          r = this.parseRequirement();
        } catch (err) {
          throw new SelectorParseError(`unable to parse requirement: ${(err as Error).message}`);
        }
        requirements.push(r);
        const t = this.consume(true);
        if (t.tok === 'end') return requirements;
        if (t.tok === ',') {
          const t2 = this.lookahead(true);
          if (t2.tok !== 'id' && t2.tok !== '!') throw new SelectorParseError(`found '${t2.lit}', expected: identifier after ','`);
          continue;
        }
        throw new SelectorParseError(`found '${t.lit}', expected: ',' or 'end of string'`);
      }
      if (tok === 'end') return requirements;
      throw new SelectorParseError(`found '${lit}', expected: !, identifier, or 'end of string'`);
    }
  }

  private parseRequirement(): LabelRequirement {
    const { key, operator: inferred } = this.parseKeyAndInferOperator();
    if (inferred === 'exists' || inferred === '!') return newRequirement(key, inferred, []);
    const operator = this.parseOperator();
    const values = operator === 'in' || operator === 'notin' ? this.parseValues() : this.parseExactValue();
    return newRequirement(key, operator, [...values].sort());
  }

  private parseKeyAndInferOperator(): { key: string; operator?: SelectorOperator } {
    let operator: SelectorOperator | undefined;
    let t = this.consume(true);
    if (t.tok === '!') {
      operator = '!';
      t = this.consume(true);
    }
    if (t.tok !== 'id') throw new Error(`found '${t.lit}', expected: identifier`);
    checkKey(t.lit, '<nil>');
    const next = this.lookahead(true).tok;
    if ((next === 'end' || next === ',') && operator !== '!') operator = 'exists';
    return { key: t.lit, operator };
  }

  private parseOperator(): SelectorOperator {
    const { tok, lit } = this.consume(false);
    switch (tok) {
      case 'in':
      case 'notin':
      case '=':
      case '==':
      case '!=':
        return tok;
      case '>':
        return 'gt';
      case '<':
        return 'lt';
      default:
        throw new Error(`found '${lit}', expected: ${BINARY_OPERATORS.join(', ')}`);
    }
  }

  private parseValues(): Set<string> {
    let t = this.consume(true);
    if (t.tok !== '(') throw new Error(`found '${t.lit}' expected: '('`);
    t = this.lookahead(true);
    if (t.tok === 'id' || t.tok === ',') {
      const s = this.parseIdentifiersList();
      if (this.consume(true).tok !== ')') throw new Error(`found '${t.lit}', expected: ')'`);
      return s;
    }
    if (t.tok === ')') {
      this.consume(true);
      return new Set(['']);
    }
    throw new Error(`found '${t.lit}', expected: ',', ')' or identifier`);
  }

  private parseIdentifiersList(): Set<string> {
    const s = new Set<string>();
    for (;;) {
      const t = this.consume(true);
      if (t.tok === 'id') {
        s.add(t.lit);
        const t2 = this.lookahead(true);
        if (t2.tok === ',') continue;
        if (t2.tok === ')') return s;
        throw new Error(`found '${t2.lit}', expected: ',' or ')'`);
      }
      if (t.tok === ',') {
        if (s.size === 0) s.add('');
        const t2 = this.lookahead(true).tok;
        if (t2 === ')') {
          s.add('');
          return s;
        }
        if (t2 === ',') s.add('');
        continue;
      }
      throw new Error(`found '${t.lit}', expected: ',', or identifier`);
    }
  }

  private parseExactValue(): Set<string> {
    const next = this.lookahead(true);
    if (next.tok === 'end' || next.tok === ',') return new Set(['']);
    const t = this.consume(true);
    if (t.tok === 'id') return new Set([t.lit]);
    throw new Error(`found '${t.lit}', expected: identifier`);
  }
}

function asValue(item: Item, values: boolean): Item {
  return values && (item.tok === 'in' || item.tok === 'notin') ? { tok: 'id', lit: item.lit } : item;
}

/** NewRequirement: the values checked for the operator and each value validated; errors aggregated as `[a, b]` when several. */
function newRequirement(key: string, operator: SelectorOperator, values: string[]): LabelRequirement {
  const errors: string[] = [];
  const keyError = keyProblem(key);
  if (keyError) errors.push(invalid('key', key, keyError));
  const list = `[${values.map((v) => JSON.stringify(v)).join(',')}]`;
  switch (operator) {
    case 'in':
    case 'notin':
      if (values.length === 0) errors.push(`values: Invalid value: ${list}: for 'in', 'notin' operators, values set can't be empty`);
      break;
    case '=':
    case '==':
    case '!=':
      if (values.length !== 1) errors.push(`values: Invalid value: ${list}: exact-match compatibility requires one single value`);
      break;
    case 'exists':
    case '!':
      if (values.length !== 0) errors.push(`values: Invalid value: ${list}: values set must be empty for exists and does not exist`);
      break;
    case 'gt':
    case 'lt':
      if (values.length !== 1) errors.push(`values: Invalid value: ${list}: for 'Gt', 'Lt' operators, exactly one value is required`);
      values.forEach((v, i) => {
        if (parseInt64(v) === undefined) errors.push(invalid(`values[${i}]`, v, "for 'Gt', 'Lt' operators, the value must be an integer"));
      });
      break;
  }
  values.forEach((v, i) => {
    const problem = valueProblem(v);
    if (problem) errors.push(invalid(`values[${i}][${key}]`, v, problem));
  });
  if (errors.length === 1) throw new Error(errors[0]);
  if (errors.length > 1) throw new Error(`[${errors.join(', ')}]`);
  return { key, operator, values };
}

/** field.Invalid(path, value, detail).Error(). */
function invalid(path: string, value: string, detail: string): string {
  return `${path}: Invalid value: ${goQuote(value)}: ${detail}`;
}

function checkKey(key: string, path: string): void {
  const problem = keyProblem(key);
  if (problem) throw new Error(invalid(path, key, problem));
}

const LABEL_KEY_FMT = '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]';
const LABEL_KEY_RE = new RegExp(`^${LABEL_KEY_FMT}$`);
const LABEL_KEY_MSG = "must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character";
const LABEL_VALUE_FMT = `(${LABEL_KEY_FMT})?`;
const LABEL_VALUE_RE = new RegExp(`^${LABEL_VALUE_FMT}$`);
const LABEL_VALUE_MSG = "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character";
const DNS1123_LABEL_FMT = '[a-z0-9]([-a-z0-9]*[a-z0-9])?';
const DNS1123_SUBDOMAIN_FMT = `${DNS1123_LABEL_FMT}(\\.${DNS1123_LABEL_FMT})*`;
const DNS1123_SUBDOMAIN_RE = new RegExp(`^${DNS1123_SUBDOMAIN_FMT}$`);
const DNS1123_SUBDOMAIN_MSG = "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character";

/** content.RegexError. */
function regexError(msg: string, re: string, ...examples: string[]): string {
  return `${msg} (e.g. ${examples.map((e) => `'${e}', `).join(' or ')}regex used for validation is '${re}')`;
}

const byteLength = (s: string) => Buffer.byteLength(s, 'utf8');

/** content.IsLabelKey, its messages joined with "; " as validateLabelKey does; undefined when valid. */
function keyProblem(value: string): string | undefined {
  const errs: string[] = [];
  const parts = value.split('/');
  let name: string;
  if (parts.length === 1) name = parts[0]!;
  else if (parts.length === 2) {
    const prefix = parts[0]!;
    name = parts[1]!;
    if (prefix.length === 0) errs.push('prefix part must be non-empty');
    else {
      if (byteLength(prefix) > 253) errs.push('prefix part must be no more than 253 bytes');
      if (!DNS1123_SUBDOMAIN_RE.test(prefix)) errs.push(`prefix part ${regexError(DNS1123_SUBDOMAIN_MSG, DNS1123_SUBDOMAIN_FMT, 'example.com')}`);
    }
  } else {
    return `a valid label key ${regexError(LABEL_KEY_MSG, LABEL_KEY_FMT, 'MyName', 'my.name', '123-abc')} with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')`;
  }
  if (name.length === 0) errs.push('name part must be non-empty');
  else if (byteLength(name) > 63) errs.push('name part must be no more than 63 bytes');
  if (!LABEL_KEY_RE.test(name)) errs.push(`name part ${regexError(LABEL_KEY_MSG, LABEL_KEY_FMT, 'MyName', 'my.name', '123-abc')}`);
  return errs.length > 0 ? errs.join('; ') : undefined;
}

/** content.IsLabelValue; undefined when valid. */
function valueProblem(value: string): string | undefined {
  const errs: string[] = [];
  if (byteLength(value) > 63) errs.push('must be no more than 63 bytes');
  if (!LABEL_VALUE_RE.test(value)) errs.push(regexError(LABEL_VALUE_MSG, LABEL_VALUE_FMT, 'MyValue', 'my_value', '12345'));
  return errs.length > 0 ? errs.join('; ') : undefined;
}

/** strconv.ParseInt(v, 10, 64), or undefined. */
function parseInt64(v: string): bigint | undefined {
  if (!/^[+-]?\d+$/.test(v)) return undefined;
  const n = BigInt(v);
  return n >= -(2n ** 63n) && n < 2n ** 63n ? n : undefined;
}

/** Go's strconv.Quote for the messages (printable characters as they are, the rest escaped). */
function goQuote(s: string): string {
  let out = '"';
  for (const ch of s) {
    const cp = ch.codePointAt(0)!;
    if (ch === '"' || ch === '\\') out += `\\${ch}`;
    else if (/[\p{L}\p{M}\p{N}\p{P}\p{S} ]/u.test(ch)) out += ch;
    else if (ch === '\n') out += '\\n';
    else if (ch === '\t') out += '\\t';
    else if (ch === '\r') out += '\\r';
    else if (cp < 0x80) out += `\\x${cp.toString(16).padStart(2, '0')}`;
    else if (cp < 0x10000) out += `\\u${cp.toString(16).padStart(4, '0')}`;
    else out += `\\U${cp.toString(16).padStart(8, '0')}`;
  }
  return out + '"';
}

/**
 * labels.Parse: the requirements of `selector`, sorted by key; `''` is the empty selector
 * (everything). Throws SelectorParseError with apimachinery's message, e.g.
 * `unable to parse requirement: found '', expected: identifier`.
 */
export function parseSelector(selector: string): LabelSelector {
  const requirements = new Parser(lex(selector)).parse();
  // sort.Sort(ByKey): not stable in Go, but requirements with the same key match the same either way.
  return requirements.map((r, i) => [r, i] as const).sort(([a, i], [b, j]) => (a.key < b.key ? -1 : a.key > b.key ? 1 : i - j)).map(([r]) => r);
}

/**
 * An exact `key=value` requirement without validation: profefe's own label filter (any value,
 * `url=10.0.0.1:6060` included), which Kubernetes' grammar could not spell.
 */
export function exactRequirement(key: string, value: string): LabelRequirement {
  return { key, operator: '=', values: [value] };
}

/**
 * Requirement.Matches over a label list. A key that appears more than once (profefe keeps
 * duplicates) matches `=`/`in`/`>`/`<` when any of its values does, and `!=`/`notin` when none
 * does; with one value per key this is exactly Kubernetes' rule (a missing key matches `!=`,
 * `notin` and `!key`, nothing else).
 */
export function matchesRequirement(r: LabelRequirement, labels: readonly LabelPair[]): boolean {
  const values = labels.filter((l) => l.key === r.key).map((l) => l.value);
  switch (r.operator) {
    case 'in':
    case '=':
    case '==':
      return values.some((v) => r.values.includes(v));
    case 'notin':
    case '!=':
      return !values.some((v) => r.values.includes(v));
    case 'exists':
      return values.length > 0;
    case '!':
      return values.length === 0;
    case 'gt':
    case 'lt': {
      const bound = parseInt64(r.values[0] ?? '');
      if (bound === undefined || r.values.length !== 1) return false;
      return values.some((v) => {
        const n = parseInt64(v);
        return n !== undefined && (r.operator === 'gt' ? n > bound : n < bound);
      });
    }
  }
}

/** Whether every requirement matches (the empty selector matches everything). */
export function matchesSelector(selector: LabelSelector, labels: readonly LabelPair[]): boolean {
  return selector.every((r) => matchesRequirement(r, labels));
}

/**
 * The pairs every match must carry: `k=v`, `k==v` and `k in (v)`. A store that filters by exact
 * pairs (profefe's `labels` parameter) can be asked for these, and the whole selector applied
 * to what it returns.
 */
export function exactPairs(selector: LabelSelector): LabelPair[] {
  return selector
    .filter((r) => (r.operator === '=' || r.operator === '==' || r.operator === 'in') && r.values.length === 1)
    .map((r) => ({ key: r.key, value: r.values[0]! }));
}

/** Whether the selector says no more than its exactPairs (a store's exact filter is then the whole answer). */
export function isExactOnly(selector: LabelSelector): boolean {
  return exactPairs(selector).length === selector.length;
}

/** Requirement.String: `x in (a,b)`, `x notin (a)`, `x!=a`, `x`, `!x`, `x>1`. */
export function formatRequirement(r: LabelRequirement): string {
  const values = [...r.values].sort().join(',');
  switch (r.operator) {
    case 'exists':
      return r.key;
    case '!':
      return `!${r.key}`;
    case 'in':
      return `${r.key} in (${values})`;
    case 'notin':
      return `${r.key} notin (${values})`;
    case 'gt':
      return `${r.key}>${values}`;
    case 'lt':
      return `${r.key}<${values}`;
    default:
      return `${r.key}${r.operator}${values}`;
  }
}

/** Selector.String: the requirements joined with `,` (the empty selector is ''). */
export function formatSelector(selector: LabelSelector): string {
  return selector.map(formatRequirement).join(',');
}
