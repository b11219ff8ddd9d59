import https from 'node:https';
import { Duplex, PassThrough, Writable } from 'node:stream';
import tls from 'node:tls';
import { PortForward, type KubeConfig } from '@kubernetes/client-node';
import WebSocket from 'ws';
import { TunnelError, type PodEndpoint, type Tunnel } from '../capture/tunnel.js';
import { KubeError } from '../errors.js';
import { oneLine } from '../report/terminal-text.js';

/** The subprotocols client-node offers; the API server picks v4.channel.k8s.io for port-forward. */
const CHANNEL_PROTOCOLS = ['v5.channel.k8s.io', 'v4.channel.k8s.io', 'v3.channel.k8s.io', 'v2.channel.k8s.io', 'channel.k8s.io'];

/**
 * Port-forward through the API server with client-node's PortForward (WebSocket,
 * v4.channel.k8s.io), one WebSocket per connection, wired so that both sides close together:
 * client-node neither ends its output when the WebSocket closes nor guards writes after close
 * (kubernetes-client/javascript #459, #187), so this does both.
 */
export class PortForwardTunnel implements Tunnel {
  private readonly forwarder: PortForward;

  private sharedAgent: https.Agent | undefined;

  constructor(private readonly kubeConfig: KubeConfig) {
    // client-node's own WebSocket handler builds a fresh https.Agent, and so a fresh TLS context
    // and a full handshake, for every WebSocket: a third of the CPU of capturing 150 pods. Its
    // PortForward takes any handler, so ours shares one agent, one TLS context and resumable sessions.
    // disconnectOnErr: a message on the error channel ends the connection, as kubectl does.
    this.forwarder = new PortForward(kubeConfig, true, { connect: (path, _text, onBinary) => this.connect(path, onBinary) });
  }

  /**
   * What client-node's WebSocketHandler.connect does (URL from the cluster, TLS and auth options
   * from the KubeConfig, one binary message = channel byte + payload), over the shared agent.
   */
  private async connect(path: string, onBinary: ((channel: number, data: Buffer) => boolean) | null): Promise<WebSocket> {
    const server = this.kubeConfig.getCurrentCluster()?.server;
    if (!server) throw new KubeError('the kubeconfig has no cluster to port-forward through');
    const opts: WebSocket.ClientOptions = {};
    await this.kubeConfig.applyToHTTPSOptions(opts);
    const ws = new WebSocket(server.replace(/^http/, 'ws') + path, CHANNEL_PROTOCOLS, { ...opts, agent: this.shareAgent(opts.agent) });
    // Listening from the start: the first message may come in the same packet as the upgrade.
    ws.on('message', (data: Buffer, isBinary: boolean) => {
      if (isBinary && data.length > 0 && onBinary && !onBinary(data[0]!, data.subarray(1))) ws.close();
    });
    // The error listener stays (a no-op once open) until PodSocket has its own.
    await new Promise<void>((resolve, reject) => {
      ws.once('open', resolve);
      ws.on('error', reject);
    });
    return ws;
  }

  /** One agent for all connections, built from the first one client-node made; proxies are left alone. */
  private shareAgent(agent: unknown): WebSocket.ClientOptions['agent'] {
    if (!(agent instanceof https.Agent) || agent.constructor !== https.Agent) return agent as WebSocket.ClientOptions['agent'];
    if (!this.sharedAgent) {
      const o = agent.options as https.AgentOptions;
      const secureContext = tls.createSecureContext({ ca: o.ca, cert: o.cert, key: o.key, pfx: o.pfx, passphrase: o.passphrase });
      this.sharedAgent = new https.Agent({ ...o, secureContext, maxCachedSessions: 512 });
    }
    return this.sharedAgent;
  }

  async open(target: PodEndpoint, signal?: AbortSignal): Promise<Duplex> {
    signal?.throwIfAborted();
    const input = new PassThrough();
    const errorText: Buffer[] = [];
    let socket: PodSocket | undefined;
    const output = new Writable({
      write(chunk: Buffer, _enc, done) {
        socket?.push(chunk);
        done();
      },
    });
    const errorChannel = new Writable({
      write(chunk: Buffer, _enc, done) {
        if (chunk.length > 0) errorText.push(chunk);
        done();
      },
    });
    let ws: WebSocket;
    try {
      ws = (await this.forwarder.portForward(target.namespace, target.name, [target.port], output, errorChannel, input)) as WebSocket;
    } catch (err) {
      throw upgradeError(err, target);
    }
    socket = new PodSocket(ws, input, () => Buffer.concat(errorText).toString('utf8').trim(), target);
    if (signal) {
      const onAbort = () => socket!.destroy(signal.reason as Error);
      signal.addEventListener('abort', onAbort, { once: true });
      socket.once('close', () => signal.removeEventListener('abort', onAbort));
    }
    return socket;
  }
}

/** The local end of one forwarded connection. */
class PodSocket extends Duplex {
  private wsClosed = false;

  constructor(
    private readonly ws: WebSocket,
    private readonly input: PassThrough,
    private readonly errorText: () => string,
    private readonly target: PodEndpoint,
  ) {
    super();
    ws.on('close', (code: number) => {
      this.wsClosed = true;
      const text = this.errorText();
      if (text) {
        this.destroy(new TunnelError(describeKubeletError(text, target), false));
      } else if (code !== 1000 && !this.readableEnded) {
        this.destroy(new TunnelError(`connection to pod ${target.namespace}/${target.name} port ${target.port} was cut (WebSocket closed with code ${code})`, true));
      } else {
        this.push(null);
      }
    });
    ws.on('error', (err: Error) => this.destroy(new TunnelError(`port-forward to pod ${target.namespace}/${target.name}: ${err.message}`, true)));
  }

  override _read(): void {
    // Data is pushed as it arrives; client-node offers no backpressure to apply.
  }

  // What node:http's keep-alive Agent calls on its sockets; a tunnel has nothing to tune.
  setKeepAlive(): this {
    return this;
  }
  setNoDelay(): this {
    return this;
  }
  setTimeout(): this {
    return this;
  }
  ref(): this {
    return this;
  }
  unref(): this {
    return this;
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, done: (err?: Error | null) => void): void {
    if (this.wsClosed) return done(new TunnelError(`connection to pod ${this.target.namespace}/${this.target.name} is closed`, true));
    this.input.write(chunk, done);
  }

  override _final(done: (err?: Error | null) => void): void {
    // Ending `input` makes client-node close the whole WebSocket at once (v4 has no half-close),
    // which would lose the response: keep it open until the reader is done.
    done();
  }

  override _destroy(err: Error | null, done: (err?: Error | null) => void): void {
    if (!this.wsClosed) this.ws.close();
    this.input.destroy();
    done(err);
  }
}

function upgradeError(err: unknown, target: PodEndpoint): KubeError {
  const message = (err as Error)?.message ?? String(err);
  const where = `pod ${target.namespace}/${target.name}`;
  const status = /Unexpected server response: (\d+)/.exec(message)?.[1];
  switch (status) {
    case '401':
      return new KubeError(`port-forward to ${where}: unauthorized (401): check your credentials`);
    case '403':
      return new KubeError(`port-forward to ${where}: forbidden (403): you need "get" on pods/portforward (the websocket; "create" too from Kubernetes 1.35): \`kubectl profefe doctor -n ${target.namespace} ${target.name}\` says which is missing`);
    case '404':
      return new KubeError(`port-forward to ${where}: pod not found (404)`);
    case '400':
      return new KubeError(`port-forward to ${where}: refused by the API server (400; is the pod running?)`);
    default:
      return new TunnelError(`port-forward to ${where}: ${message}`, true);
  }
}

/** Turns the kubelet's error-channel text into a line that says what to check. */
function describeKubeletError(text: string, target: PodEndpoint): string {
  const where = `pod ${target.namespace}/${target.name}`;
  if (/connection refused/i.test(text)) return `nothing listening on port ${target.port} in ${where} (${oneLine(text)})`;
  return `port-forward to ${where} port ${target.port} failed: ${oneLine(text)}`;
}

