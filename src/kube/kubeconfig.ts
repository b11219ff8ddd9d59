/**
 * Cluster access resolved the way kubectl (client-go's clientcmd) does it: which kubeconfig files, how they
 * merge, which context, cluster and user, the flag overrides, the in-cluster fallback and the namespace.
 * The rules are in docs/kube-access.md ("Which kubeconfig", "Context, namespace and overrides"). The
 * result is a client-node KubeConfig that holds only the effective context, cluster and user, so
 * client-node has nothing left to decide.
 */
import { accessSync, constants, readFileSync, statSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { KubeConfig, type Cluster, type Context, type User } from '@kubernetes/client-node';
import { loadAll } from 'js-yaml';
import { KubeError, UsageError } from '../errors.js';

/** Flag values for cluster access, named after kubectl's flags. Unset and '' both mean "not given". */
export interface KubeAccessOptions {
  /** --kubeconfig: exactly this file, no merging; it must exist. */
  kubeconfig?: string;
  /** --context: the kubeconfig context to use instead of current-context. */
  context?: string;
  /** --cluster: replaces the chosen context's cluster (must exist in the kubeconfig). */
  cluster?: string;
  /** --user: replaces the chosen context's user (must exist in the kubeconfig). */
  user?: string;
  /** -n/--namespace */
  namespace?: string;
  /** -A/--all-namespaces; wins over -n, as in kubectl. */
  allNamespaces?: boolean;
  /** -s/--server */
  server?: string;
  /** --token: bearer token; replaces the user's tokens, exec plugin and auth provider (client certs stay). */
  token?: string;
  /** --certificate-authority: CA file (relative to the working directory); replaces the cluster's CA and skip-verify. */
  certificateAuthority?: string;
  /** --client-certificate (relative to the working directory) */
  clientCertificate?: string;
  /** --client-key (relative to the working directory) */
  clientKey?: string;
  /** --insecure-skip-tls-verify; false is the same as not given. */
  insecureSkipTlsVerify?: boolean;
  /** --request-timeout in kubectl's syntax (see parseRequestTimeout); default "0" (none). */
  requestTimeout?: string;
}

/** Where the configuration came from. */
export type KubeAccessSource = 'flag' | 'KUBECONFIG' | 'home' | 'in-cluster';

/** Everything needed to talk to the API server, resolved once per command. */
export interface KubeAccess {
  /** client-node's config, ready for makeApiClient / PortForward; holds only the effective context, cluster and user. */
  readonly kubeConfig: KubeConfig;
  /** the kubeconfig context in use; '' in-cluster or when the cluster comes from --server alone */
  readonly contextName: string;
  /** -n, else the context's namespace, else the in-cluster namespace, else 'default'. Resolved even with -A. */
  readonly namespace: string;
  /** -A: list across all namespaces (`/api/v1/pods`); `namespace` is then only for reference. */
  readonly allNamespaces: boolean;
  /** per-request timeout; undefined means none (kubectl's default "0") */
  readonly requestTimeoutMs: number | undefined;
  /**
   * 'flag': --kubeconfig, or --server with no kubeconfig file at all; 'KUBECONFIG': the files listed there;
   * 'home': ~/.kube/config; 'in-cluster': the pod's service account.
   */
  readonly source: KubeAccessSource;
  readonly inCluster: boolean;
}

/** Where the pod's service account is mounted; client-node's loadFromCluster only accepts a prefix to it. */
const SERVICE_ACCOUNT_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';

type Mutable<T> = { -readonly [K in keyof T]: T[K] };
type Yaml = Record<string, unknown>;

/** The kubeconfig files as kubectl merges them: per name, the first file that defines it wins. */
interface MergedKubeconfig {
  /** files actually read, in order */
  files: string[];
  clusters: Map<string, Yaml>;
  users: Map<string, Yaml>;
  contexts: Map<string, Yaml>;
  /** from the first file that sets it; '' if none does */
  currentContext: string;
}

/** Which files to read: --kubeconfig, else every KUBECONFIG entry, else ~/.kube/config. */
interface KubeconfigChain {
  files: string[];
  source: Exclude<KubeAccessSource, 'in-cluster'>;
}

/**
 * Resolves cluster access from kubectl's flags and the environment, exactly as kubectl does (docs/kube-access.md):
 * - files: `--kubeconfig FILE` alone (missing: KubeError); else `KUBECONFIG` (path.delimiter-separated, empty
 *   entries skipped, missing files ignored, no fallback to the home file even if all are missing); else
 *   `~/.kube/config` (home: `paths.home`, else `env.HOME`, else os.homedir()). Relative paths inside a file
 *   resolve against that file's directory. Clusters, users and contexts merge first-wins by name;
 *   current-context comes from the first file that sets it.
 * - context: --context, else current-context; --cluster / --user replace the context's parts; then the flag
 *   overrides apply (an http:// server gets no credentials, as kubectl sends none over plain HTTP).
 * - in-cluster: used when no context, --cluster or --server is given or set (e.g. no kubeconfig at all), and
 *   KUBERNETES_SERVICE_HOST, KUBERNETES_SERVICE_PORT and the service-account token exist. Read by client-node's
 *   loadFromCluster; only --token, --certificate-authority and -n apply, as in kubectl (--server selects the
 *   flags-only path instead, with no service-account credentials).
 *   `paths.serviceAccountDir` (tests) must end with /var/run/secrets/kubernetes.io/serviceaccount.
 * Throws KubeError for missing or malformed kubeconfig files, unknown names, unreadable certificate files and
 * when nothing is configured; UsageError for a bad --request-timeout or --certificate-authority combined with
 * --insecure-skip-tls-verify. Reads files synchronously; makes no network calls.
 */
export function resolveKubeAccess(
  opts: KubeAccessOptions,
  env: NodeJS.ProcessEnv,
  paths: { home?: string; serviceAccountDir?: string } = {},
): KubeAccess {
  const flags = withoutEmptyStrings(opts);
  const timeout = parseRequestTimeout(flags.requestTimeout ?? '0');
  const requestTimeoutMs = timeout === 0 ? undefined : timeout;
  if (flags.certificateAuthority !== undefined && flags.insecureSkipTlsVerify) {
    // kubectl: "specifying a root certificates file with the insecure flag is not allowed"
    throw new UsageError('--certificate-authority and --insecure-skip-tls-verify cannot be used together');
  }
  const home = paths.home ?? (env.HOME || os.homedir());
  const chain = kubeconfigChain(flags, env, home);
  const merged = loadKubeconfigs(chain);
  const contextName = flags.context ?? merged.currentContext;
  const common = { allNamespaces: flags.allNamespaces === true, requestTimeoutMs };

  // kubectl falls back to in-cluster only when the kubeconfig (with flags) names no cluster at all.
  if (!contextName && flags.cluster === undefined && flags.server === undefined) {
    const saDir = paths.serviceAccountDir ?? SERVICE_ACCOUNT_DIR;
    if (inClusterPossible(env, saDir)) return { ...common, ...inClusterAccess(flags, env, saDir) };
    throw nothingConfigured(chain, merged);
  }
  return { ...common, ...kubeconfigAccess(flags, merged, contextName, merged.files.length > 0 ? chain.source : 'flag') };
}

/**
 * The context names of the kubeconfig files kubectl would read for these flags (--kubeconfig, else
 * KUBECONFIG, else ~/.kube/config; merged first-wins), sorted, with the namespace each sets. For
 * completing --context. Throws KubeError as {@link resolveKubeAccess} does for unreadable files.
 */
export function kubeconfigContexts(opts: Pick<KubeAccessOptions, 'kubeconfig'>, env: NodeJS.ProcessEnv, home = env.HOME || os.homedir()): { name: string; namespace?: string }[] {
  const merged = loadKubeconfigs(kubeconfigChain(withoutEmptyStrings(opts), env, home));
  return [...merged.contexts.entries()]
    .map(([name, ctx]) => {
      const namespace = ctx.namespace;
      return typeof namespace === 'string' && namespace !== '' ? { name, namespace } : { name };
    })
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/**
 * Parses kubectl's --request-timeout into milliseconds: a whole number of seconds ("0", "30") or a Go duration
 * ("500ms", "1.5s", "2m", "1h30m"; units ns, us, µs, ms, s, m, h). 0 means no timeout; a positive value below
 * 1 ms rounds up to 1 so it never turns into "no timeout". Throws UsageError for anything else, including
 * negative values (which kubectl's parser would accept and then fail every request with).
 */
export function parseRequestTimeout(value: string): number {
  if (/^\+?\d+$/.test(value)) return Number(value) * 1000;
  const body = /^\+?((?:(?:\d+(?:\.\d*)?|\.\d+)(?:ns|us|µs|μs|ms|s|m|h))+)$/.exec(value)?.[1];
  if (body === undefined) {
    throw new UsageError(
      // pflag's words for a value a flag refuses, as the CLI's other flags (src/cli/shared/usage-errors.ts).
      `invalid argument ${JSON.stringify(value)} for "--request-timeout" flag: use a whole number of seconds or a number with a unit ` +
        '(e.g. 500ms, 1s, 2m, 1h30m); 0 means no timeout',
    );
  }
  let ms = 0;
  for (const [, amount, unit] of body.matchAll(/(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h)/g)) {
    ms += Number(amount) * UNIT_MS[unit!]!;
  }
  return ms > 0 ? Math.ceil(ms) : 0;
}

const UNIT_MS: Record<string, number> = { ns: 1e-6, us: 1e-3, 'µs': 1e-3, 'μs': 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

function withoutEmptyStrings(opts: KubeAccessOptions): KubeAccessOptions {
  // kubectl treats --context= and friends as not given.
  return Object.fromEntries(Object.entries(opts).filter(([, v]) => v !== undefined && v !== '')) as KubeAccessOptions;
}

function kubeconfigChain(flags: KubeAccessOptions, env: NodeJS.ProcessEnv, home: string): KubeconfigChain {
  if (flags.kubeconfig !== undefined) return { files: [flags.kubeconfig], source: 'flag' };
  if (env.KUBECONFIG) {
    return { files: [...new Set(env.KUBECONFIG.split(path.delimiter).filter((f) => f !== ''))], source: 'KUBECONFIG' };
  }
  return { files: [path.join(home, '.kube', 'config')], source: 'home' };
}

function loadKubeconfigs(chain: KubeconfigChain): MergedKubeconfig {
  const merged: MergedKubeconfig = { files: [], clusters: new Map(), users: new Map(), contexts: new Map(), currentContext: '' };
  for (const file of chain.files) {
    const doc = readKubeconfigFile(file, chain.source === 'flag');
    if (doc === undefined) continue;
    merged.files.push(file);
    const dir = path.dirname(path.resolve(file));
    for (const [key, into] of [['clusters', merged.clusters], ['users', merged.users], ['contexts', merged.contexts]] as const) {
      for (const [name, body] of namedEntries(doc, key, file)) {
        if (!into.has(name)) into.set(name, absolutePaths(key, body, dir));
      }
    }
    const current = str(doc['current-context']);
    if (!merged.currentContext && current) merged.currentContext = current;
  }
  return merged;
}

/** The parsed file, or undefined when a file from KUBECONFIG or the home default does not exist. */
function readKubeconfigFile(file: string, explicit: boolean): Yaml | undefined {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' && !explicit) return undefined;
    if (code === 'ENOENT') throw new KubeError(`kubeconfig "${file}" (--kubeconfig) does not exist`);
    throw new KubeError(`cannot read kubeconfig "${file}": ${(err as Error).message}`);
  }
  let docs: unknown[];
  try {
    docs = loadAll(text);
  } catch (err) {
    const firstLine = String((err as Error).message).split('\n')[0];
    throw new KubeError(`kubeconfig "${file}" is not valid YAML: ${firstLine}`);
  }
  const doc = docs[0] ?? {}; // kubectl reads an empty file as an empty config
  if (!isMapping(doc)) throw new KubeError(`kubeconfig "${file}" is not a kubeconfig: expected a mapping at the top level`);
  return doc;
}

/** `clusters: [{name, cluster: {...}}]` and the like, as [name, body] pairs; entries without a name are ignored. */
function namedEntries(doc: Yaml, key: 'clusters' | 'users' | 'contexts', file: string): [string, Yaml][] {
  const list = doc[key];
  if (list === undefined || list === null) return [];
  if (!Array.isArray(list)) throw new KubeError(`kubeconfig "${file}": "${key}" must be a list`);
  const field = key.slice(0, -1); // cluster, user, context
  const out: [string, Yaml][] = [];
  for (const item of list) {
    const name = isMapping(item) ? str(item.name) : undefined;
    if (name) out.push([name, isMapping(item![field]) ? { ...(item![field] as Yaml) } : {}]);
  }
  return out;
}

/** kubectl resolves these relative to the directory of the file that contains them (clientcmd ResolveLocalPaths). */
function absolutePaths(key: 'clusters' | 'users' | 'contexts', body: Yaml, dir: string): Yaml {
  const fields = key === 'clusters' ? ['certificate-authority'] : key === 'users' ? ['client-certificate', 'client-key', 'tokenFile'] : [];
  for (const f of fields) {
    const p = str(body[f]);
    if (p) body[f] = path.resolve(dir, p);
  }
  // An exec command is only a path when it has a separator; otherwise it is looked up on PATH.
  if (key === 'users' && isMapping(body.exec)) {
    const command = str(body.exec.command);
    if (command?.includes(path.sep)) body.exec = { ...body.exec, command: path.resolve(dir, command) };
  }
  return body;
}

function kubeconfigAccess(
  flags: KubeAccessOptions,
  merged: MergedKubeconfig,
  contextName: string,
  source: Exclude<KubeAccessSource, 'in-cluster'>,
): Omit<KubeAccess, 'allNamespaces' | 'requestTimeoutMs'> {
  const context = contextName ? merged.contexts.get(contextName) : {};
  if (context === undefined) {
    const what = flags.context !== undefined ? `context "${contextName}"` : `current-context "${contextName}"`;
    throw new KubeError(`${what} not found in kubeconfig (available: ${available(merged.contexts)})`);
  }
  for (const [flag, name, known] of [['cluster', flags.cluster, merged.clusters], ['user', flags.user, merged.users]] as const) {
    if (name !== undefined && !known.has(name)) throw new KubeError(`${flag} "${name}" not found in kubeconfig (available: ${available(known)})`);
  }
  const clusterName = flags.cluster ?? str(context.cluster) ?? '';
  const userName = flags.user ?? str(context.user) ?? '';
  const clusterYaml = merged.clusters.get(clusterName);
  if (clusterYaml === undefined && flags.server === undefined) {
    throw new KubeError(
      clusterName
        ? `context "${contextName}" refers to cluster "${clusterName}", which is not in the kubeconfig (available: ${available(merged.clusters)})`
        : `context "${contextName}" names no cluster; pass --cluster or --server`,
    );
  }
  // A user the context names but no file defines means no credentials, as in kubectl.
  const cluster = clusterFromYaml(clusterName || 'cluster', clusterYaml ?? {});
  const user = userFromYaml(userName || 'user', merged.users.get(userName) ?? {});
  overrideCluster(cluster, flags);
  overrideUser(user, flags);
  if (!cluster.server) throw new KubeError(`cluster "${cluster.name}" has no server in the kubeconfig; pass --server`);
  const namespace = flags.namespace ?? (str(context.namespace) || 'default');
  const kubeConfig = buildKubeConfig(contextName || 'context', cluster, credentialsFor(cluster, user), namespace);
  return { kubeConfig, contextName, namespace, source, inCluster: false };
}

type TokenFileUser = Mutable<User> & { tokenFile?: string };

function clusterFromYaml(name: string, y: Yaml): Mutable<Cluster> {
  return {
    name,
    server: (str(y.server) ?? '').replace(/\/$/, ''), // as client-node's own loader does
    caData: str(y['certificate-authority-data']),
    caFile: str(y['certificate-authority']),
    skipTLSVerify: y['insecure-skip-tls-verify'] === true,
    tlsServerName: str(y['tls-server-name']),
    proxyUrl: str(y['proxy-url']),
  };
}

function userFromYaml(name: string, y: Yaml): TokenFileUser {
  return {
    name,
    token: str(y.token),
    // client-node only knows `token-file` (read at load, untrimmed); kubectl's key is `tokenFile`.
    tokenFile: str(y.tokenFile),
    certData: str(y['client-certificate-data']),
    certFile: str(y['client-certificate']),
    keyData: str(y['client-key-data']),
    keyFile: str(y['client-key']),
    exec: isMapping(y.exec) ? y.exec : undefined,
    authProvider: isMapping(y['auth-provider']) ? y['auth-provider'] : undefined,
    username: str(y.username),
    password: str(y.password),
    impersonateUser: str(y.as),
  };
}

/** clientcmd getCluster: --server clears tls-server-name; --certificate-authority or --insecure-skip-tls-verify replace CA and skip-verify together. */
function overrideCluster(c: Mutable<Cluster>, flags: KubeAccessOptions): void {
  if (flags.server !== undefined) {
    c.server = flags.server.replace(/\/$/, '');
    c.tlsServerName = undefined;
  }
  if (flags.certificateAuthority !== undefined || flags.insecureSkipTlsVerify) {
    c.skipTLSVerify = flags.insecureSkipTlsVerify === true;
    c.caFile = flags.certificateAuthority === undefined ? undefined : path.resolve(flags.certificateAuthority);
    c.caData = undefined;
  }
}

function overrideUser(u: TokenFileUser, flags: KubeAccessOptions): void {
  if (flags.token !== undefined) {
    u.token = flags.token;
    u.tokenFile = undefined;
  }
  if (flags.clientCertificate !== undefined) {
    u.certFile = path.resolve(flags.clientCertificate);
    u.certData = undefined;
  }
  if (flags.clientKey !== undefined) {
    u.keyFile = path.resolve(flags.clientKey);
    u.keyData = undefined;
  }
}

/** The user client-node should authenticate as, with kubectl's precedence, and its files checked now rather than per request. */
function credentialsFor(cluster: Mutable<Cluster>, u: TokenFileUser): Mutable<User> {
  if (cluster.server.startsWith('http:')) {
    // kubectl sends no credentials over plain HTTP (e.g. `kubectl proxy`); client-node refuses http:// unless skip-verify is set.
    cluster.skipTLSVerify = true;
    return { name: u.name };
  }
  if (cluster.caFile) mustRead(cluster.caFile, `certificate-authority of cluster "${cluster.name}"`);
  if (u.certFile) mustRead(u.certFile, `client-certificate of user "${u.name}"`);
  if (u.keyFile) mustRead(u.keyFile, `client-key of user "${u.name}"`);
  const { tokenFile, ...user } = u;
  if (!user.token && tokenFile) {
    // Read once and trimmed, as client-go does; a command run is short-lived.
    user.token = readCredentialFile(tokenFile, `tokenFile of user "${u.name}"`).trim();
  }
  if (user.token) {
    // A bearer token wins over exec plugins and auth providers in client-go; client-node would still run them first.
    user.exec = undefined;
    user.authProvider = undefined;
  }
  return user;
}

function buildKubeConfig(contextName: string, cluster: Cluster, user: User, namespace: string): KubeConfig {
  const kc = new KubeConfig();
  // Always a user: client-node skips the cluster's CA and skip-verify entirely when the context has none.
  const context: Context = { name: contextName, cluster: cluster.name, user: user.name, namespace };
  kc.loadFromOptions({ clusters: [cluster], users: [user], contexts: [context], currentContext: contextName });
  return kc;
}

function inClusterPossible(env: NodeJS.ProcessEnv, saDir: string): boolean {
  if (!env.KUBERNETES_SERVICE_HOST || !env.KUBERNETES_SERVICE_PORT) return false;
  try {
    return statSync(path.join(saDir, 'token')).isFile();
  } catch {
    return false;
  }
}

function inClusterAccess(
  flags: KubeAccessOptions,
  env: NodeJS.ProcessEnv,
  saDir: string,
): Omit<KubeAccess, 'allNamespaces' | 'requestTimeoutMs'> {
  const loaded = new KubeConfig();
  loaded.loadFromCluster(serviceAccountPrefix(saDir));
  const [cluster, user, context] = [loaded.getCurrentCluster(), loaded.getCurrentUser(), loaded.getContextObject(loaded.getCurrentContext())];
  if (!cluster || !user || !context) throw new Error('client-node loadFromCluster returned an incomplete config');
  // loadFromCluster reads KUBERNETES_SERVICE_HOST/PORT from process.env; rebuild the server from `env` by its rules.
  const c: Mutable<Cluster> = { ...cluster, server: inClusterServer(env) };
  if (flags.certificateAuthority !== undefined) c.caFile = path.resolve(flags.certificateAuthority);
  // client-node's FileAuth re-reads the (rotating) service-account token; --token replaces it.
  const u: TokenFileUser = flags.token !== undefined ? { name: user.name, token: flags.token } : { ...user };
  const namespace = flags.namespace ?? (env.POD_NAMESPACE || serviceAccountNamespace(saDir) || 'default');
  const kubeConfig = buildKubeConfig(context.name, c, credentialsFor(c, u), namespace);
  return { kubeConfig, contextName: '', namespace, source: 'in-cluster', inCluster: true };
}

function serviceAccountPrefix(saDir: string): string {
  const dir = saDir.replace(/\/+$/, '');
  if (!dir.endsWith(SERVICE_ACCOUNT_DIR)) {
    throw new Error(`serviceAccountDir must end with ${SERVICE_ACCOUNT_DIR} (client-node's loadFromCluster takes a prefix), got ${saDir}`);
  }
  return dir.slice(0, -SERVICE_ACCOUNT_DIR.length);
}

/** client-node's in-cluster URL: http for ports 80/8080/8001, https otherwise; IPv6 hosts in brackets. */
function inClusterServer(env: NodeJS.ProcessEnv): string {
  const host = env.KUBERNETES_SERVICE_HOST!, port = env.KUBERNETES_SERVICE_PORT!;
  const scheme = ['80', '8080', '8001'].includes(port) ? 'http' : 'https';
  return `${scheme}://${net.isIPv6(host) ? `[${host}]` : host}:${port}`;
}

/** The service account's namespace file, trimmed as client-go does (client-node keeps a trailing newline). */
function serviceAccountNamespace(saDir: string): string | undefined {
  try {
    return readFileSync(path.join(saDir, 'namespace'), 'utf8').trim() || undefined;
  } catch {
    return undefined;
  }
}

function nothingConfigured(chain: KubeconfigChain, merged: MergedKubeconfig): KubeError {
  if (merged.files.length > 0) {
    const names = merged.contexts.size > 0 ? `available: ${available(merged.contexts)}` : 'the kubeconfig defines no contexts';
    return new KubeError(`current-context is not set in ${merged.files.join(', ')}; pass --context (${names})`);
  }
  if (chain.source === 'KUBECONFIG') {
    return new KubeError(`no kubeconfig found: none of the files in KUBECONFIG exist (${chain.files.join(', ') || 'empty list'}); fix KUBECONFIG or pass --kubeconfig`);
  }
  return new KubeError(`no kubeconfig found: set KUBECONFIG, pass --kubeconfig, or create ~/.kube/config (looked for ${chain.files[0]})`);
}

function mustRead(file: string, what: string): void {
  try {
    accessSync(file, constants.R_OK);
  } catch (err) {
    throw new KubeError(`cannot read ${what} "${file}": ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
}

function readCredentialFile(file: string, what: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    throw new KubeError(`cannot read ${what} "${file}": ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
}

function available(names: Map<string, unknown>): string {
  return names.size > 0 ? [...names.keys()].join(', ') : 'none';
}

function isMapping(v: unknown): v is Yaml {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Scalars as kubectl's decoder reads them into string fields. */
function str(v: unknown): string | undefined {
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  return undefined;
}
