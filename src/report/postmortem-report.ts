/**
 * `postmortem`'s output: per OOM kill, the kill, the last heap snapshot before it (its top as
 * `go tool pprof -top` prints it) and the growth over the window (as `kubectl profefe diff` prints
 * it), or what to change so that the next kill is caught; as a table for people, or JSON/YAML.
 * Every string from the cluster or the store reaches the terminal escaped.
 */
import type { ChalkInstance } from 'chalk';
import type { TopReport } from '../pprof/index.js';
import type { Hint, KillReport, PodReport, PostmortemReport, TriggerFacts } from '../postmortem/postmortem.js';
import { palette } from './colour.js';
import { diffSideLines, renderDiffTable } from './function-table.js';
import { stringifyJson } from './json.js';
import { escapeTerminal } from './terminal-text.js';
import { renderTopTable } from './top-table.js';
import { scaledLabel } from './units.js';
import { renderYaml } from './yaml.js';

/** What the report says beside the result: where the profiles were looked for, and the pages written (by kill). */
export interface PostmortemRenderContext {
  /** describeStore's words: `the local store in DIR`, `profefe at URL`. */
  readonly store: string;
  /** The growth page written for a kill (--html): in JSON and YAML; the table's reader was told on stderr. */
  readonly pages?: ReadonlyMap<KillReport, string>;
}

/** A time as the report prints it: RFC 3339 in UTC, whole seconds without `.000`. */
export function formatTime(d: Date): string {
  return d.toISOString().replace(/\.000Z$/, 'Z');
}

/** A duration as Go's time.Duration prints it, to the second: `45s`, `5m0s`, `1h30m0s` (under a second: `250ms`; none: `0s`). */
export function formatDuration(ms: number): string {
  if (ms <= 0) return '0s';
  if (ms < 1000) return `${Math.round(ms)}ms`;
  const total = Math.floor(ms / 1000);
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  if (h > 0) return `${h}h${m}m${s}s`;
  if (m > 0) return `${m}m${s}s`;
  return `${s}s`;
}

/** A span as --window takes it: `1h`, `90s`, `1h30m`, `24h` (whole seconds; the parts that are not 0). */
export function formatSpan(ms: number): string {
  const total = Math.round(ms / 1000);
  const parts: [number, string][] = [[Math.floor(total / 3600), 'h'], [Math.floor((total % 3600) / 60), 'm'], [total % 60, 's']];
  return parts.filter(([n]) => n > 0).map(([n, u]) => `${n}${u}`).join('') || '0s';
}

/** `namespace/pod` escaped. */
const podName = (p: Pick<PodReport, 'namespace' | 'pod'>) => escapeTerminal(`${p.namespace}/${p.pod}`);

/** The line kubectl prints for a pod that does not exist (`kubectl get pod NAME`). */
export function notFoundLine(pod: string): string {
  return `Error from server (NotFound): pods "${escapeTerminal(pod)}" not found`;
}

/**
 * The report as text: per pod, a line when no container was OOM-killed, else a block per kill
 * (blank lines between blocks). A block: the kill (time, restarts, limit); the window; the last
 * snapshot (id, time, how long before the kill, the trigger that took it), its in-use total and
 * top; the growth from the window's first snapshot as `diff FIRST LAST` prints it; or, without a
 * snapshot, the newest one before the window and one line per thing to change.
 */
export function renderPostmortemTable(report: PostmortemReport, ctx: PostmortemRenderContext, paint: ChalkInstance = palette(false)): string {
  const blocks: string[] = [];
  for (const pod of report.pods) {
    if (pod.kills.length === 0) {
      blocks.push(`${podName(pod)}: ${noKillText(pod)}\n`);
      continue;
    }
    for (const kill of pod.kills) blocks.push(renderKill(pod, kill, report, ctx, paint));
  }
  return blocks.join('\n');
}

/** Why a pod has no kill to examine. An OOM kill without finishedAt (oomKillsOf leaves it out) is still an OOM kill. */
function noKillText(pod: PodReport): string {
  const t = pod.lastTermination;
  // oom-kills.ts OOM_KILLED, not imported: that module brings client-node into --help.
  if (t?.reason !== 'OOMKilled') return `no container was OOM-killed (${describeTermination(pod)})`;
  const exit = t.exitCode !== undefined ? ` (exit code ${t.exitCode})` : '';
  return `container ${escapeTerminal(t.container)} was OOM-killed${exit}, but its status has no finishedAt: no time to look for heap snapshots before`;
}

function describeTermination(pod: PodReport): string {
  const t = pod.lastTermination;
  if (!t) return 'none has terminated';
  const parts = [t.reason ? escapeTerminal(t.reason) : 'no reason given'];
  if (t.exitCode !== undefined) parts.push(`exit code ${t.exitCode}`);
  if (t.finishedAt) parts.push(`at ${formatTime(t.finishedAt)}`);
  return `last termination: container ${escapeTerminal(t.container)}, ${parts.join(', ')}`;
}

function renderKill(pod: PodReport, k: KillReport, report: PostmortemReport, ctx: PostmortemRenderContext, paint: ChalkInstance): string {
  const kill = k.kill;
  const container = escapeTerminal(kill.container);
  const restarts = kill.restarted ? `restart count ${kill.restartCount}` : `not restarted yet, restart count ${kill.restartCount}`;
  const limit = kill.memoryLimit !== undefined ? `memory limit ${escapeTerminal(kill.memoryLimit)}` : 'no memory limit';
  const lines = [`${podName(pod)}, ${kill.init ? 'init container' : 'container'} ${container}: OOM-killed at ${formatTime(kill.killedAt)} (${restarts}), ${limit}`];
  const windowWords = `${formatTime(k.window.from)} to ${formatTime(k.window.to)} (${k.window.sinceStart ? "since the killed run's start" : `the ${formatSpan(report.windowMs)} before the kill`})`;
  if (!k.last) {
    lines.push(`No heap snapshot of this container from ${windowWords}, service "${escapeTerminal(pod.service)}", in ${escapeTerminal(ctx.store)}.`);
    if (k.earlier) lines.push(`The last one before: profile ${escapeTerminal(k.earlier.id)} at ${formatTime(k.earlier.createdAt)}, ${formatDuration(kill.killedAt.getTime() - k.earlier.createdAt.getTime())} before the kill.`);
    lines.push('To catch the next one:', ...k.hints.map((h) => `  - ${hintText(h, k)}`));
    return lines.join('\n') + '\n';
  }
  const last = k.last;
  lines.push(`Heap snapshots from ${windowWords}: ${k.snapshots.length}`);
  const trigger = last.trigger ? `, ${triggerText(last.trigger)}` : '';
  lines.push(`Last heap snapshot: profile ${escapeTerminal(last.meta.id)} at ${formatTime(last.meta.createdAt)}, ${formatDuration(last.beforeKillMs)} before the kill${trigger}`);
  lines.push(`Heap in use: ${totalText(last.top, last.total)} (${escapeTerminal(last.sampleType)})`);
  lines.push('', `Top functions in use:`, renderTopTable(last.top, [`Type: ${escapeTerminal(last.top.sampleType.type)}`]).trimEnd());
  lines.push('');
  if (!k.growth && k.snapshots.length < 2) {
    lines.push(`Growth: needs two heap snapshots in the window, there is one (a longer --window may reach an earlier one).`);
  } else if (!k.growth) {
    const others = k.snapshots.length === 2 ? "the window's other snapshot cannot" : `none of the window's ${k.snapshots.length - 1} other snapshots can`;
    lines.push(`Growth: ${others} be compared with the last (their sample types differ).`);
  } else {
    const g = k.growth;
    lines.push(`Growth over ${formatDuration(g.target.createdAt.getTime() - g.base.createdAt.getTime())}, from the window's first snapshot (${formatTime(g.base.createdAt)}) to its last (as kubectl profefe diff ${escapeTerminal(g.base.id)} ${escapeTerminal(g.target.id)}):`);
    // diff's own header and table, so the two read the same.
    const header = [`Type: ${g.report.sampleType.type}`, ...diffSideLines(g.report, g.sides)].map(escapeTerminal);
    lines.push(renderDiffTable(g.report, header, paint).trimEnd());
  }
  return lines.join('\n') + '\n';
}

/** An in-use total as pprof prints a total (`412.50MB`). */
function totalText(top: TopReport, total: TopReport['total']): string {
  return scaledLabel(total, top.sampleType.unit, 'auto');
}

/** `trigger=memory at 83% of the limit` (the percent left out when the labels do not say). */
export function triggerText(t: TriggerFacts): string {
  const where = t.percent !== undefined ? ` at ${t.percent}% of the limit` : '';
  return `trigger=${escapeTerminal(t.kind)}${where}`;
}

/** One hint as a line, for the kill it is about. */
export function hintText(h: Hint, k: KillReport): string {
  const container = `"${escapeTerminal(k.kill.container)}"`;
  switch (h.kind) {
    case 'not-enabled':
      return 'the pod lacks the annotation profefe.com/enable=true, so collect does not capture it: annotate the pod (its template)';
    case 'other-container':
      return `the pod's heap snapshots are of container ${h.containers.map((c) => `"${escapeTerminal(c)}"`).join(', ')}, not ${container}: point profefe.com/port at a port of ${container} to profile it`;
    case 'interval': {
      const when = h.earlierRun ? ', in an earlier run of the container,' : ',';
      const widen = h.earlierRun ? '' : ` (--window ${formatSpan(Math.ceil(h.beforeKillMs / 3_600_000) * 3_600_000)} shows it)`;
      return `the last heap snapshot was ${formatDuration(h.beforeKillMs)} before the kill${when} so collect's --interval is longer than the time memory took to grow: run collect with a shorter --interval${widen}`;
    }
    case 'none-found':
      return `no heap snapshot of this container in the ${formatSpan(h.lookbackMs)} before the kill: check that collect runs over this pod's namespace with heap among its --type, and uploads to this store`;
    case 'heap-trigger':
      return `keep collect's --heap-trigger on (default 80%): it captures the heap when memory nears the ${escapeTerminal(k.kill.memoryLimit ?? '')} limit, before the OOM killer`;
    case 'no-limit':
      return `container ${container} has no memory limit, so collect's --heap-trigger cannot fire: set resources.limits.memory`;
  }
}

/** The report as data for -o json and -o yaml (times in RFC 3339, durations in seconds, values raw). */
export function postmortemData(report: PostmortemReport, ctx: PostmortemRenderContext): unknown {
  const seconds = (ms: number) => Math.round(ms / 1000);
  const rows = (r: TopReport) => r.rows.map((row) => ({ function: row.function, flat: row.flat, cum: row.cum }));
  return {
    window: formatSpan(report.windowMs),
    store: ctx.store,
    pods: report.pods.map((pod) => ({
      namespace: pod.namespace,
      pod: pod.pod,
      service: pod.service,
      enabled: pod.enabled,
      kills: pod.kills.map((k) => {
        const kill = k.kill;
        const page = ctx.pages?.get(k);
        return {
          container: kill.container,
          init: kill.init,
          killedAt: formatTime(kill.killedAt),
          ...(kill.startedAt ? { startedAt: formatTime(kill.startedAt) } : {}),
          ...(kill.exitCode !== undefined ? { exitCode: kill.exitCode } : {}),
          restartCount: kill.restartCount,
          restarted: kill.restarted,
          ...(kill.memoryLimit !== undefined ? { memoryLimit: kill.memoryLimit, memoryLimitBytes: kill.memoryLimitBytes } : {}),
          window: { from: formatTime(k.window.from), to: formatTime(k.window.to), sinceStart: k.window.sinceStart },
          snapshots: k.snapshots.map((m) => ({ id: m.id, createdAt: formatTime(m.createdAt) })),
          ...(k.last
            ? {
                lastSnapshot: {
                  id: k.last.meta.id,
                  createdAt: formatTime(k.last.meta.createdAt),
                  beforeKillSeconds: seconds(k.last.beforeKillMs),
                  ...(k.last.trigger ? { trigger: k.last.trigger } : {}),
                  sampleType: k.last.sampleType,
                  total: k.last.total,
                  top: rows(k.last.top),
                },
              }
            : {}),
          ...(k.growth
            ? {
                growth: {
                  base: { id: k.growth.base.id, createdAt: formatTime(k.growth.base.createdAt) },
                  target: { id: k.growth.target.id, createdAt: formatTime(k.growth.target.createdAt) },
                  sampleType: k.growth.report.sampleType.type,
                  rows: rows(k.growth.report),
                  ...(page !== undefined ? { page } : {}),
                },
              }
            : {}),
          ...(k.earlier ? { earlierSnapshot: { id: k.earlier.id, createdAt: formatTime(k.earlier.createdAt), beforeKillSeconds: seconds(kill.killedAt.getTime() - k.earlier.createdAt.getTime()) } } : {}),
          ...(k.otherContainers.length > 0 ? { otherContainers: k.otherContainers } : {}),
          hints: k.hints.map((h) => ({ kind: h.kind, message: hintText(h, k) })),
        };
      }),
      ...(pod.lastTermination
        ? {
            lastTermination: {
              container: pod.lastTermination.container,
              ...(pod.lastTermination.reason ? { reason: pod.lastTermination.reason } : {}),
              ...(pod.lastTermination.exitCode !== undefined ? { exitCode: pod.lastTermination.exitCode } : {}),
              ...(pod.lastTermination.finishedAt ? { finishedAt: formatTime(pod.lastTermination.finishedAt) } : {}),
            },
          }
        : {}),
    })),
    missing: report.missing,
  };
}

/** `-o json`: postmortemData, exact int64s, outside text's terminal controls escaped (stringifyJson). */
export function renderPostmortemJson(report: PostmortemReport, ctx: PostmortemRenderContext): string {
  return stringifyJson(postmortemData(report, ctx)) + '\n';
}

/** `-o yaml`: the same data as YAML. */
export function renderPostmortemYaml(report: PostmortemReport, ctx: PostmortemRenderContext): string {
  return renderYaml(postmortemData(report, ctx));
}
