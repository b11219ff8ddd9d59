// Tables from k8s.io/apimachinery pkg/labels/selector_test.go (TestSelectorParse, TestSelectorMatches,
// TestSetSelectorParser, TestToString, TestRequirementSelectorMatching, TestParseOperator), and the
// exact messages labels.Parse gives (checked against apimachinery's code paths: parse, parseOperator,
// NewRequirement, validateLabelKey / IsLabelKey, IsLabelValue).
import { exactPairs, formatSelector, isExactOnly, matchesSelector, parseSelector, SelectorParseError, type LabelPair } from '../../src/labels/selector.js';

const set = (o: Record<string, string>): LabelPair[] => Object.entries(o).map(([key, value]) => ({ key, value }));

describe('parseSelector', () => {
  test.each(['x=a,y=b,z=c', '', 'x!=a,y=b', 'x=', 'x= ', 'x=,z= ', 'x= ,z= ', '!x', 'x>1', 'x>1,z<5'])('parses %j and prints it back without spaces (TestSelectorParse)', (s) => {
    expect(formatSelector(parseSelector(s))).toBe(s.replace(/ /g, ''));
  });

  test.each(['x=a||y=b', 'x==a==b', '!x=a', 'x<a', 'x,,y', ',x,y', 'x nott in (y)', 'a in (xyz),', 'a in (xyz)b notin ()', 'a in (xyz abc)', 'a notin(', 'a (', '('])('refuses %j', (s) => {
    expect(() => parseSelector(s)).toThrow(SelectorParseError);
  });

  test('is deterministic: requirements sorted by key (TestDeterministicParse)', () => {
    expect(formatSelector(parseSelector('x=a,a=x'))).toBe(formatSelector(parseSelector('a=x,x=a')));
  });

  // TestSetSelectorParser's valid cases, printed as Requirement.String prints them.
  test.each([
    ['\rx', 'x'],
    ['this-is-a-dns.domain.com/key-with-dash', 'this-is-a-dns.domain.com/key-with-dash'],
    ['this-is-another-dns.domain.com/key-with-dash in (so,what)', 'this-is-another-dns.domain.com/key-with-dash in (so,what)'],
    ['0.1.2.domain/99 notin (10.10.100.1, tick.tack.clock)', '0.1.2.domain/99 notin (10.10.100.1,tick.tack.clock)'],
    ['foo  in\t (abc)', 'foo in (abc)'],
    ['x notin\n (abc)', 'x notin (abc)'],
    ['x in (abc,)', 'x in (,abc)'],
    ['x in (abc,abc)', 'x in (abc)'],
    ['x in ()', 'x in ()'],
    ['x in (a,,,,,,)', 'x in (,a)'],
    ['x in (a,,a,,a,,a,,)', 'x in (,a)'],
    ['x notin (abc,,def),bar,z in (),w', 'bar,w,x notin (,abc,def),z in ()'],
    ['x=a,y!=b,z in (h,i,j)', 'x=a,y!=b,z in (h,i,j)'],
    ['x notin ( )', 'x notin ()'],
    ['x notin (, a)', 'x notin (,a)'],
    ['a ', 'a'],
    ['a in (x,y,notin, z,in)', 'a in (in,notin,x,y,z)'],
    ['x==a', 'x==a'],
  ])('%j is %j (TestSetSelectorParser)', (input, printed) => {
    expect(formatSelector(parseSelector(input))).toBe(printed);
  });

  test.each([
    ['x=a||y=b', "unable to parse requirement: values[0][x]: Invalid value: \"a||y\": a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')"],
    ['x==a==b', "found '==', expected: ',' or 'end of string'"],
    ['x,,y', "found ',', expected: identifier after ','"],
    ['(', "found '(', expected: !, identifier, or 'end of string'"],
    ['a (', "unable to parse requirement: found '(', expected: in, notin, =, ==, !=, gt, lt"],
    ['a in (xyz abc)', "unable to parse requirement: found 'abc', expected: ',' or ')'"],
    ['x<a', 'unable to parse requirement: values[0]: Invalid value: "a": for \'Gt\', \'Lt\' operators, the value must be an integer'],
    ['-a', "unable to parse requirement: <nil>: Invalid value: \"-a\": name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')"],
    ['/a', 'unable to parse requirement: <nil>: Invalid value: "/a": prefix part must be non-empty'],
    [`${'k'.repeat(64)}`, `unable to parse requirement: <nil>: Invalid value: "${'k'.repeat(64)}": name part must be no more than 63 bytes`],
    [`x=${'v'.repeat(64)}`, `unable to parse requirement: values[0][x]: Invalid value: "${'v'.repeat(64)}": must be no more than 63 bytes`],
    ['url=10.0.0.1:6060', "unable to parse requirement: values[0][url]: Invalid value: \"10.0.0.1:6060\": a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')"],
  ])('%j fails with apimachinery\'s message', (input, message) => {
    expect(() => parseSelector(input)).toThrow(message);
    try {
      parseSelector(input);
    } catch (err) {
      expect((err as Error).message).toBe(message);
    }
  });
});

describe('matchesSelector', () => {
  // TestSelectorMatches and TestRequirementSelectorMatching.
  test.each([
    ['', { x: 'y' }, true],
    ['x=y', { x: 'y' }, true],
    ['x=y,z=w', { x: 'y', z: 'w' }, true],
    ['x!=y,z!=w', { x: 'z', z: 'a' }, true],
    ['notin=in', { notin: 'in' }, true],
    ['x', { x: 'z' }, true],
    ['!x', { y: 'z' }, true],
    ['x>1', { x: '2' }, true],
    ['x<1', { x: '0' }, true],
    ['x=z', {}, false],
    ['x=y', { x: 'z' }, false],
    ['x=y,z=w', { x: 'w', z: 'w' }, false],
    ['x!=y,z!=w', { x: 'z', z: 'w' }, false],
    ['x', { y: 'z' }, false],
    ['!x', { x: 'z' }, false],
    ['x>1', { x: '0' }, false],
    ['x<1', { x: '2' }, false],
    ['foo=bar,baz=blah', { foo: 'bar', baz: 'blah' }, true],
    ['foo=bar,foobar=bar,baz=blah', { foo: 'bar', baz: 'blah' }, false],
    ['x in (foo),y notin (alpha)', { x: 'foo', y: 'baz' }, true],
    ['x in (foo),y in (alpha)', { x: 'foo', y: 'baz' }, false],
    ['x notin (),y', { y: '' }, true],
    ['!x,y', { y: '' }, true],
    ['x notin (),!y', { y: '' }, false],
    ['x in ()', { y: 'baz' }, false],
    ['z>1', { z: '2' }, true],
    ['z>1', { z: 'v2' }, false],
    ['x!=y', {}, true],
    ['env in (prod,staging)', { env: 'staging' }, true],
    ['env notin (prod,staging)', { env: 'dev' }, true],
  ])('%j against %j: %s', (selector, labels, match) => {
    expect(matchesSelector(parseSelector(selector), set(labels as Record<string, string>))).toBe(match);
  });

  test('a repeated store key matches = when any value does, and != only when none does', () => {
    const labels = [{ key: 'a', value: '0' }, { key: 'a', value: '1' }];
    expect(matchesSelector(parseSelector('a=1'), labels)).toBe(true);
    expect(matchesSelector(parseSelector('a!=1'), labels)).toBe(false);
    expect(matchesSelector(parseSelector('a notin (2)'), labels)).toBe(true);
  });
});

describe('exactPairs', () => {
  test.each([
    ['a=1,b==2,c in (3)', [['a', '1'], ['b', '2'], ['c', '3']], true],
    ['a=1,b!=2', [['a', '1']], false],
    ['a in (1,2),b', [], false],
    ['', [], true],
  ])('%j: exact pairs %j (all of it: %s)', (selector, pairs, exactOnly) => {
    const parsed = parseSelector(selector);
    expect(exactPairs(parsed).map((p) => [p.key, p.value])).toEqual(pairs);
    expect(isExactOnly(parsed)).toBe(exactOnly);
  });
});
