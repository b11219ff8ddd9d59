import { formatLabels, type ProfileMeta } from '../store/store.js';
import { windowTypeOf } from '../store/window-query.js';
import { alignColumns } from './columns.js';
import { escapeTerminal, jsonForTerminal } from './terminal-text.js';
import { kubeList, renderYaml } from './yaml.js';

export type ListFormat = 'table' | 'wide' | 'json' | 'yaml' | 'name';
export const LIST_FORMATS: readonly ListFormat[] = ['table', 'wide', 'json', 'yaml', 'name'];

/**
 * Profile metas in a kubectl-style format. Times are local in tables and ISO (UTC) in json/yaml.
 * A table's TYPE is the --type that finds the profile (allocs for the allocs deltas profefe
 * stores as heap); json and yaml keep the store's type and labels, in a `kind: List` as kubectl's
 * lists, with outside text's control characters written as escapes (`\u202e`): still the same
 * value to a parser, and harmless on a terminal.
 */
export function renderProfiles(metas: readonly ProfileMeta[], format: ListFormat, now: Date): string {
  switch (format) {
    case 'json':
      return jsonForTerminal(kubeList(metas.map(toJson)), 2) + '\n';
    case 'yaml':
      return renderYaml(kubeList(metas.map(toJson)));
    case 'name':
      return metas.map((m) => `profile/${escapeTerminal(m.id)}\n`).join('');
    default: {
      const header = ['ID', 'SERVICE', 'TYPE', 'CREATED', 'AGE', ...(format === 'wide' ? ['LABELS'] : [])];
      const rows = metas.map((m) => [
        m.id,
        m.service,
        windowTypeOf(m),
        localTime(m.createdAt),
        age(now.getTime() - m.createdAt.getTime()),
        ...(format === 'wide' ? [formatLabels(m.labels) || '<none>'] : []),
      ]);
      // Ids, services and labels are whatever was uploaded to the store.
      return alignColumns([header, ...rows.map((r) => r.map(escapeTerminal))]) + '\n';
    }
  }
}

/** A list of names (services, types) in a kubectl-style format; json and yaml as a `kind: List` of `{name}`. */
export function renderNames(kind: string, names: readonly string[], format: ListFormat): string {
  switch (format) {
    case 'json':
      return jsonForTerminal(kubeList(names.map((name) => ({ name }))), 2) + '\n';
    case 'yaml':
      return renderYaml(kubeList(names.map((name) => ({ name }))));
    case 'name':
      return names.map((n) => `${kind}/${escapeTerminal(n)}\n`).join('');
    default:
      return alignColumns([['NAME'], ...names.map((n) => [escapeTerminal(n)])]) + '\n';
  }
}

function toJson(m: ProfileMeta) {
  return { id: m.id, service: m.service, type: m.type, labels: Object.fromEntries(m.labels.map((l) => [l.key, l.value])), created_at: m.createdAt.toISOString() };
}

/** `2026-11-25 16:04:05`, in the local time zone like kubectl's describe output. */
function localTime(d: Date): string {
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}

/** kubectl's AGE column: 45s, 12m, 5h, 3d. */
export function age(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  if (s < 120) return `${s}s`;
  if (s < 7200) return `${Math.floor(s / 60)}m`;
  if (s < 172_800) return `${Math.floor(s / 3600)}h`;
  return `${Math.floor(s / 86_400)}d`;
}
