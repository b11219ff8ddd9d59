import type { Argv, CommandModule } from 'yargs';
import { PartialFailure, StoreError } from '../errors.js';
import { alignColumns } from '../report/columns.js';
import { describeStore, openStore, type StoreOptions } from '../store/open-store.js';
import { drainSpool, Spool, type PushOutcome } from '../store/spool.js';
import type { CommandContext } from './shared/context.js';
import { examples } from './shared/help.js';
import { writeAll } from './shared/io.js';
import { escapeTerminal } from '../report/terminal-text.js';
import { resolveStoreOptions, withStoreFlags, type StoreFlagArgs } from './shared/store-flags.js';

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
              'When an upload fails (the store is down, refuses the token, answers 429 or 5xx), capture ' +
              'and collect keep the profile in the spool directory. push uploads what is there and removes ' +
              'what was stored; a profile the store already has (same upload_id label) is not sent twice. ' +
              'Profiles the store calls invalid (400, 413, e.g. no samples) move to the spool\'s rejected/ ' +
              'folder. The first other failure stops the push and keeps everything for the next one. Files ' +
              'that are no complete entry (left by a crash) move to quarantine/ and are listed.',
          )
          .epilog(examples(['Upload what is waiting, to the profefe collector', 'kubectl profefe push --profefe-hostport http://profefe:10100'])),
        { spool: true },
      ),
    handler: async (args) => {
      const opts: PushOptions = { store: resolveStoreOptions(args, ctx.env) };
      const outcomes = await runPush(opts);
      await renderPush(outcomes, opts, ctx);
    },
  };
}

/** Uploads every spooled profile, oldest first (see drainSpool); a store that is down keeps them all. */
export async function runPush(opts: PushOptions): Promise<PushOutcome[]> {
  const spool = new Spool(opts.store.spoolDir);
  const listed = await spool.list();
  if (listed.entries.length === 0 && listed.problems.length === 0) return [];
  const store = await openStore(opts.store);
  try {
    return await drainSpool(spool, store, { listed });
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
  const count = (r: PushOutcome['result']) => outcomes.filter((o) => o.result === r).length;
  const notes = [['kept', count('kept')], ['rejected', count('rejected')], ['quarantined', count('quarantined')]].filter(([, n]) => n).map(([r, n]) => `${n} ${r}`);
  await writeAll(ctx.io.stdout, `${alignColumns(rows)}\n${uploaded} of ${outcomes.length} spooled profiles uploaded to ${escapeTerminal(describeStore(opts.store))}${notes.length ? ` (${notes.join(', ')})` : ''}\n`);
  if (uploaded === outcomes.length) return;
  const kept = count('kept');
  const why = kept > 0 ? `${kept} kept in ${opts.store.spoolDir} for the next push` : 'see the table';
  if (uploaded === 0) throw new StoreError(`no spooled profile was uploaded: ${why}`);
  throw new PartialFailure(`${outcomes.length - uploaded} of ${outcomes.length} spooled profiles were not uploaded: ${why}`);
}
