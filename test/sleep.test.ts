/**
 * sleep() for waits beyond what one Node timer holds (2^31 - 1 ms, about 24.8 days): Node fires
 * such a timer after 1 ms (TimeoutOverflowWarning), so `collect --trigger-interval 30d` read the
 * metrics API in a tight loop. Timers fire in order of expiry: a 20 ms timer started after the
 * sleep fires first unless the sleep's timer was cut to 1 ms.
 */
import { sleep } from '../src/sleep.js';

test('a wait longer than one timer holds is not cut short, and an abort still ends it', async () => {
  const warnings: string[] = [];
  const onWarning = (w: Error) => warnings.push(w.name);
  process.on('warning', onWarning);
  const abort = new AbortController();
  let done = false;
  const waiting = sleep(30 * 24 * 3_600_000, abort.signal).then(() => (done = true));
  try {
    await new Promise((r) => setTimeout(r, 20));
    expect(done).toBe(false);
  } finally {
    abort.abort();
    await waiting;
    process.off('warning', onWarning);
  }
  expect(done).toBe(true);
  expect(warnings).toEqual([]);
});
