import os from 'node:os';
import path from 'node:path';
import type { DecodeLimits } from '../pprof/index.js';
import type { ProfileStore } from './store.js';

/** Which store a command talks to: a profefe server when a URL is given, else the local store. */
export interface StoreOptions {
  /** profefe collector URL (`--profefe-hostport`, else PROFEFE_HOSTPORT). */
  readonly hostport?: string;
  readonly token?: string;
  /** CA bundle for a store behind a TLS proxy. */
  readonly caFile?: string;
  /** The embedded local store's directory. */
  readonly storeDir: string;
  /** Where profiles that could not be uploaded wait for `push`. */
  readonly spoolDir: string;
  /** The local store's limits for decoding uploads and the profiles it merges (--max-inflated-size, --max-samples). */
  readonly decodeLimits?: Partial<DecodeLimits>;
}

/**
 * kubectl-profefe's data directory: $KUBECTL_PROFEFE_HOME, else $XDG_DATA_HOME/kubectl-profefe,
 * else ~/.local/share/kubectl-profefe (~/Library/Application Support on macOS).
 */
export function dataDir(env: NodeJS.ProcessEnv): string {
  if (env.KUBECTL_PROFEFE_HOME) return env.KUBECTL_PROFEFE_HOME;
  if (env.XDG_DATA_HOME) return path.join(env.XDG_DATA_HOME, 'kubectl-profefe');
  const home = env.HOME || os.homedir();
  return process.platform === 'darwin'
    ? path.join(home, 'Library', 'Application Support', 'kubectl-profefe')
    : path.join(home, '.local', 'share', 'kubectl-profefe');
}

/**
 * Opens the chosen store; the implementations load only when used. `readOnly` is for commands
 * that only read (get, merge, top, open, diff): the local store is then opened without its lock,
 * so they work while `serve` or a capture has it open (LocalStore.open's `readOnly`).
 */
export async function openStore(opts: StoreOptions, access: { readOnly?: boolean } = {}): Promise<ProfileStore> {
  if (opts.hostport) {
    const { ProfefeClient } = await import('./profefe/client.js');
    return new ProfefeClient({ baseUrl: opts.hostport, token: opts.token, caFile: opts.caFile });
  }
  const { LocalStore } = await import('./local/local-store.js');
  return LocalStore.open(opts.storeDir, { decodeLimits: opts.decodeLimits, readOnly: access.readOnly === true });
}

/** Where the profiles of a store live, for messages. */
export function describeStore(opts: StoreOptions): string {
  return opts.hostport ? `profefe at ${opts.hostport}` : `the local store in ${opts.storeDir}`;
}
