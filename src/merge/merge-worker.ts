/** Worker thread of mergeProfileFiles: merges one contiguous slice of the inputs. */
import { parentPort, workerData } from 'node:worker_threads';
import type { DecodeLimits } from '../pprof/decode.js';
import { mergeFilesInProcess, type WorkerReply } from './merge-files.js';

const { files, decodeLimits, dropStackless } = workerData as { files: string[]; decodeLimits?: Partial<DecodeLimits>; dropStackless?: boolean };
let reply: WorkerReply;
try {
  const merged = await mergeFilesInProcess(files, { decodeLimits, dropStackless });
  // Raw protobuf: the main thread reads it at once, so compressing would be wasted work.
  reply = { ok: true, bytes: merged.protobuf(), inputs: merged.inputs };
} catch (err) {
  const e = err as Error;
  reply = { ok: false, name: e.name, message: e.message };
}
parentPort!.postMessage(reply, reply.ok ? [reply.bytes.buffer as ArrayBuffer] : []);
