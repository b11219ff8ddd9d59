/**
 * The one interface every profile store implements: the profefe HTTP client, the embedded
 * local store, and (served over HTTP by `kubectl profefe serve`) the local store again.
 * Semantics follow the profefe collector API (docs/profefe-api.md).
 *
 * A store fails in its own terms (the classes below); only the profefe server (HTTP out) and the
 * profefe client (HTTP in) turn them into statuses and profefe's wire strings, and back.
 */
import { StoreError } from '../errors.js';
import type { LabelSelector } from '../labels/selector.js';

/** profefe's profile types. There is no `allocs`: a Go allocs profile is stored as `heap`. */
export const STORE_PROFILE_TYPES = ['cpu', 'heap', 'block', 'mutex', 'goroutine', 'threadcreate', 'other', 'trace'] as const;
export type StoreProfileType = (typeof STORE_PROFILE_TYPES)[number];

/** What --type names in a store query: profefe's types, and `allocs` (the allocs deltas, stored as heap), listed after heap. */
export const WINDOW_TYPES = ['cpu', 'heap', 'allocs', ...STORE_PROFILE_TYPES.filter((t) => t !== 'cpu' && t !== 'heap')] as const;
export type WindowType = StoreProfileType | 'allocs';

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
  /** Every label must match exactly (AND): profefe's own filter, any value. */
  readonly labels?: readonly StoreLabel[];
  /**
   * A Kubernetes label selector (-l/--selector) the metas must also match (src/labels/selector.ts).
   * profefe filters only by exact pairs: its client asks for the selector's exact pairs and
   * applies the whole selector to the answer; the local store applies it in its index.
   */
  readonly selector?: LabelSelector;
  /** <= 0 or undefined: no limit. */
  readonly limit?: number;
}

/**
 * A profile store. Every method fails with one of the StoreProblem classes below when the
 * store refuses or fails the request (StoreUnavailable when it cannot be reached).
 */
export interface ProfileStore {
  /** Stores a profile; rejects 0-sample and unparsable profiles like profefe (ProfileRejected). */
  upload(req: UploadRequest): Promise<ProfileMeta>;
  /** Metas matching the query, oldest first; an empty array when nothing matches. */
  find(query: FindQuery): Promise<ProfileMeta[]>;
  /** The stored bytes, unchanged. ProfileNotFound when there is no such profile. */
  get(id: string): Promise<Uint8Array>;
  /**
   * One gzipped pprof merged from the profiles matching the query (type required, not trace:
   * IncompatibleProfiles); ProfileNotFound when nothing matches.
   */
  mergeQuery(query: FindQuery & { type: StoreProfileType }): Promise<Uint8Array>;
  /**
   * One gzipped pprof merged from these ids; unknown ids are skipped, none known is
   * ProfileNotFound; profiles of different sample types are IncompatibleProfiles.
   */
  mergeIds(ids: readonly string[]): Promise<Uint8Array>;
  /** Service names, sorted; empty when the store is empty. */
  services(): Promise<string[]>;
  /** Releases files or connections. */
  close(): Promise<void>;
}

/**
 * A request the store failed, in the store's terms. `summary` is a few words for a table row
 * ("unreachable", "HTTP 503", "401, check the token"; by default the class's `defaultSummary`);
 * the message says what and where.
 */
export abstract class StoreProblem extends StoreError {
  /** The summary of a problem of this class when none is given. */
  static readonly defaultSummary: string = 'failed';
  readonly summary: string;

  constructor(message: string, summary?: string) {
    super(message);
    this.summary = summary ?? (new.target as typeof StoreProblem).defaultSummary;
  }
}

/** No such profile: an unknown or expired id, or nothing that matches (profefe: 404 `nothing found`). */
export class ProfileNotFound extends StoreProblem {
  static override readonly defaultSummary: string = 'not found';
  override readonly name: string = 'ProfileNotFound';
  constructor(message = 'nothing found', summary?: string) {
    super(message, summary);
  }
}

/**
 * A merge of several ids of which none names a stored profile ("could not merge 0 profiles").
 * Not found, like ProfileNotFound; profefe answers it as a failed merge.
 */
export class NothingToMerge extends ProfileNotFound {
  override readonly name: string = 'NothingToMerge';
}

/**
 * The store refuses the profile or the request as invalid, and would refuse it again: no
 * service, an unknown type, a body that is no pprof profile or has no samples, a label or id
 * profefe cannot carry (profefe: 400, 413, 415, 422). The local store words it as profefe does.
 */
export class ProfileRejected extends StoreProblem {
  static override readonly defaultSummary: string = 'rejected';
  override readonly name: string = 'ProfileRejected';
}

/** Profiles that cannot be merged: of different sample types, or a trace among them. */
export class IncompatibleProfiles extends StoreProblem {
  static override readonly defaultSummary: string = 'cannot merge';
  override readonly name: string = 'IncompatibleProfiles';
}

/** A merge asked of a type that has none: trace, or a type the store does not know. */
export class TypeWithoutMerge extends IncompatibleProfiles {
  override readonly name: string = 'TypeWithoutMerge';
}

/**
 * The store cannot answer now and may later: unreachable, timed out, busy or failing (profefe:
 * no answer, 408, 429, 5xx). Worth keeping the profile and trying again.
 */
export class StoreUnavailable extends StoreProblem {
  static override readonly defaultSummary: string = 'unavailable';
  override readonly name: string = 'StoreUnavailable';
}

/**
 * No answer at all, after the client's retries: the connection was refused or failed, or the
 * store stayed silent past the timeout. Unlike a 5xx (a store that is up and failing), more
 * requests in the same run would only fail the same way (capture then spools the rest at once).
 */
export class StoreUnreachable extends StoreUnavailable {
  static override readonly defaultSummary: string = 'unreachable';
  override readonly name: string = 'StoreUnreachable';
}

/** The store (or a proxy before it) refuses the credentials (HTTP 401, 403): check the token. */
export class StoreAccessDenied extends StoreProblem {
  static override readonly defaultSummary: string = 'check the token';
  override readonly name: string = 'StoreAccessDenied';
}

/**
 * Anything else the store did wrong: an answer that is not profefe's (a proxy's page), a disk
 * that failed under the local store, a damaged blob.
 */
export class StoreFailed extends StoreProblem {
  override readonly name: string = 'StoreFailed';
}
