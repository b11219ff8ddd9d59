/**
 * The capture engine's seam to a pod: a Tunnel opens byte streams to a pod's port. src/kube
 * implements it twice (port-forward through the API server, and straight to the pod's IP).
 */
import type { Duplex } from 'node:stream';
import { KubeError } from '../errors.js';

/** A pod's network endpoint as the capture engine sees it. */
export interface PodEndpoint {
  readonly namespace: string;
  readonly name: string;
  readonly port: number;
  /** The pod's IP, for tunnels that connect directly (inside the cluster). */
  readonly ip?: string;
  /** Headers sent with every request over this endpoint (default: none; Host is then localhost:port). */
  readonly headers?: Readonly<Record<string, string>>;
}

/**
 * Opens byte streams to a port of a pod. One `open` is one TCP connection in the pod; the
 * capture engine runs one HTTP request over each (no local listening ports at all).
 */
export interface Tunnel {
  open(target: PodEndpoint, signal?: AbortSignal): Promise<Duplex>;
}

/** A tunnel that could not be opened or broke: the kubelet's error text (nothing listens on the port), a refused connection. */
export class TunnelError extends KubeError {
  override readonly name = 'TunnelError';
  constructor(
    message: string,
    /** Worth one more try: the tunnel broke, not the pod's answer. */
    readonly transient: boolean,
  ) {
    super(message);
  }
}
