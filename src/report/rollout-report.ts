/**
 * `diff --rollout`'s own part of the output: which workload, revisions, images and windows were
 * compared and how many profiles each side holds, above diff's table, and around its rows in
 * `-o json` and `-o yaml`.
 */
import type { TopReport } from '../pprof/index.js';
import type { RolloutFacts, RolloutSideFacts } from '../rollout/rollout.js';
import { diffRows } from './function-table.js';
import { stringifyJson } from './json.js';
import { renderYaml } from './yaml.js';

/**
 * The header lines (not escaped: the caller escapes every header line), e.g.
 * `Rollout: deployment/web in namespace shop, revision 1 against revision 2`, then per side
 * `Base revision 1: pod-template-hash=5d8c9bf8c4 (ReplicaSet web-5d8c9bf8c4), image
 * example.com/web:1.0, 2026-11-25T09:00:00.000Z to 2026-11-25T10:00:00.000Z, 4 profiles of service "web"`.
 */
export function rolloutHeaderLines(f: RolloutFacts): string[] {
  return [
    `Rollout: ${f.kind.toLowerCase()}/${f.name} in namespace ${f.namespace}, revision ${f.base.revision} against revision ${f.target.revision}`,
    sideLine('Base', f.base, f.kind),
    sideLine('Target', f.target, f.kind),
  ];
}

function sideLine(role: 'Base' | 'Target', s: RolloutSideFacts, kind: RolloutFacts['kind']): string {
  const object = kind === 'Deployment' ? 'ReplicaSet' : 'ControllerRevision';
  const images = s.images.length === 0 ? 'no image' : `${s.images.length === 1 ? 'image' : 'images'} ${s.images.join(', ')}`;
  const services = s.services.length === 1 ? `service "${s.services[0]}"` : `${s.services.length} services (one per pod)`;
  const profiles = `${s.profiles} ${s.profiles === 1 ? 'profile' : 'profiles'}`;
  return `${role} revision ${s.revision}: ${s.label.key}=${s.label.value} (${object} ${s.object}), ${images}, ${s.from.toISOString()} to ${s.to.toISOString()}, ${profiles} of ${services}`;
}

/** What `-o json` and `-o yaml` hold: the rollout (times as RFC 3339) and diff's rows, unchanged. */
function rolloutDocument(f: RolloutFacts, report: TopReport): unknown {
  const side = (s: RolloutSideFacts) => ({ ...s, from: s.from.toISOString(), to: s.to.toISOString() });
  return { rollout: { kind: f.kind, namespace: f.namespace, name: f.name, base: side(f.base), target: side(f.target) }, rows: diffRows(report) };
}

/** `diff --rollout -o json`: `{ rollout: { kind, namespace, name, base, target }, rows: [{ function, flat, cum }] }`; rows as `diff -o json` has them. */
export function renderRolloutDiffJson(f: RolloutFacts, report: TopReport): string {
  return stringifyJson(rolloutDocument(f, report)) + '\n';
}

/** `diff --rollout -o yaml`: renderRolloutDiffJson's document, as YAML. */
export function renderRolloutDiffYaml(f: RolloutFacts, report: TopReport): string {
  return renderYaml(rolloutDocument(f, report));
}
