/** Worker thread of ValidatorPool: checks one pprof body at a time and hands its memory back. */
import { parentPort, workerData } from 'node:worker_threads';
import type { DecodeLimits } from '../../pprof/index.js';
import { checkProfile, type ValidatorReply } from './profile-validator.js';
import { ProfileRejected } from '../store.js';

const { decodeLimits } = workerData as { decodeLimits: Partial<DecodeLimits> };

parentPort!.on('message', ({ id, body }: { id: number; body: Uint8Array }) => {
  let reply: ValidatorReply;
  try {
    const { timeNanos, samples } = checkProfile(body, decodeLimits);
    reply = { id, ok: true, timeNanos: String(timeNanos), samples, body };
  } catch (err) {
    const message = (err as Error).message;
    reply = { id, ok: false, rejected: err instanceof ProfileRejected, message, body, hitLimit: /\blimit\)/.test(message) };
  }
  parentPort!.postMessage(reply, [body.buffer as ArrayBuffer]);
});
