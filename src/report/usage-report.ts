/**
 * Usage against requests for people and scripts: `0.42 cores of 0.25 requested (168%), limit 1`,
 * `301Mi in use of 256Mi requested (118%), limit 512Mi`, the JSON of the same numbers, and
 * `top --by-service`'s table of services.
 */
import { formatMemory } from '../kube/quantity.js';
import { perPod, usedOver, type ResourceUsage } from '../trend/usage.js';
import { alignColumns } from './columns.js';
import { escapeTerminal } from './terminal-text.js';

/**
 * Cores for people: two decimals from 0.1 core (`0.42`, `1.50`), two significant digits below it
 * (`0.0042`), `0` for none. Used cores are measured, so they carry no more digits than that.
 */
export function formatCores(cores: number): string {
  if (cores === 0) return '0';
  // toPrecision keeps a trailing zero (0.090 beside 0.093), so a column's digits mean the same.
  return cores >= 0.1 ? cores.toFixed(2) : cores.toPrecision(2);
}

/**
 * Measured in-use bytes for people, in kubectl's binary units: two significant digits below 10 of
 * the largest unit that fits (`2.4Mi`, `0.49Ki`), whole units from 10 (`301Mi`), `0` for none.
 * Never rounded up to a whole unit (formatMemory's rule for quantities): a 2.1Mi heap shown as
 * `3Mi` next to its exact share of a 16Mi request (13%) would contradict it.
 */
export function formatInuseBytes(bytes: number): string {
  if (bytes === 0) return '0';
  const [unit, size] = bytes >= 2 ** 30 ? ['Gi', 2 ** 30] : bytes >= 2 ** 20 ? ['Mi', 2 ** 20] : ['Ki', 2 ** 10];
  const value = bytes / size;
  return `${value >= 10 ? Math.round(value) : Number(value.toPrecision(2))}${unit}`;
}

/** Requested or limited cores: exact millicores as a decimal, trailing zeros dropped (`0.25`, `1`, `2.5`). */
export function formatRequestedCores(cores: number): string {
  return String(Number(cores.toFixed(3)));
}

/** `168%`: a ratio as a whole percentage. */
export function formatShare(ratio: number): string {
  return `${Math.round(ratio * 100)}%`;
}

/** A requested or limited amount in its resource's words: cores (`0.42`) or kubectl's memory quantity (`301Mi`). */
function amount(u: ResourceUsage, value: number, requested: boolean): string {
  if (u.resource === 'memory') return formatMemory(value);
  return requested ? formatRequestedCores(value) : formatCores(value);
}

/**
 * One phrase: `0.42 cores of 0.25 requested (168%), limit 1` for CPU, `301Mi in use of 256Mi
 * requested (118%), limit 512Mi` for memory. Of several pods, the amounts are the mean pod's
 * (perPod: `0.42 cores per pod of 0.25 requested`), the share the sums'. Without a request or
 * limit, that part is left out; set on some of the pods only, the phrase says on how many (`of
 * 0.25 requested by 2 of 3 pods`) and gives no percentage.
 */
export function usageText(u: ResourceUsage): string {
  const mean = perPod(u);
  const each = u.pods > 1 ? ' per pod' : '';
  let text = u.resource === 'cpu' ? `${formatCores(mean.used)} cores${each}` : `${formatInuseBytes(mean.used)} in use${each}`;
  const some = (n: number) => (n < u.pods ? ` by ${n} of ${u.pods} pods` : '');
  if (mean.request !== undefined) {
    text += ` of ${amount(u, mean.request, true)} requested${some(u.podsWithRequest)}`;
    const share = usedOver(u, 'request');
    if (share !== undefined) text += ` (${formatShare(share)})`;
  }
  if (mean.limit !== undefined) text += `, limit ${amount(u, mean.limit, true)}${u.podsWithLimit < u.pods ? ` on ${u.podsWithLimit} of ${u.pods} pods` : ''}`;
  return text;
}

/**
 * The JSON of a usage, as sums over its pods (a script divides by `pods` for the mean pod that
 * the table shows): CPU as `{ cores, requestCores, limitCores, usedOverRequest, usedOverLimit }`,
 * memory as `{ inuseBytes, requestBytes, limitBytes, usedOverRequest, usedOverLimit }` (a request
 * or limit that no pod sets left out; the ratios only when every pod sets it), and with `pods`
 * the pod counts (`pods`, `podsWithRequest`, `podsWithLimit`).
 */
export function usageJson(u: ResourceUsage, opts: { pods?: boolean } = {}): Record<string, number> {
  const cpu = u.resource === 'cpu';
  const overRequest = usedOver(u, 'request');
  const overLimit = usedOver(u, 'limit');
  return {
    [cpu ? 'cores' : 'inuseBytes']: u.used,
    ...(u.request !== undefined ? { [cpu ? 'requestCores' : 'requestBytes']: u.request } : {}),
    ...(u.limit !== undefined ? { [cpu ? 'limitCores' : 'limitBytes']: u.limit } : {}),
    ...(overRequest !== undefined ? { usedOverRequest: overRequest } : {}),
    ...(overLimit !== undefined ? { usedOverLimit: overLimit } : {}),
    ...(opts.pods ? { pods: u.pods, podsWithRequest: u.podsWithRequest, podsWithLimit: u.podsWithLimit } : {}),
  };
}

/** A service's usage, as `top` computes it. */
export interface ServiceUsageRow {
  readonly service: string;
  readonly usage: ResourceUsage;
}

/**
 * `top`'s header lines, one per service that sets requests or limits: `Usage: auth: 0.42 cores
 * of 0.5 requested (84%), limit 2, 2 pods`. Service names are escaped here.
 */
export function serviceUsageLines(rows: readonly ServiceUsageRow[]): string[] {
  return rows.map((r) => `Usage: ${escapeTerminal(r.service)}: ${usageText(r.usage)}, ${r.usage.pods} pod${r.usage.pods === 1 ? '' : 's'}`);
}

/**
 * `top --by-service`: SERVICE, PODS, CORES/POD (IN-USE/POD for heap), REQUEST/POD, USED/REQUEST,
 * LIMIT/POD, in the rows' order (rankByRequest): the mean pod's amounts (perPod), the sums' share.
 * A request or limit set on some pods only shows their mean and how many (`0.25 (2/3 pods)`) and no
 * share; `-` where no pod sets it. Header lines first.
 */
export function renderServiceUsageTable(rows: readonly ServiceUsageRow[], header: readonly string[] = []): string {
  const memory = rows[0]?.usage.resource === 'memory';
  const table: string[][] = [['SERVICE', 'PODS', memory ? 'IN-USE/POD' : 'CORES/POD', 'REQUEST/POD', 'USED/REQUEST', 'LIMIT/POD']];
  for (const { service, usage: u } of rows) {
    const mean = perPod(u);
    const some = (value: number | undefined, pods: number) =>
      value === undefined ? '-' : amount(u, value, true) + (pods < u.pods ? ` (${pods}/${u.pods} pods)` : '');
    const share = usedOver(u, 'request');
    table.push([
      service,
      String(u.pods),
      u.resource === 'cpu' ? formatCores(mean.used) : formatInuseBytes(mean.used),
      some(mean.request, u.podsWithRequest),
      share === undefined ? '-' : formatShare(share),
      some(mean.limit, u.podsWithLimit),
    ]);
  }
  return [...header, alignColumns(table.map((r) => r.map(escapeTerminal)))].join('\n') + '\n';
}
