// One poll of collect's pressure watch, as each --trigger-interval does it: the kubeconfig from
// KUBECONFIG, one PodMetrics list across all namespaces (metrics.k8s.io), then decideTriggers over
// the targets (the pods' limits, from one paged pods list made first, as a round does). Run by
// bench/triggers.mjs as its own process; prints one JSON line: containers read, triggers that
// would fire, and the milliseconds of the usage list and of the decision.
//
//   node bench/triggers-poll.mjs
import path from 'node:path';
import { root } from './common.mjs';

const build = (p) => import(path.join(root, 'bench/.build/src', p));
const { resolveKubeAccess } = await build('kube/kubeconfig.js');
const { coreV1Api } = await build('kube/core-api.js');
const { discoverPods } = await build('kube/pods.js');
const { listContainerUsage, metricsApi } = await build('kube/pod-metrics.js');
const { decideTriggers } = await build('collect/trigger.js');

const access = resolveKubeAccess({ allNamespaces: true }, process.env);
const { targets } = await discoverPods(coreV1Api(access.kubeConfig), { names: [], namespace: access.namespace, allNamespaces: true }, { pageSize: 500 });
const started = performance.now();
const usage = await listContainerUsage(metricsApi(access.kubeConfig), {});
const listed = performance.now();
const decision = decideTriggers(targets, usage, { memory: 0.8, cpu: 0.9, cooldownMs: 300_000, maxInFlight: 4 }, { lastFired: new Map(), inFlight: 0 }, Date.now());
const decided = performance.now();
process.stdout.write(JSON.stringify({ containers: usage.length, targets: targets.length, fire: decision.fire.length, over: decision.fire.length + decision.deferred.length, listMs: listed - started, decideMs: decided - listed }) + '\n');
