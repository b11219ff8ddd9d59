// Shard benchmark (issue 13, goal 4): N collectors sharing a cluster with --shard I/N.
//
// 1. Listing and sharding: the sandbox API server with 10,000 annotated pods (no Go processes:
//    the listing is what is measured); each of 10 replicas, one process each as in a StatefulSet,
//    lists every pod (paged, limit 500) and keeps its shard (bench/shard-replica.mjs runs exactly
//    what collect runs at the start of a round). Per shard: list calls, pods taken, wall; then the
//    check that the shards' union is every pod and their intersections are empty, the same ten
//    replicas all at once, and how many pods move when an 11th shard is added.
// 2. Per-pod capture cost: real `collect --once` rounds (all profile types, into serve) over 20
//    and 100 pods, each its own idle Go process; the difference between the two is the cost of one
//    more pod (collector CPU seconds, peak RSS), without the start-up and the list both pay.
// 3. The sizing rule of deploy/README.md, computed from these figures for 10,000 and 50,000 pods.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { measureAsync, root, startIdleGoTarget, startServe } from './common.mjs';

const PODS = Number(process.env.BENCH_SHARD_PODS ?? 10_000);
const SHARDS = Number(process.env.BENCH_SHARDS ?? 10);
const PAGE = 500;
const COST_PODS = [20, Number(process.env.BENCH_SHARD_COST_PODS ?? 100)];
const COST_SECONDS = 2;

/** Runs the benchmark; prints markdown tables. */
export async function benchShard(bin) {
  const { startSandbox } = await import(path.join(root, 'bench/.build/test/support/sandbox/sandbox.js'));
  const { podShard } = await import(path.join(root, 'bench/.build/src/collect/shard.js'));
  const listing = await benchListing(startSandbox, podShard);
  const cost = await benchCaptureCost(startSandbox, bin);
  printSizing(listing, cost);
}

async function benchListing(startSandbox, podShard) {
  const names = Array.from({ length: PODS }, (_, i) => ({ namespace: `team-${i % 25}`, name: `api-${String(i).padStart(5, '0')}` }));
  const sandbox = await startSandbox({
    pods: names.map((p, i) => ({ ...p, annotations: { 'profefe.com/enable': 'true', 'profefe.com/service': `svc-${i % 50}` } })),
  });
  try {
    const env = { ...process.env, KUBECONFIG: await sandbox.writeKubeconfig({}) };
    const replica = (i, selector) => measureAsync(process.execPath, [path.join(root, 'bench/shard-replica.mjs'), `${i}/${SHARDS}`, ...(selector ? [selector] : [])], env);
    const listCalls = (from) => sandbox.requests.slice(from).filter((r) => r.path === '/api/v1/pods').length;

    console.log(`\nshard: ${SHARDS} collectors (--shard I/${SHARDS}) over ${PODS} sandbox pods, each one process listing every pod (limit ${PAGE}) and keeping its share\n`);
    console.log('| shard | list calls | pods listed | pods taken | list (in process) | share (in process) | wall (process) | peak RSS |');
    console.log('|---:|---:|---:|---:|---:|---:|---:|---:|');
    const shards = [];
    for (let i = 0; i < SHARDS; i++) {
      const from = sandbox.requests.length;
      const run = await replica(i);
      if (run.status !== 0) throw new Error(`shard ${i} failed (${run.status}): ${run.stderr}`);
      const out = JSON.parse(run.stdout.toString());
      const row = { shard: i, calls: listCalls(from), listed: out.listed, taken: out.taken, listMs: out.listMs, shardMs: out.shardMs, wallMs: run.wallMs, mb: run.mb };
      shards.push(row);
      console.log(`| ${i}/${SHARDS} | ${row.calls} | ${row.listed} | ${row.taken.length} | ${(row.listMs / 1000).toFixed(2)} s | ${row.shardMs.toFixed(0)} ms | ${(row.wallMs / 1000).toFixed(2)} s | ${row.mb.toFixed(0)} MB |`);
    }

    // Every pod in exactly one shard.
    const times = new Map(names.map((p) => [`${p.namespace}/${p.name}`, 0]));
    for (const s of shards) for (const key of s.taken) times.set(key, (times.get(key) ?? 0) + 1);
    const missed = [...times.values()].filter((t) => t === 0).length;
    const twice = [...times.values()].filter((t) => t > 1).length;
    const unknown = times.size - names.length;
    const sizes = shards.map((s) => s.taken.length);

    // The same replicas at once, as a StatefulSet runs them.
    const from = sandbox.requests.length;
    const started = performance.now();
    const together = await Promise.all(Array.from({ length: SHARDS }, (_, i) => replica(i)));
    const togetherMs = performance.now() - started;
    const togetherCalls = listCalls(from);
    if (together.some((r) => r.status !== 0)) throw new Error(`a shard failed when run together: ${together.map((r) => r.stderr).join('\n')}`);

    // A replica whose list finds no pod: Node, client-node and the modules, without the pods.
    const empty = await replica(0, 'no-such-label');
    const perThousand = (Math.max(...shards.map((s) => s.mb)) - empty.mb) / (PODS / 1000);

    // An 11th shard: which pods change hands.
    let moved = 0, movedElsewhere = 0;
    for (const p of names) {
      const [a, b] = [podShard(p.namespace, p.name, SHARDS), podShard(p.namespace, p.name, SHARDS + 1)];
      if (a !== b) moved++;
      if (a !== b && b !== SHARDS) movedElsewhere++;
    }

    console.log('');
    console.log('| check | result |');
    console.log('|---|---:|');
    console.log(`| pods in no shard (missed) | ${missed} |`);
    console.log(`| pods in two shards or more | ${twice} |`);
    console.log(`| union of the shards | ${names.length - missed} of ${names.length} |`);
    console.log(`| pods per shard: min / mean / max | ${Math.min(...sizes)} / ${(PODS / SHARDS).toFixed(0)} / ${Math.max(...sizes)} |`);
    console.log(`| list calls per shard (ceil(${PODS} / ${PAGE}) = ${Math.ceil(PODS / PAGE)}) | ${[...new Set(shards.map((s) => s.calls))].join(', ')} |`);
    console.log(`| all ${SHARDS} replicas at once (the sandbox serves them from this process): wall, list calls | ${(togetherMs / 1000).toFixed(2)} s, ${togetherCalls} |`);
    console.log(`| peak RSS of a replica: listing no pod, ${PODS} pods; per 1000 pods listed | ${empty.mb.toFixed(0)} MB, ${Math.max(...shards.map((s) => s.mb)).toFixed(0)} MB; ${perThousand.toFixed(1)} MB |`);
    console.log(`| ${SHARDS} → ${SHARDS + 1} shards: pods moved (goal ≈ 1/${SHARDS + 1} = ${(PODS / (SHARDS + 1)).toFixed(0)}) | ${moved} (${((100 * moved) / PODS).toFixed(1)} %), ${movedElsewhere} of them between old shards |`);
    if (unknown !== 0 || missed !== 0 || twice !== 0) throw new Error(`the shards do not cover the pods exactly once: ${missed} missed, ${twice} twice, ${unknown} unknown`);
    return { listMs: Math.max(...shards.map((s) => s.listMs)), baseMb: empty.mb, mbPerThousand: perThousand };
  } finally {
    await sandbox.close();
  }
}

async function benchCaptureCost(startSandbox, bin) {
  const most = Math.max(...COST_PODS);
  const targets = [];
  for (let i = 0; i < most; i += 50) targets.push(...(await Promise.all(Array.from({ length: Math.min(50, most - i) }, () => startIdleGoTarget(bin)))));
  const dir = mkdtempSync(path.join(tmpdir(), 'bench-shard-'));
  const sandbox = await startSandbox({
    pods: targets.map((t, i) => ({
      namespace: `team-${i % 10}`,
      name: `api-${String(i).padStart(4, '0')}`,
      podIP: '127.0.0.1',
      // The first COST_PODS[0] pods are also the small round's (-l round=small).
      labels: { round: i < COST_PODS[0] ? 'small' : 'large' },
      annotations: { 'profefe.com/enable': 'true', 'profefe.com/port': String(t.port), 'profefe.com/service': `svc-${i % 20}` },
    })),
  });
  // Enough uploads at once that the store does not answer 503 and the round measures the collector.
  const serve = await startServe(path.join(dir, 'store'), ['--max-concurrent-uploads', '128']);
  try {
    const env = { ...process.env, KUBECONFIG: await sandbox.writeKubeconfig({}) };
    const rounds = [];
    for (const pods of COST_PODS) {
      const selector = pods === most ? [] : ['-l', 'round=small'];
      const args = [path.join(root, 'bin/kubectl-profefe'), 'collect', '--once', '--connect', 'direct', '-A', ...selector, '--seconds', String(COST_SECONDS), '--concurrency', String(most), '--profefe-hostport', serve.url, '--spool-dir', path.join(dir, `spool-${pods}`)];
      const run = await measureAsync(process.execPath, args, env);
      const records = run.stdout.toString().trim().split('\n').filter(Boolean).map((l) => JSON.parse(l));
      const round = records.find((r) => r.event === 'round');
      if (!round || round.pods !== pods) throw new Error(`collect over ${pods} pods (${run.status}): ${run.stderr}`);
      const bytes = records.filter((r) => r.type && r.result === 'ok').reduce((sum, r) => sum + r.bytes, 0);
      rounds.push({ pods, cpu: run.userSecs + run.sysSecs, wall: run.secs, round: round.seconds, mb: run.mb, bytes, fetched: round.captured, failed: round.failed, uploaded: round.uploaded, spooled: round.spooled, rejected: round.rejected });
    }
    const [small, large] = rounds;
    const perPod = { cpu: (large.cpu - small.cpu) / (large.pods - small.pods), mb: (large.mb - small.mb) / (large.pods - small.pods), bytes: (large.bytes - small.bytes) / (large.pods - small.pods) };
    // Beyond --seconds, the time one wave of pods takes in the round (connections, transfers, uploads).
    const overhead = Math.max(0, large.round - COST_SECONDS);

    console.log(`\nshard: the cost of one pod in a collect round (all 7 profile types, --seconds ${COST_SECONDS}, idle Go targets, into serve), from rounds over ${COST_PODS.join(' and ')} pods\n`);
    console.log('| pods | collector CPU (user+sys) | process wall | round | peak RSS | profile bytes fetched | profiles fetched | failed | uploaded | spooled | refused by the store (empty CPU profiles of idle targets) |');
    console.log('|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
    for (const r of rounds) console.log(`| ${r.pods} | ${r.cpu.toFixed(2)} s | ${r.wall.toFixed(2)} s | ${r.round.toFixed(2)} s | ${r.mb.toFixed(0)} MB | ${(r.bytes / 1024).toFixed(0)} KiB | ${r.fetched} | ${r.failed} | ${r.uploaded} | ${r.spooled} | ${r.rejected} |`);
    console.log(`| one more pod | ${(perPod.cpu * 1000).toFixed(1)} ms | | | ${perPod.mb.toFixed(2)} MB | ${(perPod.bytes / 1024).toFixed(1)} KiB | | | | | |`);
    return { ...perPod, overhead };
  } finally {
    serve.child.kill('SIGTERM');
    await sandbox.close();
    for (const t of targets) t.child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * deploy/README.md's rule: a replica takes at most min(window-bound, CPU-bound) pods a round,
 * window-bound = concurrency × (interval − list time) / (seconds + overhead), CPU-bound = half its
 * CPU limit × interval / CPU per pod; replicas = ceil(pods / that). Every replica lists every pod
 * each round, which takes the list time (scaled from the measured list) and its memory.
 */
function printSizing(listing, cost) {
  const seconds = 10, concurrency = 256, cpuLimit = 1, headroom = 0.5, overhead = 3, types = 7;
  console.log(
    `\nshard: sizing with --seconds=${seconds} --concurrency=${concurrency}, all ${types} types, CPU limit ${cpuLimit} a replica of which half for captures, ` +
      `${overhead} s a wave beyond --seconds (measured here, on 2 shared cores: ${cost.overhead.toFixed(1)} s); ` +
      `measured: ${(cost.cpu * 1000).toFixed(1)} ms CPU a pod, ${listing.mbPerThousand.toFixed(1)} MB RSS a replica per 1000 pods listed, a list of ${PODS} pods in ${(listing.listMs / 1000).toFixed(2)} s\n`,
  );
  console.log('| pods | --interval | pods per replica (window) | pods per replica (CPU) | replicas | pods list calls a minute (all replicas) | list time a round | list memory a replica | uploads a second to the store |');
  console.log('|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
  for (const pods of [10_000, 50_000]) {
    for (const interval of [60, 300]) {
      const listSeconds = (listing.listMs * pods) / PODS / 1000;
      const byWindow = Math.floor((concurrency * (interval - listSeconds)) / (seconds + overhead));
      const byCpu = Math.floor((cpuLimit * headroom * interval) / cost.cpu);
      const replicas = Math.ceil(pods / Math.min(byWindow, byCpu));
      const calls = (replicas * Math.ceil(pods / PAGE) * 60) / interval;
      console.log(
        `| ${pods} | ${interval / 60}m | ${byWindow} | ${byCpu} | ${replicas} | ${calls.toFixed(0)} | ${listSeconds.toFixed(1)} s | ` +
          `${((listing.mbPerThousand * pods) / 1000).toFixed(0)} MB | ${((pods * types) / interval).toFixed(0)} |`,
      );
    }
  }
}
