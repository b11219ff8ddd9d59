/**
 * The deploy/ manifests against the code: every workload's command line is accepted by the
 * real CLI parser, and the RBAC of each variant grants what `collect` actually calls on the
 * API server in that connect mode (recorded by the sandbox).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import yargs, { type CommandModule } from 'yargs';
import { collectCommand, resolveCollectOptions } from '../../src/cli/collect.js';
import { runCollector } from '../../src/collect/collector.js';
import type { CommandContext } from '../../src/cli/shared/context.js';
import { resolveServeOptions, serveCommand } from '../../src/cli/serve.js';
import type { LocalStore } from '../../src/store/local/local-store.js';
import type { ProfefeServer } from '../../src/store/profefe/server.js';
import { startTestStore, type TestStore } from '../support/store-server.js';
import { containerCommands, rulesOf, kustomizeBuild, type ContainerCommand } from '../deploy/manifests.test.js';
import { startGoTarget, type GoTarget } from '../support/go-target.js';
import { startSandbox, type Sandbox } from '../support/sandbox/sandbox.js';
import { quietIO } from '../support/json-lines-io.js';

const ctx = (): CommandContext => ({ io: quietIO(), env: {}, signal: new AbortController().signal });

/** Parses argv with a command's real builder; returns the parsed arguments without running it. */
async function parseWith<A>(module: CommandModule<object, A>, argv: string[]): Promise<A> {
  let parsed: A | undefined;
  await yargs(argv)
    .command({ ...module, handler: (args) => void (parsed = args as A) } as CommandModule<object, A>)
    .strict()
    .exitProcess(false)
    .fail((msg, err) => {
      throw err ?? new Error(msg);
    })
    .parseAsync();
  if (!parsed) throw new Error(`not a ${String(module.command)} command line: ${argv.join(' ')}`);
  return parsed;
}

const commands = await containerCommands();

/** The environment a container of `command` sees in the pod named `podName`: values, the Secret, the downward API's metadata.name. */
function containerEnv(command: ContainerCommand, podName: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const e of command.env) {
    if (e.value !== undefined) env[e.name] = e.value;
    else if (e.valueFrom?.secretKeyRef) env[e.name] = 'from-the-secret';
    else if (e.valueFrom?.fieldRef?.fieldPath === 'metadata.name') env[e.name] = podName;
    else throw new Error(`${command.kind}/${command.name}: env ${e.name} comes from something this test does not know: ${JSON.stringify(e.valueFrom)}`);
  }
  return env;
}

describe('deploy/ command lines', () => {
  test('there are workloads to check', () => {
    expect(commands.map((c) => c.cliArgs[0]).sort()).toEqual(expect.arrayContaining(['collect', 'serve']));
  });

  test.each(commands.map((c) => [`${c.variant} ${c.kind}/${c.name}`, c.cliArgs, c] as const))('%s is accepted by the CLI parser, in each of its pods', async (_name, cliArgs, command) => {
    if (cliArgs[0] === 'collect') {
      const args = await parseWith(collectCommand(ctx()), [...cliArgs]);
      const shards = command.podNames.map((podName) => {
        const opts = resolveCollectOptions(args, containerEnv(command, podName));
        expect(opts.types.length).toBeGreaterThan(0);
        return opts.shard ?? { index: 0, count: 1 };
      });
      // Sharded or not, the pods of a workload share the cluster's pods out: every shard once.
      expect(shards.map((s) => s.index).sort((a, b) => a - b)).toEqual(shards.map((_, i) => i));
      for (const s of shards) expect(s.count).toBe(shards.length);
    } else if (cliArgs[0] === 'serve') {
      const args = await parseWith(serveCommand(ctx()), [...cliArgs]);
      // The Secret provides PROFEFE_TOKEN; without it the store refuses to start.
      expect(resolveServeOptions(args, { PROFEFE_TOKEN: 'from-the-secret' })).toMatchObject({ port: 10100, token: 'from-the-secret' });
      expect(() => resolveServeOptions(args, {})).toThrow(/^--require-token: no token given/);
    } else {
      throw new Error(`unexpected command in a manifest: ${cliArgs.join(' ')}`);
    }
  });
});

test('a StatefulSet replica beyond --shards refuses to start, saying why', async () => {
  const command = commands.find((c) => c.kind === 'StatefulSet' && c.cliArgs[0] === 'collect')!;
  const args = await parseWith(collectCommand(ctx()), [...command.cliArgs]);
  const beyond = `${command.name}-${command.podNames.length}`;
  expect(() => resolveCollectOptions(args, containerEnv(command, beyond))).toThrow(`is not below ${command.podNames.length}; the StatefulSet's replicas and --shards must be equal`);
});

describe('RBAC grants what collect uses', () => {
  let sandbox: Sandbox;
  let go: GoTarget;
  let dir: string;
  let store: LocalStore;
  let server: ProfefeServer;
  let served: TestStore;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'rbac-'));
    go = await startGoTarget();
    sandbox = await startSandbox({
      pods: [
        { namespace: 'a', name: 'p-1', podIP: '127.0.0.1', annotations: { 'profefe.com/enable': 'true', 'profefe.com/port': String(go.port) }, forward: { [go.port]: { host: '127.0.0.1', port: go.port } } },
        { namespace: 'b', name: 'p-3', podIP: '127.0.0.1', annotations: { 'profefe.com/enable': 'true', 'profefe.com/port': String(go.port) }, forward: { [go.port]: { host: '127.0.0.1', port: go.port } } },
      ],
    });
    served = await startTestStore(path.join(dir, 'store'));
    ({ store, server } = served);
  }, 60_000);
  afterAll(async () => {
    await served?.close();
    await sandbox?.close();
    await go?.close();
    await rm(dir, { recursive: true, force: true });
  });

  /** The RBAC permission each recorded API request needs: `resource` → verbs. */
  function usedRules(): Record<string, string[]> {
    const used: Record<string, Set<string>> = {};
    const need = (resource: string, verb: string) => (used[resource] ??= new Set()).add(verb);
    for (const r of sandbox.requests) {
      if (r.path === '/api/v1/pods' || /^\/api\/v1\/namespaces\/[^/]+\/pods$/.test(r.path)) need('pods', 'list');
      else if (/^\/api\/v1\/namespaces\/[^/]+\/pods\/[^/]+$/.test(r.path)) need('pods', 'get');
      else if (/^\/api\/v1\/namespaces\/[^/]+\/pods\/[^/]+\/portforward$/.test(r.path)) {
        // As the API server authorizes the upgrade: a websocket (GET) as get up to 1.34, and also as
        // create from 1.35 (AuthorizePodWebsocketUpgradeCreatePermission); SPDY (POST) as create.
        if (r.method === 'GET') need('pods/portforward', 'get');
        need('pods/portforward', 'create');
      }
      else if (/^\/apis\/metrics\.k8s\.io\/v1beta1(\/namespaces\/[^/]+)?\/pods$/.test(r.path)) need('metrics.k8s.io pods', 'list');
      else if (r.path.startsWith('/api')) need(`unexpected ${r.method} ${r.path}`, '?');
    }
    return Object.fromEntries(Object.entries(used).map(([k, v]) => [k, [...v].sort()]));
  }

  async function collectOnce(connect: 'direct' | 'port-forward', extra: Record<string, unknown> = {}, captured = 2) {
    sandbox.requests.length = 0;
    const env = { KUBECONFIG: await sandbox.writeKubeconfig({}), HOME: dir };
    const opts = resolveCollectOptions({ once: true, connect, type: ['heap'], 'profefe-hostport': server.url, 'spool-dir': path.join(dir, 'spool'), ...extra } as never, env);
    const result = await runCollector(opts, { env, signal: new AbortController().signal, io: quietIO() });
    expect(result.rounds[0]!.captured).toBe(captured);
    return usedRules();
  }

  /** Every used permission is granted, and nothing is granted beyond `allowedExtra`. */
  function expectGrants(granted: Record<string, string[]>, used: Record<string, string[]>, allowedExtra: Record<string, string[]>) {
    for (const [resource, verbs] of Object.entries(used)) expect(granted[resource] ?? []).toEqual(expect.arrayContaining(verbs));
    for (const [resource, verbs] of Object.entries(granted)) {
      for (const verb of verbs) expect((used[resource] ?? []).includes(verb) || (allowedExtra[resource] ?? []).includes(verb)).toBe(true);
    }
  }

  test('direct: one pods list; the default ClusterRole grants pods list (and get, for capture by name)', async () => {
    const used = await collectOnce('direct');
    expect(used).toEqual({ pods: ['list'] });
    const roles = (await kustomizeBuild('deploy')).filter((o: { kind: string }) => o.kind === 'ClusterRole');
    expectGrants(rulesOf(roles)[''] ?? {}, used, { pods: ['get'] });
  }, 60_000);

  test('sharded (the StatefulSet variant): each shard makes the same one pods list; its ClusterRole grants exactly that (and get)', async () => {
    // a/p-1 and b/p-3 fall in different shards of 2 (0 and 1).
    const used = [await collectOnce('direct', { shard: '0/2' }, 1), await collectOnce('direct', { shard: '1/2' }, 1)];
    expect(used).toEqual([{ pods: ['list'] }, { pods: ['list'] }]);
    const roles = (await kustomizeBuild('deploy/collector-statefulset')).filter((o: { kind: string }) => o.kind === 'ClusterRole');
    expectGrants(rulesOf(roles)[''] ?? {}, used[0]!, { pods: ['get'] });
  }, 60_000);

  test('between rounds (--interval, triggers on): adds metrics.k8s.io pods list, exactly what the long-running collectors add', async () => {
    sandbox.requests.length = 0;
    const env = { KUBECONFIG: await sandbox.writeKubeconfig({}), HOME: dir };
    const opts = resolveCollectOptions({ interval: '1h', 'trigger-interval': '1s', connect: 'direct', type: ['heap'], 'profefe-hostport': server.url, 'spool-dir': path.join(dir, 'spool') } as never, env);
    const abort = new AbortController();
    const running = runCollector(opts, { env, signal: abort.signal, io: quietIO() });
    // The first round lists the pods; the watch's next poll reads their usage.
    const end = Date.now() + 60_000;
    while (!sandbox.requests.some((r) => r.path.startsWith('/apis/metrics.k8s.io/')) && Date.now() < end) await new Promise((r) => setTimeout(r, 50));
    abort.abort();
    await running;
    const used = usedRules();
    expect(used).toEqual({ pods: ['list'], 'metrics.k8s.io pods': ['list'] });
    for (const variant of ['deploy/collector-deployment', 'deploy/collector-statefulset']) {
      const rules = rulesOf((await kustomizeBuild(variant)).filter((o: { kind: string }) => o.kind === 'ClusterRole'));
      expectGrants(rules[''] ?? {}, { pods: used.pods! }, { pods: ['get'] });
      expectGrants(rules['metrics.k8s.io'] ?? {}, { pods: used['metrics.k8s.io pods']! }, { pods: ['get'] });
    }
    // The CronJob's collect --once has no "between": the default set does not grant the metrics API.
    expect(rulesOf((await kustomizeBuild('deploy')).filter((o: { kind: string }) => o.kind === 'ClusterRole'))['metrics.k8s.io']).toBeUndefined();
  }, 60_000);

  test('port-forward: adds pods/portforward get and create (the websocket before and from 1.35), exactly what the port-forward variant adds', async () => {
    const used = await collectOnce('port-forward');
    expect(used).toEqual({ pods: ['list'], 'pods/portforward': ['create', 'get'] });
    const roles = (await kustomizeBuild('deploy/portforward')).filter((o: { kind: string }) => o.kind === 'ClusterRole');
    expectGrants(rulesOf(roles)[''] ?? {}, used, { pods: ['get'] });
  }, 60_000);
});
