import { numberOption } from './shared/usage-errors.js';
import type { Argv, CommandModule } from 'yargs';
import { listenFailure, StoreError, UsageError } from '../errors.js';
import { DEFAULT_MAX_BODY_BYTES, DEFAULT_MAX_CONCURRENT_UPLOADS, DEFAULT_REQUEST_TIMEOUT_MS } from '../store/profefe/server.js';
import { DEFAULT_DECODE_HEAP_MB } from '../store/local/profile-validator.js';
import { DECODE_LIMIT_FLAGS, DECODE_LIMIT_FLAG_NAMES, mebibytes, resolveDecodeLimits, type DecodeLimitArgs } from './shared/limit-flags.js';
import type { DecodeLimits } from '../pprof/index.js';
import { parseDuration } from './shared/time-window.js';
import type { CommandContext } from './shared/context.js';
import { examples } from './shared/help.js';
import { writeAll } from './shared/io.js';
import { dataDir } from '../store/open-store.js';
import path from 'node:path';

/** --merge-workers: two merges at once still leave a 2-core machine's event loop its share. */
const DEFAULT_MERGE_WORKERS = 2;

export interface ServeOptions {
  readonly host: string;
  readonly port: number;
  readonly storeDir: string;
  readonly retentionMs: number;
  readonly token?: string;
  readonly maxBodyBytes: number;
  readonly maxConcurrentUploads: number;
  readonly requestTimeoutMs: number;
  /** Worker threads that check uploads. */
  readonly decodeWorkers: number;
  /** Each checker thread's V8 heap, in MiB: a body whose decoding needs more is refused (400). */
  readonly decodeHeapMb: number;
  /** --max-inflated-size and --max-samples: for uploads, and the stored profiles the merge route reads. */
  readonly decodeLimits: DecodeLimits;
  /** Worker threads that merge (the merge routes), one merge each. */
  readonly mergeWorkers: number;
}

interface ServeArgs extends DecodeLimitArgs {
  address?: string;
  port?: number;
  'store-dir'?: string;
  retention?: string;
  token?: string;
  'require-token'?: boolean;
  'max-body-size'?: number;
  'max-concurrent-uploads'?: number;
  'request-timeout'?: string;
  'decode-workers'?: number;
  'decode-heap-size'?: number;
  'merge-workers'?: number;
}

export function serveCommand(ctx: CommandContext): CommandModule<object, ServeArgs> {
  return {
    command: 'serve',
    describe: 'Run a profefe-compatible profile store over the local store',
    builder: (y: Argv) =>
      y
        .usage(
          'Usage: kubectl profefe serve [--address 127.0.0.1] [--port 10100] [options]\n\n' +
            'Serves the profefe collector API (/api/0/profiles, /api/0/profiles/merge, /api/0/services, ' +
            '/api/0/version) over a local store, so capture --profefe-hostport, get, merge and the profefe ' +
            'agent all work without a profefe server. Unlike profefe it can require a bearer token, and it ' +
            'bounds what uploads may cost: body size, uploads at once, request time, and the size of a ' +
            'profile once decoded (checked in worker threads, so /healthz keeps answering). Merges run in ' +
            'worker threads too. Stops on SIGINT or SIGTERM.',
        )
        .option('address', { type: 'string', default: '127.0.0.1', requiresArg: true, describe: 'address to listen on (0.0.0.0 for all)' })
        .option('port', numberOption({ flag: '--port', whole: true, min: 0, max: 65535 }, { default: 10100, describe: 'port to listen on (profefe\'s default)' }))
        .option('store-dir', { type: 'string', requiresArg: true, describe: 'directory of the store (default: <data dir>/store)' })
        .option('retention', { type: 'string', default: '120h', requiresArg: true, describe: 'drop profiles this long after upload (0: keep forever)' })
        .option('token', { type: 'string', requiresArg: true, describe: 'require Authorization: Bearer TOKEN (default: $PROFEFE_TOKEN, else none; prefer the variable: arguments show in ps)' })
        .option('require-token', { type: 'boolean', default: false, describe: 'refuse to start without a token (what deploy/ runs)' })
        .option('max-body-size', numberOption({ flag: '--max-body-size', above: 0 }, { default: DEFAULT_MAX_BODY_BYTES / 2 ** 20, describe: 'largest upload accepted, in MiB' }))
        .option('max-concurrent-uploads', numberOption({ flag: '--max-concurrent-uploads', whole: true, min: 1 }, { default: DEFAULT_MAX_CONCURRENT_UPLOADS, describe: 'uploads read and checked at once; more get 503 (retried by agents)' }))
        .option('request-timeout', { type: 'string', default: `${DEFAULT_REQUEST_TIMEOUT_MS / 1000}s`, requiresArg: true, describe: 'a request must arrive whole within this time, else 408' })
        .option('decode-workers', numberOption({ flag: '--decode-workers', whole: true, min: 1 }, { default: 1, describe: 'worker threads that check uploaded profiles' }))
        .option(
          'decode-heap-size',
          numberOption(
            { flag: '--decode-heap-size', whole: true, min: 1 },
            { default: DEFAULT_DECODE_HEAP_MB, describe: 'memory of each checker thread, in MiB; a profile whose check needs more is refused (the check scans: about its decompressed size)' },
          ),
        )
        .option('merge-workers', numberOption({ flag: '--merge-workers', whole: true, min: 1 }, { default: DEFAULT_MERGE_WORKERS, describe: 'merges run at once, each in a worker thread (more wait; 16 waiting, then 503)' }))
        .options(DECODE_LIMIT_FLAGS)
        .group(
          ['address', 'port', 'store-dir', 'retention', 'token', 'require-token', 'max-body-size', 'max-concurrent-uploads', 'request-timeout', 'decode-workers', 'decode-heap-size', 'merge-workers', ...DECODE_LIMIT_FLAG_NAMES, 'help'],
          'Options:',
        )
        .epilog(
          examples(
            ['A store on this machine', 'kubectl profefe serve'],
            ['Capture into it', 'kubectl profefe capture -n shop --profefe-hostport http://127.0.0.1:10100'],
          ),
        ),
    handler: async (args) => {
      const opts = resolveServeOptions(args, ctx.env);
      await runServe(opts, ctx);
    },
  };
}

export function resolveServeOptions(args: ServeArgs, env: NodeJS.ProcessEnv): ServeOptions {
  const port = args.port ?? 10100;
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new UsageError(`--port must be 0-65535, got ${args.port}`);
  const token = args.token || env.PROFEFE_TOKEN || undefined;
  if (args['require-token'] && !token) throw new UsageError('--require-token: no token given; set PROFEFE_TOKEN (in deploy/, the kubectl-profefe-token Secret)');
  const whole = (name: string, value: number | undefined, fallback: number) => {
    const n = value ?? fallback;
    if (!Number.isInteger(n) || n < 1) throw new UsageError(`--${name} must be a whole number >= 1, got ${value}`);
    return n;
  };
  const requestTimeoutMs = parseDuration(args['request-timeout'] ?? `${DEFAULT_REQUEST_TIMEOUT_MS / 1000}s`, '--request-timeout');
  if (requestTimeoutMs < 1000) throw new UsageError('--request-timeout must be at least 1s');
  return {
    host: args.address ?? '127.0.0.1',
    port,
    storeDir: args['store-dir'] || path.join(dataDir(env), 'store'),
    retentionMs: parseDuration(args.retention ?? '120h', '--retention'),
    token,
    maxBodyBytes: mebibytes(args['max-body-size'], DEFAULT_MAX_BODY_BYTES, '--max-body-size'),
    maxConcurrentUploads: whole('max-concurrent-uploads', args['max-concurrent-uploads'], DEFAULT_MAX_CONCURRENT_UPLOADS),
    requestTimeoutMs,
    decodeWorkers: whole('decode-workers', args['decode-workers'], 1),
    decodeHeapMb: whole('decode-heap-size', args['decode-heap-size'], DEFAULT_DECODE_HEAP_MB),
    decodeLimits: resolveDecodeLimits(args),
    mergeWorkers: whole('merge-workers', args['merge-workers'], DEFAULT_MERGE_WORKERS),
  };
}

/** "local store DIR is in use by 'kubectl profefe serve' (pid 12) at http://…". */
function storeInUse(err: import('../store/local/local-store.js').StoreLockedError): string {
  const { holder } = err;
  const who = holder.command ? `'kubectl profefe ${holder.command}' (pid ${holder.pid})` : `process ${holder.pid}`;
  return `local store ${err.dir} is in use by ${who}${holder.url ? ` at ${holder.url}` : ''}`;
}

/** Serves until the command's signal aborts (SIGINT/SIGTERM), then closes cleanly. */
export async function runServe(opts: ServeOptions, ctx: Pick<CommandContext, 'io' | 'signal'>): Promise<void> {
  const [{ LocalStore, StoreLockedError }, { startProfefeServer }, { ValidatorPool }, { BlobMergePool }] = await Promise.all([
    import('../store/local/local-store.js'),
    import('../store/profefe/server.js'),
    import('../store/local/profile-validator.js'),
    import('../store/local/blob-merge.js'),
  ]);
  // Bodies wait for a checker only within their upload slot, so the queue never outgrows the slots.
  const validator = new ValidatorPool({ workers: opts.decodeWorkers, maxQueue: opts.maxConcurrentUploads, decodeLimits: opts.decodeLimits, heapMb: opts.decodeHeapMb });
  const merges = new BlobMergePool({ workers: opts.mergeWorkers, decodeLimits: opts.decodeLimits });
  let store: import('../store/local/local-store.js').LocalStore | undefined;
  let server: import('../store/profefe/server.js').ProfefeServer | undefined;
  try {
    try {
      store = await LocalStore.open(opts.storeDir, { retentionMs: opts.retentionMs, validate: validator.validate, decodeLimits: opts.decodeLimits, mergeBlobs: merges.merge, holder: { command: 'serve' } });
    } catch (err) {
      // The store's own advice (upload through that server) is for clients, not for a second serve.
      if (err instanceof StoreLockedError) throw new StoreError(`${storeInUse(err)}; stop it, or serve another directory (--store-dir)`);
      throw err;
    }
    const { orphanBlobs, tempFiles } = store.cleanedAtOpen;
    if (orphanBlobs + tempFiles + store.droppedIndexLines > 0) {
      await writeAll(ctx.io.stderr, `store ${opts.storeDir}: removed what an earlier process left half-written: ${orphanBlobs} unindexed blob${orphanBlobs === 1 ? '' : 's'}, ${tempFiles} temporary file${tempFiles === 1 ? '' : 's'}, ${store.droppedIndexLines} torn index line${store.droppedIndexLines === 1 ? '' : 's'}\n`);
    }
    try {
      server = await startProfefeServer({
        store,
        host: opts.host,
        port: opts.port,
        token: opts.token,
        maxBodyBytes: opts.maxBodyBytes,
        maxConcurrentUploads: opts.maxConcurrentUploads,
        requestTimeoutMs: opts.requestTimeoutMs,
      });
    } catch (err) {
      throw listenFailure(err, opts.host, opts.port, '--address, --port');
    }
    // Captures without a store URL find this in the lock and upload through us.
    await store.announce({ command: 'serve', url: server.url });
    await writeAll(ctx.io.stderr, `serving the profefe API at ${server.url} (store: ${opts.storeDir}, retention: ${opts.retentionMs ? `${opts.retentionMs / 3_600_000}h` : 'forever'}${opts.token ? ', token required' : ''})\n`);
    await new Promise<void>((resolve) => {
      if (ctx.signal.aborted) resolve();
      ctx.signal.addEventListener('abort', () => resolve(), { once: true });
    });
  } finally {
    // Also on a failed start: an open store or a live checker thread would keep the process running.
    await server?.close();
    await store?.close();
    await validator.close();
    await merges.close();
  }
  await writeAll(ctx.io.stderr, 'stopped\n');
}
