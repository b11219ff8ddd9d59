import { stat } from 'node:fs/promises';
import path from 'node:path';
import { writeFileAtomic } from '../files/atomic-write.js';
import { safePathSegment } from '../files/safe-segment.js';
import type { CapturedProfile, Sink } from './engine.js';

/**
 * Saves profiles as `DIR/<service>/<type>/<namespace>.<pod>.<UTC time>.pb.gz` (a --url target:
 * `<host>_<port>.<UTC time>.pb.gz`), deltas as
 * `….<UTC time>.delta-server.pb.gz` (Go computed it) or `.delta-client.pb.gz` (we did), each
 * written atomically (temporary file, then rename), so a crash never leaves half a profile.
 */
export class LocalSink implements Sink {
  constructor(private readonly dir: string) {}

  async write(p: CapturedProfile): Promise<string> {
    // Service, namespace and pod come from the cluster: one safe segment each, so never ../ or a separator.
    const base = path.join(this.dir, safePathSegment(p.target.service), p.type, `${targetFileStem(p.target)}.${utcStamp(p.takenAt)}`);
    const suffix = `${p.delta ? `.delta-${p.delta}` : ''}.pb.gz`;
    let file = `${base}${suffix}`;
    // Two captures of one pod within a second (repeated runs) must not overwrite each other.
    for (let n = 2; await exists(file); n++) file = `${base}-${n}${suffix}`;
    await writeFileAtomic(file, p.bytes);
    return file;
  }
}

/** `<namespace>.<pod>` of a pod, `<host>_<port>` of a URL target: where a file name says whose profile it is. */
export function targetFileStem(t: Pick<CapturedProfile['target'], 'namespace' | 'pod' | 'url'>): string {
  return t.url !== undefined ? safePathSegment(t.pod) : `${safePathSegment(t.namespace)}.${safePathSegment(t.pod)}`;
}

/** `20261125T150102Z`: sorts by time, readable, and valid in file names everywhere. */
export function utcStamp(d: Date): string {
  return d.toISOString().replace(/[-:]/g, '').replace(/\.\d{3}Z$/, 'Z');
}

async function exists(file: string): Promise<boolean> {
  return stat(file).then(
    () => true,
    () => false,
  );
}
