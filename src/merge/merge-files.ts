import { existsSync, statSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { InputError } from '../errors.js';
import { readProfileFileSync } from '../files/profile-files.js';
import { decodeProfile, IncompatibleProfilesError, NO_DECODE_LIMITS, ProfileFormatError, ProfileMerger, type DecodeLimits, type Profile } from '../pprof/index.js';

export interface MergeFilesOptions {
  /**
   * Worker threads that decode and merge contiguous slices of the inputs in parallel
   * (decoding is most of the cost). Default: one per core, at most 4, none for few inputs.
   */
  readonly workers?: number;
  readonly signal?: AbortSignal;
  /** For each input (default: DEFAULT_DECODE_LIMITS). */
  readonly decodeLimits?: Partial<DecodeLimits>;
}

export interface MergeFilesResult {
  readonly profile: Profile;
  readonly inputs: number;
}

/** Below this many inputs a worker's start-up costs more than it saves. */
const MIN_FILES_PER_WORKER = 16;
/**
 * Below this much compressed input the workers' start-up (about 0.3 s) costs more than the
 * parallel decode saves: on a 2-vCPU machine two threads decode only ~1.2x as fast as one.
 */
const MIN_BYTES_FOR_WORKERS = 16 * 2 ** 20;
const WORKER_SCRIPT = new URL('./merge-worker.js', import.meta.url);

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
  if (opts.workers === undefined && sizes.reduce((a, b) => a + b, 0) < MIN_BYTES_FOR_WORKERS) {
    return mergeFilesInProcess(files, opts);
  }

  const slices = splitBySize(files, sizes, workers);
  const partials = await Promise.all(slices.map((slice) => mergeInWorker(slice, opts)));
  const merger = new ProfileMerger();
  // A partial merge is ours, of inputs within the limits, and may rightly hold more samples than one input may.
  partials.forEach((partial, i) => merger.add(decodeProfile(partial.bytes, undefined, NO_DECODE_LIMITS), slices[i]![0]));
  return { profile: merger.result(), inputs: partials.reduce((n, p) => n + p.inputs, 0) };
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
 * Merges on this thread, in order, one file in memory at a time. Reads are synchronous (local
 * files, and nothing else to do meanwhile); the event loop gets a turn every few files so an
 * abort is noticed.
 */
export async function mergeFilesInProcess(files: readonly string[], opts: MergeFilesOptions = {}): Promise<MergeFilesResult> {
  const merger = new ProfileMerger();
  for (let i = 0; i < files.length; i++) {
    if (i % 64 === 63) await new Promise(setImmediate);
    opts.signal?.throwIfAborted();
    merger.add(decodeProfile(readProfileFileSync(files[i]!), files[i], opts.decodeLimits), files[i]);
  }
  return { profile: merger.result(), inputs: merger.count };
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
    const worker = new Worker(WORKER_SCRIPT, { workerData: { files, decodeLimits: opts.decodeLimits } });
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
