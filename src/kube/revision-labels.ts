/**
 * The labels the controllers put on a pod to say which revision of its workload it runs
 * (docs/kube-access.md, "Rollouts and permissions"). No client-node here: capture --url loads
 * this module through the store sink.
 */

/** On a Deployment's pods and ReplicaSets: the ReplicaSet's hash of the pod template. */
export const POD_TEMPLATE_HASH_LABEL = 'pod-template-hash';
/** On a StatefulSet's pods (the ControllerRevision's name) and a DaemonSet's (its hash). */
export const CONTROLLER_REVISION_HASH_LABEL = 'controller-revision-hash';

/**
 * Both revision labels. Capture and collect upload them with every profile of a pod that has
 * them (src/capture/store-sink.ts uploadLabels): `diff --rollout` finds a revision's profiles by them.
 */
export const REVISION_LABELS = [POD_TEMPLATE_HASH_LABEL, CONTROLLER_REVISION_HASH_LABEL] as const;
