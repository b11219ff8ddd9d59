import { escapeTerminal, hasControlCharacters, jsonForTerminal } from '../../src/report/terminal-text.js';

describe('escapeTerminal', () => {
  test.each([
    ['a title-set sequence (OSC 0)', '\x1b]0;pwned\x07', '\\x1b]0;pwned\\x07'],
    ['clear screen and cursor home', 'x\x1b[2J\x1b[H', 'x\\x1b[2J\\x1b[H'],
    ['newlines, carriage returns and tabs', 'a\nb\rc\td', 'a\\nb\\rc\\td'],
    ['NUL and DEL', '\0\x7f', '\\x00\\x7f'],
    ['an 8-bit CSI (C1 control)', '\u009b31m', '\\x9b31m'],
    ['a bidi override (CVE-2021-42574)', 'abc\u202edcb', 'abc\\u202edcb'],
    ['line and paragraph separators', '\u2028\u2029', '\\u2028\\u2029'],
  ])('escapes %s', (_what, input, shown) => {
    expect(escapeTerminal(input)).toBe(shown);
    expect(hasControlCharacters(input)).toBe(true);
    expect(hasControlCharacters(escapeTerminal(input))).toBe(false);
  });

  test.each([['plain ASCII', 'checkout-7d9f8b6c4-x2x9z'], ['backslashes', 'C:\\x1b'], ['Unicode text', 'café ā 日本 😀']])('leaves %s alone', (_what, text) => {
    expect(escapeTerminal(text)).toBe(text);
    expect(hasControlCharacters(text)).toBe(false);
  });
});

describe('jsonForTerminal', () => {
  test('escapes what JSON allows raw but a terminal acts on, and parses back to the same value', () => {
    const value = { s: 'a\x1b[2J\u009b\u202e\u2028\x7fz', n: 1 };
    const text = jsonForTerminal(value);
    expect(hasControlCharacters(text)).toBe(false);
    expect(JSON.parse(text)).toEqual(value);
  });
});
