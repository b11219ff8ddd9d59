/**
 * decideTriggers as a table over fixed usage: thresholds against the capture container's limit,
 * cooldown per pod and kind, the global bound, highest ratio first.
 */
import type { CaptureTarget } from '../../src/kube/pods.js';
import type { ContainerUsage } from '../../src/kube/pod-metrics.js';
import { decideTriggers, percentOfLimit, triggerLabels, type TriggerPolicy } from '../../src/collect/trigger.js';

const MI = 2 ** 20;
const target = (pod: string, limits: { memoryBytes?: number; cpuNanocores?: number } = { memoryBytes: 100 * MI, cpuNanocores: 1e9 }, container = 'app'): CaptureTarget => ({
  namespace: 'shop', pod, service: 'cart', port: 6060, path: '/debug/pprof', container, labels: {}, annotations: {},
  resources: { requests: limits, limits },
});
const usage = (pod: string, memoryBytes: number, cpuNanocores = 0, container = 'app'): ContainerUsage => ({ namespace: 'shop', pod, container, memoryBytes, cpuNanocores });
const policy: TriggerPolicy = { memory: 0.8, cpu: 0.9, cooldownMs: 300_000, maxInFlight: 2 };
const fresh = { lastFired: new Map<string, number>(), inFlight: 0 };
const names = (ps: { target: CaptureTarget; kind: string }[]) => ps.map((p) => `${p.target.pod}/${p.kind}`);

test('memory at 80% of the limit fires, just below does not; cpu at 90% fires', () => {
  const d = decideTriggers([target('a'), target('b'), target('c')],
    [usage('a', 80 * MI), usage('b', 80 * MI - 1), usage('c', 0, 0.9e9)], { ...policy, maxInFlight: 10 }, fresh, 0);
  expect(names(d.fire)).toEqual(['c/cpu', 'a/memory']);
  expect(d.fire[1]).toMatchObject({ usage: 80 * MI, limit: 100 * MI, ratio: 0.8 });
});

test.each([7, 14, 28, 29, 55, 56, 57, 58])('memory at exactly %d%% of the limit fires at --heap-trigger %d%% and is said as %d%%', (percent) => {
  // 100Mi × percent / 100 is a whole number of bytes: exactly the threshold, which float products miss (0.07 × L > 7% of L).
  const u = (100 * MI * percent) / 100;
  const d = decideTriggers([target('a')], [usage('a', u)], { ...policy, memory: percent / 100 }, fresh, 0);
  expect(names(d.fire)).toEqual(['a/memory']);
  expect(percentOfLimit(d.fire[0]!.usage, d.fire[0]!.limit)).toBe(percent);
});

test('a container without the limit never fires, nor a container that does not serve pprof', () => {
  const d = decideTriggers([target('a', { cpuNanocores: 1e9 }), target('b')],
    [usage('a', 10_000 * MI), usage('b', 99 * MI, 0, 'sidecar')], policy, fresh, 0);
  expect(d).toEqual({ fire: [], coolingDown: [], deferred: [] });
});

test('a trigger that is off never fires', () => {
  const d = decideTriggers([target('a')], [usage('a', 100 * MI, 1e9)], { cooldownMs: 0, maxInFlight: 5, cpu: 0.9 }, fresh, 0);
  expect(names(d.fire)).toEqual(['a/cpu']);
});

test('the highest ratios fire first, up to the room left under the bound; the rest are deferred', () => {
  const targets = ['a', 'b', 'c', 'd'].map((p) => target(p));
  const use = [usage('a', 81 * MI), usage('b', 99 * MI), usage('c', 90 * MI), usage('d', 85 * MI)];
  expect(names(decideTriggers(targets, use, policy, fresh, 0).fire)).toEqual(['b/memory', 'c/memory']);
  const oneRunning = decideTriggers(targets, use, policy, { lastFired: new Map(), inFlight: 1 }, 0);
  expect(names(oneRunning.fire)).toEqual(['b/memory']);
  expect(names(oneRunning.deferred)).toEqual(['c/memory', 'd/memory', 'a/memory']);
});

test('cooldown is per pod and kind, and ends after cooldownMs', () => {
  const lastFired = new Map([['shop/a/memory', 1_000]]);
  const use = [usage('a', 95 * MI, 0.95e9)];
  const during = decideTriggers([target('a')], use, policy, { lastFired, inFlight: 0 }, 1_000 + 299_999);
  expect(names(during.coolingDown)).toEqual(['a/memory']);
  expect(names(during.fire)).toEqual(['a/cpu']);
  expect(names(decideTriggers([target('a')], use, policy, { lastFired, inFlight: 0 }, 1_000 + 300_000).fire)).toEqual(['a/cpu', 'a/memory']);
});

test('trigger labels carry usage and limit as Kubernetes quantities', () => {
  expect(triggerLabels({ target: target('a'), kind: 'memory', usage: 429_916_160, limit: 512 * MI, ratio: 0.8 }))
    .toEqual({ trigger: 'memory', trigger_usage: '429916160', trigger_limit: '536870912' });
  expect(triggerLabels({ target: target('a'), kind: 'cpu', usage: 950_000_000, limit: 1e9, ratio: 0.95 }))
    .toEqual({ trigger: 'cpu', trigger_usage: '950m', trigger_limit: '1' });
});
