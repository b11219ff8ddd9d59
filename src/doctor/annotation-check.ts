/**
 * The annotations check of `doctor`: whether a pod opts in and says where its pprof endpoint is in
 * a way capture and collect read (src/kube/pods.ts holds those rules; this only explains them),
 * and the misspellings that make an annotation silently ignored. Pure: a pod in, findings out.
 */
import type { V1Pod } from '@kubernetes/client-node';
import { parseProfileType, PROFILE_TYPES } from '../capture/profile-types.js';
import { ANNOTATIONS, notRunningReason, podContainers, readEndpointAnnotations, type EndpointAnnotations } from '../kube/pods.js';
import type { Finding, PodDiagnosis } from './findings.js';

/** The keys kubectl-profefe reads. */
const OUR_KEYS: readonly string[] = Object.values(ANNOTATIONS);
const OUR_DOMAIN = 'profefe.com';

/** What the pod and annotation checks found, and where the endpoint is when it can be probed. */
export interface AnnotationCheck {
  readonly findings: Finding[];
  /** The endpoint the annotations name, when port, path and service are all usable. */
  readonly endpoint?: NonNullable<PodDiagnosis['endpoint']>;
  /** Whether the endpoint can be probed now: the pod runs, has not opted out, and its endpoint is usable. */
  readonly probe: boolean;
  /** No container declares the port (it may still listen there). */
  readonly portUndeclared: boolean;
}

/**
 * The annotation of ours a key was probably meant to be, or undefined: keys compared without case
 * (annotation keys are case-sensitive, so `Profefe.com/Port` is ignored) at an edit distance of at
 * most 3 from one of ours (`profefe.com/enabled`, `profefe.io/enable`, `profefe.com/ports`), or a
 * key under a domain that mentions profefe whose name is within 2 of one of our names
 * (`kube-profefe.io/port`, `profefe/enable`). Our own keys, exactly, give undefined.
 */
export function intendedKey(key: string): string | undefined {
  if (OUR_KEYS.includes(key)) return undefined;
  const lower = key.toLowerCase();
  const nearest = closest(lower, OUR_KEYS);
  if (nearest && nearest.distance <= 3) return nearest.value;
  const slash = lower.lastIndexOf('/');
  if (slash < 0 || !lower.slice(0, slash).includes('profefe')) return undefined;
  const name = closest(lower.slice(slash + 1), OUR_KEYS.map((k) => k.slice(OUR_DOMAIN.length + 1)));
  return name && name.distance <= 2 ? `${OUR_DOMAIN}/${name.value}` : undefined;
}

/** Whether a pod carries any annotation that looks meant for kubectl-profefe (ours, misspelt ones, or any key mentioning profefe). */
export function mentionsProfefe(pod: V1Pod): boolean {
  return Object.keys(pod.metadata?.annotations ?? {}).some((k) => OUR_KEYS.includes(k) || intendedKey(k) !== undefined || /profefe/i.test(k));
}

/**
 * Where the pod's annotations are written: its controller's pod template (the pod's own would be
 * lost when it is replaced; a ReplicaSet's pods come from their Deployment's template), or for a
 * pod that no controller owns, the pod itself. A static pod's mirror is controlled by its Node
 * (kubelet's mirror client), which has no template: the manifest on the node is the source.
 */
function whereAnnotated(pod: V1Pod): string {
  const owner = pod.metadata?.ownerReferences?.find((o) => o.controller === true);
  if (!owner) return "(in the pod's metadata.annotations)";
  if (owner.kind === 'Node' && owner.apiVersion === 'v1') {
    return `(in the static pod's manifest on node ${owner.name}, in the kubelet's staticPodPath: the pod seen in the API is a mirror made from it)`;
  }
  const kind = owner.kind === 'ReplicaSet' ? 'Deployment' : owner.kind;
  return `(in the pod template of its ${kind}: spec.template.metadata.annotations)`;
}

/**
 * Checks a pod, in this order: its state (terminating, not Running: error); misspelt annotation
 * keys (error, or warn when the right key is also set) and unknown keys under profefe.com (warn);
 * profefe.com/enable missing or not exactly "true" (error; "false" is a warn: opted out); the port,
 * path and service as capture reads them (readEndpointAnnotations: error), a port no container
 * declares (warn: containers may listen without declaring ports, so the endpoint check decides),
 * unknown names in profefe.com/types (warn); then one ok line saying where pprof is looked for.
 */
export function checkAnnotations(pod: V1Pod): AnnotationCheck {
  const annotations = pod.metadata?.annotations ?? {};
  const findings: Finding[] = [];
  const notRunning = notRunningReason(pod);
  if (notRunning) {
    findings.push({ check: 'pod', severity: 'error', code: 'not-running', message: `${notRunning}: profiles come only from running pods`, fix: 'wait for the pod to run, or look at why it does not (kubectl describe pod)' });
  }

  for (const key of Object.keys(annotations).sort()) {
    const meant = intendedKey(key);
    if (meant !== undefined) {
      const alsoSet = annotations[meant] !== undefined;
      const caseOnly = key.toLowerCase() === meant;
      const why = caseOnly ? `annotation keys are case-sensitive, so it is not ${meant}` : `it looks like a misspelling of ${meant}`;
      findings.push(
        alsoSet
          ? { check: 'annotations', severity: 'warn', code: 'annotation-typo', message: `annotation ${JSON.stringify(key)} is ignored: ${why}, which is set too`, fix: `delete ${JSON.stringify(key)}` }
          : { check: 'annotations', severity: 'error', code: 'annotation-typo', message: `annotation ${JSON.stringify(key)} is ignored: ${why}`, fix: `rename it to ${meant} ${whereAnnotated(pod)}` },
      );
    } else if (!OUR_KEYS.includes(key) && key.startsWith(`${OUR_DOMAIN}/`)) {
      findings.push({ check: 'annotations', severity: 'warn', code: 'annotation-unknown', message: `annotation ${JSON.stringify(key)} is not one kubectl-profefe reads`, fix: `use ${OUR_KEYS.join(', ')}; or delete it` });
    }
  }

  const enable = annotations[ANNOTATIONS.enable];
  const enableTypo = Object.keys(annotations).some((k) => intendedKey(k) === ANNOTATIONS.enable);
  if (enable === undefined) {
    if (!enableTypo) {
      findings.push({ check: 'annotations', severity: 'error', code: 'not-enabled', message: `no ${ANNOTATIONS.enable} annotation: collect, and capture without pod names, skip this pod`, fix: `annotate the pod template: ${ANNOTATIONS.enable}: "true"` });
    }
  } else if (enable === 'false') {
    findings.push({ check: 'annotations', severity: 'warn', code: 'opted-out', message: `${ANNOTATIONS.enable} is "false": the pod opted out, and even capture by name skips it`, fix: `set ${ANNOTATIONS.enable}: "true" to profile this pod` });
  } else if (enable !== 'true') {
    findings.push({ check: 'annotations', severity: 'error', code: 'enable-value', message: `${ANNOTATIONS.enable} is ${JSON.stringify(enable)}, not "true": only the exact value "true" opts a pod in`, fix: `set ${ANNOTATIONS.enable}: "true" (lower case, quoted in YAML)` });
  }

  const read = readEndpointAnnotations(pod);
  for (const problem of read.problems) findings.push(problemFinding(pod, problem, annotations));
  const portUndeclared = read.port !== undefined && read.port.container === undefined;
  if (portUndeclared) findings.push(undeclaredPort(read.port!.number, annotations[ANNOTATIONS.port] !== undefined && annotations[ANNOTATIONS.port]!.trim() !== '', declaredPorts(pod)));

  const types = annotations[ANNOTATIONS.types]?.split(',').map((t) => t.trim()).filter(Boolean) ?? [];
  const unknown = types.filter((t) => parseProfileType(t) === undefined);
  if (unknown.length > 0) {
    findings.push({ check: 'annotations', severity: 'warn', code: 'types-unknown', message: `${ANNOTATIONS.types} names ${unknown.map((t) => JSON.stringify(t)).join(', ')}, not ${unknown.length === 1 ? 'a profile type' : 'profile types'}: ${unknown.length === 1 ? 'it is' : 'they are'} never fetched`, fix: `use names from: ${PROFILE_TYPES.join(', ')}` });
  }

  const endpoint = endpointOf(read, pod);
  if (endpoint) {
    const where = endpoint.container !== undefined ? ` of container ${JSON.stringify(endpoint.container)}` : '';
    findings.push({ check: 'annotations', severity: 'ok', code: 'endpoint', message: `pprof is looked for at port ${endpoint.port}${where}, path ${endpoint.path || '/'}, service ${JSON.stringify(endpoint.service)}` });
  }
  return { findings, ...(endpoint ? { endpoint } : {}), probe: endpoint !== undefined && !notRunning && enable !== 'false', portUndeclared };
}

function endpointOf(read: EndpointAnnotations, pod: V1Pod): AnnotationCheck['endpoint'] {
  if (read.problems.length > 0 || !read.port || read.path === undefined || read.service === undefined) return undefined;
  const container = read.port.container ?? podContainers(pod)[0]?.name;
  return { port: read.port.number, path: read.path, service: read.service, ...(read.port.container !== undefined && container !== undefined ? { container } : {}) };
}

/** A port, path or service problem as a finding with its fix; a missing port name lists the ports the containers do declare. */
function problemFinding(pod: V1Pod, problem: EndpointAnnotations['problems'][number], annotations: Record<string, string>): Finding {
  if (problem.annotation === ANNOTATIONS.path) {
    return { check: 'annotations', severity: 'error', code: 'path-invalid', message: problem.reason, fix: `set ${ANNOTATIONS.path} to the path net/http/pprof is served under, e.g. /debug/pprof` };
  }
  if (problem.annotation === ANNOTATIONS.service) {
    return { check: 'annotations', severity: 'error', code: 'service-invalid', message: problem.reason, fix: `set ${ANNOTATIONS.service} to a plain name, e.g. the workload's` };
  }
  const value = annotations[ANNOTATIONS.port]?.trim() ?? '';
  if (/^\d+$/.test(value)) {
    return { check: 'annotations', severity: 'error', code: 'port-range', message: problem.reason, fix: `set ${ANNOTATIONS.port} to a port number from 1 to 65535, or to the name of a container port` };
  }
  const declared = declaredPorts(pod);
  const named = podContainers(pod).some((c) => c.ports?.some((p) => p.name === value));
  if (named) return { check: 'annotations', severity: 'error', code: 'port-protocol', message: problem.reason, fix: `point ${ANNOTATIONS.port} at the TCP port net/http/pprof listens on` };
  const list = declared.length > 0 ? `they declare ${declared.join(', ')}` : 'they declare none';
  return {
    check: 'annotations',
    severity: 'error',
    code: 'port-name',
    message: `${ANNOTATIONS.port} ${JSON.stringify(value)} names no port of the pod's containers (${list})`,
    fix: `name the container port ${JSON.stringify(value)} (spec.containers[].ports[].name), or set ${ANNOTATIONS.port} to the port's number`,
  };
}

/** The pod's declared container ports as `name port/PROTOCOL` (`pprof 6060/TCP`, `9090/TCP`), in spec order. */
function declaredPorts(pod: V1Pod): string[] {
  return podContainers(pod).flatMap((c) => (c.ports ?? []).map((p) => `${p.name ? `${p.name} ` : ''}${p.containerPort}/${p.protocol ?? 'TCP'}`));
}

/** The port annotated (or defaulted) that no container declares; the declared ones are named, as the port the annotation most likely meant. */
function undeclaredPort(port: number, annotated: boolean, declared: readonly string[]): Finding {
  const which = annotated ? `port ${port} (${ANNOTATIONS.port}` : `port ${port} (the default: ${ANNOTATIONS.port} is not set`;
  const list = declared.length > 0 ? `they declare ${declared.join(', ')}` : 'they declare none';
  return {
    check: 'annotations',
    severity: 'warn',
    code: 'port-undeclared',
    message: `no container declares ${which}; ${list}); a container may listen without declaring it, so the endpoint check decides`,
    fix: `declare it in the container that serves pprof (ports: [{name: pprof, containerPort: ${port}}]), or set ${ANNOTATIONS.port} to the port pprof listens on`,
  };
}

/** The nearest of `values` to `text` by optimal string alignment distance (Levenshtein plus adjacent transpositions), ties to the first. */
function closest(text: string, values: readonly string[]): { value: string; distance: number } | undefined {
  let best: { value: string; distance: number } | undefined;
  for (const value of values) {
    const distance = editDistance(text, value);
    if (!best || distance < best.distance) best = { value, distance };
  }
  return best;
}

function editDistance(a: string, b: string): number {
  // Rows of the dynamic programme: two before, one before, and this one.
  let prev2: number[] = [];
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let d = Math.min(prev[j]! + 1, row[j - 1]! + 1, prev[j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d = Math.min(d, prev2[j - 2]! + 1);
      row.push(d);
    }
    prev2 = prev;
    prev = row;
  }
  return prev[b.length]!;
}
