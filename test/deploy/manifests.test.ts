/**
 * The Kubernetes manifests in deploy/ and the Dockerfile: they parse, kustomize builds every variant,
 * `kubectl apply -f` / `-k` accept them (client dry run against a discovery-only API server), RBAC is
 * exactly what the collector needs, and every container runs locked down.
 *
 * The helpers exported here (`kustomizeBuild`, `rulesOf`, `serviceAccountRules`, `containerCommands`)
 * are for other tests, e.g. comparing the collector's RBAC with the API calls it makes; this file's own
 * tests register only when Jest runs this file, so importing it does not run them twice.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadAll } from 'js-yaml';

/** A Kubernetes object as parsed from YAML. */
export type KubeObject = Record<string, any> & {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
};

/** Normalised RBAC rules: API group ('' for core) → resource (with subresource) → sorted verbs. */
export type RuleMap = Record<string, Record<string, string[]>>;

/** One container of one workload, with the argv it runs. */
export interface ContainerCommand {
  /** the deploy/ folder it was built from: `deploy`, `deploy/portforward`, `deploy/collector-deployment` or `deploy/collector-statefulset` */
  variant: string;
  kind: string;
  name: string;
  container: string;
  /** the full argv: the container's command, else the image's ENTRYPOINT, then its args */
  argv: string[];
  /** what kubectl-profefe's parser sees (argv after `node .../bin/kubectl-profefe`), e.g. ['collect', '--once', ...] */
  cliArgs: string[];
  /** the container's `env` entries, as written (values, secretKeyRef, downward API fieldRef) */
  env: { name: string; value?: string; valueFrom?: Record<string, any> }[];
  /**
   * The names its pods get: a StatefulSet's are `NAME-0` .. `NAME-(replicas-1)`; a Deployment's and
   * a CronJob's pods get generated suffixes (one made-up example each).
   */
  podNames: string[];
}

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const DEPLOY = path.join(ROOT, 'deploy');
const NAMESPACE = 'kubectl-profefe';
/** The collector's identity; the store has no API access. */
export const COLLECTOR_SERVICE_ACCOUNT = { namespace: NAMESPACE, name: 'kubectl-profefe-collector' } as const;
/** Every `kubectl apply -k` target, relative to the project root. */
export const VARIANTS = ['deploy', 'deploy/portforward', 'deploy/collector-deployment', 'deploy/collector-statefulset'] as const;
const UID = 65532;

const API_VERSIONS: Record<string, string> = {
  Namespace: 'v1',
  ServiceAccount: 'v1',
  Service: 'v1',
  PersistentVolumeClaim: 'v1',
  ClusterRole: 'rbac.authorization.k8s.io/v1',
  ClusterRoleBinding: 'rbac.authorization.k8s.io/v1',
  Deployment: 'apps/v1',
  StatefulSet: 'apps/v1',
  CronJob: 'batch/v1',
  NetworkPolicy: 'networking.k8s.io/v1',
  Kustomization: 'kustomize.config.k8s.io/v1beta1',
};

/** Every manifest file under deploy/ (YAML files and the kustomizations, which are named `Kustomization`). */
export function deployFiles(dir = DEPLOY): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const file = path.join(dir, entry.name);
    if (entry.isDirectory()) return deployFiles(file);
    return /\.ya?ml$/.test(entry.name) || entry.name === 'Kustomization' ? [file] : [];
  });
}

/** The non-empty YAML documents of a file. */
export function loadManifests(file: string): KubeObject[] {
  return loadAll(readFileSync(file, 'utf8')).filter((doc) => doc != null) as KubeObject[];
}

interface Run { code: number; stdout: string; stderr: string }

/** Runs the real kubectl with a throw-away HOME and cache, and no kubeconfig. */
async function kubectl(args: string[]): Promise<Run> {
  const home = mkdtempSync(path.join(tmpdir(), 'kubectl-home-'));
  try {
    const env = { PATH: process.env.PATH ?? '/usr/bin', HOME: home, KUBECACHEDIR: path.join(home, 'cache'), KUBECONFIG: path.join(home, 'none') };
    return await new Promise<Run>((resolve) => {
      execFile('kubectl', args, { cwd: ROOT, env, maxBuffer: 16 << 20 }, (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : 127) : 0;
        resolve({ code, stdout, stderr });
      });
    });
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
}

const builds = new Map<string, Promise<KubeObject[]>>();

/** `kubectl kustomize DIR` (DIR relative to the project root), parsed; cached per folder. Rejects with kubectl's stderr. */
export function kustomizeBuild(dir: string): Promise<KubeObject[]> {
  let build = builds.get(dir);
  if (!build) {
    build = kubectl(['kustomize', dir]).then((run) => {
      if (run.code !== 0) throw new Error(`kubectl kustomize ${dir} failed (${run.code}): ${run.stderr}`);
      return loadAll(run.stdout).filter((doc) => doc != null) as KubeObject[];
    });
    builds.set(dir, build);
  }
  return build;
}

/**
 * The rules of one or more ClusterRoles/Roles as `{ group: { resource: verbs } }`, verbs sorted and
 * de-duplicated, rules for the same group and resource merged. Throws on resourceNames,
 * nonResourceURLs and aggregationRule, which this map cannot express (and we do not use).
 */
export function rulesOf(roles: KubeObject | KubeObject[]): RuleMap {
  const map: Record<string, Record<string, Set<string>>> = {};
  for (const role of Array.isArray(roles) ? roles : [roles]) {
    if (role.aggregationRule) throw new Error(`${role.kind} ${role.metadata.name}: aggregationRule is not supported`);
    for (const rule of role.rules ?? []) {
      if (rule.resourceNames || rule.nonResourceURLs) throw new Error(`${role.kind} ${role.metadata.name}: resourceNames/nonResourceURLs are not supported`);
      for (const group of rule.apiGroups ?? []) {
        for (const resource of rule.resources ?? []) {
          const verbs = ((map[group] ??= {})[resource] ??= new Set());
          for (const verb of rule.verbs ?? []) verbs.add(verb);
        }
      }
    }
  }
  return Object.fromEntries(
    Object.entries(map).map(([group, resources]) => [group, Object.fromEntries(Object.entries(resources).map(([r, verbs]) => [r, [...verbs].sort()]))]),
  );
}

/** The rules a service account gets from the ClusterRoleBindings among `objects` (their ClusterRoles must be there too). */
export function serviceAccountRules(objects: KubeObject[], account: { namespace: string; name: string } = COLLECTOR_SERVICE_ACCOUNT): RuleMap {
  const roles = objects
    .filter((o) => o.kind === 'ClusterRoleBinding')
    .filter((b) => (b.subjects ?? []).some((s: any) => s.kind === 'ServiceAccount' && s.name === account.name && s.namespace === account.namespace))
    .map((b) => {
      const role = objects.find((o) => o.kind === b.roleRef.kind && o.metadata.name === b.roleRef.name);
      if (!role) throw new Error(`ClusterRoleBinding ${b.metadata.name} refers to a missing ${b.roleRef.kind} ${b.roleRef.name}`);
      return role;
    });
  return rulesOf(roles);
}

/** The pod spec of a Deployment, StatefulSet or CronJob. */
export function podSpecOf(workload: KubeObject): Record<string, any> {
  if (workload.kind === 'CronJob') return workload.spec.jobTemplate.spec.template.spec;
  return workload.spec.template.spec;
}

const isWorkload = (o: KubeObject) => o.kind === 'Deployment' || o.kind === 'StatefulSet' || o.kind === 'CronJob';

interface DockerInstruction { stage: number; keyword: string; value: string }

/** The Dockerfile's instructions (continuation lines joined, comments dropped), each with its stage index. */
export function dockerfileInstructions(text = readFileSync(path.join(ROOT, 'Dockerfile'), 'utf8')): DockerInstruction[] {
  const joined = text.replace(/\\\r?\n/g, ' ');
  const out: DockerInstruction[] = [];
  let stage = -1;
  for (const line of joined.split(/\r?\n/)) {
    const m = /^\s*([A-Za-z]+)\s+(.*\S)\s*$/.exec(line);
    if (!m || line.trimStart().startsWith('#')) continue;
    const keyword = m[1]!.toUpperCase();
    if (keyword === 'FROM') stage++;
    out.push({ stage, keyword, value: m[2]! });
  }
  return out;
}

/** The runtime image's ENTRYPOINT (exec form). */
export function imageEntrypoint(): string[] {
  const all = dockerfileInstructions();
  const last = Math.max(...all.map((i) => i.stage));
  const entry = all.filter((i) => i.stage === last && i.keyword === 'ENTRYPOINT').at(-1);
  if (!entry) throw new Error('the Dockerfile has no ENTRYPOINT in its last stage');
  return JSON.parse(entry.value) as string[];
}

/**
 * Every container of every workload (Deployment, StatefulSet, CronJob) of every variant, with its full argv
 * (command, else the image's ENTRYPOINT, then args, as the kubelet runs it) and the CLI arguments.
 */
export async function containerCommands(): Promise<ContainerCommand[]> {
  const entrypoint = imageEntrypoint();
  const out: ContainerCommand[] = [];
  for (const variant of VARIANTS) {
    for (const workload of (await kustomizeBuild(variant)).filter(isWorkload)) {
      for (const c of podSpecOf(workload).containers) {
        const command: string[] = c.command ?? entrypoint;
        const argv = [...command, ...(c.args ?? [])];
        const launcher = argv.findIndex((a) => a.endsWith('bin/kubectl-profefe') || a === 'kubectl-profefe');
        const name = workload.metadata.name;
        const podNames = workload.kind === 'StatefulSet'
          ? Array.from({ length: workload.spec.replicas ?? 1 }, (_, i) => `${name}-${i}`)
          : [workload.kind === 'CronJob' ? `${name}-29410620-x7k2p` : `${name}-7d9f8c6b5-x2k4q`];
        out.push({ variant, kind: workload.kind, name, container: c.name, argv, cliArgs: argv.slice(launcher + 1), env: c.env ?? [], podNames });
      }
    }
  }
  return out;
}

/** `--name=value` or `--name value` from CLI arguments. */
function flagValue(args: string[], name: string): string | undefined {
  for (let i = 0; i < args.length; i++) {
    if (args[i] === name) return args[i + 1];
    if (args[i]!.startsWith(`${name}=`)) return args[i]!.slice(name.length + 1);
  }
  return undefined;
}

/** Seconds in a Go-style duration such as `4m`, `90s`, `1h30m`. */
function durationSeconds(text: string): number {
  const units: Record<string, number> = { h: 3600, m: 60, s: 1 };
  let total = 0;
  for (const [, n, unit] of text.matchAll(/(\d+(?:\.\d+)?)([hms])/g)) total += Number(n) * units[unit!]!;
  return total;
}

/** An API server that only answers discovery (and 404 for objects): enough for `kubectl apply --dry-run=client`. */
async function withDiscoveryServer(): Promise<{ url: string; close: () => Promise<void> }> {
  const groups: Record<string, [resource: string, kind: string, namespaced: boolean][]> = {
    v1: [['namespaces', 'Namespace', false], ['serviceaccounts', 'ServiceAccount', true], ['services', 'Service', true], ['persistentvolumeclaims', 'PersistentVolumeClaim', true]],
    'apps/v1': [['deployments', 'Deployment', true], ['statefulsets', 'StatefulSet', true]],
    'batch/v1': [['cronjobs', 'CronJob', true]],
    'rbac.authorization.k8s.io/v1': [['clusterroles', 'ClusterRole', false], ['clusterrolebindings', 'ClusterRoleBinding', false]],
    'networking.k8s.io/v1': [['networkpolicies', 'NetworkPolicy', true]],
  };
  const resourceList = (gv: string) => ({
    kind: 'APIResourceList', apiVersion: 'v1', groupVersion: gv,
    resources: groups[gv]!.map(([name, kind, namespaced]) => ({ name, singularName: kind.toLowerCase(), kind, namespaced, verbs: ['create', 'get', 'list', 'patch'] })),
  });
  const server = http.createServer((req, res) => {
    const p = new URL(req.url ?? '/', 'http://x').pathname;
    const named = Object.keys(groups).filter((gv) => gv.includes('/'));
    let body: unknown = { kind: 'Status', apiVersion: 'v1', status: 'Failure', reason: 'NotFound', code: 404 };
    if (p === '/api') body = { kind: 'APIVersions', versions: ['v1'], serverAddressByClientCIDRs: [] };
    else if (p === '/api/v1') body = resourceList('v1');
    else if (p === '/apis') body = { kind: 'APIGroupList', apiVersion: 'v1', groups: named.map((gv) => { const [name, version] = gv.split('/'); return { name, versions: [{ groupVersion: gv, version }], preferredVersion: { groupVersion: gv, version } }; }) };
    else if (p.startsWith('/apis/') && groups[p.slice(6)]) body = resourceList(p.slice(6));
    res.writeHead((body as { code?: number }).code ?? 200, { 'content-type': 'application/json' }).end(JSON.stringify(body));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => new Promise<void>((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }),
  };
}

/** What `kubectl apply -o name` prints for an object: `deployment.apps/NAME`, `namespace/NAME`. */
const resourceName = (o: KubeObject) => {
  const group = o.apiVersion.includes('/') ? `.${o.apiVersion.split('/')[0]}` : '';
  return `${o.kind.toLowerCase()}${group}/${o.metadata.name}`;
};
const objectKey = (o: KubeObject) => `${o.kind} ${o.metadata.namespace ?? ''}/${o.metadata.name}`;
const kindsOf = (objects: KubeObject[]) => objects.map((o) => o.kind).sort();

// Register the tests only when Jest runs this file, not when another test imports its helpers.
if (expect.getState().testPath === fileURLToPath(import.meta.url)) {
  describe('deploy/ manifests', () => {
    test.each(deployFiles().map((f) => [path.relative(ROOT, f)]))('%s parses, and each document has the right apiVersion for its kind', (file) => {
      const docs = loadManifests(path.join(ROOT, file));
      expect(docs.length).toBeGreaterThan(0);
      for (const doc of docs) {
        expect(Object.keys(API_VERSIONS)).toContain(doc.kind);
        expect(`${doc.kind} ${doc.apiVersion}`).toBe(`${doc.kind} ${API_VERSIONS[doc.kind]}`);
        if (doc.kind !== 'Kustomization') {
          expect(doc.metadata.name).toMatch(/^kubectl-profefe/);
          expect(doc.metadata.labels?.['app.kubernetes.io/name']).toBe('kubectl-profefe');
        }
      }
    });

    test('no folder holds a kustomization.yaml, which `kubectl apply -f FOLDER` would fail on', () => {
      const names = deployFiles().map((f) => path.basename(f));
      expect(names.filter((n) => /^kustomization\.ya?ml$/i.test(n))).toEqual([]);
      for (const dir of VARIANTS) expect(existsSync(path.join(ROOT, dir, 'Kustomization'))).toBe(true);
    });

    test.each([
      ['deploy', ['ClusterRole', 'ClusterRoleBinding', 'CronJob', 'Deployment', 'Namespace', 'NetworkPolicy', 'PersistentVolumeClaim', 'Service', 'ServiceAccount']],
      ['deploy/portforward', ['ClusterRole', 'ClusterRole', 'ClusterRoleBinding', 'ClusterRoleBinding', 'CronJob', 'Deployment', 'Namespace', 'NetworkPolicy', 'PersistentVolumeClaim', 'Service', 'ServiceAccount']],
      ['deploy/collector-deployment', ['ClusterRole', 'ClusterRoleBinding', 'Deployment', 'Deployment', 'Namespace', 'NetworkPolicy', 'PersistentVolumeClaim', 'PersistentVolumeClaim', 'Service', 'ServiceAccount']],
      ['deploy/collector-statefulset', ['ClusterRole', 'ClusterRoleBinding', 'Deployment', 'Namespace', 'NetworkPolicy', 'PersistentVolumeClaim', 'Service', 'Service', 'ServiceAccount', 'StatefulSet']],
    ])('kubectl kustomize %s builds exactly the expected kinds', async (dir, kinds) => {
      const objects = await kustomizeBuild(dir);
      expect(kindsOf(objects)).toEqual(kinds);
      for (const o of objects) if (o.kind !== 'Namespace' && !o.kind.startsWith('Cluster')) expect(objectKey(o)).toBe(`${o.kind} ${NAMESPACE}/${o.metadata.name}`);
    });

    test('install.yaml is `kubectl kustomize deploy/` (UPDATE_GOLDEN=1 regenerates it)', async () => {
      const file = path.join(DEPLOY, 'install.yaml');
      const built = await kustomizeBuild('deploy');
      if (process.env.UPDATE_GOLDEN) {
        const header = readFileSync(file, 'utf8').split('\n').filter((l) => l.startsWith('#')).join('\n');
        const run = await kubectl(['kustomize', 'deploy']);
        writeFileSync(file, `${header}\n${run.stdout}`);
      }
      const byKey = (objects: KubeObject[]) => Object.fromEntries(objects.map((o) => [objectKey(o), o]));
      expect(byKey(loadManifests(file))).toEqual(byKey(built));
      // kubectl apply -f applies a file's documents in order: the Namespace must come first.
      expect(loadManifests(file)[0]!.kind).toBe('Namespace');
    });
  });

  describe('RBAC', () => {
    test('the default ClusterRole grants exactly get and list on pods', () => {
      const [role] = loadManifests(path.join(DEPLOY, 'base/clusterrole.yaml'));
      expect(rulesOf(role!)).toEqual({ '': { pods: ['get', 'list'] } });
    });

    test('the port-forward ClusterRole adds exactly get (the websocket, to 1.34) and create (SPDY; the websocket from 1.35) on pods/portforward', () => {
      const [role] = loadManifests(path.join(DEPLOY, 'portforward/clusterrole.yaml'));
      expect(rulesOf(role!)).toEqual({ '': { 'pods/portforward': ['create', 'get'] } });
    });

    test.each([
      ['deploy', { '': { pods: ['get', 'list'] } }],
      // The long-running collectors read usage for their pressure triggers (collect --heap-trigger).
      ['deploy/collector-deployment', { '': { pods: ['get', 'list'] }, 'metrics.k8s.io': { pods: ['get', 'list'] } }],
      ['deploy/collector-statefulset', { '': { pods: ['get', 'list'] }, 'metrics.k8s.io': { pods: ['get', 'list'] } }],
      ['deploy/portforward', { '': { pods: ['get', 'list'], 'pods/portforward': ['create', 'get'] } }],
    ])('the collector service account of %s gets exactly %j', async (dir, rules) => {
      expect(serviceAccountRules(await kustomizeBuild(dir))).toEqual(rules);
    });

    test.each(VARIANTS.map((v) => [v]))('%s: only the collector has a service account token, and it exists', async (dir) => {
      const objects = await kustomizeBuild(dir);
      for (const w of objects.filter(isWorkload)) {
        const pod = podSpecOf(w);
        if (w.metadata.labels?.['app.kubernetes.io/component'] === 'collector') {
          expect(pod.serviceAccountName).toBe(COLLECTOR_SERVICE_ACCOUNT.name);
          expect(objects.some((o) => o.kind === 'ServiceAccount' && o.metadata.name === pod.serviceAccountName && o.metadata.namespace === NAMESPACE)).toBe(true);
        } else {
          expect(pod.automountServiceAccountToken).toBe(false);
        }
      }
    });
  });

  describe('workloads', () => {
    test.each(VARIANTS.map((v) => [v]))('%s: every container runs as non-root with a read-only root filesystem, no privileges and resources', async (dir) => {
      for (const w of (await kustomizeBuild(dir)).filter(isWorkload)) {
        const pod = podSpecOf(w);
        for (const c of pod.containers) {
          const sc = { ...pod.securityContext, ...c.securityContext };
          const where = `${w.kind} ${w.metadata.name} container ${c.name}`;
          expect({ where, runAsNonRoot: sc.runAsNonRoot, runAsUser: sc.runAsUser }).toEqual({ where, runAsNonRoot: true, runAsUser: UID });
          expect({ where, readOnlyRootFilesystem: c.securityContext?.readOnlyRootFilesystem }).toEqual({ where, readOnlyRootFilesystem: true });
          expect({ where, allowPrivilegeEscalation: c.securityContext?.allowPrivilegeEscalation }).toEqual({ where, allowPrivilegeEscalation: false });
          expect(c.securityContext?.capabilities?.drop).toEqual(['ALL']);
          expect(c.securityContext?.capabilities?.add).toBeUndefined();
          expect(sc.seccompProfile?.type).toBe('RuntimeDefault');
          expect(c.resources?.requests).toEqual({ cpu: expect.any(String), memory: expect.any(String) });
          expect(c.resources?.limits?.memory).toEqual(expect.any(String));
          // The only writable paths: /data (KUBECTL_PROFEFE_HOME) and /tmp, both volumes (or a StatefulSet's claims).
          const mounts = Object.fromEntries(c.volumeMounts.map((m: any) => [m.mountPath, m.name]));
          expect(Object.keys(mounts).sort()).toEqual(['/data', '/tmp']);
          const volumes = [...pod.volumes, ...(w.spec.volumeClaimTemplates ?? []).map((t: any) => t.metadata)].map((v: any) => v.name);
          for (const name of Object.values(mounts)) expect(volumes).toContain(name);
        }
      }
    });

    test.each(VARIANTS.map((v) => [v]))('%s: every image is this version of kubectl-profefe', async (dir) => {
      const { version } = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8'));
      for (const w of (await kustomizeBuild(dir)).filter(isWorkload)) {
        for (const c of podSpecOf(w).containers) expect(c.image).toBe(`ghcr.io/kubectl-profefe/kubectl-profefe:${version}`);
      }
    });

    test.each(VARIANTS.map((v) => [v]))('%s: every PersistentVolumeClaim a pod mounts is in the same build', async (dir) => {
      const objects = await kustomizeBuild(dir);
      const claims = objects.filter((o) => o.kind === 'PersistentVolumeClaim').map((o) => o.metadata.name);
      const used = objects.filter(isWorkload).flatMap((w) => podSpecOf(w).volumes.filter((v: any) => v.persistentVolumeClaim).map((v: any) => v.persistentVolumeClaim.claimName));
      expect(used.sort()).toEqual(claims.sort());
    });

    test('the store Service selects the store pods and reaches the port serve listens on', async () => {
      const objects = await kustomizeBuild('deploy');
      const service = objects.find((o) => o.kind === 'Service' && o.metadata.name === 'kubectl-profefe-store')!;
      const store = objects.find((o) => o.kind === 'Deployment' && o.metadata.name === 'kubectl-profefe-store')!;
      expect(store.spec.template.metadata.labels).toMatchObject(service.spec.selector);
      expect(store.spec.strategy.type).toBe('Recreate');
      const [container] = store.spec.template.spec.containers;
      const port = container.ports.find((p: any) => p.name === service.spec.ports[0].targetPort);
      expect(port.containerPort).toBe(10100);
      expect(service.spec.ports[0].port).toBe(10100);
      const args: string[] = container.args;
      expect(args[0]).toBe('serve');
      expect([flagValue(args, '--address'), flagValue(args, '--port'), flagValue(args, '--store-dir')]).toEqual(['0.0.0.0', '10100', '/data/store']);
    });

    test.each(VARIANTS.map((v) => [v]))('%s: the collector uploads to the store Service and spools under /data', async (dir) => {
      const objects = await kustomizeBuild(dir);
      const service = objects.find((o) => o.kind === 'Service' && o.metadata.name === 'kubectl-profefe-store')!;
      const storeUrl = `http://${service.metadata.name}.${service.metadata.namespace}.svc:${service.spec.ports[0].port}`;
      const collectors = (await containerCommands()).filter((c) => c.variant === dir && c.cliArgs[0] === 'collect');
      expect(collectors).toHaveLength(1);
      expect(flagValue(collectors[0]!.cliArgs, '--profefe-hostport')).toBe(storeUrl);
      expect(flagValue(collectors[0]!.cliArgs, '--spool-dir')).toBe('/data/spool');
      expect(collectors[0]!.cliArgs).toContain('-A');
    });

    test.each([
      ['deploy', 'direct'],
      ['deploy/collector-deployment', 'direct'],
      ['deploy/portforward', 'port-forward'],
    ])('%s: the collector connects with --connect=%s', async (dir, mode) => {
      const [collector] = (await containerCommands()).filter((c) => c.variant === dir && c.cliArgs[0] === 'collect');
      expect(flagValue(collector!.cliArgs, '--connect')).toBe(mode);
    });

    test('the CronJob runs one round at a time, and the round ends before the Job deadline and the next schedule', async () => {
      const cron = (await kustomizeBuild('deploy')).find((o) => o.kind === 'CronJob')!;
      const args: string[] = podSpecOf(cron).containers[0].args;
      expect(cron.spec.schedule).toBe('*/5 * * * *');
      expect(cron.spec.concurrencyPolicy).toBe('Forbid');
      expect(args.slice(0, 2)).toEqual(['collect', '--once']);
      const roundTimeout = durationSeconds(flagValue(args, '--round-timeout')!);
      const deadline = cron.spec.jobTemplate.spec.activeDeadlineSeconds;
      expect(roundTimeout).toBeGreaterThan(0);
      expect(roundTimeout).toBeLessThan(deadline);
      expect(deadline).toBeLessThan(5 * 60);
      expect(podSpecOf(cron).restartPolicy).toBe('Never');
    });

    test.each(VARIANTS.map((v) => [v]))('%s: the store requires a token, and every workload reads it from the Secret through the environment, never argv', async (dir) => {
      for (const w of (await kustomizeBuild(dir)).filter(isWorkload)) {
        const [c] = podSpecOf(w).containers;
        const where = `${w.kind} ${w.metadata.name}`;
        expect({ where, env: c.env.find((e: any) => e.name === 'PROFEFE_TOKEN') }).toEqual({
          where,
          env: { name: 'PROFEFE_TOKEN', valueFrom: { secretKeyRef: { name: 'kubectl-profefe-token', key: 'token' } } },
        });
        expect(c.args.filter((a: string) => /token/.test(a) && a !== '--require-token')).toEqual([]);
        if (c.args[0] === 'serve') expect(c.args).toContain('--require-token');
      }
    });

    test.each(VARIANTS.map((v) => [v]))('%s: a NetworkPolicy lets only the collector pods and opted-in namespaces reach the store port', async (dir) => {
      const objects = await kustomizeBuild(dir);
      const policies = objects.filter((o) => o.kind === 'NetworkPolicy');
      expect(policies).toHaveLength(1);
      const [policy] = policies;
      const store = objects.find((o) => o.kind === 'Deployment' && o.metadata.name === 'kubectl-profefe-store')!;
      const collector = objects.find((o) => isWorkload(o) && o.metadata.labels?.['app.kubernetes.io/component'] === 'collector')!;
      const collectorPodLabels = collector.kind === 'CronJob' ? collector.spec.jobTemplate.spec.template.metadata.labels : collector.spec.template.metadata.labels;
      expect(store.spec.template.metadata.labels).toMatchObject(policy!.spec.podSelector.matchLabels);
      expect(policy!.spec.policyTypes).toEqual(['Ingress']);
      expect(policy!.spec.ingress).toHaveLength(1);
      const [rule] = policy!.spec.ingress;
      expect(rule.ports).toEqual([{ port: 10100, protocol: 'TCP' }]);
      const [fromCollector, fromNamespaces] = rule.from;
      expect(fromCollector.namespaceSelector).toBeUndefined(); // the policy's own namespace only
      expect(collectorPodLabels).toMatchObject(fromCollector.podSelector.matchLabels);
      expect(fromNamespaces).toEqual({ namespaceSelector: { matchLabels: { 'kubectl-profefe/store-access': 'true' } } });
    });

    test.each(VARIANTS.map((v) => [v]))('%s: the collector\'s memory limit covers its answer budget and the decode limit', async (dir) => {
      const collector = (await containerCommands()).find((c) => c.variant === dir && c.cliArgs[0] === 'collect')!;
      const workload = (await kustomizeBuild(dir)).find((o) => isWorkload(o) && o.metadata.name === collector.name)!;
      const limit = podSpecOf(workload).containers[0].resources.limits.memory as string;
      const limitMiB = Number(/^(\d+)Mi$/.exec(limit)?.[1] ?? Number(/^(\d+)Gi$/.exec(limit)![1]) * 1024);
      const buffered = Number(flagValue(collector.cliArgs, '--max-buffered-size'));
      const inflated = Number(flagValue(collector.cliArgs, '--max-inflated-size') ?? 64);
      // Node itself, the answers held, one inflated profile and its decoded objects (~370 MiB for 20 MiB).
      expect(90 + buffered + inflated + 370).toBeLessThanOrEqual(limitMiB);
    });

    test('the collector Deployment serves /metrics and /healthz where its probes and scrape annotations look', async () => {
      const objects = await kustomizeBuild('deploy/collector-deployment');
      const collector = objects.find((o) => o.kind === 'Deployment' && o.metadata.name === 'kubectl-profefe-collector')!;
      expect(collector.spec.replicas).toBe(1);
      const [c] = collector.spec.template.spec.containers;
      expect(c.args.slice(0, 2)).toEqual(['collect', '--interval=1m']);
      const port = Number(flagValue(c.args, '--metrics-addr')!.split(':').at(-1));
      const named = c.ports.find((p: any) => p.containerPort === port);
      for (const probe of [c.livenessProbe, c.readinessProbe]) expect(probe.httpGet).toEqual({ path: '/healthz', port: named.name });
      expect(collector.spec.template.metadata.annotations).toEqual({ 'prometheus.io/scrape': 'true', 'prometheus.io/port': String(port), 'prometheus.io/path': '/metrics' });
    });

    test('the collector StatefulSet: --shards equals its replicas, the ordinal comes from POD_NAME, a headless Service governs it, a claim per replica holds its spool', async () => {
      const objects = await kustomizeBuild('deploy/collector-statefulset');
      const set = objects.find((o) => o.kind === 'StatefulSet' && o.metadata.name === 'kubectl-profefe-collector')!;
      const [c] = set.spec.template.spec.containers;
      expect(c.args.slice(0, 2)).toEqual(['collect', '--interval=1m']);
      expect(Number(flagValue(c.args, '--shards'))).toBe(set.spec.replicas);
      expect(set.spec.replicas).toBeGreaterThan(1);
      expect(flagValue(c.args, '--shard')).toBeUndefined();
      expect(c.env.find((e: any) => e.name === 'POD_NAME')).toEqual({ name: 'POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } });
      // apps/v1: the governing Service exists before the set and is headless; it selects the set's pods.
      const service = objects.find((o) => o.kind === 'Service' && o.metadata.name === set.spec.serviceName)!;
      expect(service.spec.clusterIP).toBe('None');
      expect(set.spec.template.metadata.labels).toMatchObject(service.spec.selector);
      expect(set.spec.template.metadata.labels).toMatchObject(set.spec.selector.matchLabels);
      expect(service.spec.ports.map((p: any) => p.targetPort)).toEqual(c.ports.map((p: any) => p.name));
      expect(set.spec.podManagementPolicy).toBe('Parallel');
      // The spool survives restarts: /data is a claim of the set's, and --spool-dir is in it.
      const [claim] = set.spec.volumeClaimTemplates;
      expect(c.volumeMounts.find((m: any) => m.mountPath === '/data').name).toBe(claim.metadata.name);
      expect(flagValue(c.args, '--spool-dir')).toMatch(/^\/data\//);
      expect(set.spec.persistentVolumeClaimRetentionPolicy).toEqual({ whenDeleted: 'Delete', whenScaled: 'Retain' });
      // Metrics where the probes and scrape annotations look, as the Deployment's.
      const port = Number(flagValue(c.args, '--metrics-addr')!.split(':').at(-1));
      const named = c.ports.find((p: any) => p.containerPort === port);
      for (const probe of [c.livenessProbe, c.readinessProbe]) expect(probe.httpGet).toEqual({ path: '/healthz', port: named.name });
      expect(set.spec.template.metadata.annotations).toEqual({ 'prometheus.io/scrape': 'true', 'prometheus.io/port': String(port), 'prometheus.io/path': '/metrics' });
    });

    test('containerCommands() gives each workload\'s full argv, starting with the image entrypoint', async () => {
      const commands = await containerCommands();
      expect(commands.map((c) => `${c.variant} ${c.kind}/${c.name} ${c.cliArgs[0]}`).sort()).toEqual([
        'deploy CronJob/kubectl-profefe-collector collect',
        'deploy Deployment/kubectl-profefe-store serve',
        'deploy/collector-deployment Deployment/kubectl-profefe-collector collect',
        'deploy/collector-deployment Deployment/kubectl-profefe-store serve',
        'deploy/collector-statefulset Deployment/kubectl-profefe-store serve',
        'deploy/collector-statefulset StatefulSet/kubectl-profefe-collector collect',
        'deploy/portforward CronJob/kubectl-profefe-collector collect',
        'deploy/portforward Deployment/kubectl-profefe-store serve',
      ]);
      for (const c of commands) expect(c.argv).toEqual([...imageEntrypoint(), ...c.cliArgs]);
    });
  });

  describe('kubectl apply (client dry run against a discovery-only API server)', () => {
    let api: { url: string; close: () => Promise<void> };
    beforeAll(async () => { api = await withDiscoveryServer(); });
    afterAll(async () => { await api.close(); });
    const apply = (...args: string[]) => kubectl(['apply', '--dry-run=client', '--validate=false', '-o', 'name', '-s', api.url, ...args]);

    test('kubectl apply -f deploy/ applies install.yaml, the default set', async () => {
      const run = await apply('-f', 'deploy/');
      expect(run.stderr).toBe('');
      expect(run.code).toBe(0);
      expect(run.stdout.trim().split('\n')).toEqual((await kustomizeBuild('deploy')).map(resourceName));
    });

    test.each(VARIANTS.map((v) => [v]))('kubectl apply -k %s applies its kustomize build', async (dir) => {
      const run = await apply('-k', dir);
      expect(run.stderr).toBe('');
      expect(run.code).toBe(0);
      expect(run.stdout.trim().split('\n').sort()).toEqual((await kustomizeBuild(dir)).map(resourceName).sort());
    });

    test('kubectl apply -f fails on a folder holding a kustomization.yaml (why ours are named Kustomization)', async () => {
      const dir = mkdtempSync(path.join(tmpdir(), 'kustomization-'));
      try {
        writeFileSync(path.join(dir, 'namespace.yaml'), readFileSync(path.join(DEPLOY, 'base/namespace.yaml')));
        writeFileSync(path.join(dir, 'kustomization.yaml'), 'apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources: [namespace.yaml]\n');
        const run = await apply('-f', dir);
        expect(run.code).not.toBe(0);
        expect(run.stderr).toMatch(/no matches for kind "Kustomization"/);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  });

  describe('Dockerfile', () => {
    const instructions = dockerfileInstructions();
    const stages = Math.max(...instructions.map((i) => i.stage)) + 1;
    const runtime = instructions.filter((i) => i.stage === stages - 1);

    test('is multi-stage, on node:20 slim images, building with dev dependencies and running without them', () => {
      const froms = instructions.filter((i) => i.keyword === 'FROM').map((i) => i.value.split(/\s+/).find((word) => !word.startsWith('--')));
      expect(froms.length).toBeGreaterThanOrEqual(2);
      for (const image of froms) expect(image).toMatch(/^node:20(\.\d+)*-\w+-slim$/);
      const build = instructions.filter((i) => i.stage < stages - 1 && i.keyword === 'RUN').map((i) => i.value).join('\n');
      expect(build).toMatch(/npm ci\b/);
      expect(build).toMatch(/npm run build/);
      const runs = runtime.filter((i) => i.keyword === 'RUN').map((i) => i.value).join('\n');
      expect(runs).toMatch(/npm ci\b.*--omit=dev/);
      expect(runs).toMatch(/npm ci\b.*--ignore-scripts/);
      expect(runtime.some((i) => i.keyword === 'COPY' && /--from=\S+ \S*dist\/? /.test(i.value))).toBe(true);
    });

    test('runs as the non-root uid the manifests use, with its data under /data', () => {
      const user = runtime.filter((i) => i.keyword === 'USER').at(-1)?.value;
      expect(user).toBe(`${UID}:${UID}`);
      const env = runtime.filter((i) => i.keyword === 'ENV').map((i) => i.value).join(' ');
      expect(env).toMatch(/\bKUBECTL_PROFEFE_HOME=\/data\b/);
      expect(env).toMatch(/\bHOME=\/tmp\b/);
    });

    test('its entrypoint is the launcher, copied from bin/ into the image', () => {
      const entrypoint = imageEntrypoint();
      const launcher = entrypoint.at(-1)!;
      expect(launcher).toMatch(/\/bin\/kubectl-profefe$/);
      expect(statSync(path.join(ROOT, 'bin/kubectl-profefe')).isFile()).toBe(true);
      // Resolve where `COPY bin/ ...` put the launcher, following WORKDIR.
      let workdir = '/';
      let copiedTo: string | undefined;
      for (const i of runtime) {
        if (i.keyword === 'WORKDIR') workdir = path.posix.resolve(workdir, i.value);
        if (i.keyword === 'COPY' && !i.value.includes('--from')) {
          const [src, dest] = i.value.split(/\s+/);
          if (src!.replace(/\/$/, '') === 'bin') copiedTo = path.posix.resolve(workdir, dest!);
        }
      }
      expect(launcher).toBe(`${copiedTo}/kubectl-profefe`);
    });

    test('every file the Dockerfile copies from the context exists and .dockerignore admits it, and nothing else', () => {
      const lines = readFileSync(path.join(ROOT, '.dockerignore'), 'utf8').split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));
      expect(lines[0]).toBe('*');
      const admitted = lines.slice(1).map((l) => {
        expect(l.startsWith('!')).toBe(true);
        return l.slice(1).replace(/\/$/, '');
      });
      const copied = instructions
        .filter((i) => i.keyword === 'COPY' && !i.value.includes('--from'))
        .flatMap((i) => i.value.split(/\s+/).slice(0, -1).map((s) => s.replace(/\/$/, '')));
      const isAdmitted = (source: string) => admitted.some((entry) => source === entry || source.startsWith(`${entry}/`));
      for (const source of copied) expect({ source, exists: existsSync(path.join(ROOT, source)), admitted: isAdmitted(source) }).toEqual({ source, exists: true, admitted: true });
      // Nothing else gets into the build context.
      for (const entry of admitted) expect({ entry, copied: copied.includes(entry) }).toEqual({ entry, copied: true });
    });
  });
}
