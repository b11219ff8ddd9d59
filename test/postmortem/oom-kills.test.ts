/** oomKillsOf, lastTerminationOf and podFactsOf as tables over plain V1Pod objects (core/v1 status shapes). */
import type { V1ContainerStatus, V1Pod } from '@kubernetes/client-node';
import { lastTerminationOf, oomKillsOf, podFactsOf, type OomKill } from '../../src/postmortem/oom-kills.js';

const T = (s: string) => new Date(`2026-06-01T${s}Z`);
const oom = (started: string, finished: string) => ({ terminated: { reason: 'OOMKilled', exitCode: 137, startedAt: T(started), finishedAt: T(finished) } });
const running = { running: { startedAt: T('12:00:01') } };

function pod(statuses: V1ContainerStatus[], opts: { init?: V1ContainerStatus[]; limits?: Record<string, string>; annotations?: Record<string, string> } = {}): V1Pod {
  return {
    metadata: { namespace: 'shop', name: 'cart-1', annotations: opts.annotations ?? {} },
    spec: {
      containers: statuses.map((s) => ({ name: s.name, ...(opts.limits?.[s.name] ? { resources: { limits: { memory: opts.limits[s.name]! } } } : {}) })),
      ...(opts.init ? { initContainers: opts.init.map((s) => ({ name: s.name, resources: { limits: { memory: '64Mi' } } })) } : {}),
    },
    status: { phase: 'Running', containerStatuses: statuses, ...(opts.init ? { initContainerStatuses: opts.init } : {}) },
  };
}
const status = (name: string, fields: Partial<V1ContainerStatus>): V1ContainerStatus => ({ name, image: 'x', imageID: '', ready: true, restartCount: 0, ...fields });

const cases: [string, V1Pod, Partial<OomKill>[]][] = [
  ['restarted after an OOM kill: lastState, with its limit', pod([status('app', { state: running, lastState: oom('11:00:00', '12:00:00'), restartCount: 1 })], { limits: { app: '512Mi' } }),
    [{ container: 'app', init: false, killedAt: T('12:00:00'), startedAt: T('11:00:00'), exitCode: 137, restartCount: 1, restarted: true, memoryLimit: '512Mi', memoryLimitBytes: 512 * 2 ** 20 }]],
  ['killed and not restarted yet: state.terminated', pod([status('app', { state: oom('11:00:00', '12:00:00'), lastState: {}, restartCount: 0 })]),
    [{ container: 'app', killedAt: T('12:00:00'), restarted: false, restartCount: 0, memoryLimit: undefined }]],
  ['the latest termination counts: OOM-killed before, then exited with an error', pod([status('app', { state: { terminated: { reason: 'Error', exitCode: 1, finishedAt: T('12:30:00') } }, lastState: oom('11:00:00', '12:00:00') })]), []],
  ['another reason is no OOM kill', pod([status('app', { state: running, lastState: { terminated: { reason: 'Error', exitCode: 2, finishedAt: T('12:00:00') } } })]), []],
  ['a kill without finishedAt has no time to look before', pod([status('app', { state: running, lastState: { terminated: { reason: 'OOMKilled', exitCode: 137 } } })]), []],
  ['init containers first, then regular ones in spec order', pod([status('b', { lastState: oom('10:00:00', '10:30:00') }), status('a', { lastState: oom('10:00:00', '10:40:00') })], { init: [status('setup', { lastState: oom('09:00:00', '09:01:00') })] }),
    [{ container: 'setup', init: true, memoryLimit: '64Mi' }, { container: 'b', init: false }, { container: 'a', init: false }]],
  // The kubelet sets no cgroup limit for 0 (kubernetes/kubernetes#70018), and collect's trigger never fires for it.
  ['a limit of 0 is no limit', pod([status('app', { lastState: oom('11:00:00', '12:00:00') })], { limits: { app: '0' } }), [{ container: 'app', memoryLimit: undefined, memoryLimitBytes: undefined }]],
  ['a limit that is not a quantity counts as none', pod([status('app', { lastState: oom('11:00:00', '12:00:00') })], { limits: { app: '1.5 Gi' } }), [{ container: 'app', memoryLimit: undefined, memoryLimitBytes: undefined }]],
];

test.each(cases)('oomKillsOf: %s', (_name, input, want) => {
  const kills = oomKillsOf(input);
  expect(kills).toHaveLength(want.length);
  kills.forEach((k, i) => expect(k).toMatchObject(Object.fromEntries(Object.entries(want[i]!).filter(([, v]) => v !== undefined))));
  kills.forEach((k, i) => {
    for (const [key, v] of Object.entries(want[i]!)) if (v === undefined) expect(k).not.toHaveProperty(key);
  });
});

test('oomKillsOf reads the wire form too (times as RFC 3339 text)', () => {
  const wire = pod([status('app', { lastState: { terminated: { reason: 'OOMKilled', exitCode: 137, finishedAt: '2026-06-01T12:00:00Z' as unknown as Date } } })]);
  expect(oomKillsOf(wire)[0]!.killedAt).toEqual(T('12:00:00'));
});

test('lastTerminationOf: the most recent termination of any container, or none', () => {
  const p = pod([status('a', { lastState: { terminated: { reason: 'Error', exitCode: 2, finishedAt: T('10:00:00') } } }), status('b', { lastState: { terminated: { reason: 'Completed', exitCode: 0, finishedAt: T('11:00:00') } } })]);
  expect(lastTerminationOf(p)).toEqual({ container: 'b', reason: 'Completed', exitCode: 0, finishedAt: T('11:00:00') });
  expect(lastTerminationOf(pod([status('a', { state: running })]))).toBeUndefined();
});

test.each([
  ['no annotations: the pod name, not enabled', {}, { service: 'cart-1', enabled: false }],
  ['profefe.com/service, trimmed; enable=true', { 'profefe.com/service': ' cart ', 'profefe.com/enable': 'true' }, { service: 'cart', enabled: true }],
  ['a blank service is the pod name; enable must be exactly "true"', { 'profefe.com/service': ' ', 'profefe.com/enable': 'True' }, { service: 'cart-1', enabled: false }],
])('podFactsOf: %s', (_name, annotations, want) => {
  expect(podFactsOf(pod([], { annotations }))).toEqual({ namespace: 'shop', pod: 'cart-1', ...want });
});
