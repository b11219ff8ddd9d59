/** Worker thread of ValidatorPool: checks one pprof body at a time and hands its memory back. */
import { parentPort } from 'node:worker_threads';
import { StoreStatusError } from '../errors.js';
import { checkProfile, type ValidatorReply } from './profile-validator.js';

parentPort!.on('message', ({ id, body }: { id: number; body: Uint8Array }) => {
  let reply: ValidatorReply;
  try {
    const { timeNanos, samples } = checkProfile(body);
    reply = { id, ok: true, timeNanos: String(timeNanos), samples, body };
  } catch (err) {
    const status = err instanceof StoreStatusError ? err.status : 500;
    reply = { id, ok: false, status, message: (err as Error).message, body };
  }
  parentPort!.postMessage(reply, [body.buffer as ArrayBuffer]);
});
