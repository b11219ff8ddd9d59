/**
 * `doctor`'s output: the store and cluster findings, then a block per pod with one line per
 * finding (severity, check, what was found, and what to do); or the same as JSON or YAML. Every
 * string from the cluster (pod names, annotation keys and values, what pods answered) reaches the
 * terminal escaped.
 */
import type { ChalkInstance } from 'chalk';
import wrapAnsi from 'wrap-ansi';
import { allFindings, worstSeverity, type DoctorReport, type Finding, type PodDiagnosis, type Severity } from '../doctor/findings.js';
import { palette } from './colour.js';
import { stringifyJson } from './json.js';
import { escapeTerminal } from './terminal-text.js';
import { renderYaml } from './yaml.js';

/** How many pods are well, and how many findings need attention. */
export interface DoctorSummary {
  readonly pods: number;
  readonly allWell: number;
  readonly errors: number;
  readonly warnings: number;
}

/** Counts over the whole report (store and cluster findings included). */
export function summarizeDoctor(report: DoctorReport): DoctorSummary {
  const findings = allFindings(report);
  return {
    pods: report.pods.length,
    allWell: report.pods.filter((p) => worstSeverity(p.findings) === 'ok').length,
    errors: findings.filter((f) => f.severity === 'error').length,
    warnings: findings.filter((f) => f.severity === 'warn').length,
  };
}

const SEVERITY_WIDTH = 5;
const CHECK_WIDTH = 11;

/** The narrowest terminal whose findings are wrapped: below it, a message column would be too thin to read. */
const MIN_WRAP_COLUMNS = 60;

/**
 * The report as text: `store` and `access` lines, then per pod a heading (`ns/pod: all well`, or
 * `needs attention (1 error, 2 warnings)`) and its findings, the ok profile types on one line;
 * a summary line last. Colours severities when `paint` does. With `columns` (a terminal's width,
 * at least 60), a finding's text is wrapped under its own column; without, each is one line (for
 * pipes and grep).
 */
export function renderDoctorTable(report: DoctorReport, paint: ChalkInstance = palette(false), columns?: number): string {
  const width = columns !== undefined && columns >= MIN_WRAP_COLUMNS ? columns : undefined;
  const out: string[] = [];
  for (const f of [...report.store, ...report.cluster]) out.push(findingLine(f, '', paint, width));
  for (const pod of report.pods) {
    out.push('', `${escapeTerminal(`${pod.namespace}/${pod.pod}`)}: ${verdictText(pod, paint)}`);
    for (const f of groupOkTypes(pod.findings)) out.push(findingLine(f, '  ', paint, width));
  }
  const summary = summaryText(summarizeDoctor(report), report.missing.length);
  out.push('', width !== undefined ? wrapAnsi(summary, width, { trim: true }) : summary);
  return out.join('\n') + '\n';
}

function verdictText(pod: PodDiagnosis, paint: ChalkInstance): string {
  const worst = worstSeverity(pod.findings);
  if (worst === 'ok') return paint.green('all well');
  const errors = pod.findings.filter((f) => f.severity === 'error').length;
  const warnings = pod.findings.filter((f) => f.severity === 'warn').length;
  const counts = [errors && plural(errors, 'error'), warnings && plural(warnings, 'warning')].filter(Boolean).join(', ');
  return (worst === 'error' ? paint.red : paint.yellow)(`needs attention (${counts})`);
}

/** One finding: severity, check, message, and `Fix: ...` when there is something to do; wrapped to `width` under the text's column. */
function findingLine(f: Finding, indent: string, paint: ChalkInstance, width?: number): string {
  const colour = f.severity === 'error' ? paint.red : f.severity === 'warn' ? paint.yellow : paint.green;
  const head = `${indent}${f.severity.padEnd(SEVERITY_WIDTH)}  ${f.check.padEnd(CHECK_WIDTH)}  `;
  let text = escapeTerminal(f.fix ? `${f.message}. Fix: ${f.fix}` : f.message);
  // The text is escaped first: what is wrapped holds no control characters, so every column is one cell.
  if (width !== undefined) text = wrapAnsi(text, width - head.length, { hard: true, trim: true }).split('\n').join(`\n${' '.repeat(head.length)}`);
  return `${indent}${colour(f.severity.padEnd(SEVERITY_WIDTH))}  ${f.check.padEnd(CHECK_WIDTH)}  ${text}`;
}

/** The ok profile-type findings as one line (`heap: 120 samples, goroutine: 14 samples`), where the first of them was. */
function groupOkTypes(findings: readonly Finding[]): Finding[] {
  const ok = findings.filter((f) => f.check === 'profiles' && f.severity === 'ok');
  if (ok.length < 2) return [...findings];
  const joined: Finding = { check: 'profiles', severity: 'ok', code: 'type-ok', message: ok.map((f) => f.message).join(', ') };
  const first = findings.indexOf(ok[0]!);
  return findings.flatMap((f, i) => (i === first ? [joined] : ok.includes(f) ? [] : [f]));
}

function summaryText(s: DoctorSummary, missing: number): string {
  const pods = `${plural(s.pods, 'pod')} examined`;
  const attention = s.pods - s.allWell;
  const parts = [`${s.allWell} all well`, ...(attention > 0 ? [`${attention} need${attention === 1 ? 's' : ''} attention`] : [])];
  const counts = [s.errors && plural(s.errors, 'error'), s.warnings && plural(s.warnings, 'warning')].filter(Boolean).join(', ');
  const missed = missing > 0 ? `; ${plural(missing, 'pod')} not found` : '';
  return `${pods}: ${parts.join(', ')}${counts ? ` (${counts} in all)` : ''}${missed}`;
}

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

/**
 * The report as data for -o json and -o yaml: every finding with its code, a verdict per pod, and
 * one for the whole (the worst finding; `error` when a named pod was not found).
 */
export function doctorData(report: DoctorReport): unknown {
  const finding = (f: Finding) => ({
    check: f.check,
    severity: f.severity,
    code: f.code,
    message: f.message,
    ...(f.fix !== undefined ? { fix: f.fix } : {}),
    ...(f.profileType !== undefined ? { profileType: f.profileType } : {}),
    ...(f.samples !== undefined ? { samples: f.samples } : {}),
    ...(f.bytes !== undefined ? { bytes: f.bytes } : {}),
  });
  const verdict = (findings: readonly Finding[]): Severity => worstSeverity(findings);
  return {
    connect: report.connect,
    // A named pod that does not exist fails the command (exit 1): the verdict says so too.
    verdict: report.missing.length > 0 ? 'error' : verdict(allFindings(report)),
    summary: summarizeDoctor(report),
    store: report.store.map(finding),
    cluster: report.cluster.map(finding),
    pods: report.pods.map((p) => ({
      namespace: p.namespace,
      pod: p.pod,
      verdict: verdict(p.findings),
      ...(p.endpoint ? { endpoint: p.endpoint } : {}),
      findings: p.findings.map(finding),
    })),
    missing: report.missing,
  };
}

/** `-o json`: doctorData, outside text's terminal controls escaped (stringifyJson). */
export function renderDoctorJson(report: DoctorReport): string {
  return stringifyJson(doctorData(report)) + '\n';
}

/** `-o yaml`: the same data as YAML. */
export function renderDoctorYaml(report: DoctorReport): string {
  return renderYaml(doctorData(report));
}
