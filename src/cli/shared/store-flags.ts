import type { Argv } from 'yargs';
import { dataDir, type StoreOptions } from '../../store/open-store.js';
import path from 'node:path';

/** The store flags as yargs parses them. `--profefe-hostport` is kube-profefe's own name. */
export interface StoreFlagArgs {
  'profefe-hostport'?: string;
  'profefe-token'?: string;
  'profefe-ca'?: string;
  'store-dir'?: string;
  'spool-dir'?: string;
}

export const STORE_OPTIONS_GROUP = 'Store options:';

/**
 * Adds the store flags under "Store options:"; `--spool-dir` shown only for the commands that
 * upload (`spool: true`: capture, collect, push), as only they keep what could not be uploaded.
 */
export function withStoreFlags<T>(y: Argv<T>, opts: { spool?: boolean } = {}) {
  const spool = opts.spool === true;
  return y
    .options({
      'profefe-hostport': { type: 'string', requiresArg: true, describe: 'profefe collector URL, e.g. http://profefe:10100 (default: $PROFEFE_HOSTPORT, else the local store)' },
      'profefe-token': { type: 'string', requiresArg: true, describe: 'bearer token for a store behind an authenticating proxy (default: $PROFEFE_TOKEN)' },
      'profefe-ca': { type: 'string', requiresArg: true, describe: 'CA certificate file for a store behind a TLS proxy' },
      'store-dir': { type: 'string', requiresArg: true, describe: 'directory of the local store (default: <data dir>/store)' },
      // Hidden elsewhere, not refused: a script that passes it to every command keeps working.
      'spool-dir': { type: 'string', requiresArg: true, hidden: !spool, describe: 'where profiles that could not be uploaded wait for push (default: <data dir>/spool)' },
    })
    .group(['profefe-hostport', 'profefe-token', 'profefe-ca', 'store-dir', ...(spool ? ['spool-dir'] : [])], STORE_OPTIONS_GROUP);
}

/** Store options from flags, then the environment, then defaults under the data directory. */
export function resolveStoreOptions(args: StoreFlagArgs, env: NodeJS.ProcessEnv): StoreOptions {
  const data = dataDir(env);
  return {
    hostport: args['profefe-hostport'] || env.PROFEFE_HOSTPORT || undefined,
    token: args['profefe-token'] || env.PROFEFE_TOKEN || undefined,
    caFile: args['profefe-ca'] || undefined,
    storeDir: args['store-dir'] || path.join(data, 'store'),
    spoolDir: args['spool-dir'] || path.join(data, 'spool'),
  };
}
