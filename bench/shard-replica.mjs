// One sharded collector replica's discovery, as `collect --shard I/N` does it each round: the
// kubeconfig from KUBECONFIG, one paged list of every pod (limit 500), the opted-in pods kept,
// then this shard's share. Run by bench/shard.mjs as its own process (a replica is one); prints
// one JSON line: pods listed, the keys taken, and the milliseconds of the list and of the share.
//
//   node bench/shard-replica.mjs I/N [LABEL-SELECTOR]
import path from 'node:path';
import { root } from './common.mjs';

const build = (p) => import(path.join(root, 'bench/.build/src', p));
const { resolveKubeAccess } = await build('kube/kubeconfig.js');
const { coreV1Api } = await build('kube/core-api.js');
const { discoverPods } = await build('kube/pods.js');
const { takeShard } = await build('collect/shard.js');
const { parseShard } = await build('cli/shared/shard-flags.js');

const spec = parseShard(process.argv[2] ?? '0/1');
const started = performance.now();
const access = resolveKubeAccess({ allNamespaces: true }, process.env);
const api = coreV1Api(access.kubeConfig);
const discovery = await discoverPods(api, { names: [], namespace: access.namespace, allNamespaces: true, labelSelector: process.argv[3] }, { pageSize: 500 });
const listed = performance.now();
const mine = takeShard(discovery, spec);
const sharded = performance.now();
process.stdout.write(
  JSON.stringify({
    listed: discovery.targets.length,
    taken: mine.targets.map((t) => `${t.namespace}/${t.pod}`),
    listMs: listed - started,
    shardMs: sharded - listed,
  }) + '\n',
);
