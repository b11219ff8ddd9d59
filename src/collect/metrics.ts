import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { listenFailure } from '../errors.js';
import type { ShardSpec } from './shard.js';

type LabelSet = Record<string, string>;

/**
 * The collector's Prometheus metrics, rendered in the text exposition format (0.0.4). Small on
 * purpose: counters by label set, and two gauges.
 */
export class CollectorMetrics {
  private readonly captures = new Map<string, number>();
  private readonly uploads = new Map<string, number>();
  private readonly triggers = new Map<string, number>();
  private roundDuration = 0;
  private lastRound = 0;
  private rounds = 0;
  private podsTaken = 0;
  private podsListed = 0;

  /** `shard`: this collector's share (--shard/--shards); without it, shard 0 of 1. */
  constructor(private readonly shard: ShardSpec = { index: 0, count: 1 }) {}

  capture(type: string, result: 'ok' | 'failed'): void {
    bump(this.captures, { type, result });
  }

  upload(result: 'ok' | 'spooled' | 'rejected'): void {
    bump(this.uploads, { result });
  }

  /** A pressure trigger fired (src/collect/trigger.ts). */
  trigger(kind: 'memory' | 'cpu'): void {
    bump(this.triggers, { trigger: kind });
  }

  /** The pods of this round: `taken` by this collector (its shard's share) of `listed` (every shard's). */
  roundPods(taken: number, listed: number): void {
    this.podsTaken = taken;
    this.podsListed = listed;
  }

  roundDone(durationSeconds: number, endedAt: Date): void {
    this.roundDuration = durationSeconds;
    this.lastRound = endedAt.getTime() / 1000;
    this.rounds++;
  }

  render(): string {
    return [
      '# HELP kubectl_profefe_captures_total Profiles fetched from pods, by profile type and result.',
      '# TYPE kubectl_profefe_captures_total counter',
      ...series('kubectl_profefe_captures_total', this.captures),
      '# HELP kubectl_profefe_uploads_total Uploads to the store: ok, spooled (kept for a later round) or rejected (4xx, kept aside).',
      '# TYPE kubectl_profefe_uploads_total counter',
      ...series('kubectl_profefe_uploads_total', this.uploads),
      '# HELP kubectl_profefe_triggers_total Captures out of schedule because a container neared its memory or CPU limit.',
      '# TYPE kubectl_profefe_triggers_total counter',
      ...series('kubectl_profefe_triggers_total', this.triggers),
      '# HELP kubectl_profefe_round_duration_seconds Wall time of the last collection round.',
      '# TYPE kubectl_profefe_round_duration_seconds gauge',
      `kubectl_profefe_round_duration_seconds ${this.roundDuration}`,
      '# HELP kubectl_profefe_last_round_timestamp_seconds When the last collection round ended (Unix time).',
      '# TYPE kubectl_profefe_last_round_timestamp_seconds gauge',
      `kubectl_profefe_last_round_timestamp_seconds ${this.lastRound}`,
      '# HELP kubectl_profefe_rounds_total Collection rounds completed.',
      '# TYPE kubectl_profefe_rounds_total counter',
      `kubectl_profefe_rounds_total ${this.rounds}`,
      '# HELP kubectl_profefe_shard_info This collector\'s shard of the pods (--shard/--shards): shard I of shards N; 0 of 1 when it takes them all.',
      '# TYPE kubectl_profefe_shard_info gauge',
      `kubectl_profefe_shard_info{shard="${this.shard.index}",shards="${this.shard.count}"} 1`,
      '# HELP kubectl_profefe_round_pods Pods this collector took in the last round: its shard\'s share of the listed pods.',
      '# TYPE kubectl_profefe_round_pods gauge',
      `kubectl_profefe_round_pods ${this.podsTaken}`,
      '# HELP kubectl_profefe_round_pods_listed Capturable opted-in pods the last round listed, of every shard.',
      '# TYPE kubectl_profefe_round_pods_listed gauge',
      `kubectl_profefe_round_pods_listed ${this.podsListed}`,
      '',
    ].join('\n');
  }
}

function key(labels: LabelSet): string {
  return Object.entries(labels)
    .map(([k, v]) => `${k}="${v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`)
    .join(',');
}

function bump(map: Map<string, number>, labels: LabelSet): void {
  const k = key(labels);
  map.set(k, (map.get(k) ?? 0) + 1);
}

function series(name: string, map: Map<string, number>): string[] {
  return [...map.entries()].sort(([a], [b]) => (a < b ? -1 : 1)).map(([labels, v]) => `${name}{${labels}} ${v}`);
}

/** Serves `/metrics` and `/healthz` on `host:port` (port 0: any). */
export async function startMetricsServer(addr: string, metrics: CollectorMetrics): Promise<{ url: string; close(): Promise<void> }> {
  const i = addr.lastIndexOf(':');
  const host = i > 0 ? addr.slice(0, i).replace(/^\[|\]$/g, '') : '0.0.0.0';
  const port = Number(i >= 0 ? addr.slice(i + 1) : addr);
  const server: Server = createServer((req, res) => {
    if (req.url === '/metrics') {
      res.writeHead(200, { 'Content-Type': 'text/plain; version=0.0.4; charset=utf-8' }).end(metrics.render());
    } else if (req.url === '/healthz') {
      res.writeHead(200, { 'Content-Type': 'text/plain' }).end('ok\n');
    } else {
      res.writeHead(404, { 'Content-Type': 'text/plain' }).end('404 page not found\n');
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err) => reject(listenFailure(err, host, port, '--metrics-addr')));
    server.listen(port, host, () => resolve());
  });
  const a = server.address() as AddressInfo;
  return {
    url: `http://${a.family === 'IPv6' ? `[${a.address}]` : a.address}:${a.port}`,
    close: () => new Promise((r) => server.close(() => r())),
  };
}
