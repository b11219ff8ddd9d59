import type { Argv, CommandModule } from 'yargs';
import { ExitCode, PartialFailure } from '../errors.js';
import { alignColumns } from '../report/columns.js';
import { describeStore, openStore, type StoreOptions } from '../store/open-store.js';
import { drainSpool, Spool, type PushOutcome } from '../store/spool.js';
import type { CommandContext } from './context.js';
import { examples } from './help.js';
import { writeAll } from './io.js';
import { escapeTerminal } from '../report/terminal-text.js';
import { resolveStoreOptions, withStoreFlags, type StoreFlagArgs } from './store-flags.js';

export interface PushOptions {
  readonly store: StoreOptions;
}

export function pushCommand(ctx: CommandContext): CommandModule<object, StoreFlagArgs> {
  return {
    command: 'push',
    describe: 'Upload the profiles that capture could not upload (the spool)',
    builder: (y: Argv) =>
      withStoreFlags(
        y
          .usage(
            'Usage: kubectl profefe push [--profefe-hostport URL] [--spool-dir DIR]\n\n' +
              'When an upload fails (the store is down or answers 5xx), capture keeps the profile in the\n' +
              'spool directory. push uploads what is there and removes what was stored. Profiles the\n' +
              'store refuses (4xx, e.g. no samples) move to the spool\'s rejected/ folder.',
          )
          .epilog(examples(['Upload what is waiting, to the profefe collector', 'kubectl profefe push --profefe-hostport http://profefe:10100'])),
      ) as unknown as Argv<StoreFlagArgs>,
    handler: async (args) => {
      const opts: PushOptions = { store: resolveStoreOptions(args, ctx.env) };
      const outcomes = await runPush(opts);
      await renderPush(outcomes, opts, ctx);
    },
  };
}

/** Uploads every spooled profile, oldest first; a store that is down stops nothing from being kept. */
export async function runPush(opts: PushOptions): Promise<PushOutcome[]> {
  const spool = new Spool(opts.store.spoolDir);
  if ((await spool.list()).length === 0) return [];
  const store = await openStore(opts.store);
  try {
    return await drainSpool(spool, store);
  } finally {
    await store.close();
  }
}

async function renderPush(outcomes: PushOutcome[], opts: PushOptions, ctx: CommandContext): Promise<void> {
  if (outcomes.length === 0) {
    await writeAll(ctx.io.stderr, `Nothing to push: the spool ${opts.store.spoolDir} is empty.\n`);
    return;
  }
  const rows = [['PROFILE', 'RESULT', 'DETAIL'], ...outcomes.map((o) => [o.name, o.result, o.detail].map(escapeTerminal))];
  const uploaded = outcomes.filter((o) => o.result === 'uploaded').length;
  await writeAll(ctx.io.stdout, `${alignColumns(rows)}\n${uploaded} of ${outcomes.length} spooled profiles uploaded to ${describeStore(opts.store)}\n`);
  if (uploaded === 0) ctx.exitCode = ExitCode.failure;
  else if (uploaded < outcomes.length) throw new PartialFailure(`${outcomes.length - uploaded} of ${outcomes.length} spooled profiles were not uploaded`);
}
