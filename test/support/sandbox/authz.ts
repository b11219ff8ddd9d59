/**
 * Authorization as a 1.32 API server does it, for the sandbox: every request's attributes parsed as
 * k8s.io/apiserver's RequestInfoFactory does (pkg/endpoints/request/requestinfo.go), decided by a
 * test-configured policy that stands in for RBAC, a 403 Forbidden worded as the API server's
 * responsewriters.forbiddenMessage, and authorization.k8s.io/v1 SelfSubjectAccessReview answered
 * from the same policy (pkg/registry/authorization/selfsubjectaccessreview/rest.go).
 */
import { status, type Obj } from './meta.js';

/** What authorization decides on: the user and RequestInfo's fields (resource requests), or a path (non-resource). */
export type AuthzAttributes =
  | { resourceRequest: true; user: string; verb: string; namespace: string; group: string; version: string; resource: string; subresource: string; name: string }
  | { resourceRequest: false; user: string; verb: string; path: string };

/**
 * One denial. The sandbox's user starts with every permission (a cluster-admin binding); each rule
 * takes some away, as a Role that does not grant them would. Empty or absent fields match
 * anything; `*` in a verb list matches every verb.
 */
export interface AuthzRule {
  /** get, list, watch, create, update, patch, delete, deletecollection, or '*' */
  verbs: string[];
  /** API group, '' for the core group (default '') */
  group?: string;
  /** plural resource, e.g. 'pods' */
  resource: string;
  /** e.g. 'portforward', 'log'; absent matches the resource itself and all its subresources */
  subresource?: string;
  /** only in this namespace (absent: every namespace and the cluster scope) */
  namespace?: string;
  /** only this object name (RBAC's resourceNames) */
  name?: string;
  /**
   * An authorizer that explicitly denies (a webhook, not RBAC: RBAC only ever has no opinion):
   * SelfSubjectAccessReview answers denied: true, and `reason` is its reason.
   */
  denied?: boolean;
  /** the authorizer's reason: SelfSubjectAccessReview's status.reason, appended to 403 messages as ": <reason>" */
  reason?: string;
}

/** The sandbox's authorization policy; mutate `rules` directly or through `deny`. */
export interface SandboxAuthz {
  rules: AuthzRule[];
  /**
   * Deny `verbs` on `resource` ('pods', or 'pods/portforward' for a subresource; unlike `kubectl
   * auth can-i`, the part after '/' is the subresource, not a name). Returns the policy, to chain.
   */
  deny(verbs: string | string[], resource: string, opts?: Omit<AuthzRule, 'verbs' | 'resource'>): SandboxAuthz;
  /** Back to the default: everything allowed. */
  reset(): void;
  /**
   * The AuthorizePodWebsocketUpgradeCreatePermission feature gate (default false, as in 1.32; beta
   * and on by default from 1.35): a websocket (GET) upgrade to pods/exec, attach or portforward
   * needs `create` as well as `get`. Off, a GET upgrade needs only `get`, and only the SPDY (POST)
   * upgrade needs `create`.
   */
  websocketUpgradeNeedsCreate: boolean;
}

/** Creates a policy that allows everything. */
export function createAuthz(): SandboxAuthz {
  const authz: SandboxAuthz = {
    rules: [],
    websocketUpgradeNeedsCreate: false,
    deny(verbs, resource, opts = {}) {
      const [res = '', sub] = resource.split('/', 2);
      authz.rules.push({ ...opts, verbs: [verbs].flat(), resource: res, ...(sub ? { subresource: sub } : {}) });
      return authz;
    },
    reset() { authz.rules = []; authz.websocketUpgradeNeedsCreate = false; },
  };
  return authz;
}

/** An authorizer's answer: SubjectAccessReviewStatus's allowed, denied and reason. */
export interface Decision { allowed: boolean; denied: boolean; reason: string }

/**
 * Whether a rule covers the attributes. A wildcard ('*') in a request (as SelfSubjectAccessReview
 * may ask "create on every resource?") overlaps any rule, so the answer is no when any part is denied.
 */
function covers(rule: AuthzRule, a: Extract<AuthzAttributes, { resourceRequest: true }>): boolean {
  const same = (want: string | undefined, got: string) => want === undefined || want === '*' || got === '*' || want === got;
  return (rule.verbs.includes('*') || a.verb === '*' || rule.verbs.includes(a.verb)) && same(rule.group ?? '', a.group)
    && same(rule.resource, a.resource) && same(rule.subresource, a.subresource)
    && (rule.namespace === undefined || a.namespace === '' || rule.namespace === a.namespace)
    && (rule.name === undefined || a.name === '' || rule.name === a.name);
}

/** RBAC's describeSubject: a service account user names "name/namespace" (sic, the order RBAC prints). */
function subject(user: string): string {
  const sa = /^system:serviceaccount:([^:]+):([^:]+)$/.exec(user);
  return sa ? `ServiceAccount "${sa[2]}/${sa[1]}"` : `User "${user}"`;
}

/**
 * Decides as the union of authorizers would: the first rule that covers a resource request denies
 * it (no opinion, or an explicit deny); otherwise the cluster-admin binding allows it, with RBAC's
 * reason. Non-resource requests (discovery, /version) are always allowed (system:discovery).
 */
export function decide(authz: SandboxAuthz, a: AuthzAttributes): Decision {
  if (!a.resourceRequest)
    return { allowed: true, denied: false, reason: 'RBAC: allowed by ClusterRoleBinding "system:discovery" of ClusterRole "system:discovery" to Group "system:authenticated"' };
  const rule = authz.rules.find((r) => covers(r, a));
  if (rule) return { allowed: false, denied: !!rule.denied, reason: rule.reason ?? '' };
  return { allowed: true, denied: false, reason: `RBAC: allowed by ClusterRoleBinding "sandbox-admin" of ClusterRole "cluster-admin" to ${subject(a.user)}` };
}

const VERBS: Record<string, string> = { POST: 'create', GET: 'get', HEAD: 'get', PUT: 'update', PATCH: 'patch', DELETE: 'delete' };

/**
 * The attributes of a request, as RequestInfoFactory.NewRequestInfo derives them: /api/v1/... and
 * /apis/GROUP/VERSION/... with at least one part after the version are resource requests;
 * "namespaces/NS/" scopes the rest; then resource, name, subresource. A GET without a name is a
 * list (a watch with watch=true), and a fieldSelector `metadata.name=X` on it names X.
 */
export function requestAttributes(method: string, path: string, query: URLSearchParams, user: string): AuthzAttributes {
  const verb = VERBS[method] ?? method.toLowerCase();
  let parts = path.split('/').filter(Boolean);
  const nonResource: AuthzAttributes = { resourceRequest: false, user, verb, path };
  if (parts.length < 3 || (parts[0] !== 'api' && parts[0] !== 'apis')) return nonResource;
  let group = '';
  if (parts[0] === 'apis') {
    if (parts.length < 4) return nonResource;
    group = parts[1]!;
    parts = parts.slice(2);
  } else parts = parts.slice(1);
  const version = parts[0]!;
  parts = parts.slice(1);
  let namespace = '';
  if (parts[0] === 'namespaces' && parts.length > 1) {
    namespace = parts[1]!;
    if (parts.length > 2 && parts[2] !== 'status' && parts[2] !== 'finalize') parts = parts.slice(2);
  }
  const [resource = '', name0 = '', subresource = ''] = parts;
  let name = name0, v = verb;
  if (!name && v === 'get') {
    v = query.get('watch') === 'true' || query.get('watch') === '1' ? 'watch' : 'list';
    const m = /(?:^|,)metadata\.name==?([^,]*)(?:,|$)/.exec(query.get('fieldSelector') ?? '');
    if (m) name = m[1]!;
  } else if (!name && v === 'delete') v = 'deletecollection';
  return { resourceRequest: true, user, verb: v, namespace, group, version, resource, subresource, name };
}

/**
 * The API server's 403 (responsewriters.Forbidden): `<resource>[.<group>] ["<name>"] is forbidden:
 * User "<user>" cannot <verb> resource "<resource>[/<subresource>]" in API group "<group>" in the
 * namespace "<ns>"` (or `at the cluster scope`), with ": <reason>" when the authorizer gave one.
 */
export function forbidden(a: AuthzAttributes, d: Decision): { code: number; body: Obj } {
  const why = d.reason ? `: ${d.reason}` : '';
  if (!a.resourceRequest)
    return { code: 403, body: status(403, 'Forbidden', `forbidden: User "${a.user}" cannot ${a.verb} path "${a.path}"${why}`, {}) };
  const qualified = a.group ? `${a.resource}.${a.group}` : a.resource;
  const what = a.subresource ? `${a.resource}/${a.subresource}` : a.resource;
  const where = a.namespace ? `in the namespace "${a.namespace}"` : 'at the cluster scope';
  return { code: 403, body: status(403, 'Forbidden', `${qualified}${a.name ? ` "${a.name}"` : ''} is forbidden: ` +
    `User "${a.user}" cannot ${a.verb} resource "${what}" in API group "${a.group}" ${where}${why}`,
  { ...(a.name ? { name: a.name } : {}), ...(a.group ? { group: a.group } : {}), kind: a.resource }) };
}

const RESOURCE_FIELDS = ['namespace', 'verb', 'group', 'version', 'resource', 'subresource', 'name', 'fieldSelector', 'labelSelector'] as const;
const invalid = (message: string, field: string, causeMessage: string): { code: number; body: Obj } => ({ code: 422,
  body: status(422, 'Invalid', message, { group: 'authorization.k8s.io', kind: 'SelfSubjectAccessReview',
    causes: [{ reason: 'FieldValueInvalid', message: causeMessage, field }] }) });

type Review = { apiVersion?: unknown; kind?: unknown; spec?: { resourceAttributes?: Record<string, unknown>; nonResourceAttributes?: Record<string, unknown> } };

/** The fields of one protobuf message: field number -> values (varints as numbers, length-delimited as bytes). */
function protoFields(b: Buffer): Map<number, (Buffer | number)[]> {
  const out = new Map<number, (Buffer | number)[]>();
  let i = 0;
  const varint = () => {
    let v = 0, shift = 0, byte: number;
    do {
      if (i >= b.length) throw new Error('unexpected EOF');
      byte = b[i++]!;
      v += (byte & 0x7f) * 2 ** shift;
      shift += 7;
    } while (byte & 0x80);
    return v;
  };
  while (i < b.length) {
    const key = varint(), field = Math.floor(key / 8), wire = key % 8;
    let value: Buffer | number;
    if (wire === 0) value = varint();
    else if (wire === 2) { const n = varint(); if (i + n > b.length) throw new Error('unexpected EOF'); value = b.subarray(i, i + n); i += n; }
    else if (wire === 5) { i += 4; continue; }
    else if (wire === 1) { i += 8; continue; }
    else throw new Error(`illegal wireType ${wire}`);
    out.set(field, [...(out.get(field) ?? []), value]);
  }
  return out;
}

/**
 * A SelfSubjectAccessReview in the API server's protobuf encoding (what kubectl sends: "k8s\0",
 * then a runtime.Unknown of TypeMeta and the raw k8s.io/api/authorization/v1 message), as the
 * JSON shape: field numbers from generated.proto.
 */
function decodeProtobufReview(b: Buffer): Review {
  if (b.subarray(0, 4).toString('latin1') !== 'k8s\0') throw new Error('provided data does not appear to be a protobuf message, expected prefix [107 56 115 0]');
  const unknown = protoFields(b.subarray(4)), msg = (m: Map<number, (Buffer | number)[]>, f: number) => m.get(f)?.at(-1) as Buffer | undefined;
  const str = (m: Map<number, (Buffer | number)[]>, f: number) => msg(m, f)?.toString();
  const typeMeta = protoFields(msg(unknown, 1) ?? Buffer.alloc(0));
  const review = protoFields(msg(unknown, 2) ?? Buffer.alloc(0)), spec = protoFields(msg(review, 2) ?? Buffer.alloc(0));
  const selector = (raw: Buffer | undefined) => {
    if (!raw) return undefined;
    const m = protoFields(raw), reqs = (m.get(2) ?? []).map((r) => protoFields(r as Buffer));
    return { ...(str(m, 1) ? { rawSelector: str(m, 1) } : {}),
      ...(reqs.length ? { requirements: reqs.map((r) => ({ key: str(r, 1) ?? '', operator: str(r, 2) ?? '', ...(r.get(3) ? { values: r.get(3)!.map(String) } : {}) })) } : {}) };
  };
  const ra = msg(spec, 1) && protoFields(msg(spec, 1)!), nra = msg(spec, 2) && protoFields(msg(spec, 2)!);
  return { apiVersion: str(typeMeta, 1), kind: str(typeMeta, 2), spec: {
    ...(ra ? { resourceAttributes: { ...Object.fromEntries(RESOURCE_FIELDS.slice(0, 7).map((k, n) => [k, str(ra, n + 1)])),
      fieldSelector: selector(msg(ra, 8)), labelSelector: selector(msg(ra, 9)) } } : {}),
    ...(nra ? { nonResourceAttributes: { path: str(nra, 1), verb: str(nra, 2) } } : {}) } };
}

/**
 * POST /apis/authorization.k8s.io/v1/selfsubjectaccessreviews: decodes the body (JSON, or the
 * protobuf kubectl sends; anything else is 415), validates the spec (exactly one of
 * resourceAttributes and nonResourceAttributes, else 422 Invalid), decides for `user` (with the
 * sandbox's authorizers, `decideFor`), and answers 201 Created with the review echoed as the server
 * re-encodes it (empty fields dropped, `metadata: {creationTimestamp: null}`) and status
 * {allowed, denied?, reason?}, always as JSON (every client accepts it; a real server would answer
 * protobuf to a protobuf request).
 */
export function selfSubjectAccessReview(decideFor: (a: AuthzAttributes) => Decision, body: Buffer, contentType: string, user: string): { code: number; body: Obj } {
  const type = contentType.split(';')[0]!.trim().toLowerCase();
  let review: Review;
  try {
    if (type === 'application/vnd.kubernetes.protobuf') review = decodeProtobufReview(body);
    else if (type === 'application/json' || type === '') {
      review = JSON.parse(body.toString()) as Review;
      if (typeof review !== 'object' || review === null || Array.isArray(review)) throw new Error('not an object');
    } else return { code: 415, body: status(415, 'UnsupportedMediaType', `the body of the request was in an unknown format - accepted media types include: application/json, application/yaml, application/vnd.kubernetes.protobuf`) };
  } catch (e) {
    return { code: 400, body: status(400, 'BadRequest', `the object provided is unrecognized: ${(e as Error).message}`) };
  }
  if ((review.kind !== undefined && review.kind !== 'SelfSubjectAccessReview') || (review.apiVersion !== undefined && review.apiVersion !== 'authorization.k8s.io/v1'))
    return { code: 400, body: status(400, 'BadRequest', `the API version in the data (${String(review.apiVersion)}) does not match the expected API version (authorization.k8s.io/v1)`) };
  const ra = review.spec?.resourceAttributes ?? undefined, nra = review.spec?.nonResourceAttributes ?? undefined;
  const prefix = 'SelfSubjectAccessReview.authorization.k8s.io "" is invalid: ';
  if (ra && nra) {
    const m = `Invalid value: "${JSON.stringify(nra).replace(/"/g, '\\"')}": cannot be specified in combination with resourceAttributes`;
    return invalid(`${prefix}spec.nonResourceAttributes: ${m}`, 'spec.nonResourceAttributes', m);
  }
  if (!ra && !nra) {
    const m = 'Invalid value: "null": exactly one of nonResourceAttributes or resourceAttributes must be specified';
    return invalid(`${prefix}spec.resourceAttributes: ${m}`, 'spec.resourceAttributes', m);
  }
  const str = (v: unknown) => (typeof v === 'string' ? v : '');
  const present = (v: unknown) => v !== undefined && v !== null && v !== '' && !(typeof v === 'object' && !Object.keys(v).length);
  let spec: Obj, a: AuthzAttributes;
  if (ra) {
    spec = { resourceAttributes: Object.fromEntries(RESOURCE_FIELDS.filter((k) => present(ra[k])).map((k) => [k, ra[k]])) };
    a = { resourceRequest: true, user, verb: str(ra.verb), namespace: str(ra.namespace), group: str(ra.group), version: str(ra.version),
      resource: str(ra.resource), subresource: str(ra.subresource), name: str(ra.name) };
  } else {
    spec = { nonResourceAttributes: Object.fromEntries((['path', 'verb'] as const).filter((k) => present(nra![k])).map((k) => [k, nra![k]])) };
    a = { resourceRequest: false, user, verb: str(nra!.verb), path: str(nra!.path) };
  }
  const d = decideFor(a);
  return { code: 201, body: { kind: 'SelfSubjectAccessReview', apiVersion: 'authorization.k8s.io/v1', metadata: { creationTimestamp: null }, spec,
    status: { allowed: d.allowed, ...(d.denied ? { denied: true } : {}), ...(d.reason ? { reason: d.reason } : {}) } } };
}

/** authorization.k8s.io in /apis, and the one resource of it the sandbox serves. */
export const AUTHZ_GROUP = { name: 'authorization.k8s.io', versions: [{ groupVersion: 'authorization.k8s.io/v1', version: 'v1' }],
  preferredVersion: { groupVersion: 'authorization.k8s.io/v1', version: 'v1' } };
export const AUTHZ_RESOURCES = { kind: 'APIResourceList', apiVersion: 'v1', groupVersion: 'authorization.k8s.io/v1', resources: [
  { name: 'selfsubjectaccessreviews', singularName: 'selfsubjectaccessreview', namespaced: false, kind: 'SelfSubjectAccessReview', verbs: ['create'] },
] };
