/**
 * diff --rollout's plan (src/rollout/rollout.ts): which revisions, which windows, which services
 * and labels, from fixed revision lists and a fixed now.
 */
import { CommandFailure } from '../../src/errors.js';
import type { WorkloadKind, WorkloadRevision, WorkloadRevisions } from '../../src/kube/workload-revisions.js';
import { noProfilesMessage, planRollout, podNamePattern, sideQueries, type RolloutPlan } from '../../src/rollout/rollout.js';

const H = 3_600_000;
const T0 = Date.parse('2026-06-01T00:00:00Z');
const at = (hours: number) => new Date(T0 + hours * H);
const iso = (hours: number) => at(hours).toISOString();

const rev = (revision: number, startHours: number, annotations: Record<string, string> = {}, object = `web-hash${revision}`): WorkloadRevision => ({
  revision,
  object,
  podLabel: { key: 'pod-template-hash', value: `hash${revision}` },
  createdAt: at(startHours),
  images: [`registry.example/web:${revision}.0`],
  podAnnotations: annotations,
});
const workload = (revisions: WorkloadRevision[], kind: WorkloadKind = 'Deployment'): WorkloadRevisions => ({ kind, namespace: 'shop', name: 'web', revisions });
const windows = (p: RolloutPlan) => ({
  base: [p.base.revision.revision, p.base.from.toISOString(), p.base.to.toISOString()],
  target: [p.target.revision.revision, p.target.from.toISOString(), p.target.to.toISOString()],
});

describe('planRollout', () => {
  const three = workload([rev(1, 0), rev(2, 10), rev(3, 20)]);
  test.each([
    ['the current revision against the one before: the hour before the rollout, the hour after it', three, {}, 30, { base: [2, iso(19), iso(20)], target: [3, iso(20), iso(21)] }],
    ['a target younger than the window ends now; the base keeps its whole window', three, {}, 20.25, { base: [2, iso(19), iso(20)], target: [3, iso(20), iso(20.25)] }],
    ['a base younger than the window starts when it did', workload([rev(1, 0), rev(2, 19.5), rev(3, 20)]), {}, 30, { base: [2, iso(19.5), iso(20)], target: [3, iso(20), iso(21)] }],
    ['--revision 1..3: the base ends when revision 2 replaced it, not when 3 started', three, { revisions: { base: 1, target: 3 } }, 30, { base: [1, iso(9), iso(10)], target: [3, iso(20), iso(21)] }],
    ['--revision 1..2 with a window longer than revision 2 lived: the target ends when 3 started', three, { revisions: { base: 1, target: 2 }, windowMs: 24 * H }, 30, { base: [1, iso(0), iso(10)], target: [2, iso(10), iso(20)] }],
    ['--revision 3..1: the current revision up to now against the first one', three, { revisions: { base: 3, target: 1 } }, 30, { base: [3, iso(29), iso(30)], target: [1, iso(0), iso(1)] }],
    ['numbers with gaps (old ReplicaSets pruned): the next lower that exists', workload([rev(4, 0), rev(7, 10)]), {}, 30, { base: [4, iso(9), iso(10)], target: [7, iso(10), iso(11)] }],
    ['--revision 2 alone: against the next lower', three, { revisions: { target: 2 } }, 30, { base: [1, iso(9), iso(10)], target: [2, iso(10), iso(11)] }],
    ['--revision 7 alone, numbers with gaps: against 4', workload([rev(4, 0), rev(7, 10), rev(9, 20)]), { revisions: { target: 7 } }, 30, { base: [4, iso(9), iso(10)], target: [7, iso(10), iso(11)] }],
  ])('%s', (_what, w, opts, nowHours, expected) => {
    expect(windows(planRollout(w, { windowMs: H, now: at(nowHours), ...opts }))).toEqual(expected);
  });

  test.each([
    ['no revisions', workload([]), {}, /^deployment\/web has no revisions: a rollout diff needs two/],
    ['one revision', workload([rev(1, 0)]), {}, /^deployment\/web has only revision 1: a rollout diff needs two \(roll it out again/],
    ['a revision it has not', three, { revisions: { base: 1, target: 9 } }, /^deployment\/web has no revision 9 \(it has 1, 2, 3; kubectl rollout history deployment\/web lists them\)$/],
    // Rolled back to revision 1's template: its ReplicaSet is revision 3 now, with its first creationTimestamp.
    ['a revision brought back by a rollback', workload([rev(2, 10), rev(3, 0, {}, 'web-hash1')]), {}, /revision 2 has no time to compare: it started at 2026-06-01T10:00:00.000Z and ended at 2026-06-01T00:00:00.000Z \(a revision brought back by a rollback keeps the creationTimestamp of its first rollout\); compare windows by time instead/],
  ])('%s fails saying what to do', (_what, w, opts, message) => {
    const plan = () => planRollout(w, { windowMs: H, now: at(30), ...opts });
    expect(plan).toThrow(CommandFailure);
    expect(plan).toThrow(message);
  });
});

describe('sideQueries', () => {
  const annotated = { 'profefe.com/service': ' web ' };
  const plan = (a: Record<string, string>, b: Record<string, string>, kind: WorkloadKind = 'Deployment') => planRollout(workload([rev(1, 0, a), rev(2, 10, b)], kind), { windowMs: H, now: at(30) });
  const stored = ['web', 'web-hash1-abcde', 'web-hash1-x2k9z', 'web-hash2-abcde', 'web-hash1-toolong', 'webby-hash1-abcde', 'web-0', 'web-12', 'web-abcde', 'other'];

  test('the service of the pod template annotation, with the revision label and the namespace', () => {
    const q = sideQueries(plan(annotated, annotated), 'base', { type: 'cpu', labels: [{ key: 'container', value: 'app' }] }, undefined);
    expect(q.source).toBe('annotation');
    expect(q.queries).toEqual([{ service: 'web', type: 'cpu', from: at(9), to: at(10), labels: [{ key: 'namespace', value: 'shop' }, { key: 'pod-template-hash', value: 'hash1' }, { key: 'container', value: 'app' }] }]);
  });

  test('--service wins over the annotation', () => {
    const q = sideQueries(plan(annotated, annotated), 'target', { type: 'heap', service: 'frontend' }, undefined);
    expect([q.source, q.queries.map((x) => x.service), q.queries[0]!.labels]).toEqual(['flag', ['frontend'], [{ key: 'namespace', value: 'shop' }, { key: 'pod-template-hash', value: 'hash2' }]]);
  });

  test.each([
    ['a Deployment: the pods of its ReplicaSet only', 'Deployment', ['web-hash1-abcde', 'web-hash1-x2k9z']],
    ['a StatefulSet: NAME-<ordinal>', 'StatefulSet', ['web-0', 'web-12']],
    ['a DaemonSet: NAME-<5 characters>', 'DaemonSet', ['web-abcde']],
  ] as const)('without the annotation each pod is its own service: %s', (_what, kind, services) => {
    const q = sideQueries(plan({}, annotated, kind), 'base', { type: 'cpu' }, stored);
    expect(q.source).toBe('pods');
    expect(q.queries.map((x) => x.service)).toEqual(services);
  });

  test('generateName prefixes are cut at 58 characters, as the API server cuts them', () => {
    const long = `${'a'.repeat(50)}-5d8c9bf8c4`;
    const pattern = podNamePattern({ kind: 'Deployment', name: 'a'.repeat(50) }, { object: long });
    expect(pattern.test(`${`${long}-`.slice(0, 58)}x2k9z`)).toBe(true);
    expect(pattern.test(`${long}-x2k9z`)).toBe(false);
  });

  test('no profiles: what was asked, why it happens and what to do', () => {
    const p = plan({}, annotated);
    const none = sideQueries(p, 'base', { type: 'cpu' }, ['other']);
    expect(noProfilesMessage(p, none, 'cpu', 'the local store')).toBe(
      'no cpu profiles of revision 1 of deployment/web (pod-template-hash=hash1, namespace shop) from 2026-06-01T09:00:00.000Z to 2026-06-01T10:00:00.000Z: ' +
        'no service in the local store is named like its pods (they have no profefe.com/service annotation, so each pod is its own service; --service names another). ' +
        'capture and collect label uploads with pod-template-hash from this version of kubectl-profefe on, and older profiles have no such label: ' +
        "capture the revision's pods while it runs (kubectl profefe capture -n shop -l pod-template-hash=hash1), or compare by time: " +
        'kubectl profefe diff --service SERVICE --type cpu --base-from TIME --base-to TIME --from TIME --to TIME',
    );
  });
});
