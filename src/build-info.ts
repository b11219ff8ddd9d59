/**
 * What this copy of kubectl-profefe is: its version and the commit it was built from, for
 * `kubectl profefe version`, error reports and serve's /api/0/version. The bundle replaces this
 * module with the values of its build (scripts/build.mjs); from the sources (the tests) the
 * version is package.json's and the commit unknown.
 */
import { readFileSync } from 'node:fs';

export interface BuildInfo {
  /** The package version, without a `v`. */
  readonly version: string;
  /** The git commit the bundle was built from; 'unknown' from the sources or outside a git checkout. */
  readonly gitCommit: string;
  /** 'clean', 'dirty' (uncommitted changes went into the build) or 'unknown', as `kubectl version` says. */
  readonly gitTreeState: 'clean' | 'dirty' | 'unknown';
  /** When the bundle was built (ISO 8601; a clean tree's commit date), or '' from the sources. */
  readonly buildDate: string;
}

export const BUILD_INFO: BuildInfo = {
  version: JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')).version,
  gitCommit: 'unknown',
  gitTreeState: 'unknown',
  buildDate: '',
};
