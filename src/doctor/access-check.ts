/**
 * The permissions check of `doctor`, asked as `kubectl auth can-i` asks (SelfSubjectAccessReview):
 * listing pods, which collect and capture without names do, and port-forwarding to a pod. A 1.32
 * API server authorizes the port-forward websocket (what kubectl-profefe speaks, through
 * client-node) with `get` on pods/portforward and kubectl's SPDY upgrade with `create`; from 1.35
 * (AuthorizePodWebsocketUpgradeCreatePermission) the websocket needs `create` as well. Both verbs
 * are asked, and the finding says which transport each allows. docs/kube-access.md, "Rollouts and
 * permissions".
 */
import type { AuthorizationV1Api } from '@kubernetes/client-node';
import { canI, type AccessAnswer, type AccessQuestion } from '../kube/access-review.js';
import type { Finding } from './findings.js';

/** The authorization API, how long a review may take, and how to stop. */
export interface AccessCheckDeps {
  readonly api: AuthorizationV1Api;
  readonly signal?: AbortSignal;
  /** The API server's URL, for error lines. */
  readonly server?: string;
  /** Per review, in ms (kubectl's --request-timeout); absent: no limit. */
  readonly timeoutMs?: number;
}

/** The port-forward finding, and whether the websocket kubectl-profefe uses is allowed (undefined: the review failed). */
export interface PortForwardAccess {
  readonly finding: Finding;
  readonly websocket?: boolean;
}

const RBAC_RULE = 'resources: ["pods/portforward"], verbs: ["get", "create"]';

/** `kubectl auth can-i list pods [-n NS | -A]`: one finding (ok, error when denied, warn when the review fails). */
export async function checkListPods(namespace: string | undefined, deps: AccessCheckDeps): Promise<Finding> {
  const where = namespace === undefined ? 'across all namespaces' : `in namespace ${JSON.stringify(namespace)}`;
  const answer = await ask({ verb: 'list', resource: 'pods', ...(namespace !== undefined ? { namespace } : {}) }, deps);
  if ('error' in answer) return unknownAccess(`list pods ${where}`, answer.error, `kubectl auth can-i list pods ${namespace === undefined ? '-A' : `-n ${namespace}`}`);
  if (answer.allowed) return { check: 'access', severity: 'ok', code: 'list-pods', message: `list pods ${where}: allowed` };
  return {
    check: 'access',
    severity: 'error',
    code: 'list-forbidden',
    message: `cannot list pods ${where}${reasonOf(answer)}: collect, and capture without pod names, list them`,
    fix: `grant list on pods ${namespace === undefined ? 'cluster-wide (a ClusterRole)' : where} (resources: ["pods"], verbs: ["get", "list"])`,
  };
}

/**
 * `kubectl auth can-i get|create pods --subresource=portforward -n NS POD`, both at once (a Role
 * may name the pod in resourceNames): ok when both are allowed; warn with `get` alone (the websocket
 * works before 1.35, kubectl's SPDY does not); error without `get` (kubectl-profefe's websocket is
 * refused); warn when the review itself fails.
 */
export async function checkPortForward(namespace: string, pod: string, deps: AccessCheckDeps): Promise<PortForwardAccess> {
  const question = (verb: string): AccessQuestion => ({ verb, resource: 'pods', subresource: 'portforward', namespace, name: pod });
  const [get, create] = await Promise.all([ask(question('get'), deps), ask(question('create'), deps)]);
  const where = `in namespace ${JSON.stringify(namespace)}`;
  if ('error' in get || 'error' in create) {
    const error = 'error' in get ? get.error : (create as { error: string }).error;
    return { finding: unknownAccess('port-forward', error, `kubectl auth can-i get pods --subresource=portforward -n ${namespace} ${pod}`) };
  }
  if (get.allowed && create.allowed) {
    return {
      websocket: true,
      finding: { check: 'access', severity: 'ok', code: 'portforward-allowed', message: "port-forward allowed: get on pods/portforward (the websocket kubectl-profefe speaks) and create (SPDY, kubectl's fallback)" },
    };
  }
  if (get.allowed) {
    return {
      websocket: true,
      finding: {
        check: 'access',
        severity: 'warn',
        code: 'portforward-create-denied',
        message: `port-forward by websocket allowed (get on pods/portforward), by SPDY not (create denied${reasonOf(create, ', ')}): kubectl-profefe works with API servers before 1.35; kubectl's SPDY fallback, and websockets from 1.35, need create`,
        fix: `grant create on pods/portforward too, ${where} (${RBAC_RULE})`,
      },
    };
  }
  if (create.allowed) {
    return {
      websocket: false,
      finding: {
        check: 'access',
        severity: 'error',
        code: 'portforward-get-denied',
        message: `port-forward by SPDY allowed (create on pods/portforward), by websocket not (get denied${reasonOf(get, ', ')}): kubectl port-forward works, kubectl-profefe's websocket is refused (403)`,
        fix: `grant get on pods/portforward too, ${where} (${RBAC_RULE})`,
      },
    };
  }
  return {
    websocket: false,
    finding: {
      check: 'access',
      severity: 'error',
      code: 'portforward-forbidden',
      message: `port-forward forbidden: neither get (websocket) nor create (SPDY) on pods/portforward ${where}${reasonOf(get)}`,
      fix: `grant them ${where} (a Role with ${RBAC_RULE}), or reach pods directly from inside the cluster (--connect direct)`,
    },
  };
}

/** One review, with its failure as text rather than thrown (an abort still throws). */
async function ask(q: AccessQuestion, deps: AccessCheckDeps): Promise<AccessAnswer | { error: string }> {
  const timeout = deps.timeoutMs ? AbortSignal.timeout(deps.timeoutMs) : undefined;
  const signal = timeout && deps.signal ? AbortSignal.any([deps.signal, timeout]) : timeout ?? deps.signal;
  try {
    return await canI(deps.api, q, { ...(signal ? { signal } : {}), ...(deps.server !== undefined ? { server: deps.server } : {}) });
  } catch (err) {
    if (deps.signal?.aborted) throw deps.signal.reason;
    if (timeout?.aborted) return { error: `no answer within ${deps.timeoutMs! / 1000}s (--request-timeout)` };
    if (err instanceof Error && typeof (err as { exitCode?: unknown }).exitCode === 'number') return { error: err.message };
    throw err;
  }
}

function unknownAccess(what: string, error: string, command: string): Finding {
  return { check: 'access', severity: 'warn', code: 'access-unknown', message: `cannot tell whether ${what} is allowed: ${error}`, fix: `ask the API server yourself: ${command}` };
}

/** An authorizer's reason, as `: reason` (or with another lead). RBAC gives none for a denial. */
function reasonOf(answer: AccessAnswer, lead = ': '): string {
  return !answer.allowed && answer.reason ? `${lead}${answer.reason}` : '';
}
