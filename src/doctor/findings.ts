/**
 * What `doctor` reports: findings, each one line with what to do about it, grouped by pod. The
 * checks (this folder) produce them; src/report/doctor-report.ts words and styles them.
 */
import type { ProfileType } from '../capture/profile-types.js';

/** ok: nothing to do; warn: profiles come, but not all or not as meant; error: profiles do not come. */
export type Severity = 'ok' | 'warn' | 'error';

/** Which part of the path from pod to store a finding is about, in the order profiles travel it. */
export type CheckName = 'pod' | 'annotations' | 'access' | 'endpoint' | 'profiles' | 'store';

/** One finding. */
export interface Finding {
  readonly check: CheckName;
  readonly severity: Severity;
  /**
   * A stable name for scripts (`annotation-typo`, `enable-value`, `port-undeclared`,
   * `port-name`, `portforward-forbidden`, `not-pprof`, `block-disabled`, …).
   */
  readonly code: string;
  /** What was found, one line. May quote pod text raw: escape it before a terminal shows it. */
  readonly message: string;
  /** What to do, one line; absent when there is nothing to do. */
  readonly fix?: string;
  /** For `profiles` findings: the profile type fetched, and what came back. */
  readonly profileType?: ProfileType;
  readonly samples?: number;
  /** The answer's size in bytes, as the pod sent it. */
  readonly bytes?: number;
}

/** The findings about one pod, in check order. */
export interface PodDiagnosis {
  readonly namespace: string;
  readonly pod: string;
  /** Where its profiles would be fetched, when its annotations say so usably. */
  readonly endpoint?: { readonly port: number; readonly path: string; readonly service: string; readonly container?: string };
  readonly findings: readonly Finding[];
}

/** Everything `doctor` found. */
export interface DoctorReport {
  /** The store the profiles go to (one finding). */
  readonly store: readonly Finding[];
  /** What is not about one pod: listing pods, and no pod to examine. */
  readonly cluster: readonly Finding[];
  /** Each pod examined, sorted by namespace then name. */
  readonly pods: readonly PodDiagnosis[];
  /** Pods named on the command line that do not exist, in the order named. */
  readonly missing: readonly { readonly namespace: string; readonly pod: string }[];
  /** How pods were reached (and so which checks ran). */
  readonly connect: 'direct' | 'port-forward';
}

/** The worst severity among `findings` ('ok' when there are none). */
export function worstSeverity(findings: Iterable<Finding>): Severity {
  let worst: Severity = 'ok';
  for (const f of findings) {
    if (f.severity === 'error') return 'error';
    if (f.severity === 'warn') worst = 'warn';
  }
  return worst;
}

/** Every finding of the report, cluster and store first. */
export function allFindings(report: DoctorReport): Finding[] {
  return [...report.store, ...report.cluster, ...report.pods.flatMap((p) => p.findings)];
}
