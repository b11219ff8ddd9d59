/**
 * The one interface every profile store implements: the profefe HTTP client, the embedded
 * local store, and (served over HTTP by `kubectl profefe serve`) the local store again.
 * Semantics follow the profefe collector API (shared/profefe-api.md in the steering repo).
 */

/** profefe's profile types. There is no `allocs`: a Go allocs profile is stored as `heap`. */
export const STORE_PROFILE_TYPES = ['cpu', 'heap', 'block', 'mutex', 'goroutine', 'threadcreate', 'other', 'trace'] as const;
export type StoreProfileType = (typeof STORE_PROFILE_TYPES)[number];

/**
 * The label kubectl-profefe puts on every upload: the first 32 hex digits of the body's SHA-256.
 * A profile uploaded twice (a push retried after a timeout or a crash) carries the same one, so
 * stores and pushes can recognise it and keep it once.
 */
export const UPLOAD_ID_LABEL = 'upload_id';

export interface StoreLabel {
  readonly key: string;
  readonly value: string;
}

/**
 * Labels as people write them (`--label version=1.2`) and profefe's `labels` parameter spells
 * them: `key=value` pairs joined by `separator` (default `,`), unescaped: for messages and pages.
 */
export function formatLabels(labels: readonly StoreLabel[], separator = ','): string {
  return labels.map((l) => `${l.key}=${l.value}`).join(separator);
}

/** A stored profile's metadata, as profefe returns it. */
export interface ProfileMeta {
  /** Opaque; may contain `/`, `,` and `=` (S3/GCS keys); never contains `+`. */
  readonly id: string;
  readonly service: string;
  readonly type: StoreProfileType;
  /** Sorted by key, as profefe returns them. */
  readonly labels: readonly StoreLabel[];
  /** The profile's own time (pprof time_nanos), truncated to whole seconds. */
  readonly createdAt: Date;
}

export interface UploadRequest {
  readonly service: string;
  readonly type: StoreProfileType;
  readonly labels: readonly StoreLabel[];
  /** Only used for profiles without time_nanos (and traces); default: now. */
  readonly createdAt?: Date;
  readonly body: Uint8Array;
}

export interface FindQuery {
  readonly service: string;
  /** Undefined: all types. */
  readonly type?: StoreProfileType;
  /** Inclusive window on created_at. */
  readonly from: Date;
  readonly to: Date;
  /** Every label must match exactly (AND). */
  readonly labels?: readonly StoreLabel[];
  /** <= 0 or undefined: no limit. */
  readonly limit?: number;
}

export interface ProfileStore {
  /** Stores a profile; rejects 0-sample and unparsable profiles like profefe (StoreError, status 400). */
  upload(req: UploadRequest): Promise<ProfileMeta>;
  /** Metas matching the query, oldest first; an empty array when nothing matches. */
  find(query: FindQuery): Promise<ProfileMeta[]>;
  /** The stored bytes, unchanged. StoreError with status 404 when there is no such profile. */
  get(id: string): Promise<Uint8Array>;
  /** One gzipped pprof merged from the profiles matching the query (type required, not trace). */
  mergeQuery(query: FindQuery & { type: StoreProfileType }): Promise<Uint8Array>;
  /** One gzipped pprof merged from these ids; unknown ids are skipped, none known is an error. */
  mergeIds(ids: readonly string[]): Promise<Uint8Array>;
  /** Service names, sorted; empty when the store is empty. */
  services(): Promise<string[]>;
  /** Releases files or connections. */
  close(): Promise<void>;
}
