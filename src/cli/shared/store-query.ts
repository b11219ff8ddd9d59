import type { Argv } from 'yargs';
import { WINDOW_TYPES } from '../../store/window-query.js';

/** The store query flags as yargs parses them (shared by get, merge and the commands after them). */
export interface QueryFlagArgs {
  service?: string;
  type?: string;
  from?: string;
  to?: string;
  label?: string[];
  limit?: number;
}

/** Adds --service, --type (alias --profile-type, kube-profefe's name), --from, --to, --label and --limit. */
export function withQueryFlags<T>(y: Argv<T>, serviceHelp: string): Argv<T & QueryFlagArgs> {
  return y.options({
    service: { type: 'string', requiresArg: true, describe: serviceHelp },
    type: {
      alias: 'profile-type',
      type: 'string',
      requiresArg: true,
      describe: `profile type: ${WINDOW_TYPES.join(', ')} (heap: the in-use snapshots; allocs: the allocation deltas, stored as heap with profile=allocs)`,
    },
    from: { type: 'string', requiresArg: true, describe: 'start of the window: 2h, 30m, 7d back, or a time (default: 24h before --to)' },
    to: { type: 'string', requiresArg: true, describe: 'end of the window (default: now)' },
    label: { alias: 'l', type: 'string', array: true, requiresArg: true, describe: 'only profiles with this label, key=value (repeatable: all must match)' },
    limit: { type: 'number', requiresArg: true, describe: 'at most N profiles (which N depends on the store: the newest on profefe with badger)' },
  }) as unknown as Argv<T & QueryFlagArgs>;
}
