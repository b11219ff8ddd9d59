/**
 * The check every upload to a store passes, profefe's collector's: the body parses as pprof and
 * has samples. It scans the bytes (scanProfile: decodeProfile's verdict, limits included, without
 * building the profile's objects). Done in-process (capture's local indexing, tests) or, for
 * `serve`, in worker threads: a body from the network may be a decompression bomb, and inflating
 * and scanning it on the event loop would stall every other request (and /healthz) meanwhile.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { DecodeLimits } from '../../pprof/index.js';
import { scanProfile } from '../../pprof/profile-scan.js';
import { ProfileRejected, StoreFailed, StoreUnavailable } from '../store.js';

/** What the check learns: the profile's time_nanos (0n when unset) and its sample count. */
export interface ProfileCheck {
  readonly timeNanos: bigint;
  readonly samples: number;
  /** The bytes checked, which the caller must use from now on (a worker may have taken the original's memory). */
  readonly body: Uint8Array;
}

/** Checks a pprof body; rejects with ProfileRejected carrying profefe's message. */
export type ValidateProfile = (body: Uint8Array) => Promise<ProfileCheck>;

/** The check on the calling thread, with these decode limits (--max-inflated-size, --max-samples). */
export function inProcessValidator(limits: Partial<DecodeLimits>): ValidateProfile {
  return async (body) => ({ ...checkProfile(body, limits), body });
}

/**
 * Scans and checks (the answer decoding would give: test/pprof/profile-scan.test.ts); throws
 * ProfileRejected in profefe's words. Shared by both ways of checking.
 */
export function checkProfile(body: Uint8Array, limits: Partial<DecodeLimits> = {}): { timeNanos: bigint; samples: number } {
  let scan;
  try {
    scan = scanProfile(body, undefined, limits);
  } catch (err) {
    throw new ProfileRejected(`malformed profile (could not parse pprof profile: ${goParseFailure(err)})`);
  }
  if (scan.samples === 0) {
    throw new ProfileRejected('malformed profile (could not parse pprof profile: profile is empty: no samples)');
  }
  const t = scan.timeNanos;
  return { timeNanos: typeof t === 'bigint' ? t : BigInt(t), samples: scan.samples };
}

/**
 * Go's pprof parser's words for a body it rejects, from our decoder's reason. Go also accepts
 * legacy text profiles, which we reject as unrecognized. A limit that was hit is named as ours.
 */
function goParseFailure(err: unknown): string {
  const m = err instanceof Error ? err.message : '';
  if (m.startsWith('empty input')) return 'parsing profile: empty input file';
  if (m.includes('concatenated profiles')) return 'parsing profile: concatenated profiles detected';
  if (m.startsWith('truncated gzip')) return 'decompressing profile: unexpected EOF';
  if (/\blimit\b/.test(m)) return `parsing profile: ${m}`;
  return 'parsing profile: unrecognized profile format';
}

/**
 * Default heap of a checker thread, in MiB: a real profile of some 35 MiB decompressed (a very
 * large service's heap profile) decodes within it.
 */
export const DEFAULT_DECODE_HEAP_MB = 384;

/** Options of {@link ValidatorPool}. */
export interface ValidatorPoolOptions {
  /** Worker threads (default 1). */
  readonly workers?: number;
  /** Bodies waiting for a worker at most; one more is refused with StoreUnavailable (default 8). */
  readonly maxQueue?: number;
  /** Each worker's V8 heap limit in MiB: a body that needs more ends that worker, not the process (default {@link DEFAULT_DECODE_HEAP_MB}). */
  readonly heapMb?: number;
  /** What a body may inflate to and hold (default: DEFAULT_DECODE_LIMITS). */
  readonly decodeLimits?: Partial<DecodeLimits>;
}

/** What validate-worker.ts posts back. */
export type ValidatorReply =
  | { readonly id: number; readonly ok: true; readonly timeNanos: string; readonly samples: number; readonly body: Uint8Array }
  | { readonly id: number; readonly ok: false; readonly rejected: boolean; readonly message: string; readonly body: Uint8Array; readonly hitLimit: boolean };

interface Job {
  readonly id: number;
  body: Uint8Array;
  resolve(check: ProfileCheck): void;
  reject(err: unknown): void;
}

interface Slot {
  worker: Worker;
  job: Job | undefined;
}

const WORKER_SCRIPT = new URL('./validate-worker.js', import.meta.url);

/**
 * Checks bodies in worker threads, one body per worker at a time, at most `maxQueue` waiting;
 * the body's memory moves to the worker and back, never copied. A worker that dies (its heap
 * limit, a crash) fails only its body (ProfileRejected) and is replaced. Under a TypeScript test runner,
 * where the compiled worker script does not exist, bodies are checked in-process.
 */
export class ValidatorPool {
  private readonly slots: Slot[] = [];
  private readonly queue: Job[] = [];
  private nextId = 0;
  private closed = false;
  private readonly maxQueue: number;
  private readonly heapMb: number;
  private readonly inProcess: boolean;
  private readonly decodeLimits: Partial<DecodeLimits>;

  constructor(opts: ValidatorPoolOptions = {}) {
    this.maxQueue = opts.maxQueue ?? 8;
    this.heapMb = opts.heapMb ?? DEFAULT_DECODE_HEAP_MB;
    this.decodeLimits = { ...opts.decodeLimits };
    this.inProcess = !existsSync(fileURLToPath(WORKER_SCRIPT));
    if (!this.inProcess) for (let i = 0; i < Math.max(1, opts.workers ?? 1); i++) this.slots.push(this.spawn());
  }

  /** Checks a body off the event loop; StoreUnavailable when `maxQueue` bodies already wait. */
  readonly validate: ValidateProfile = (body) => {
    if (this.closed) return Promise.reject(new StoreUnavailable('the store is shutting down'));
    if (this.inProcess) return inProcessValidator(this.decodeLimits)(body);
    if (this.queue.length >= this.maxQueue) return Promise.reject(new StoreUnavailable('too many profiles waiting to be checked, retry later'));
    // The worker takes the body's memory: it must own a whole buffer (not a slice of Node's pool).
    const own = body.byteOffset === 0 && body.byteLength === body.buffer.byteLength && body.buffer instanceof ArrayBuffer ? body : new Uint8Array(body);
    return new Promise((resolve, reject) => {
      this.queue.push({ id: this.nextId++, body: own, resolve, reject });
      this.dispatch();
    });
  };

  /** Ends the workers; bodies in flight fail with StoreUnavailable. */
  async close(): Promise<void> {
    this.closed = true;
    for (const job of this.queue.splice(0)) job.reject(new StoreUnavailable('the store is shutting down'));
    await Promise.all(this.slots.map((s) => s.worker.terminate()));
  }

  private spawn(): Slot {
    const slot: Slot = { worker: new Worker(WORKER_SCRIPT, { workerData: { decodeLimits: this.decodeLimits }, resourceLimits: { maxOldGenerationSizeMb: this.heapMb } }), job: undefined };
    slot.worker.unref();
    slot.worker.on('message', (reply: ValidatorReply) => {
      const job = slot.job;
      if (!job || job.id !== reply.id) return;
      slot.job = undefined;
      if (reply.ok) job.resolve({ timeNanos: BigInt(reply.timeNanos), samples: reply.samples, body: reply.body });
      else job.reject(reply.rejected ? new ProfileRejected(reply.message) : new StoreFailed(reply.message));
      if (!reply.ok && reply.hitLimit) {
        // A bomb leaves up to the inflated-size limit of garbage behind: a new worker frees it
        // now, where the old one's garbage collector might wait while the next bomb inflates.
        this.replace(slot);
        return;
      }
      this.dispatch();
    });
    const died = (err: Error) => {
      const job = slot.job;
      slot.job = undefined;
      job?.reject(new ProfileRejected(`malformed profile (could not parse pprof profile: decoding it needs more than the checker's ${this.heapMb} MiB (--decode-heap-size): ${err.message})`));
      this.replace(slot);
    };
    slot.worker.on('error', died);
    slot.worker.on('exit', (code) => {
      if (!this.closed && this.slots.includes(slot)) died(new Error(`worker exited with code ${code}`));
    });
    return slot;
  }

  /** Ends a slot's worker and puts a fresh one in its place. */
  private replace(slot: Slot): void {
    const i = this.slots.indexOf(slot);
    if (i < 0) return;
    this.slots.splice(i, 1);
    void slot.worker.terminate();
    if (this.closed) return;
    this.slots.splice(i, 0, this.spawn());
    this.dispatch();
  }

  private dispatch(): void {
    for (const slot of this.slots) {
      if (slot.job || this.queue.length === 0) continue;
      const job = this.queue.shift()!;
      slot.job = job;
      slot.worker.postMessage({ id: job.id, body: job.body }, [job.body.buffer as ArrayBuffer]);
    }
  }
}
