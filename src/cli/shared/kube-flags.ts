import type { Argv, Options } from 'yargs';
import type { KubeAccessOptions } from '../../kube/kubeconfig.js';

/** kubectl's cluster-access flags as yargs parses them (kubectl's names, kebab-case keys). */
export interface KubeFlagArgs {
  kubeconfig?: string;
  context?: string;
  cluster?: string;
  user?: string;
  namespace?: string;
  'all-namespaces'?: boolean;
  server?: string;
  token?: string;
  'certificate-authority'?: string;
  'client-certificate'?: string;
  'client-key'?: string;
  'insecure-skip-tls-verify'?: boolean;
  'request-timeout'?: string;
}

/** The --help heading the flags are listed under. */
export const KUBE_OPTIONS_GROUP = 'Kubernetes options:';

// Help texts are kubectl's own (`kubectl options`, `kubectl get -h`), so users recognise them.
const KUBE_FLAGS = {
  namespace: { alias: 'n', type: 'string', requiresArg: true, describe: 'If present, the namespace scope for this CLI request' },
  'all-namespaces': {
    alias: 'A',
    type: 'boolean',
    default: false,
    describe:
      'If present, list the requested object(s) across all namespaces. Namespace in current context is ignored even if specified with --namespace.',
  },
  context: { type: 'string', requiresArg: true, describe: 'The name of the kubeconfig context to use' },
  kubeconfig: { type: 'string', requiresArg: true, describe: 'Path to the kubeconfig file to use for CLI requests.' },
  cluster: { type: 'string', requiresArg: true, describe: 'The name of the kubeconfig cluster to use' },
  user: { type: 'string', requiresArg: true, describe: 'The name of the kubeconfig user to use' },
  server: { alias: 's', type: 'string', requiresArg: true, describe: 'The address and port of the Kubernetes API server' },
  token: { type: 'string', requiresArg: true, describe: 'Bearer token for authentication to the API server' },
  'certificate-authority': { type: 'string', requiresArg: true, describe: 'Path to a cert file for the certificate authority' },
  'client-certificate': { type: 'string', requiresArg: true, describe: 'Path to a client certificate file for TLS' },
  'client-key': { type: 'string', requiresArg: true, describe: 'Path to a client key file for TLS' },
  'insecure-skip-tls-verify': {
    type: 'boolean',
    default: false,
    describe: "If true, the server's certificate will not be checked for validity. This will make your HTTPS connections insecure",
  },
  'request-timeout': {
    type: 'string',
    default: '0',
    requiresArg: true,
    describe:
      'The length of time to wait before giving up on a single server request. Non-zero values should contain a ' +
      "corresponding time unit (e.g. 1s, 2m, 3h). A value of zero means don't timeout requests.",
  },
} satisfies Record<keyof KubeFlagArgs, Options>;

/**
 * Adds kubectl's cluster-access flags (names, short forms, defaults and help as in kubectl) under the
 * "Kubernetes options:" heading. `-n` with `-A` is accepted, as kubectl accepts it: -A wins and the namespace
 * is only resolved for reference. Values are not checked here; resolveKubeAccess does that.
 */
export function withKubeFlags<T>(y: Argv<T>) {
  return y.options(KUBE_FLAGS).group(Object.keys(KUBE_FLAGS), KUBE_OPTIONS_GROUP);
}

/**
 * Maps parsed flags to resolveKubeAccess options. A flag given twice counts once, with its last value (as in
 * kubectl); an empty value (`--context=`) counts as not given.
 */
export function kubeAccessOptionsFrom(args: KubeFlagArgs): KubeAccessOptions {
  return {
    kubeconfig: text(args.kubeconfig),
    context: text(args.context),
    cluster: text(args.cluster),
    user: text(args.user),
    namespace: text(args.namespace),
    allNamespaces: flag(args['all-namespaces']),
    server: text(args.server),
    token: text(args.token),
    certificateAuthority: text(args['certificate-authority']),
    clientCertificate: text(args['client-certificate']),
    clientKey: text(args['client-key']),
    insecureSkipTlsVerify: flag(args['insecure-skip-tls-verify']),
    requestTimeout: text(args['request-timeout']),
  };
}

// yargs turns a repeated option into an array whatever its declared type.
const last = (v: unknown): unknown => (Array.isArray(v) ? v[v.length - 1] : v);

function text(v: unknown): string | undefined {
  const s = last(v);
  return s === undefined || s === '' ? undefined : String(s);
}

function flag(v: unknown): boolean | undefined {
  const b = last(v);
  return b === undefined ? undefined : b === true;
}
