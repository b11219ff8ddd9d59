import { isProfileRefusal, UPLOAD_ID_LABEL, uploadIdOf, type Spool } from '../store/spool.js';
import { StoreProblem, StoreUnreachable, type ProfileStore, type StoreLabel, type StoreProfileType } from '../store/store.js';
import { DELTA_LABEL, PROFILE_LABEL } from '../store/window-query.js';
import { resourceLabels } from '../labels/resource-labels.js';
import type { CapturedProfile, Sink } from './engine.js';
import { targetFileStem, utcStamp } from './local-sink.js';
import type { ProfileType } from './profile-types.js';
import { REVISION_LABELS } from '../kube/revision-labels.js';

/** profefe has no allocs type: a Go allocs profile is a heap profile (alloc_space first). */
export function storeTypeOf(type: ProfileType): StoreProfileType {
  return type === 'allocs' ? 'heap' : type;
}

/**
 * The labels kubectl-profefe puts on an upload: where the profile came from (`namespace` and
 * `pod`, or `url=host:port` for a --url target), the upload id
 * (a hash of the bytes, which makes a second upload of the same profile recognisable),
 * `profile=allocs` on allocs (stored as heap), `delta=server|client` on deltas (who computed it;
 * see CapturedProfile.delta), the capture container's requests and limits (`cpu_request`,
 * `cpu_limit` as CPU quantities, `memory_request`, `memory_limit` in bytes: only those it sets;
 * src/labels/resource-labels.ts), plus the pod labels named with --label-from-pod (a version
 * label, say), then the target's extraLabels (a collector's trigger). Sorted by key, like
 * profefe. Queries tell snapshots and deltas apart by these labels (src/store/window-query.ts),
 * and `top` reads the resources back to set usage against requests.
 */
export function uploadLabels(p: CapturedProfile, labelsFromPod: readonly string[]): StoreLabel[] {
  const t = p.target;
  const labels: Record<string, string> = {};
  for (const key of labelsFromPod) {
    const value = t.labels[key];
    if (value !== undefined) labels[key] = value;
  }
  Object.assign(labels, t.extraLabels);
  // Ours come last, so a pod label of the same name cannot override them: queries group by
  // namespace and pod, tell snapshots from deltas by profile and delta, top reads the resources,
  // and pushes are made idempotent by upload_id.
  // A URL target is named by its host:port alone: never its path or credentials.
  Object.assign(labels, t.url !== undefined ? { url: t.pod } : { namespace: t.namespace, pod: t.pod });
  Object.assign(labels, { from: 'kubectl-profefe', [UPLOAD_ID_LABEL]: uploadIdOf(p.bytes) }, resourceLabels(t.resources));
  // The pod's revision (pod-template-hash, controller-revision-hash), for diff --rollout; among ours, so nothing overrides it.
  for (const key of REVISION_LABELS) if (t.labels[key] !== undefined) labels[key] = t.labels[key];
  if (t.container) labels.container = t.container;
  if (t.node) labels.node = t.node;
  if (p.type === 'allocs') labels[PROFILE_LABEL] = 'allocs';
  if (p.delta) labels[DELTA_LABEL] = p.delta;
  return Object.entries(labels)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([key, value]) => ({ key, value }));
}

/** The profiles a StoreSink kept in the spool because the store could not take them. */
export interface NotUploaded {
  /** The spool files, in the order they were kept. */
  readonly files: readonly string[];
  /** The spool folder (`push` uploads from there). */
  readonly spoolDir: string;
  /** Why, short: the first failure's summary (`unreachable`, `HTTP 503`, ...). */
  readonly reason: string;
  /** The first failure's whole message. */
  readonly firstError: string;
}

/**
 * Uploads each profile to a store. Nothing is lost: when the store cannot take it (down, 5xx
 * after the client's retries, a refused token, 429) the profile goes to the spool for
 * `kubectl profefe push`; when it says the profile is invalid (400 or 413, e.g. a profile with
 * no samples) it is kept in the spool's rejected/ folder, and the capture of it fails.
 *
 * A spooled profile was captured: with `spoolIsDelivery` (the collector, which pushes the spool
 * every round, and capture, which reports {@link notUploaded} in its summary) write() resolves
 * with where it was kept; otherwise it throws saying why and where.
 *
 * Once the store is unreachable (no answer at all after the client's retries: StoreUnreachable),
 * the later profiles of this sink go straight to the spool: each would cost the same retries
 * (3.5 s by default) for the same answer. A 5xx trips nothing: each upload gets its back-off.
 */
export class StoreSink implements Sink {
  constructor(
    private readonly store: ProfileStore,
    /** Where failed uploads are kept; without one a failed upload is just an error. */
    private readonly spool: Spool | undefined,
    private readonly labelsFromPod: readonly string[] = [],
    /** Told how each upload ended (the collector counts them). */
    private readonly onUpload?: (result: 'ok' | 'spooled' | 'rejected') => void,
    /** A spooled profile counts as delivered (see the class comment). */
    private readonly spoolIsDelivery = false,
  ) {}

  /** The first StoreUnreachable of this sink: later profiles are spooled without trying. */
  private unreachable: Error | undefined;
  private firstFailure: Error | undefined;
  private readonly spooled: string[] = [];

  /** What was kept in the spool for a later push (rejected profiles not included); undefined when nothing. */
  get notUploaded(): NotUploaded | undefined {
    if (!this.spool || this.spooled.length === 0 || !this.firstFailure) return undefined;
    const e = this.firstFailure;
    return { files: [...this.spooled], spoolDir: this.spool.dir, reason: e instanceof StoreProblem ? e.summary : e.message, firstError: e.message };
  }

  async write(p: CapturedProfile): Promise<string> {
    const req = { service: p.target.service, type: storeTypeOf(p.type), labels: uploadLabels(p, this.labelsFromPod), createdAt: p.takenAt, body: p.bytes };
    const skipped = this.unreachable !== undefined && this.spool !== undefined;
    try {
      if (skipped) throw this.unreachable;
      const meta = await this.store.upload(req);
      this.onUpload?.('ok');
      return `profefe id ${meta.id}`;
    } catch (err) {
      if (!this.spool) throw err;
      if (err instanceof StoreUnreachable) this.unreachable ??= err;
      // The spool adds the upload id: two captures of one pod in the same second stay apart.
      const name = `${utcStamp(p.takenAt)}.${targetFileStem(p.target)}.${p.type}`;
      const rejected = isProfileRefusal(err);
      const kept = await this.spool.add(name, req, { rejected });
      this.onUpload?.(rejected ? 'rejected' : 'spooled');
      const why = skipped ? 'not tried: the store did not answer an earlier upload of this run' : (err as Error).message;
      if (!rejected) {
        this.firstFailure ??= err as Error;
        this.spooled.push(kept);
      }
      if (this.spoolIsDelivery && !rejected) return `spooled (${why}): ${kept}`;
      throw new Error(rejected ? `the store refused it (${why}); kept in ${kept}` : `upload failed (${why}); kept in ${kept}, upload it later with 'kubectl profefe push'`);
    }
  }
}
