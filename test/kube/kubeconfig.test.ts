/**
 * Cluster access resolved like kubectl (docs/kube-access.md): temp kubeconfig files, a temp HOME and
 * a temp service-account dir; what client-node would send is read back from the resolved KubeConfig itself.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type https from 'node:https';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ApiException, CoreV1Api } from '@kubernetes/client-node';
import { dump } from 'js-yaml';
import yargs from 'yargs';
import { kubeAccessOptionsFrom, withKubeFlags } from '../../src/cli/shared/kube-flags.js';
import { KubeError, UsageError } from '../../src/errors.js';
import { parseRequestTimeout, resolveKubeAccess, type KubeAccess, type KubeAccessOptions } from '../../src/kube/kubeconfig.js';
import { startSandbox, type Sandbox } from '../support/sandbox/sandbox.js';

const root = mkdtempSync(path.join(tmpdir(), 'kubeconfig-test-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let caseNo = 0;

// ---- kubeconfig builders ----
type Obj = Record<string, unknown>;
const cluster = (name: string, server: string, extra: Obj = {}) => ({ name, cluster: { server, ...extra } });
const user = (name: string, fields: Obj) => ({ name, user: fields });
const context = (name: string, c: string, u: string, namespace?: string) =>
  ({ name, context: { cluster: c, user: u, ...(namespace ? { namespace } : {}) } });
const kubeconfig = (o: { clusters?: Obj[]; users?: Obj[]; contexts?: Obj[]; current?: string }) =>
  ({ apiVersion: 'v1', kind: 'Config', clusters: o.clusters ?? [], users: o.users ?? [], contexts: o.contexts ?? [],
    ...(o.current ? { 'current-context': o.current } : {}) });

/** The common fixture: one cluster, one token user, contexts `main` (namespace team-a) and `bare` (none). */
const single = kubeconfig({
  clusters: [cluster('k1', 'https://k1.example:6443/'), cluster('k2', 'https://k2.example')],
  users: [user('u1', { token: 'token-u1' }), user('u2', { token: 'token-u2' })],
  contexts: [context('main', 'k1', 'u1', 'team-a'), context('bare', 'k1', 'u1')],
  current: 'main',
});
const SA = 'sa/var/run/secrets/kubernetes.io/serviceaccount';

/**
 * A resolution scenario. Strings in files (keys), opts, env and want may use `$D`, the case's own temp dir.
 * Files are YAML-dumped objects, or raw text.
 */
interface Scenario {
  name: string;
  files?: Record<string, Obj | string>;
  opts?: KubeAccessOptions;
  env?: Record<string, string>;
  /** in-cluster service-account dir (relative to $D) */
  serviceAccount?: string;
}
interface Success extends Scenario {
  want: Partial<Observed>;
}
interface Failure extends Scenario {
  error: typeof KubeError | typeof UsageError;
  message: RegExp;
}

/** What the resolved access amounts to, as client-node will use it. */
interface Observed {
  source: KubeAccess['source'];
  context: string;
  namespace: string;
  allNamespaces: boolean;
  inCluster: boolean;
  requestTimeoutMs: number | undefined;
  server: string;
  authorization: string | undefined;
  ca: string | undefined;
  cert: string | undefined;
  key: string | undefined;
  rejectUnauthorized: boolean | undefined;
}

function setUp(s: Scenario): { dir: string; resolve: () => KubeAccess } {
  const dir = path.join(root, `case-${++caseNo}`);
  const sub = <T>(v: T): T =>
    (typeof v === 'string' ? v.replaceAll('$D', dir)
      : Array.isArray(v) ? v.map(sub)
      : v && typeof v === 'object' ? Object.fromEntries(Object.entries(v).map(([k, x]) => [k, sub(x)])) : v) as T;
  mkdirSync(path.join(dir, 'home'), { recursive: true });
  for (const [rel, content] of Object.entries(s.files ?? {})) {
    const file = path.join(dir, sub(rel));
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(file, typeof content === 'string' ? content : dump(sub(content)));
  }
  const paths = { home: path.join(dir, 'home'), serviceAccountDir: path.join(dir, s.serviceAccount ?? SA) };
  return { dir, resolve: () => resolveKubeAccess(sub(s.opts ?? {}), sub(s.env ?? {}), paths) };
}

async function observe(access: KubeAccess): Promise<Observed> {
  const kc = access.kubeConfig;
  const opts: https.RequestOptions = {};
  await kc.applyToHTTPSOptions(opts);
  const text = (b: unknown) => (b === undefined ? undefined : String(b));
  return {
    source: access.source, context: access.contextName, namespace: access.namespace, allNamespaces: access.allNamespaces,
    inCluster: access.inCluster, requestTimeoutMs: access.requestTimeoutMs, server: kc.getCurrentCluster()!.server,
    authorization: (opts.headers as Record<string, string> | undefined)?.Authorization, ca: text(opts.ca), cert: text(opts.cert), key: text(opts.key),
    rejectUnauthorized: opts.rejectUnauthorized,
  };
}

describe('resolveKubeAccess', () => {
  test.each<Success>([
    {
      name: '--kubeconfig reads exactly that file: current-context, its namespace, server and token',
      files: { 'kc.yaml': single, 'home/.kube/config': kubeconfig({ clusters: [cluster('k1', 'https://home.example')] }) },
      opts: { kubeconfig: '$D/kc.yaml' },
      want: { source: 'flag', context: 'main', namespace: 'team-a', server: 'https://k1.example:6443', authorization: 'Bearer token-u1',
        allNamespaces: false, inCluster: false, requestTimeoutMs: undefined },
    },
    {
      name: 'KUBECONFIG merges first-wins by name, without throwing on duplicates; current-context from the first file that sets it',
      files: {
        'a/config': kubeconfig({ clusters: [cluster('c1', 'https://a.example')], users: [user('c1', { token: 'token-a' })],
          contexts: [context('c1', 'c1', 'c1', 'from-a')] }),
        'b/config': kubeconfig({ clusters: [cluster('c1', 'https://b.example')], users: [user('c1', { token: 'token-b' })],
          contexts: [context('c1', 'c1', 'c1', 'from-b'), context('only-b', 'c1', 'c1')], current: 'c1' }),
        'c/config': kubeconfig({ current: 'only-b' }),
      },
      env: { KUBECONFIG: '$D/a/config:$D/b/config:$D/c/config' },
      want: { source: 'KUBECONFIG', context: 'c1', namespace: 'from-a', server: 'https://a.example', authorization: 'Bearer token-a' },
    },
    {
      name: 'KUBECONFIG: the first current-context wins even when a later file also sets one',
      files: { 'a/config': kubeconfig({ current: 'bare' }), 'b/config': single },
      env: { KUBECONFIG: '$D/a/config:$D/b/config' },
      want: { context: 'bare', namespace: 'default', server: 'https://k1.example:6443' },
    },
    {
      name: 'KUBECONFIG: missing files are ignored',
      files: { 'a/config': single },
      env: { KUBECONFIG: '$D/missing/config:$D/a/config:$D/also-missing' },
      want: { source: 'KUBECONFIG', context: 'main', authorization: 'Bearer token-u1' },
    },
    {
      name: 'KUBECONFIG: empty entries are skipped',
      files: { 'a/config': single },
      env: { KUBECONFIG: '::$D/a/config::' },
      want: { source: 'KUBECONFIG', context: 'main' },
    },
    {
      name: 'relative certificate paths resolve against the directory of the file that holds them',
      files: {
        'a/ca.crt': 'CA from a', 'a/client.crt': 'CERT from a', 'a/client.key': 'KEY from a',
        'b/ca.crt': 'CA from b', 'b/client.crt': 'CERT from b', 'b/client.key': 'KEY from b', 'b/token': 'token-from-b\n',
        'a/config': kubeconfig({ clusters: [cluster('ka', 'https://a.example', { 'certificate-authority': 'ca.crt' })],
          users: [user('ua', { 'client-certificate': 'client.crt', 'client-key': './client.key' })],
          contexts: [context('a', 'ka', 'ua')] }),
        'b/config': kubeconfig({ clusters: [cluster('kb', 'https://b.example', { 'certificate-authority': 'ca.crt' })],
          users: [user('ub', { 'client-certificate': 'client.crt', 'client-key': 'client.key', tokenFile: 'token' })],
          contexts: [context('b', 'kb', 'ub'), context('mixed', 'ka', 'ub')], current: 'mixed' }),
      },
      env: { KUBECONFIG: '$D/a/config:$D/b/config' },
      want: { context: 'mixed', server: 'https://a.example', ca: 'CA from a', cert: 'CERT from b', key: 'KEY from b',
        authorization: 'Bearer token-from-b' },
    },
    {
      name: 'falls back to ~/.kube/config when neither --kubeconfig nor KUBECONFIG is set',
      files: { 'home/.kube/config': single },
      want: { source: 'home', context: 'main', namespace: 'team-a' },
    },
    {
      name: 'HOME from the environment is not used when a home is passed in (tests), and KUBECONFIG="" means unset',
      files: { 'home/.kube/config': single },
      env: { HOME: '$D/elsewhere', KUBECONFIG: '' },
      want: { source: 'home', context: 'main' },
    },
    {
      name: 'in-cluster: server from the service env, token file and CA from the service account, namespace file trimmed',
      files: { [`${SA}/token`]: 'sa-token', [`${SA}/ca.crt`]: 'SA CA', [`${SA}/namespace`]: 'pod-ns\n' },
      env: { KUBERNETES_SERVICE_HOST: '10.96.0.1', KUBERNETES_SERVICE_PORT: '443' },
      want: { source: 'in-cluster', inCluster: true, context: '', namespace: 'pod-ns', server: 'https://10.96.0.1:443',
        authorization: 'Bearer sa-token', ca: 'SA CA' },
    },
    {
      name: 'in-cluster: POD_NAMESPACE wins over the namespace file; IPv6 hosts get brackets',
      files: { [`${SA}/token`]: 'sa-token', [`${SA}/ca.crt`]: 'SA CA', [`${SA}/namespace`]: 'pod-ns' },
      env: { KUBERNETES_SERVICE_HOST: 'fd00::1', KUBERNETES_SERVICE_PORT: '6443', POD_NAMESPACE: 'downward-ns' },
      want: { source: 'in-cluster', namespace: 'downward-ns', server: 'https://[fd00::1]:6443' },
    },
    {
      name: 'in-cluster: without a namespace file the namespace is default',
      files: { [`${SA}/token`]: 'sa-token', [`${SA}/ca.crt`]: 'SA CA' },
      env: { KUBERNETES_SERVICE_HOST: '10.96.0.1', KUBERNETES_SERVICE_PORT: '443' },
      want: { source: 'in-cluster', namespace: 'default' },
    },
    {
      name: 'in-cluster: -n, --token and --certificate-authority apply, as in kubectl',
      files: { [`${SA}/token`]: 'sa-token', [`${SA}/ca.crt`]: 'SA CA', [`${SA}/namespace`]: 'pod-ns', 'flag-ca.crt': 'FLAG CA' },
      env: { KUBERNETES_SERVICE_HOST: '10.96.0.1', KUBERNETES_SERVICE_PORT: '443' },
      opts: { namespace: 'flag-ns', token: 'flag-token', certificateAuthority: '$D/flag-ca.crt' },
      want: { source: 'in-cluster', namespace: 'flag-ns', server: 'https://10.96.0.1:443', authorization: 'Bearer flag-token', ca: 'FLAG CA' },
    },
    {
      name: 'in a pod without a kubeconfig, --server means that server without the service account (kubectl: not the default config)',
      files: { [`${SA}/token`]: 'sa-token', [`${SA}/ca.crt`]: 'SA CA', [`${SA}/namespace`]: 'pod-ns' },
      env: { KUBERNETES_SERVICE_HOST: '10.96.0.1', KUBERNETES_SERVICE_PORT: '443' },
      opts: { server: 'https://api.example:6443' },
      want: { source: 'flag', inCluster: false, server: 'https://api.example:6443', authorization: undefined, namespace: 'default' },
    },
    {
      name: 'in-cluster is used when a kubeconfig exists but sets no current-context (kubectl: empty config)',
      files: { 'home/.kube/config': kubeconfig({ clusters: [cluster('k1', 'https://k1.example')] }), [`${SA}/token`]: 'sa-token',
        [`${SA}/ca.crt`]: 'SA CA' },
      env: { KUBERNETES_SERVICE_HOST: '10.96.0.1', KUBERNETES_SERVICE_PORT: '443' },
      want: { source: 'in-cluster', server: 'https://10.96.0.1:443' },
    },
    {
      name: 'a kubeconfig wins over in-cluster',
      files: { 'home/.kube/config': single, [`${SA}/token`]: 'sa-token', [`${SA}/ca.crt`]: 'SA CA' },
      env: { KUBERNETES_SERVICE_HOST: '10.96.0.1', KUBERNETES_SERVICE_PORT: '443' },
      want: { source: 'home', server: 'https://k1.example:6443', authorization: 'Bearer token-u1' },
    },
    {
      name: 'namespace: -n wins over the context namespace',
      files: { 'home/.kube/config': single },
      opts: { namespace: 'flag-ns' },
      want: { namespace: 'flag-ns' },
    },
    {
      name: 'namespace: default when the context has none',
      files: { 'home/.kube/config': single },
      opts: { context: 'bare' },
      want: { context: 'bare', namespace: 'default' },
    },
    {
      name: '-A with -n: all namespaces, the namespace still resolved for reference',
      files: { 'home/.kube/config': single },
      opts: { allNamespaces: true, namespace: 'flag-ns' },
      want: { allNamespaces: true, namespace: 'flag-ns' },
    },
    {
      name: 'empty-string flags count as not given',
      files: { 'home/.kube/config': single },
      opts: { context: '', namespace: '', server: '', token: '' },
      want: { context: 'main', namespace: 'team-a', server: 'https://k1.example:6443', authorization: 'Bearer token-u1' },
    },
    {
      name: '--cluster and --user replace the parts of the chosen context',
      files: { 'home/.kube/config': single },
      opts: { cluster: 'k2', user: 'u2' },
      want: { context: 'main', namespace: 'team-a', server: 'https://k2.example', authorization: 'Bearer token-u2' },
    },
    {
      name: '--server and --token override the kubeconfig',
      files: { 'home/.kube/config': single },
      opts: { server: 'https://override.example:443', token: 'flag-token' },
      want: { server: 'https://override.example:443', authorization: 'Bearer flag-token' },
    },
    {
      name: '--token wins over an exec plugin, which is then not run',
      files: { 'home/.kube/config': kubeconfig({ clusters: [cluster('k', 'https://k.example')],
        users: [user('u', { exec: { apiVersion: 'client.authentication.k8s.io/v1', command: '/nonexistent/credential-plugin' } })],
        contexts: [context('c', 'k', 'u')], current: 'c' }) },
      opts: { token: 'flag-token' },
      want: { authorization: 'Bearer flag-token' },
    },
    {
      name: '--certificate-authority replaces certificate-authority-data',
      files: { 'flag-ca.crt': 'FLAG CA', 'home/.kube/config': kubeconfig({
        clusters: [cluster('k', 'https://k.example', { 'certificate-authority-data': Buffer.from('FILE CA').toString('base64') })],
        users: [user('u', {})], contexts: [context('c', 'k', 'u')], current: 'c' }) },
      opts: { certificateAuthority: '$D/flag-ca.crt' },
      want: { ca: 'FLAG CA', rejectUnauthorized: undefined },
    },
    {
      name: 'certificate-authority-data is used when no flag overrides it',
      files: { 'home/.kube/config': kubeconfig({
        clusters: [cluster('k', 'https://k.example', { 'certificate-authority-data': Buffer.from('FILE CA').toString('base64') })],
        contexts: [context('c', 'k', 'no-such-user')], current: 'c' }) },
      want: { ca: 'FILE CA', authorization: undefined },
    },
    {
      name: '--insecure-skip-tls-verify drops the CA and skips verification',
      files: { 'home/.kube/config': kubeconfig({
        clusters: [cluster('k', 'https://k.example', { 'certificate-authority-data': Buffer.from('FILE CA').toString('base64') })],
        users: [user('u', { token: 't' })], contexts: [context('c', 'k', 'u')], current: 'c' }) },
      opts: { insecureSkipTlsVerify: true },
      want: { ca: undefined, rejectUnauthorized: false, authorization: 'Bearer t' },
    },
    {
      name: '--client-certificate and --client-key replace the user\'s certificate data',
      files: { 'flag.crt': 'FLAG CERT', 'flag.key': 'FLAG KEY', 'home/.kube/config': kubeconfig({ clusters: [cluster('k', 'https://k.example')],
        users: [user('u', { 'client-certificate-data': Buffer.from('FILE CERT').toString('base64'),
          'client-key-data': Buffer.from('FILE KEY').toString('base64') })],
        contexts: [context('c', 'k', 'u')], current: 'c' }) },
      opts: { clientCertificate: '$D/flag.crt', clientKey: '$D/flag.key' },
      want: { cert: 'FLAG CERT', key: 'FLAG KEY' },
    },
    {
      name: '--server alone works without any kubeconfig',
      opts: { server: 'https://bare.example', token: 'flag-token', namespace: 'ns' },
      want: { source: 'flag', context: '', server: 'https://bare.example', authorization: 'Bearer flag-token', namespace: 'ns' },
    },
    {
      name: 'an http:// server (kubectl proxy) gets no credentials, as with kubectl',
      files: { 'home/.kube/config': single },
      opts: { server: 'http://127.0.0.1:8001' },
      want: { server: 'http://127.0.0.1:8001', authorization: undefined },
    },
    {
      name: 'an empty kubeconfig file next to a real one is fine',
      files: { 'a/config': '', 'b/config': '# nothing here\n', 'c/config': single },
      env: { KUBECONFIG: '$D/a/config:$D/b/config:$D/c/config' },
      want: { context: 'main' },
    },
    {
      name: '--request-timeout is parsed; "0" means none',
      files: { 'home/.kube/config': single },
      opts: { requestTimeout: '1m30s' },
      want: { requestTimeoutMs: 90_000 },
    },
  ])('$name', async (s) => {
    const { resolve } = setUp(s);
    expect(await observe(resolve())).toMatchObject(s.want);
  });

  test.each<Failure>([
    {
      name: '--kubeconfig names a missing file',
      files: { 'home/.kube/config': single },
      opts: { kubeconfig: '$D/nope.yaml' },
      error: KubeError, message: /^kubeconfig ".*\/nope\.yaml" \(--kubeconfig\) does not exist$/,
    },
    {
      name: 'malformed YAML names the file and the first line of the parser error',
      files: { 'bad/config': 'clusters:\n- name: [k1\n  cluster: {}\n' },
      env: { KUBECONFIG: '$D/bad/config' },
      error: KubeError, message: /^kubeconfig ".*\/bad\/config" is not valid YAML: [^\n]+$/,
    },
    {
      name: 'a YAML list instead of a kubeconfig',
      files: { 'home/.kube/config': '- a\n- b\n' },
      error: KubeError, message: /is not a kubeconfig: expected a mapping/,
    },
    {
      name: '--context names an unknown context; the available ones are listed',
      files: { 'home/.kube/config': single },
      opts: { context: 'nope' },
      error: KubeError, message: /^context "nope" not found in kubeconfig \(available: main, bare\)$/,
    },
    {
      name: 'current-context names a context no file defines',
      files: { 'home/.kube/config': { ...single, 'current-context': 'gone' } },
      error: KubeError, message: /^current-context "gone" not found in kubeconfig \(available: main, bare\)$/,
    },
    {
      name: '--cluster names an unknown cluster',
      files: { 'home/.kube/config': single },
      opts: { cluster: 'nope' },
      error: KubeError, message: /^cluster "nope" not found in kubeconfig \(available: k1, k2\)$/,
    },
    {
      name: '--user names an unknown user',
      files: { 'home/.kube/config': single },
      opts: { user: 'nope' },
      error: KubeError, message: /^user "nope" not found in kubeconfig \(available: u1, u2\)$/,
    },
    {
      name: 'no current-context and no --context',
      files: { 'home/.kube/config': { ...single, 'current-context': '' } },
      error: KubeError, message: /^current-context is not set in .*; pass --context \(available: main, bare\)$/,
    },
    {
      name: 'the context refers to a cluster no file defines',
      files: { 'home/.kube/config': kubeconfig({ contexts: [context('c', 'gone', 'u')], current: 'c' }) },
      error: KubeError, message: /^context "c" refers to cluster "gone", which is not in the kubeconfig/,
    },
    {
      name: 'nothing at all: kubectl-like guidance',
      error: KubeError, message: /^no kubeconfig found: set KUBECONFIG, pass --kubeconfig, or create ~\/\.kube\/config/,
    },
    {
      name: 'KUBECONFIG lists only missing files: no fallback to ~/.kube/config',
      files: { 'home/.kube/config': single },
      env: { KUBECONFIG: '$D/missing' },
      error: KubeError, message: /^no kubeconfig found: none of the files in KUBECONFIG exist \(.*\/missing\)/,
    },
    {
      name: 'in-cluster env without the service-account token is not in-cluster',
      env: { KUBERNETES_SERVICE_HOST: '10.96.0.1', KUBERNETES_SERVICE_PORT: '443' },
      error: KubeError, message: /^no kubeconfig found/,
    },
    {
      name: 'in-cluster needs both KUBERNETES_SERVICE_HOST and _PORT',
      files: { [`${SA}/token`]: 'sa-token' },
      env: { KUBERNETES_SERVICE_HOST: '10.96.0.1' },
      error: KubeError, message: /^no kubeconfig found/,
    },
    {
      name: 'a certificate-authority file that does not exist is reported up front',
      files: { 'home/.kube/config': kubeconfig({ clusters: [cluster('k', 'https://k.example', { 'certificate-authority': 'missing-ca.crt' })],
        users: [user('u', {})], contexts: [context('c', 'k', 'u')], current: 'c' }) },
      error: KubeError, message: /^cannot read certificate-authority of cluster "k" ".*\/home\/\.kube\/missing-ca\.crt": ENOENT$/,
    },
    {
      name: 'a tokenFile that does not exist',
      files: { 'home/.kube/config': kubeconfig({ clusters: [cluster('k', 'https://k.example')],
        users: [user('u', { tokenFile: 'nope' })], contexts: [context('c', 'k', 'u')], current: 'c' }) },
      error: KubeError, message: /^cannot read tokenFile of user "u" ".*\/nope": ENOENT$/,
    },
    {
      name: '--certificate-authority with --insecure-skip-tls-verify (kubectl refuses too)',
      files: { 'home/.kube/config': single },
      opts: { certificateAuthority: '/etc/ca.crt', insecureSkipTlsVerify: true },
      error: UsageError, message: /--certificate-authority and --insecure-skip-tls-verify/,
    },
    {
      name: 'a bad --request-timeout',
      files: { 'home/.kube/config': single },
      opts: { requestTimeout: '5 minutes' },
      error: UsageError, message: /^invalid argument "5 minutes" for "--request-timeout" flag: /,
    },
  ])('fails: $name', (s) => {
    const { resolve } = setUp(s);
    let thrown: unknown;
    try {
      resolve();
    } catch (err) {
      thrown = err;
    }
    expect(thrown).toBeInstanceOf(s.error);
    expect((thrown as Error).message).toMatch(s.message);
  });

  test('--server and --token reach the headers client-node puts on fetch requests', async () => {
    const { resolve } = setUp({ name: 'fetch', files: { 'home/.kube/config': single }, opts: { server: 'https://o.example', token: 'flag-token' } });
    const access = resolve();
    const fetchOpts = await access.kubeConfig.applyToFetchOptions({});
    const headers = fetchOpts.headers as unknown as { get(name: string): string | null };
    expect(headers.get('authorization')).toBe('Bearer flag-token');
    expect(access.kubeConfig.getCurrentCluster()!.server).toBe('https://o.example');
  });

  test('an http:// server uses a plain HTTP agent, which client-node refuses unless skip-verify is set', async () => {
    const access = resolveKubeAccess({ server: 'http://127.0.0.1:8001' }, {}, { home: root });
    const opts: https.RequestOptions = {};
    await access.kubeConfig.applyToHTTPSOptions(opts);
    expect(opts.agent).toBeInstanceOf(http.Agent);
    expect(opts.agent).not.toHaveProperty('protocol', 'https:');
  });
});

describe('parseRequestTimeout', () => {
  test.each<[string, number]>([
    ['0', 0], ['30', 30_000], ['+5', 5_000], ['1s', 1_000], ['500ms', 500], ['2m', 120_000], ['1h', 3_600_000],
    ['1m30s', 90_000], ['1h1m1s', 3_661_000], ['1.5s', 1_500], ['.5s', 500], ['0s', 0], ['100us', 1], ['250000000ns', 250],
  ])('%s is %d ms', (value, ms) => {
    expect(parseRequestTimeout(value)).toBe(ms);
  });

  test.each(['', 'abc', '1x', '1S', '1 s', 's', '1m30', '-1s', '-5', '1.2.3s', 'ms'])('%j is a usage error', (value) => {
    expect(() => parseRequestTimeout(value)).toThrow(UsageError);
  });
});

describe('withKubeFlags', () => {
  const parse = (argv: string[]) => kubeAccessOptionsFrom(withKubeFlags(yargs(argv).exitProcess(false).strict()).parseSync());

  test.each<[string, string[], KubeAccessOptions]>([
    ['defaults like kubectl: request timeout "0", booleans false', [],
      { requestTimeout: '0', allNamespaces: false, insecureSkipTlsVerify: false, namespace: undefined, context: undefined }],
    ['short forms -n, -A, -s', ['-n', 'ns', '-A', '-s', 'https://h'], { namespace: 'ns', allNamespaces: true, server: 'https://h' }],
    ['every long flag', ['--kubeconfig=k', '--context', 'c', '--cluster', 'cl', '--user', 'u', '--namespace', 'ns', '--all-namespaces',
      '--server', 'https://h', '--token', 't', '--certificate-authority', 'ca', '--client-certificate', 'cc', '--client-key', 'ck',
      '--insecure-skip-tls-verify', '--request-timeout', '5s'],
    { kubeconfig: 'k', context: 'c', cluster: 'cl', user: 'u', namespace: 'ns', allNamespaces: true, server: 'https://h', token: 't',
      certificateAuthority: 'ca', clientCertificate: 'cc', clientKey: 'ck', insecureSkipTlsVerify: true, requestTimeout: '5s' }],
    ['a repeated flag keeps its last value, as in kubectl', ['-n', 'first', '-n', 'second'], { namespace: 'second' }],
    ['an empty value counts as not given', ['--context='], { context: undefined }],
  ])('%s', (_name, argv, want) => {
    expect(parse(argv)).toMatchObject(want);
  });

  test('the flags are listed under "Kubernetes options:" with kubectl\'s help', async () => {
    const help = await withKubeFlags(yargs([]).exitProcess(false).wrap(null)).getHelp();
    expect(help).toContain('Kubernetes options:');
    expect(help).toMatch(/-n, --namespace\s+If present, the namespace scope for this CLI request/);
    expect(help).toMatch(/-A, --all-namespaces\s+If present, list the requested object\(s\) across all namespaces/);
    expect(help).toMatch(/--request-timeout\s+The length of time to wait/);
  });
});

describe('against the sandbox API server', () => {
  let sb: Sandbox;
  beforeAll(async () => {
    sb = await startSandbox({ pods: [{ namespace: 'team-a', name: 'api' }, { namespace: 'team-a', name: 'worker' }, { namespace: 'default', name: 'other' }] });
  });
  afterAll(() => sb.close());

  test('the resolved KubeConfig lists the pods of the context namespace', async () => {
    const file = await sb.writeKubeconfig({ namespace: 'team-a' });
    const access = resolveKubeAccess({}, { KUBECONFIG: file }, { home: root });
    expect(access.namespace).toBe('team-a');
    const pods = await access.kubeConfig.makeApiClient(CoreV1Api).listNamespacedPod({ namespace: access.namespace });
    expect(pods.items.map((p) => p.metadata?.name).sort()).toEqual(['api', 'worker']);
    expect(sb.requests.at(-1)?.headers.authorization).toBe(`Bearer ${sb.token}`);
  });

  test('--token reaches the server: a wrong one gets 401', async () => {
    const file = await sb.writeKubeconfig({ namespace: 'team-a' });
    const access = resolveKubeAccess({ token: 'wrong', namespace: 'default' }, { KUBECONFIG: file }, { home: root });
    const err = await access.kubeConfig.makeApiClient(CoreV1Api).listNamespacedPod({ namespace: access.namespace }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApiException);
    expect((err as ApiException<unknown>).code).toBe(401);
  });
});
