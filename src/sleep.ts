/**
 * Waits `ms` milliseconds, or less when `signal` aborts; never rejects (the caller looks at the
 * signal afterwards). Unlike node:timers/promises' setTimeout, an abort is not an error here: a
 * collector between rounds and a capture spreading its pods just stop waiting.
 */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  if (ms <= 0 || signal?.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
  });
}
