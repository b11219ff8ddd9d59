/** Worker thread of BlobMergePool: merges the blobs of each message it gets, one merge at a time. */
import { parentPort } from 'node:worker_threads';
import type { DecodeLimits } from '../../pprof/index.js';
import { mergeBlobsInProcess, problemKind, type BlobMergeReply, type StoredBlob } from './blob-merge.js';

parentPort!.on('message', ({ blobs, decodeLimits }: { blobs: StoredBlob[]; decodeLimits: Partial<DecodeLimits> }) => {
  mergeBlobsInProcess(blobs, decodeLimits).then(
    (merged) => {
      // Handed over, not copied: the bytes must own their whole buffer.
      const bytes = merged.byteOffset === 0 && merged.byteLength === merged.buffer.byteLength ? merged : new Uint8Array(merged);
      const reply: BlobMergeReply = { ok: true, bytes };
      parentPort!.postMessage(reply, [bytes.buffer as ArrayBuffer]);
    },
    (err: unknown) => {
      const reply: BlobMergeReply = { ok: false, problem: problemKind(err), message: (err as Error).message };
      parentPort!.postMessage(reply);
    },
  );
});
