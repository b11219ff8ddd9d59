/**
 * YAML for -o yaml, written here rather than by js-yaml's dump for two reasons: results carry
 * exact int64 values as bigints (dump cannot write them), and text from outside (store labels,
 * service names, function names) must reach a terminal with its control characters escaped
 * while staying the same value: dump writes U+202E and the other bidi controls raw, since YAML
 * counts them printable. Such strings, and every string a plain scalar could misread, are
 * written double-quoted with JSON's escapes (`\u202e`), which YAML's double-quoted style shares.
 * Block style, two-space indentation, keys in insertion order (kubectl sorts none of ours).
 */
import { jsonForTerminal } from './terminal-text.js';

/** `value` as a YAML document (ends with a newline). Objects with a toJSON method are written as its result. */
export function renderYaml(value: unknown): string {
  return block(value, '').join('\n') + '\n';
}

/** A plain scalar only when YAML 1.1 and 1.2 both read it back as this very string. */
const PLAIN = /^[A-Za-z_/.][A-Za-z0-9_./@-]*(?: [A-Za-z0-9_./@()-]+)*$/;
const RESERVED = /^(?:y|Y|yes|Yes|YES|n|N|no|No|NO|true|True|TRUE|false|False|FALSE|on|On|ON|off|Off|OFF|null|Null|NULL|~|\.inf|\.nan|\.Inf|\.NaN|\.INF|\.NAN)$/;

function scalar(value: unknown): string | undefined {
  switch (typeof value) {
    case 'bigint':
      return value.toString();
    case 'number':
      return Number.isFinite(value) ? String(value) : value > 0 ? '.inf' : value < 0 ? '-.inf' : '.nan';
    case 'boolean':
      return String(value);
    case 'string':
      return PLAIN.test(value) && !RESERVED.test(value) ? value : jsonForTerminal(value);
  }
  if (value === null || value === undefined) return 'null';
  return undefined;
}

function block(value: unknown, indent: string): string[] {
  const toJSON = (value as { toJSON?: () => unknown } | null)?.toJSON;
  if (typeof toJSON === 'function') return block(toJSON.call(value), indent);
  const s = scalar(value);
  if (s !== undefined) return [indent + s];
  if (Array.isArray(value)) {
    if (value.length === 0) return [`${indent}[]`];
    const lines: string[] = [];
    for (const item of value) {
      const inner = block(item, indent + '  ');
      // `- ` then the item's first line in place of its indentation.
      lines.push(`${indent}- ${inner[0]!.slice(indent.length + 2)}`, ...inner.slice(1));
    }
    return lines;
  }
  const entries = Object.entries(value as Record<string, unknown>).filter(([, v]) => v !== undefined && typeof v !== 'function');
  if (entries.length === 0) return [`${indent}{}`];
  const lines: string[] = [];
  for (const [k, v] of entries) {
    const key = scalar(k)!;
    const s = scalar(v);
    if (s !== undefined) lines.push(`${indent}${key}: ${s}`);
    else if ((Array.isArray(v) && v.length === 0) || (!Array.isArray(v) && Object.keys(v as object).length === 0 && typeof (v as { toJSON?: unknown }).toJSON !== 'function')) {
      lines.push(`${indent}${key}: ${Array.isArray(v) ? '[]' : '{}'}`);
    } else if (Array.isArray(v)) lines.push(`${indent}${key}:`, ...block(v, indent));
    else lines.push(`${indent}${key}:`, ...block(v, indent + '  '));
  }
  return lines;
}

/**
 * A list as kubectl prints one (`kubectl get pods -o yaml`): `apiVersion: v1`, `kind: List`,
 * the items, and `metadata.resourceVersion: ""`; in that key order, which is also kubectl's -o json order.
 */
export function kubeList(items: readonly unknown[]): { apiVersion: 'v1'; items: readonly unknown[]; kind: 'List'; metadata: { resourceVersion: '' } } {
  return { apiVersion: 'v1', items, kind: 'List', metadata: { resourceVersion: '' } };
}
