/**
 * kubectl's rules on how resources may be chosen on a command line: by name, or by selector, in a
 * namespace or across all. No client-node here: the commands check them before loading kube code.
 */
import { UsageError } from '../errors.js';

/** How a command chooses pods: names in one namespace, or selectors (in one namespace, or all). */
export interface ResourceSelection {
  readonly names: readonly string[];
  readonly allNamespaces?: boolean;
  /** `-l/--selector`; undefined or empty when not given. */
  readonly labelSelector?: string;
  /** `--field-selector`; undefined or empty when not given. */
  readonly fieldSelector?: string;
}

/**
 * Throws UsageError, in kubectl's words, when names come with -A or with a selector
 * (k8s.io/cli-runtime resource.Builder: "a resource cannot be retrieved by name across all
 * namespaces", "name cannot be provided when a selector is specified"); the flags at fault follow
 * in parentheses. Anything else passes.
 */
export function checkResourceSelection(selection: ResourceSelection): void {
  if (selection.names.length === 0) return;
  if (selection.allNamespaces) {
    throw new UsageError('a resource cannot be retrieved by name across all namespaces (-A/--all-namespaces)');
  }
  const flags = [selection.labelSelector && '-l/--selector', selection.fieldSelector && '--field-selector'].filter(Boolean);
  if (flags.length > 0) throw new UsageError(`name cannot be provided when a selector is specified (${flags.join(', ')})`);
}
