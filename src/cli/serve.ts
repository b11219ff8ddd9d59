import type { Argv, CommandModule } from 'yargs';
import { UsageError } from '../errors.js';
import { parseDuration } from '../store/time-window.js';
import type { CommandContext } from './context.js';
import { examples } from './help.js';
import { writeAll } from './io.js';
import { dataDir } from '../store/open-store.js';
import path from 'node:path';

export interface ServeOptions {
  readonly host: string;
  readonly port: number;
  readonly storeDir: string;
  readonly retentionMs: number;
  readonly token?: string;
  readonly maxBodyBytes: number;
}

interface ServeArgs {
  address?: string;
  port?: number;
  'store-dir'?: string;
  retention?: string;
  token?: string;
  'max-body-size'?: number;
}

export function serveCommand(ctx: CommandContext): CommandModule<object, ServeArgs> {
  return {
    command: 'serve',
    describe: 'Run a profefe-compatible profile store over the local store',
    builder: (y: Argv) =>
      y
        .usage(
          'Usage: kubectl profefe serve [--address 127.0.0.1] [--port 10100] [--store-dir DIR] [--retention 120h]\n\n' +
            'Serves the profefe collector API (/api/0/profiles, /api/0/profiles/merge, /api/0/services,\n' +
            '/api/0/version) over a local store, so capture --profefe-hostport, get, merge and the profefe\n' +
            'agent all work without a profefe server. Unlike profefe it can require a bearer token and\n' +
            'limits request bodies. Stops on SIGINT or SIGTERM.',
        )
        .option('address', { type: 'string', default: '127.0.0.1', requiresArg: true, describe: 'address to listen on (0.0.0.0 for all)' })
        .option('port', { type: 'number', default: 10100, requiresArg: true, describe: 'port to listen on (profefe\'s default)' })
        .option('store-dir', { type: 'string', requiresArg: true, describe: 'directory of the store (default: <data dir>/store)' })
        .option('retention', { type: 'string', default: '120h', requiresArg: true, describe: 'drop profiles this long after upload (0: keep forever)' })
        .option('token', { type: 'string', requiresArg: true, describe: 'require Authorization: Bearer TOKEN (default: $PROFEFE_TOKEN, else none)' })
        .option('max-body-size', { type: 'number', default: 64, requiresArg: true, describe: 'largest upload accepted, in MiB' })
        .epilog(
          examples(
            ['A store on this machine', 'kubectl profefe serve'],
            ['Capture into it', 'kubectl profefe capture -n shop --profefe-hostport http://127.0.0.1:10100'],
          ),
        ) as unknown as Argv<ServeArgs>,
    handler: async (args) => {
      const opts = resolveServeOptions(args, ctx.env);
      await runServe(opts, ctx);
    },
  };
}

export function resolveServeOptions(args: ServeArgs, env: NodeJS.ProcessEnv): ServeOptions {
  const port = args.port ?? 10100;
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new UsageError(`--port must be 0-65535, got ${args.port}`);
  const mib = args['max-body-size'] ?? 64;
  if (!(mib > 0)) throw new UsageError(`--max-body-size must be a positive number of MiB, got ${args['max-body-size']}`);
  return {
    host: args.address ?? '127.0.0.1',
    port,
    storeDir: args['store-dir'] || path.join(dataDir(env), 'store'),
    retentionMs: parseDuration(args.retention ?? '120h', '--retention'),
    token: args.token || env.PROFEFE_TOKEN || undefined,
    maxBodyBytes: Math.round(mib * 2 ** 20),
  };
}

/** Serves until the command's signal aborts (SIGINT/SIGTERM), then closes cleanly. */
export async function runServe(opts: ServeOptions, ctx: Pick<CommandContext, 'io' | 'signal'>): Promise<void> {
  const [{ LocalStore }, { startProfefeServer }] = await Promise.all([import('../store/local-store.js'), import('../store/server.js')]);
  const store = await LocalStore.open(opts.storeDir, { retentionMs: opts.retentionMs });
  const server = await startProfefeServer({ store, host: opts.host, port: opts.port, token: opts.token, maxBodyBytes: opts.maxBodyBytes });
  await writeAll(ctx.io.stderr, `serving the profefe API at ${server.url} (store: ${opts.storeDir}, retention: ${opts.retentionMs ? `${opts.retentionMs / 3_600_000}h` : 'forever'}${opts.token ? ', token required' : ''})\n`);
  await new Promise<void>((resolve) => {
    if (ctx.signal.aborted) resolve();
    ctx.signal.addEventListener('abort', () => resolve(), { once: true });
  });
  await server.close();
  await store.close();
  await writeAll(ctx.io.stderr, 'stopped\n');
}
