/**
 * `portforward.k8s.io` over SPDY/3.1, server side, as the kubelet speaks it (docs/kube-access.md, "Pods"; the protocol as kubelets speak it).
 * Only what kubectl uses: the client opens streams, we reply; no flow control (Go's spdystream
 * neither sends nor enforces WINDOW_UPDATE). `spdy-transport` is unusable here (see spec).
 */
import { Deflate, Inflate, Z_SYNC_FLUSH } from 'pako';

const u32 = (n: number) => { const b = Buffer.alloc(4); b.writeUInt32BE(n >>> 0); return b; };
const lenPrefixed = (s: string) => Buffer.concat([u32(Buffer.byteLength(s, 'latin1')), Buffer.from(s, 'latin1')]);

/** The fixed SPDY/3 header-compression dictionary (SPDY draft 3, §2.6.10.1): 1423 bytes. */
export const SPDY3_DICTIONARY: Buffer = Buffer.concat([
  ...('options head post put delete trace accept accept-charset accept-encoding accept-language accept-ranges age allow ' +
    'authorization cache-control connection content-base content-encoding content-language content-length content-location ' +
    'content-md5 content-range content-type date etag expect expires from host if-match if-modified-since if-none-match ' +
    'if-range if-unmodified-since last-modified location max-forwards pragma proxy-authenticate proxy-authorization range ' +
    'referer retry-after server te trailer transfer-encoding upgrade user-agent vary via warning www-authenticate method get ' +
    'status 200_OK version HTTP/1.1 url public set-cookie keep-alive origin').split(' ').map((w) => lenPrefixed(w.replace('_', ' '))),
  Buffer.from('100101201202205206300302303304305306307402405406407408409410411412413414415416417502504505' +
    '203 Non-Authoritative Information204 No Content301 Moved Permanently400 Bad Request401 Unauthorized403 Forbidden' +
    '404 Not Found500 Internal Server Error501 Not Implemented503 Service UnavailableJan Feb Mar Apr May Jun Jul Aug ' +
    'Sept Oct Nov Dec 00:00:00 Mon, Tue, Wed, Thu, Fri, Sat, Sun, GMTchunked,text/html,image/png,image/jpg,image/gif,' +
    'application/xml,application/xhtml+xml,text/plain,text/javascript,publicprivatemax-age=gzip,deflate,sdch' +
    'charset=utf-8charset=iso-8859-1,utf-,*,enq=0.', 'latin1'),
]);

/** Bytes under a SPDY session: a TLS socket after `Upgrade: SPDY/3.1` (C), or websocket binary messages (B). */
export interface SpdyTransport {
  write(b: Buffer, cb?: () => void): void;
  /** bytes queued but not yet flushed, for backpressure */
  backlog(): number;
  /** orderly close */
  close(): void;
  /** abrupt close (fault injection) */
  cut(): void;
}

/** The client end of one forwarded connection, as the kubelet drives it (shared by the websocket and SPDY paths). */
export interface TunnelSide {
  /** pod → client bytes; `cb` once flushed */
  send(data: Buffer, cb?: () => void): void;
  backlog(): number;
  /** the kubelet's "error forwarding port …" text, on the error channel/stream */
  fail(message: string): void;
  /** the forward is over (pod side closed or dial failed) */
  finish(): void;
  /** tear the whole tunnel down abruptly (fault injection) */
  cut(): void;
}

/** The pod end of one forwarded connection. */
export interface PodConn {
  write(b: Buffer): void;
  /** client half-closed its side */
  end(): void;
  destroy(): void;
}

const FIN = 0x01;
const EMPTY = Buffer.alloc(0);

function control(type: number, payload: Buffer): Buffer {
  const h = Buffer.alloc(8);
  h.writeUInt16BE(0x8003, 0); // control bit + version 3
  h.writeUInt16BE(type, 2);
  h.writeUInt32BE(payload.length, 4); // flags (byte 4) stay 0: we never send FIN on control frames
  return Buffer.concat([h, payload]);
}

function dataFrame(id: number, fin: boolean, payload: Buffer): Buffer {
  const h = Buffer.alloc(8);
  h.writeUInt32BE(id & 0x7fffffff, 0);
  h.writeUInt32BE(payload.length, 4);
  h[4] = fin ? FIN : 0;
  return Buffer.concat([h, payload]);
}

function decodeHeaders(b: Buffer): Map<string, string> {
  const h = new Map<string, string>();
  let o = 4;
  for (let n = b.readUInt32BE(0); n > 0; n--) {
    const kl = b.readUInt32BE(o), k = b.toString('latin1', o + 4, o + 4 + kl);
    o += 4 + kl;
    const vl = b.readUInt32BE(o), v = b.toString('latin1', o + 4, o + 4 + vl);
    o += 4 + vl;
    h.set(k.toLowerCase(), v.split('\0')[0]!); // multiple values are NUL-separated; Go's Header.Get takes the first
  }
  return h;
}

interface Pair { reqId: string; port: number; error?: number; data?: number; conn?: PodConn; early: Buffer[]; earlyFin: boolean; done: boolean }

/**
 * Serves one SPDY/3.1 session carrying `portforward.k8s.io`: pairs the client's error and data streams by `requestid`
 * and hands each complete pair to `forward`. Feed it the client's bytes; call `close()` when the transport is gone.
 */
export function serveSpdy(t: SpdyTransport, forward: (port: number, side: TunnelSide) => PodConn) {
  // Header blocks form one continuous zlib stream per direction, so one (de)compressor each for the session.
  const inflater = new Inflate({ dictionary: SPDY3_DICTIONARY });
  const deflater = new Deflate({ dictionary: SPDY3_DICTIONARY });
  let out: Buffer[] = [];
  inflater.onData = deflater.onData = (c) => { out.push(Buffer.from(c)); };
  const zlib = (z: Inflate | Deflate, b: Buffer) => {
    out = [];
    z.push(b, Z_SYNC_FLUSH);
    if (z.err) throw new Error(`spdy header block: ${z.msg}`);
    return Buffer.concat(out);
  };
  const streams = new Map<number, { open: boolean; pair?: Pair }>(); // open: we may still write to it
  const pairs = new Map<string, Pair>();
  let buf: Buffer = EMPTY, dead = false;

  const write = (id: number, payload: Buffer, fin: boolean, cb?: () => void) => {
    const s = streams.get(id);
    if (dead || !s?.open) return void cb?.();
    if (fin) s.open = false;
    t.write(dataFrame(id, fin, payload), cb);
  };
  const start = (p: Pair) => {
    const side: TunnelSide = {
      send: (d, cb) => write(p.data!, d, false, cb),
      backlog: () => t.backlog(),
      fail: (msg) => write(p.error!, Buffer.from(msg), false),
      // kubelet closes (FIN) the error stream, then the data stream
      finish: () => { p.done = true; pairs.delete(p.reqId); write(p.error!, EMPTY, true); write(p.data!, EMPTY, true); },
      cut: () => t.cut(),
    };
    p.conn = forward(p.port, side);
    for (const b of p.early) p.conn.write(b);
    if (p.earlyFin) p.conn.end();
  };

  const frame = (f: Buffer) => {
    if (!(f[0]! & 0x80)) { // DATA: only the data stream carries client bytes; the error stream is just half-closed
      const id = f.readUInt32BE(0) & 0x7fffffff, fin = (f[4]! & FIN) !== 0, d = f.subarray(8);
      const p = streams.get(id)?.pair;
      if (!p || p.data !== id || p.done) return;
      if (!p.conn) { if (d.length) p.early.push(Buffer.from(d)); p.earlyFin ||= fin; return; }
      if (d.length) p.conn.write(Buffer.from(d));
      if (fin) p.conn.end();
      return;
    }
    const type = f.readUInt16BE(2), body = f.subarray(8);
    switch (type) {
      case 1: { // SYN_STREAM: id, associated id, priority+slot, header block
        const id = body.readUInt32BE(0) & 0x7fffffff, h = decodeHeaders(zlib(inflater, body.subarray(10)));
        const s: { open: boolean; pair?: Pair } = { open: true };
        streams.set(id, s);
        t.write(control(2, Buffer.concat([u32(id), zlib(deflater, u32(0))]))); // SYN_REPLY, empty header block, no FIN
        const reqId = h.get('requestid'), kind = h.get('streamtype');
        if (reqId === undefined || (kind !== 'data' && kind !== 'error')) return;
        let p = pairs.get(reqId);
        if (!p) pairs.set(reqId, (p = { reqId, port: 0, early: [], earlyFin: false, done: false }));
        if (p[kind] !== undefined) return; // duplicate stream for this request: the kubelet rejects it
        p[kind] = id;
        s.pair = p;
        if (kind === 'data') p.port = Number(h.get('port')) || 0;
        if (p.error !== undefined && p.data !== undefined) start(p);
        return;
      }
      case 2: case 8: zlib(inflater, body.subarray(4)); return; // SYN_REPLY/HEADERS: inflate only to keep the zlib stream in step
      case 3: { // RST_STREAM: stop writing; if the forward is still running the client gave up on it
        const id = body.readUInt32BE(0) & 0x7fffffff, s = streams.get(id);
        if (!s) return;
        s.open = false;
        if (s.pair && !s.pair.done && s.pair.data === id) s.pair.conn?.destroy();
        return;
      }
      case 6: t.write(Buffer.from(f)); return; // PING: echo verbatim
      default: return; // SETTINGS, NOOP, GOAWAY, WINDOW_UPDATE: nothing to do
    }
  };

  const close = () => {
    dead = true;
    for (const p of pairs.values()) p.conn?.destroy();
    pairs.clear();
  };
  return {
    /** bytes from the client; frames may span or share chunks */
    feed(chunk: Buffer) {
      if (dead) return;
      buf = buf.length ? Buffer.concat([buf, chunk]) : chunk;
      try {
        while (buf.length >= 8) {
          const len = buf.readUIntBE(5, 3);
          if (buf.length < 8 + len) break;
          const f = buf.subarray(0, 8 + len);
          buf = buf.subarray(8 + len);
          frame(f);
        }
      } catch {
        close(); // protocol error (bad header block): drop the session
        t.close();
      }
    },
    close,
  };
}
