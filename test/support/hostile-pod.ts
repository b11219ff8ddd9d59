/**
 * Hostile pprof endpoints for tests: small real HTTP servers on 127.0.0.1 that answer the way a
 * malicious or broken pod would. Every behaviour is chosen by the request path's last segment
 * (`/debug/pprof/<type>`), so one server plays many pods, one per profefe.com/path annotation.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** What a hostile pod does. */
export type HostileBehaviour =
  /** 200 and bytes forever, as fast as the reader takes them */
  | 'endless'
  /** 200 and one byte every 200 ms, forever */
  | 'drip'
  /** 200 declaring a 10 GiB body, then bytes forever */
  | 'huge-length'
  /** 500 with a terminal escape sequence, then bytes forever */
  | 'escape-error'
  /** 200 with these bytes (a bomb, say) */
  | { body: Buffer };

/** A running hostile server; `path(b)` is the profefe.com/path that selects behaviour `b`. */
export interface HostilePod {
  readonly port: number;
  /** Every connection it has accepted that is still open. */
  openConnections(): number;
  close(): Promise<void>;
}

/**
 * Starts one server for several behaviours: `/<name>/<anything>` answers with `behaviours[name]`.
 * Writes stop when the client goes away, so nothing runs on after a test.
 */
export async function startHostilePod(behaviours: Record<string, HostileBehaviour>): Promise<HostilePod> {
  const chunk = Buffer.alloc(64 * 1024, 0x41);
  const sockets = new Set<import('node:net').Socket>();
  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const name = (req.url ?? '/').split('/')[1] ?? '';
    const b = behaviours[name];
    let gone = false;
    res.on('close', () => (gone = true));
    const pump = () => {
      while (!gone && res.write(chunk));
    };
    if (b === undefined) return void res.writeHead(404).end('404 page not found\n');
    if (typeof b === 'object') return void res.writeHead(200, { 'Content-Type': 'application/octet-stream' }).end(b.body);
    switch (b) {
      case 'endless':
        res.writeHead(200, { 'Content-Type': 'application/octet-stream' });
        res.on('drain', pump);
        return pump();
      case 'huge-length':
        res.writeHead(200, { 'Content-Type': 'application/octet-stream', 'Content-Length': String(10 * 2 ** 30) });
        res.on('drain', pump);
        return pump();
      case 'escape-error':
        res.writeHead(500, { 'Content-Type': 'text/plain' });
        res.write('\x1b]0;pwned\x07\x1b[2J\x1b[Hinternal error\n');
        res.on('drain', pump);
        return pump();
      case 'drip': {
        res.writeHead(200, { 'Content-Type': 'application/octet-stream' });
        const timer = setInterval(() => (gone ? clearInterval(timer) : res.write('x')), 200);
        res.on('close', () => clearInterval(timer));
        return;
      }
    }
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    openConnections: () => sockets.size,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
