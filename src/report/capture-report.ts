import type { CaptureOutcome } from '../capture/engine.js';
import type { NotUploaded } from '../capture/store-sink.js';
import type { SkippedPod } from '../kube/pods.js';
import type { ChalkInstance } from 'chalk';
import { palette } from './colour.js';
import { alignColumns } from './columns.js';
import { escapeTerminal, jsonForTerminal } from './terminal-text.js';
import { formatSize } from './units.js';
import { profileUsage, type ResourceUsage } from '../trend/usage.js';
import { usageJson, usageText } from './usage-report.js';

/** What `kubectl profefe capture` did, for the summary table and `-o json`. */
export interface CaptureSummary {
  readonly outcomes: readonly CaptureOutcome[];
  readonly skipped: readonly SkippedPod[];
  readonly seconds: number;
  readonly wallMs: number;
  /** Things that went wrong beside the captures (e.g. the local store could not be opened). */
  readonly warnings?: readonly string[];
  /** Captured profiles the store could not take, kept in the spool for `kubectl profefe push`. */
  readonly notUploaded?: NotUploaded;
}

/**
 * What a captured CPU or heap profile used against its container's requests and limits
 * (profileUsage: cores by the cores rule over the profile's duration_nanos, the capture window
 * without one; in-use bytes), or undefined for other types, failures, and containers (and URL
 * targets) that set no request or limit of that resource.
 */
export function outcomeUsage(o: CaptureOutcome, seconds: number): ResourceUsage | undefined {
  if (!o.ok || !o.usage) return undefined;
  return profileUsage(o.usage, o.target.resources, `${o.target.namespace}/${o.target.pod}`, seconds * 1e9);
}

/**
 * A kubectl-style table: NAMESPACE, POD (or URL for --url captures), SERVICE, TYPE, SIZE, SAMPLES,
 * USAGE (only when some captured container sets requests or limits: usageText of outcomeUsage),
 * then the file or the error.
 */
export function renderCaptureTable(s: CaptureSummary, paint: ChalkInstance = palette(false)): string {
  // A capture is of URLs or of pods, never both (capture --url refuses pod arguments).
  const byUrl = s.outcomes.length > 0 && s.outcomes.every((o) => o.target.url !== undefined);
  const usages = s.outcomes.map((o) => outcomeUsage(o, s.seconds));
  const withUsage = usages.some((u) => u !== undefined);
  const rows: string[][] = [[...(byUrl ? ['URL'] : ['NAMESPACE', 'POD']), 'SERVICE', 'TYPE', 'SIZE', 'SAMPLES', ...(withUsage ? ['USAGE'] : []), 'RESULT']];
  s.outcomes.forEach((o, i) => {
    const usage = usages[i];
    rows.push([
      ...(byUrl ? [o.target.url!] : [o.target.namespace, o.target.pod]),
      o.target.service,
      o.type,
      o.ok ? formatSize(o.size) : '-',
      o.ok ? String(o.samples) : '-',
      ...(withUsage ? [usage ? usageText(usage) : '-'] : []),
      o.ok ? o.location : `error: ${o.error}`,
    ]);
  });
  for (const p of s.skipped) rows.push([p.namespace, p.pod, '-', '-', '-', '-', ...(withUsage ? ['-'] : []), `${p.invalid ? 'error' : 'skipped'}: ${p.reason}`]);
  // Names, annotations and pod error bodies come from whoever may create pods.
  const lines = alignColumns(rows.map((r) => r.map(escapeTerminal))).split('\n');
  // Failed captures and pods with bad annotations in red; the header is line 0.
  const failed = [...s.outcomes.map((o) => !o.ok), ...s.skipped.map((p) => p.invalid === true)];
  return lines.map((line, i) => (i > 0 && failed[i - 1] ? paint.red(line) : line)).join('\n') + '\n' + summaryLine(s) + '\n';
}

/** One line: how many profiles were captured, failed and skipped, and how long it took. */
export function summaryLine(s: CaptureSummary): string {
  const ok = s.outcomes.filter((o) => o.ok).length;
  const failed = s.outcomes.length - ok;
  const pods = new Set(s.outcomes.map((o) => o.target.url ?? `${o.target.namespace}/${o.target.pod}`)).size;
  const what = s.outcomes.length > 0 && s.outcomes.every((o) => o.target.url !== undefined) ? 'URL' : 'pod';
  const parts = [`${ok} of ${s.outcomes.length} profiles captured from ${pods} ${what}${pods === 1 ? '' : 's'} in ${(s.wallMs / 1000).toFixed(1)}s`];
  const invalid = s.skipped.filter((p) => p.invalid).length;
  const skipped = s.skipped.length - invalid;
  if (failed) parts.push(`${failed} failed`);
  if (invalid) parts.push(`${invalid} pod${invalid === 1 ? '' : 's'} with bad annotations`);
  if (skipped) parts.push(`${skipped} pod${skipped === 1 ? '' : 's'} skipped`);
  const line = parts.join(', ');
  return s.notUploaded ? `${line}; ${notUploadedText(s.notUploaded)}` : line;
}

/** `2 not uploaded (unreachable), kept in DIR: run 'kubectl profefe push'`. */
export function notUploadedText(n: NotUploaded): string {
  return `${n.files.length} not uploaded (store ${n.reason}), kept in ${n.spoolDir}: run 'kubectl profefe push'`;
}

/**
 * Machine-readable summary: one object per capture and per skipped pod. A CPU or heap capture
 * whose container sets requests or limits has `usage` (usageJson of outcomeUsage).
 */
export function captureJson(s: CaptureSummary): string {
  const captures = s.outcomes.map((o) => {
    const usage = outcomeUsage(o, s.seconds);
    return {
      ...(o.target.url !== undefined ? { url: o.target.url } : { namespace: o.target.namespace, pod: o.target.pod }),
      service: o.target.service,
      container: o.target.container ?? null,
      node: o.target.node ?? null,
      type: o.type,
      ok: o.ok,
      ...(o.ok ? { bytes: o.size, samples: o.samples, file: o.location } : { error: o.error }),
      ...(usage ? { usage: usageJson(usage) } : {}),
      ms: o.ms,
    };
  });
  const skipped = s.skipped.map((p) => ({ namespace: p.namespace, pod: p.pod, reason: p.reason, ...(p.invalid ? { invalid: true } : {}) }));
  const notUploaded = s.notUploaded ? { notUploaded: { count: s.notUploaded.files.length, spoolDir: s.notUploaded.spoolDir, reason: s.notUploaded.reason, files: s.notUploaded.files } } : {};
  return jsonForTerminal({ captures, skipped, seconds: s.seconds, wallMs: s.wallMs, ...notUploaded }, 2) + '\n';
}
