// Preloaded (node --import) into a kubectl-profefe child process by tests: on exit it writes the
// process's peak RSS (all threads) and its main thread's event-loop delay to $CHILD_STATS_FILE as
// JSON. Each SIGUSR2 closes a measuring window: the delay and the main thread's event-loop
// utilization (the share of the window it was busy) since the previous one (or the start) go to
// "$CHILD_STATS_FILE.window-N" (N = 1, 2, ...), and a new window starts. Test-only; the product
// knows nothing of it.
import { renameSync, writeFileSync } from 'node:fs';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';

const file = process.env.CHILD_STATS_FILE;
if (file) {
  const delay = monitorEventLoopDelay({ resolution: 10 });
  delay.enable();
  let windows = 0;
  let elu = performance.eventLoopUtilization();
  const snapshot = () => ({
    peakRssMiB: process.resourceUsage().maxRSS / 1024,
    loopDelayMaxMs: delay.max / 1e6,
    loopDelayP99Ms: delay.percentile(99) / 1e6,
    loopUtilization: performance.eventLoopUtilization(elu).utilization,
  });
  process.on('SIGUSR2', () => {
    const target = `${file}.window-${++windows}`;
    writeFileSync(`${target}.tmp`, JSON.stringify(snapshot()));
    renameSync(`${target}.tmp`, target);
    delay.reset();
    elu = performance.eventLoopUtilization();
  });
  process.on('exit', () => writeFileSync(file, JSON.stringify(snapshot())));
}
