// Preloaded (node --import) into a kubectl-profefe child process by tests: on exit it writes the
// process's peak RSS (all threads) and its main thread's event-loop delay since the last SIGUSR2
// (or since start) to $CHILD_STATS_FILE as JSON. Test-only; the product knows nothing of it.
import { writeFileSync } from 'node:fs';
import { monitorEventLoopDelay } from 'node:perf_hooks';

const file = process.env.CHILD_STATS_FILE;
if (file) {
  const delay = monitorEventLoopDelay({ resolution: 10 });
  delay.enable();
  process.on('SIGUSR2', () => delay.reset());
  process.on('exit', () => {
    writeFileSync(file, JSON.stringify({
      peakRssMiB: process.resourceUsage().maxRSS / 1024,
      loopDelayMaxMs: delay.max / 1e6,
      loopDelayP99Ms: delay.percentile(99) / 1e6,
    }));
  });
}
