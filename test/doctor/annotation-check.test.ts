/**
 * doctor's annotations check as tables over plain V1Pod objects: which keys are taken for
 * misspellings of ours, and the findings (severity, code, fix) for each way a pod can be
 * annotated wrong; the rules for port, path and service are pods.ts's own (readEndpointAnnotations).
 */
import type { V1Container, V1Pod } from '@kubernetes/client-node';
import { checkAnnotations, intendedKey, mentionsProfefe } from '../../src/doctor/annotation-check.js';
import { readEndpointAnnotations, targetFromPod } from '../../src/kube/pods.js';

const ENABLED = { 'profefe.com/enable': 'true' };
const APP = [{ name: 'app', ports: [{ name: 'pprof', containerPort: 6060 }] }];

/** A Running pod `shop/cart-1` with the given annotations and containers (default one `app` declaring pprof 6060). */
function pod(annotations: Record<string, string>, containers: V1Container[] = APP, phase = 'Running'): V1Pod {
  return { metadata: { namespace: 'shop', name: 'cart-1', annotations }, spec: { containers }, status: { phase, podIP: '10.1.2.3' } };
}

describe('intendedKey', () => {
  test.each([
    ['one letter too many', 'profefe.com/enabled', 'profefe.com/enable'],
    ['another domain', 'profefe.io/enable', 'profefe.com/enable'],
    ['a plural', 'profefe.com/ports', 'profefe.com/port'],
    ['upper case (keys are case-sensitive)', 'Profefe.com/Enable', 'profefe.com/enable'],
    ['transposed letters', 'profefe.com/sevrice', 'profefe.com/service'],
    ['a domain that mentions profefe, far from ours', 'kube-profefe.example.org/path', 'profefe.com/path'],
    ['no domain', 'profefe/enable', 'profefe.com/enable'],
    ['our own key', 'profefe.com/enable', undefined],
    ['an unrelated annotation', 'prometheus.io/port', undefined],
    ['an unknown name under our domain', 'profefe.com/owner-team', undefined],
  ])('%s: %s', (_what, key, want) => {
    expect(intendedKey(key)).toBe(want);
  });
});

type Row = { severity: string; code: string; fix?: string | RegExp; message?: string | RegExp };

describe('checkAnnotations', () => {
  test.each<[string, V1Pod['metadata'], string]>([
    ['a pod no controller owns: its own annotations', {}, "rename it to profefe.com/enable (in the pod's metadata.annotations)"],
    ['a Deployment\'s pod (its ReplicaSet the controller): the Deployment\'s template', { ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'cart-7d9f8b6c4', uid: 'u', controller: true }] },
      'rename it to profefe.com/enable (in the pod template of its Deployment: spec.template.metadata.annotations)'],
    ['a StatefulSet\'s pod', { ownerReferences: [{ apiVersion: 'apps/v1', kind: 'StatefulSet', name: 'cart', uid: 'u', controller: true }] },
      'rename it to profefe.com/enable (in the pod template of its StatefulSet: spec.template.metadata.annotations)'],
    // A static pod's mirror: the kubelet makes its Node the controller (kubectl describe: "Controlled By: Node/..."); a Node has no template.
    ['a static pod (its mirror pod controlled by the Node)', { ownerReferences: [{ apiVersion: 'v1', kind: 'Node', name: 'node-1', uid: 'u', controller: true }] },
      "rename it to profefe.com/enable (in the static pod's manifest on node node-1, in the kubelet's staticPodPath: the pod seen in the API is a mirror made from it)"],
  ])('a misspelt key\'s fix says where to rename it: %s', (_what, meta, fix) => {
    const p = pod({ 'profefe.com/enabled': 'true' });
    p.metadata = { ...p.metadata, ...meta };
    expect(checkAnnotations(p).findings.find((f) => f.code === 'annotation-typo')!.fix).toBe(fix);
  });

  test.each<[string, V1Pod, Row[]]>([
    ['a well-annotated pod: one ok line saying where pprof is', pod(ENABLED),
      [{ severity: 'ok', code: 'endpoint', message: 'pprof is looked for at port 6060 of container "app", path /debug/pprof, service "cart-1"' }]],
    ['a misspelt enable key: error, with the rename as the fix', pod({ 'profefe.com/enabled': 'true' }),
      [{ severity: 'error', code: 'annotation-typo', message: 'annotation "profefe.com/enabled" is ignored: it looks like a misspelling of profefe.com/enable', fix: /^rename it to profefe\.com\/enable/ },
        { severity: 'ok', code: 'endpoint' }]],
    ['a key in the wrong case', pod({ ...ENABLED, 'Profefe.com/Port': '6060' }),
      [{ severity: 'error', code: 'annotation-typo', message: /case-sensitive, so it is not profefe\.com\/port/ }, { severity: 'ok', code: 'endpoint' }]],
    ['a misspelling beside the right key: only a warn', pod({ ...ENABLED, 'profefe.io/enable': 'true' }),
      [{ severity: 'warn', code: 'annotation-typo', fix: 'delete "profefe.io/enable"' }, { severity: 'ok', code: 'endpoint' }]],
    ['an unknown key under profefe.com', pod({ ...ENABLED, 'profefe.com/owner-team': 'payments' }),
      [{ severity: 'warn', code: 'annotation-unknown' }, { severity: 'ok', code: 'endpoint' }]],
    ['no enable annotation at all', pod({}),
      [{ severity: 'error', code: 'not-enabled', fix: 'annotate the pod template: profefe.com/enable: "true"' }, { severity: 'ok', code: 'endpoint' }]],
    ['enable "True": only "true" opts in', pod({ 'profefe.com/enable': 'True' }),
      [{ severity: 'error', code: 'enable-value', message: 'profefe.com/enable is "True", not "true": only the exact value "true" opts a pod in' }, { severity: 'ok', code: 'endpoint' }]],
    ['enable "yes"', pod({ 'profefe.com/enable': 'yes' }), [{ severity: 'error', code: 'enable-value' }, { severity: 'ok', code: 'endpoint' }]],
    ['enable "false": opted out', pod({ 'profefe.com/enable': 'false' }), [{ severity: 'warn', code: 'opted-out' }, { severity: 'ok', code: 'endpoint' }]],
    ['a port no container declares: a warn, the endpoint check decides', pod({ ...ENABLED, 'profefe.com/port': '7070' }),
      [{ severity: 'warn', code: 'port-undeclared', message: 'no container declares port 7070 (profefe.com/port; they declare pprof 6060/TCP); a container may listen without declaring it, so the endpoint check decides' },
        { severity: 'ok', code: 'endpoint', message: 'pprof is looked for at port 7070, path /debug/pprof, service "cart-1"' }]],
    ['the default port undeclared', pod(ENABLED, [{ name: 'app' }]),
      [{ severity: 'warn', code: 'port-undeclared', message: /port 6060 \(the default: profefe\.com\/port is not set; they declare none\)/ }, { severity: 'ok', code: 'endpoint' }]],
    ['a port name no container has: the declared ones are listed', pod({ ...ENABLED, 'profefe.com/port': 'debug' }, [{ name: 'app', ports: [{ name: 'http', containerPort: 8080 }, { containerPort: 9090 }] }]),
      [{ severity: 'error', code: 'port-name', message: 'profefe.com/port "debug" names no port of the pod\'s containers (they declare http 8080/TCP, 9090/TCP)', fix: /^name the container port "debug"/ }]],
    ['a UDP port by name', pod({ ...ENABLED, 'profefe.com/port': 'dns' }, [{ name: 'app', ports: [{ name: 'dns', containerPort: 53, protocol: 'UDP' }] }]),
      [{ severity: 'error', code: 'port-protocol', message: 'profefe.com/port "dns" names a UDP port; pprof needs TCP' }]],
    ['a port out of range', pod({ ...ENABLED, 'profefe.com/port': '70000' }), [{ severity: 'error', code: 'port-range' }]],
    ['a bad path and a bad service: both, not only the first', pod({ ...ENABLED, 'profefe.com/path': '/debug/../pprof', 'profefe.com/service': '..' }),
      [{ severity: 'error', code: 'path-invalid' }, { severity: 'error', code: 'service-invalid', message: 'profefe.com/service ".." is not a name' }]],
    ['an unknown profile type', pod({ ...ENABLED, 'profefe.com/types': 'cpu,heapz' }),
      [{ severity: 'warn', code: 'types-unknown', message: 'profefe.com/types names "heapz", not a profile type: it is never fetched' }, { severity: 'ok', code: 'endpoint' }]],
    ['a pod that is not running', pod(ENABLED, APP, 'Pending'),
      [{ severity: 'error', code: 'not-running', message: 'pod is Pending, not Running: profiles come only from running pods' }, { severity: 'ok', code: 'endpoint' }]],
  ])('%s', (_what, input, want) => {
    const findings = checkAnnotations(input).findings;
    expect(findings.map((f) => ({ severity: f.severity, code: f.code }))).toEqual(want.map((w) => ({ severity: w.severity, code: w.code })));
    want.forEach((w, i) => {
      const f = findings[i]!;
      if (w.message !== undefined) expect(f.message).toMatch(w.message instanceof RegExp ? w.message : new RegExp(`^${escape(w.message)}$`));
      if (w.fix !== undefined) expect(f.fix).toMatch(w.fix instanceof RegExp ? w.fix : new RegExp(`^${escape(w.fix)}`));
      if (w.severity !== 'ok') expect(f.fix).toBeTruthy();
    });
  });

  test('the endpoint is probed only when the pod runs, has not opted out and its endpoint is usable', () => {
    expect(checkAnnotations(pod(ENABLED)).probe).toBe(true);
    expect(checkAnnotations(pod({ 'profefe.com/enabled': 'true' })).probe).toBe(true); // the typo is reported; the endpoint still says whether pprof is there
    expect(checkAnnotations(pod({ 'profefe.com/enable': 'false' })).probe).toBe(false);
    expect(checkAnnotations(pod(ENABLED, APP, 'Pending')).probe).toBe(false);
    expect(checkAnnotations(pod({ ...ENABLED, 'profefe.com/port': 'debug' })).probe).toBe(false);
  });

  test('mentionsProfefe: our keys, misspellings and any key naming profefe; not other pods', () => {
    expect([pod(ENABLED), pod({ 'profefe.io/enable': 'true' }), pod({ 'example.com/profefe-team': 'x' }), pod({ 'prometheus.io/port': '9090' }), pod({})].map(mentionsProfefe))
      .toEqual([true, true, true, false, false]);
  });
});

describe('readEndpointAnnotations (pods.ts)', () => {
  test('gives every problem in order, where targetFromPod gives the first with the same words', () => {
    const p = pod({ ...ENABLED, 'profefe.com/port': 'nope', 'profefe.com/path': '?x', 'profefe.com/service': '.' });
    const read = readEndpointAnnotations(p);
    expect(read.problems.map((x) => x.annotation)).toEqual(['profefe.com/port', 'profefe.com/path', 'profefe.com/service']);
    expect(targetFromPod(p)).toEqual({ namespace: 'shop', pod: 'cart-1', reason: read.problems[0]!.reason, invalid: true });
  });

  test('resolves port, path and service, with the container only when it declares the port', () => {
    expect(readEndpointAnnotations(pod({ ...ENABLED, 'profefe.com/port': 'pprof', 'profefe.com/path': '/x/' }))).toEqual({ port: { number: 6060, container: 'app' }, path: '/x', service: 'cart-1', problems: [] });
    expect(readEndpointAnnotations(pod({ 'profefe.com/port': '7070' })).port).toEqual({ number: 7070 });
  });
});

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}
