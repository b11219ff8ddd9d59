import { stat } from 'node:fs/promises';
import path from 'node:path';
import { writeFileAtomic } from '../files/atomic-write.js';
import type { CapturedProfile, Sink } from './engine.js';

/**
 * Saves profiles as `DIR/<service>/<type>/<namespace>.<pod>.<UTC time>.pb.gz`, deltas as
 * `….<UTC time>.delta-server.pb.gz` (Go computed it) or `.delta-client.pb.gz` (we did), each
 * written atomically (temporary file, then rename), so a crash never leaves half a profile.
 */
export class LocalSink implements Sink {
  constructor(private readonly dir: string) {}

  async write(p: CapturedProfile): Promise<string> {
    const base = path.join(this.dir, safeName(p.target.service), p.type, `${safeName(p.target.namespace)}.${safeName(p.target.pod)}.${utcStamp(p.takenAt)}`);
    const suffix = `${p.delta ? `.delta-${p.delta}` : ''}.pb.gz`;
    let file = `${base}${suffix}`;
    // Two captures of one pod within a second (repeated runs) must not overwrite each other.
    for (let n = 2; await exists(file); n++) file = `${base}-${n}${suffix}`;
    await writeFileAtomic(file, p.bytes);
    return file;
  }
}

/** `20261125T150102Z`: sorts by time, readable, and valid in file names everywhere. */
export function utcStamp(d: Date): string {
  return d.toISOString().replace(/[-:]/g, '').replace(/\.\d{3}Z$/, 'Z');
}

function safeName(s: string): string {
  return s.replace(/[^A-Za-z0-9._-]/g, '_') || '_';
}

async function exists(file: string): Promise<boolean> {
  return stat(file).then(
    () => true,
    () => false,
  );
}

/**
 * Saves to a primary sink and, best effort, a secondary one: the capture succeeds when the
 * primary does, and the secondary's refusal (say, the local store declining a profile with no
 * samples) is noted beside the location.
 */
export class TeeSink implements Sink {
  constructor(
    private readonly primary: Sink,
    private readonly secondary: Sink,
  ) {}

  async write(p: CapturedProfile): Promise<string> {
    const location = await this.primary.write(p);
    try {
      await this.secondary.write(p);
      return location;
    } catch (err) {
      return `${location} (not indexed: ${(err as Error).message})`;
    }
  }
}
