/**
 * A real InfluxDB 1.x (Debian's `influxdb` package, /usr/bin/influxd) for tests: started on
 * 127.0.0.1 with a generated config (its own meta, data and WAL folders in a temporary folder,
 * free ports for HTTP and the RPC bind address, reporting and monitoring off), ready once /ping
 * answers; queried with its HTTP /query API.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';

const INFLUXD = process.env.INFLUXD_PATH || '/usr/bin/influxd';
/** A safety net for a hung start on a loaded machine, not a measure. */
const READY_TIMEOUT_MS = 90_000;

/** A running influxd. */
export interface InfluxServer {
  /** `http://127.0.0.1:PORT` */
  readonly url: string;
  /** Runs an InfluxQL statement (POST /query, epoch=ms) and returns the parsed answer. */
  query(q: string, db?: string): Promise<InfluxQueryAnswer>;
  /** Stops influxd, waits for it to exit and removes its folders. */
  close(): Promise<void>;
}

/** /query's JSON: one result per statement, each with its series. */
export interface InfluxQueryAnswer {
  readonly results: { readonly series?: { name: string; tags?: Record<string, string>; columns: string[]; values: unknown[][] }[]; readonly error?: string }[];
  readonly error?: string;
}

/** A port free now (the OS's choice for port 0); influxd binds it a moment later, so a start is retried if it was taken. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

function config(dir: string, httpPort: number, rpcPort: number): string {
  const q = (p: string) => JSON.stringify(path.join(dir, p));
  return `reporting-disabled = true
bind-address = "127.0.0.1:${rpcPort}"

[meta]
  dir = ${q('meta')}
  logging-enabled = false

[data]
  dir = ${q('data')}
  wal-dir = ${q('wal')}
  query-log-enabled = false
  trace-logging-enabled = false
  index-version = "inmem"

[retention]
  enabled = false

[shard-precreation]
  enabled = false

[monitor]
  store-enabled = false

[subscriber]
  enabled = false

[continuous_queries]
  enabled = false

[http]
  enabled = true
  bind-address = "127.0.0.1:${httpPort}"
  auth-enabled = false
  log-enabled = false
  flux-enabled = false

[logging]
  level = "warn"
`;
}

/** Starts influxd (see the module comment); rejects with its output when it exits or never answers /ping. */
export async function startInfluxDB(): Promise<InfluxServer> {
  let last: unknown;
  for (let attempt = 0; attempt < 3; attempt++) {
    const dir = await mkdtemp(path.join(tmpdir(), 'influxdb-'));
    try {
      return await startIn(dir);
    } catch (err) {
      last = err;
      await rm(dir, { recursive: true, force: true });
      // Only a port taken between freePort and influxd's bind is worth another try.
      if (!/address already in use/.test(String((err as Error).message))) throw err;
    }
  }
  throw last;
}

async function startIn(dir: string): Promise<InfluxServer> {
  const [httpPort, rpcPort] = [await freePort(), await freePort()];
  const file = path.join(dir, 'influxdb.conf');
  await writeFile(file, config(dir, httpPort, rpcPort));
  // INFLUXDB_* variables would override the config file.
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('INFLUXDB_')));
  const child = spawn(INFLUXD, ['run', '-config', file], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const keep = (c: Buffer) => (output = (output + c.toString('utf8')).slice(-8000));
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const url = `http://127.0.0.1:${httpPort}`;
  const deadline = Date.now() + READY_TIMEOUT_MS;
  let exitCode: number | null | undefined;
  void exited.then((c) => (exitCode = c));
  for (;;) {
    if (exitCode !== undefined) throw new Error(`influxd exited (${exitCode}) before answering /ping: ${output}`);
    try {
      const res = await fetch(`${url}/ping`);
      if (res.status === 204) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      await stop(child, exited);
      throw new Error(`influxd did not answer /ping at ${url} in ${READY_TIMEOUT_MS / 1000} s: ${output}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    url,
    async query(q, db) {
      const body = new URLSearchParams({ q, epoch: 'ms', ...(db ? { db } : {}) });
      const res = await fetch(`${url}/query`, { method: 'POST', body });
      return (await res.json()) as InfluxQueryAnswer;
    },
    async close() {
      await stop(child, exited);
      await rm(dir, { recursive: true, force: true });
    },
  };
}

async function stop(child: ChildProcess, exited: Promise<unknown>): Promise<void> {
  if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
  const killer = setTimeout(() => child.kill('SIGKILL'), 20_000);
  await exited;
  clearTimeout(killer);
}
