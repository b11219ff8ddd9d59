import { load } from 'js-yaml';
import { kubeList, renderYaml } from '../../src/report/yaml.js';

describe('renderYaml', () => {
  // Strings a plain scalar would misread (YAML 1.1 booleans, numbers, nulls, indicators) come back as strings.
  const tricky = ['', 'yes', 'No', 'on', 'OFF', 'true', 'null', '~', '1.5', '0x1f', '1e3', '-', '- a', 'a: b', 'a #b', '#x', '[x]', '{x}', '*x', '&x', '!x', '%x', '@x', '`x`', '"q"', "'q'", '|', '>', ' lead', 'trail ', 'a\nb', 'tab\there', '.inf', '2026-01-15', '12:30', 'main.(*walker).run', 'profile/abc', 'ünïcode', 'emoji 🔥'];
  test.each(tricky)('%j reads back as the same string', (s) => {
    expect(load(renderYaml({ s, list: [s] }))).toEqual({ s, list: [s] });
  });

  test('control and bidi characters are written as escapes and read back as themselves', () => {
    const s = 'a\u202eb\u0007c\u0085d\u2028e\u2066f\u007f';
    const text = renderYaml({ s });
    expect(text).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/);
    expect(load(text)).toEqual({ s });
  });

  test('numbers, bigints beyond 2^53 (exact digits), booleans, null, empty collections and nesting', () => {
    const value = { n: 42, neg: -7, f: 0.25, big: 9_223_372_036_854_775_807n, t: true, z: null, e: [], o: {}, nested: [{ a: [1, [2, 3]], b: { c: 'd' } }] };
    const text = renderYaml(value);
    expect(text).toContain('big: 9223372036854775807\n');
    expect(load(text)).toEqual({ ...value, big: 9_223_372_036_854_775_807 });
  });

  test('a kind: List as kubectl prints one', () => {
    expect(renderYaml(kubeList([{ name: 'auth' }]))).toBe('apiVersion: v1\nitems:\n- name: auth\nkind: List\nmetadata:\n  resourceVersion: ""\n');
    expect(renderYaml(kubeList([]))).toBe('apiVersion: v1\nitems: []\nkind: List\nmetadata:\n  resourceVersion: ""\n');
  });
});
