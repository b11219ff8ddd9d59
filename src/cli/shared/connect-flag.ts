import type { ConnectMode } from '../../capture/capture-pods.js';
import { UsageError } from '../../errors.js';
import { escapeTerminal } from '../../report/terminal-text.js';

/** --connect as yargs parses it (a string: its value is checked by resolveConnectMode, in our words). */
export interface ConnectFlagArgs {
  connect?: string;
}

/** How the commands that reach pods by themselves (collect, doctor) reach them. Spread into `.options(...)`. */
export const CONNECT_FLAG = {
  connect: { type: 'string', requiresArg: true, describe: 'direct (http://podIP:port; in-cluster default) or port-forward (through the API server; default elsewhere)' },
} as const;

/** The mode --connect names, or undefined to let the cluster access decide (defaultConnectMode); UsageError for any other value. */
export function resolveConnectMode(args: ConnectFlagArgs): ConnectMode | undefined {
  const connect = args.connect;
  if (connect === undefined || connect === 'direct' || connect === 'port-forward') return connect;
  throw new UsageError(`--connect must be direct or port-forward, got "${escapeTerminal(String(connect))}"`);
}
