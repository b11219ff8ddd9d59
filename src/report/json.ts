import { jsonForTerminal } from './terminal-text.js';

/**
 * JSON for results that carry exact int64 values: like JSON.stringify(value, null, indent),
 * except that a bigint is written as its raw digits (JSON.stringify throws on bigints, and a
 * number above 2^53 would print rounded). Readers that parse into doubles round such numbers
 * themselves; the text is exact.
 */
export function stringifyJson(value: unknown, indent = 2): string {
  return write(value, '', ' '.repeat(indent)) ?? 'null';
}

function write(value: unknown, current: string, step: string): string | undefined {
  switch (typeof value) {
    case 'bigint':
      return value.toString();
    case 'number':
      return Number.isFinite(value) ? JSON.stringify(value) : 'null';
    case 'string':
      // Function names, services and labels come from outside: their bidi and C1 controls escaped too.
      return jsonForTerminal(value);
    case 'boolean':
      return JSON.stringify(value);
    case 'undefined':
    case 'function':
    case 'symbol':
      return undefined;
  }
  if (value === null) return 'null';
  const inner = current + step;
  if (Array.isArray(value)) {
    if (value.length === 0) return '[]';
    const items = value.map((v) => write(v, inner, step) ?? 'null');
    return step ? `[\n${inner}${items.join(`,\n${inner}`)}\n${current}]` : `[${items.join(',')}]`;
  }
  const toJSON = (value as { toJSON?: () => unknown }).toJSON;
  if (typeof toJSON === 'function') return write(toJSON.call(value), current, step);
  const entries: string[] = [];
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
    const text = write(v, inner, step);
    if (text !== undefined) entries.push(`${jsonForTerminal(k)}:${step ? ' ' : ''}${text}`);
  }
  if (entries.length === 0) return '{}';
  return step ? `{\n${inner}${entries.join(`,\n${inner}`)}\n${current}}` : `{${entries.join(',')}}`;
}
