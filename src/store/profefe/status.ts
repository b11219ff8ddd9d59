/**
 * The store's errors (src/store/store.ts) as profefe's HTTP statuses, and back. Only the profefe
 * server (answering) and the profefe client (reading answers) use this module; the statuses and
 * their meaning are profefe's (docs/profefe-api.md, "Response envelope and status codes").
 */
import {
  IncompatibleProfiles,
  NothingToMerge,
  ProfileNotFound,
  ProfileRejected,
  StoreAccessDenied,
  StoreFailed,
  StoreUnavailable,
  StoreUnreachable,
  TypeWithoutMerge,
  type StoreProblem,
} from '../store.js';

/** The `cause` of an error made from a profefe answer: the HTTP status it came with (0: no answer). */
export class ProfefeAnswer extends Error {
  override readonly name: string = 'ProfefeAnswer';
  constructor(readonly status: number) {
    super(status === 0 ? 'no answer' : `HTTP ${status}`);
  }
}

/** Statuses profefe gives an invalid request or profile: the same request fails the same way again. */
const REJECTED = [400, 413, 415, 422];

/**
 * The store error for a profefe answer with this status; `profefeSaid` when the body was
 * profefe's envelope (a 404 from a proxy is not "not found"). The status goes along as the
 * error's cause (ProfefeAnswer) for --verbose and diagnostics, never for decisions.
 */
export function storeErrorFromStatus(message: string, status: number, profefeSaid: boolean): StoreProblem {
  const cause = { cause: new ProfefeAnswer(status) };
  const http = `HTTP ${status}`;
  let err: StoreProblem;
  if (status === 0) err = new StoreUnreachable(message, 'unreachable');
  else if (status === 401 || status === 403) err = new StoreAccessDenied(message, `${status}, check the token`);
  else if (REJECTED.includes(status)) err = new ProfileRejected(message, http);
  else if (status === 404 && profefeSaid) err = new ProfileNotFound(message, http);
  else if (status === 405 && profefeSaid) err = new TypeWithoutMerge(message, http);
  else if (status === 408 || status === 429 || status >= 500) err = new StoreUnavailable(message, http);
  else err = new StoreFailed(message, http);
  Object.assign(err, cause);
  return err;
}

/**
 * The status profefe answers an error with: the one it came with from a profefe answer, else
 * by class, as profefe's handlers map its storage errors (an id merge that finds nothing is a
 * failed merge, 500; a type without a merge is 405). Anything else is 500.
 */
export function profefeStatusOf(err: unknown): number {
  if (err instanceof Error && err.cause instanceof ProfefeAnswer) return err.cause.status;
  if (err instanceof NothingToMerge) return 500;
  if (err instanceof ProfileNotFound) return 404;
  if (err instanceof TypeWithoutMerge) return 405;
  if (err instanceof ProfileRejected) return 400;
  if (err instanceof StoreUnavailable) return 503;
  if (err instanceof StoreAccessDenied) return 401;
  if (err instanceof IncompatibleProfiles) return 500;
  return 500;
}
