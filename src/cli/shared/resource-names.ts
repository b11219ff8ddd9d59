/**
 * kubectl's `TYPE/NAME` arguments (`pod/web-0`, `po/web-0`, `deploy/web`, `deployment.apps/web`),
 * read as kubectl reads them: the type by its plural, singular or short name, case-insensitive
 * (`kubectl api-resources`), with or without its group.
 */
import { UsageError } from '../../errors.js';

/**
 * The resource types kubectl knows that name pods or workloads, by every name kubectl accepts,
 * under their resource name (`kubectl api-resources`: NAME, SHORTNAMES, and the singular).
 */
const RESOURCE_TYPES: Readonly<Record<string, readonly string[]>> = {
  pods: ['pod', 'po'],
  deployments: ['deployment', 'deploy'],
  statefulsets: ['statefulset', 'sts'],
  daemonsets: ['daemonset', 'ds'],
  replicasets: ['replicaset', 'rs'],
  jobs: ['job'],
  cronjobs: ['cronjob', 'cj'],
  services: ['service', 'svc'],
  nodes: ['node', 'no'],
  namespaces: ['namespace', 'ns'],
};

/** The API group of each resource ('' for core/v1); all of them are served at version v1. */
const RESOURCE_GROUPS: Readonly<Record<string, string>> = {
  pods: '', deployments: 'apps', statefulsets: 'apps', daemonsets: 'apps', replicasets: 'apps',
  jobs: 'batch', cronjobs: 'batch', services: '', nodes: '', namespaces: '',
};

/** One argument as kubectl reads it: its resource (`pods` when no type is given) and its name. */
export interface ResourceArg {
  /** The resource's plural name, as the API names it (`pods`, `deployments`). */
  readonly resource: string;
  readonly name: string;
}

/**
 * `NAME`, or `TYPE/NAME` with TYPE one of {@link RESOURCE_TYPES}' names, optionally qualified by
 * its group as kubectl takes it (schema.ParseResourceArg): `TYPE.GROUP` or `TYPE.v1.GROUP`
 * (`deployment.apps/web`, what `kubectl get -o name` prints; `pods./web-0` for the core group). An
 * unknown TYPE, or a group it is not in, is a UsageError in kubectl's words (`the server doesn't
 * have a resource type "x"`). A bare name is a pod.
 */
export function parseResourceArg(arg: string): ResourceArg {
  const slash = arg.indexOf('/');
  if (slash < 0) return { resource: 'pods', name: arg };
  const typeArg = arg.slice(0, slash);
  const dot = typeArg.indexOf('.');
  const type = (dot < 0 ? typeArg : typeArg.slice(0, dot)).toLowerCase();
  const group = dot < 0 ? undefined : typeArg.slice(dot + 1).toLowerCase();
  const name = arg.slice(slash + 1);
  const resource = Object.keys(RESOURCE_TYPES).find((plural) => plural === type || RESOURCE_TYPES[plural]!.includes(type));
  const inGroup = (r: string) => group === undefined || group === RESOURCE_GROUPS[r] || group === `v1.${RESOURCE_GROUPS[r]}`;
  if (!resource || !inGroup(resource)) throw new UsageError(`the server doesn't have a resource type ${JSON.stringify(dot < 0 ? typeArg : typeArg.slice(0, dot))}`);
  if (name === '' || name.includes('/')) throw new UsageError('arguments in resource/name form must have a single resource and name');
  return { resource, name };
}

/**
 * The pod names of a command's positionals (yargs may give numbers, and an empty word from the
 * shell is no name), each read by {@link podNameOf}.
 */
export function podNamesOf(args: readonly unknown[] | undefined, command: string): string[] {
  return (args ?? []).filter((p) => p !== undefined && p !== '').map((p) => podNameOf(String(p), command));
}

/**
 * A pod's name from `NAME`, `pod/NAME`, `pods/NAME` or `po/NAME`. Another known type is refused in
 * one line: capture takes pods (the seam for resolving a workload to its pods is here).
 */
export function podNameOf(arg: string, command: string): string {
  const { resource, name } = parseResourceArg(arg);
  if (resource !== 'pods') {
    throw new UsageError(`${command} takes pods, not ${resource}: name pods (NAME or pod/NAME) or select them with -l`);
  }
  return name;
}
