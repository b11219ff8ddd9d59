/** The longest delay one Node timer holds (a signed 32-bit count of ms); a longer one fires after 1 ms. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * Waits `ms` milliseconds, or less when `signal` aborts; never rejects (the caller looks at the
 * signal afterwards). Unlike node:timers/promises' setTimeout, an abort is not an error here: a
 * collector between rounds and a capture spreading its pods just stop waiting. Waits beyond one
 * timer's reach (about 24.8 days) are chained timers, not Node's 1 ms.
 */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  if (ms <= 0 || signal?.aborted) return Promise.resolve();
  const end = performance.now() + ms; // monotonic, as timers are: a clock step does not stretch the wait
  return new Promise((resolve) => {
    let timer = setTimeout(next, Math.min(ms, MAX_TIMER_MS));
    signal?.addEventListener('abort', done, { once: true });
    function next() {
      const left = end - performance.now();
      if (left > 0) timer = setTimeout(next, Math.min(left, MAX_TIMER_MS));
      else done();
    }
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
  });
}
