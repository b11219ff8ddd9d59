// Preloaded (node --import) into a kubectl-profefe child process by tests: on exit it writes the
// process's peak RSS (all threads) and its main thread's event-loop delay to $CHILD_STATS_FILE as
// JSON. Each SIGUSR2 closes a measuring window: the delay, the main thread's event-loop
// utilization (the share of the window it was busy) and its longest stretch on the CPU since the
// previous one (or the start) go to "$CHILD_STATS_FILE.window-N" (N = 1, 2, ...), and a new window
// starts. Test-only; the product knows nothing of it.
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';

const file = process.env.CHILD_STATS_FILE;

/** Nanoseconds the calling thread has run on a CPU (Linux schedstat), or undefined where there is none. */
function onCpuNs() {
  try {
    return Number(readFileSync('/proc/thread-self/schedstat', 'utf8').split(' ')[0]);
  } catch {
    return undefined;
  }
}

/**
 * This process's peak RSS in KiB: VmHWM of /proc/self/status, the high-water mark of the memory
 * this program has mapped since exec. getrusage's maxRSS is not that on Linux: it keeps the
 * peak from before exec, which for a spawned child is the forking parent's RSS (the test
 * runner's worker, hundreds of MiB), so two children once reported the same 590 MiB.
 */
function peakRssKiB() {
  try {
    const m = /^VmHWM:\s+(\d+) kB$/m.exec(readFileSync('/proc/self/status', 'utf8'));
    if (m) return Number(m[1]);
  } catch {
    // no /proc: getrusage's figure below
  }
  return process.resourceUsage().maxRSS;
}

if (file) {
  const delay = monitorEventLoopDelay({ resolution: 10 });
  delay.enable();
  // The main thread's CPU time between two turns of a 10 ms timer: how long its own work held the
  // event loop, which time spent waiting for a CPU on a loaded machine does not add to (the
  // event-loop delay above counts both). Where schedstat is missing it stays 0.
  let cpuMaxMs = 0;
  let lastCpu = onCpuNs();
  if (lastCpu !== undefined) {
    setInterval(() => {
      const now = onCpuNs();
      cpuMaxMs = Math.max(cpuMaxMs, (now - lastCpu) / 1e6);
      lastCpu = now;
    }, 10).unref();
  }
  let windows = 0;
  let elu = performance.eventLoopUtilization();
  const snapshot = () => ({
    peakRssMiB: peakRssKiB() / 1024,
    loopDelayMaxMs: delay.max / 1e6,
    loopDelayP99Ms: delay.percentile(99) / 1e6,
    loopUtilization: performance.eventLoopUtilization(elu).utilization,
    loopCpuMaxMs: cpuMaxMs,
  });
  process.on('SIGUSR2', () => {
    const target = `${file}.window-${++windows}`;
    writeFileSync(`${target}.tmp`, JSON.stringify(snapshot()));
    renameSync(`${target}.tmp`, target);
    delay.reset();
    elu = performance.eventLoopUtilization();
    cpuMaxMs = 0;
    lastCpu = onCpuNs();
  });
  process.on('exit', () => writeFileSync(file, JSON.stringify(snapshot())));
}
