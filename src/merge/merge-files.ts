import { existsSync, statSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { gzipSync } from 'node:zlib';
import { InputError } from '../errors.js';
import { readProfileFileSync } from '../files/profile-files.js';
import type { Profile } from 'pprof-format';
import { inflateProfile, inflateProfileAsync, NO_DECODE_LIMITS, type DecodeLimits } from '../pprof/decode.js';
import { IncompatibleProfilesError, ProfileFormatError } from '../pprof/errors.js';
import { ProfileMerger } from '../pprof/merge.js';

export interface MergeFilesOptions {
  /**
   * Worker threads that merge contiguous slices of the inputs in parallel, each slice's result
   * then merged here. Default: one per core, at most 4, only for many large inputs.
   */
  readonly workers?: number;
  /** Inputs read and inflating ahead of the one being merged (default 8). */
  readonly readAhead?: number;
  readonly signal?: AbortSignal;
  /** For each input (default: DEFAULT_DECODE_LIMITS). */
  readonly decodeLimits?: Partial<DecodeLimits>;
  /** Leave out samples without a stack, as `go tool pprof -proto` does (default: keep, as profile.Merge). */
  readonly dropStackless?: boolean;
}

/** A finished merge: the profile and its bytes are each made on first use. */
export interface MergeFilesResult {
  readonly inputs: number;
  /** The merged profile, decoded (for reports: top, flame graphs). */
  readonly profile: Profile;
  /** The merged profile as gzipped profile.proto, written straight from the merge. */
  readonly bytes: Uint8Array;
}

/** Below this many inputs a worker's start-up costs more than it saves. */
const MIN_FILES_PER_WORKER = 16;
/**
 * Below this much compressed input per worker, a worker's start-up (loading the bundle, about
 * 0.1 s of CPU) and the merge of its result cost more than the parallel merge saves.
 */
const MIN_BYTES_PER_WORKER = 256 * 2 ** 20;
const WORKER_SCRIPT = new URL('./merge-worker.js', import.meta.url);
const READ_AHEAD = 8;
/** Inputs smaller than this (compressed) inflate on this thread: the pool's round trip costs more. */
const MIN_BYTES_TO_INFLATE_ON_POOL = 16 * 1024;
/** Compressed bytes read ahead at most (a larger input is read alone). */
const MAX_BYTES_AHEAD = 32 * 2 ** 20;

/**
 * Merges profile files with google/pprof's Merge semantics. The same inputs in the same order
 * give the same bytes. Files are read a few at a time and released once merged, so thousands
 * of inputs need neither thousands of descriptors nor memory for all of them. The first
 * unreadable, invalid or incompatible file ends the merge with an error that names it.
 */
export async function mergeProfileFiles(files: readonly string[], opts: MergeFilesOptions = {}): Promise<MergeFilesResult> {
  if (files.length === 0) throw new InputError('no profiles to merge');
  const workers = Math.min(
    opts.workers ?? Math.min(availableParallelism(), 4),
    Math.floor(files.length / MIN_FILES_PER_WORKER),
  );
  // Under a TypeScript test runner the compiled worker script does not exist: merge in-process.
  if (workers < 2 || !existsSync(fileURLToPath(WORKER_SCRIPT))) return mergeFilesInProcess(files, opts);
  const sizes = files.map((f) => statSync(f, { throwIfNoEntry: false })?.size ?? 0);
  if (opts.workers === undefined && sizes.reduce((a, b) => a + b, 0) < MIN_BYTES_PER_WORKER * 2) {
    return mergeFilesInProcess(files, opts);
  }

  const slices = splitBySize(files, sizes, workers);
  const partials = await Promise.all(slices.map((slice) => mergeInWorker(slice, opts)));
  const merger = new ProfileMerger({ dropStackless: opts.dropStackless });
  // A partial merge is ours, of inputs within the limits, and may rightly hold more samples than one input may.
  partials.forEach((partial, i) => merger.addInflated(partial.bytes, slices[i]![0], NO_DECODE_LIMITS));
  return new MergedFiles(merger, partials.reduce((n, p) => n + p.inputs, 0));
}

/** Contiguous slices of about equal total size (profiles of one series often grow over time). */
function splitBySize(files: readonly string[], sizes: readonly number[], parts: number): string[][] {
  const total = sizes.reduce((a, b) => a + b, 0);
  const slices: string[][] = [[]];
  let acc = 0;
  files.forEach((file, i) => {
    if (acc >= (total * slices.length) / parts && slices.length < parts) slices.push([]);
    slices[slices.length - 1]!.push(file);
    acc += sizes[i]!;
  });
  return slices;
}

/**
 * Merges on this thread, in order. Each file is read here (local files: a synchronous read is
 * cheaper than the promise machinery) and inflated on libuv's thread pool while the inputs
 * before it are merged, `readAhead` inputs ahead at most, so inflating and merging overlap.
 * The event loop gets a turn at least every few inputs, so an abort is noticed.
 */
export async function mergeFilesInProcess(files: readonly string[], opts: MergeFilesOptions = {}): Promise<MergedFiles> {
  const merger = new ProfileMerger({ dropStackless: opts.dropStackless });
  const limits = opts.decodeLimits ?? {};
  const ahead = Math.max(1, opts.readAhead ?? READ_AHEAD);
  const pending: (Uint8Array | Promise<Uint8Array> | undefined)[] = new Array(files.length);
  const sizes: number[] = new Array(files.length).fill(0);
  let next = 0;
  let bytesAhead = 0;
  const readMore = (current: number) => {
    while (next < files.length && next - current < ahead && (next === current || bytesAhead < MAX_BYTES_AHEAD)) {
      const file = files[next]!;
      let loaded: Uint8Array | Promise<Uint8Array>;
      try {
        const bytes = readProfileFileSync(file);
        sizes[next] = bytes.length;
        bytesAhead += bytes.length;
        loaded = bytes.length < MIN_BYTES_TO_INFLATE_ON_POOL ? bytes : inflateProfileAsync(bytes, file, limits);
      } catch (err) {
        loaded = Promise.reject(err);
      }
      // An early end (an error before this input's turn) must not leave its rejection unhandled.
      if (loaded instanceof Promise) loaded.catch(() => undefined);
      pending[next++] = loaded;
    }
  };
  for (let i = 0; i < files.length; i++) {
    readMore(i);
    opts.signal?.throwIfAborted();
    const loaded = pending[i]!;
    pending[i] = undefined;
    bytesAhead -= sizes[i]!;
    const file = files[i]!;
    if (loaded instanceof Promise) merger.addInflated(await loaded, file, limits);
    else {
      merger.addInflated(inflateProfile(loaded, file, limits), file, limits);
      if (i % 64 === 63) await new Promise(setImmediate);
    }
  }
  return new MergedFiles(merger, merger.count);
}

export class MergedFiles implements MergeFilesResult {
  private merged: Profile | undefined;
  private encoded: Uint8Array | undefined;
  constructor(private readonly merger: ProfileMerger, readonly inputs: number) {}

  /** The merged profile as profile.proto, not gzipped (for a worker's reply). */
  protobuf(): Uint8Array {
    return this.merger.encodeResult();
  }

  get profile(): Profile {
    return (this.merged ??= this.merger.result());
  }

  get bytes(): Uint8Array {
    return (this.encoded ??= gzipSync(this.merger.encodeResult()));
  }
}

/** What merge-worker.ts posts back. */
export type WorkerReply =
  | { ok: true; bytes: Uint8Array; inputs: number }
  | { ok: false; name: string; message: string };

const ERRORS: Record<string, new (message: string) => Error> = {
  ProfileFormatError,
  IncompatibleProfilesError,
  InputError,
};

function mergeInWorker(files: string[], opts: MergeFilesOptions): Promise<{ bytes: Uint8Array; inputs: number }> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(WORKER_SCRIPT, { workerData: { files, decodeLimits: opts.decodeLimits, dropStackless: opts.dropStackless } });
    const onAbort = () => {
      void worker.terminate();
      reject(opts.signal!.reason);
    };
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    worker.once('message', (reply: WorkerReply) => {
      opts.signal?.removeEventListener('abort', onAbort);
      void worker.terminate();
      if (reply.ok) resolve({ bytes: reply.bytes, inputs: reply.inputs });
      else reject(new (ERRORS[reply.name] ?? Error)(reply.message));
    });
    worker.once('error', (err) => {
      opts.signal?.removeEventListener('abort', onAbort);
      reject(err);
    });
  });
}
