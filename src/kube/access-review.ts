/**
 * "Can I?" as `kubectl auth can-i` asks it: a SelfSubjectAccessReview (authorization.k8s.io/v1,
 * `POST /apis/authorization.k8s.io/v1/selfsubjectaccessreviews`), answered by the API server's own
 * authorizers for the user of the kubeconfig. Every authenticated user may ask (the
 * system:basic-user ClusterRole). docs/kube-access.md, "Rollouts and permissions".
 */
import { AuthorizationV1Api, type KubeConfig } from '@kubernetes/client-node';
import { apiError, requestOptions, type CallContext } from './pods.js';

/**
 * client-node's AuthorizationV1Api for a resolved config. A named import, as core-api.ts: the
 * bundle then keeps this one API group and leaves out the others.
 */
export function authorizationApi(kubeConfig: KubeConfig): AuthorizationV1Api {
  return kubeConfig.makeApiClient(AuthorizationV1Api);
}

/** What to ask about: ResourceAttributes of a SelfSubjectAccessReview (`kubectl auth can-i VERB RESOURCE --subresource … -n NS NAME`). */
export interface AccessQuestion {
  /** get, list, create, … */
  readonly verb: string;
  /** Plural resource, e.g. `pods`. */
  readonly resource: string;
  /** e.g. `portforward`. */
  readonly subresource?: string;
  /** API group; '' or absent for the core group. */
  readonly group?: string;
  /** Absent: every namespace (a cluster-wide grant is needed for a yes). */
  readonly namespace?: string;
  /** One object (RBAC's resourceNames); absent: every object of the resource. */
  readonly name?: string;
}

/** The authorizers' answer (SubjectAccessReviewStatus). */
export interface AccessAnswer {
  readonly allowed: boolean;
  /** An authorizer said no outright (RBAC never does: it only has no opinion). */
  readonly denied: boolean;
  /** The authorizer's words, when it gave some (RBAC names the binding that allowed). */
  readonly reason?: string;
}

/**
 * Asks the API server whether the current user may do `q`. A refusal of the review itself (403,
 * 404 on a server without authorization.k8s.io/v1, a network failure) throws KubeError in
 * apiError's words; an abort throws the signal's reason.
 */
export async function canI(api: AuthorizationV1Api, q: AccessQuestion, call: CallContext = {}): Promise<AccessAnswer> {
  const resourceAttributes = {
    verb: q.verb,
    resource: q.resource,
    ...(q.group ? { group: q.group } : {}),
    ...(q.subresource ? { subresource: q.subresource } : {}),
    ...(q.namespace ? { namespace: q.namespace } : {}),
    ...(q.name ? { name: q.name } : {}),
  };
  try {
    const review = await api.createSelfSubjectAccessReview(
      { body: { apiVersion: 'authorization.k8s.io/v1', kind: 'SelfSubjectAccessReview', spec: { resourceAttributes } } },
      requestOptions(call.signal),
    );
    const status = review.status;
    return { allowed: status?.allowed === true, denied: status?.denied === true, ...(status?.reason ? { reason: status.reason } : {}) };
  } catch (err) {
    throw apiError(err, { verb: 'create', resource: 'selfsubjectaccessreviews.authorization.k8s.io', clusterScoped: true }, call);
  }
}
