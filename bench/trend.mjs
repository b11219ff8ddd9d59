// Trend benchmark: `kubectl profefe trend` over a day of 10,000 stored CPU profiles of 2
// services (test/support/synthetic-day.ts: fixed values, a profile every 17.28 s per service) in
// the local store, 24 buckets of 1 h, against the same answer computed as 24 separate `top`
// calls (one per bucket's window, as a script would). Both read the same store in the same run;
// the table checks that their numbers agree.
//
//   BENCH=trend npm run bench
//   BENCH_TREND_PROFILES=2000 BENCH=trend npm run bench   a smaller day
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { measureAsync, root } from './common.mjs';

const PROFILES = Number(process.env.BENCH_TREND_PROFILES ?? 10_000);

/** Runs the benchmark; prints a markdown table. */
export async function benchTrend() {
  const { syntheticDay, DAY_START, DAY_END } = await import(path.join(root, 'bench/.build/test/support/synthetic-day.js'));
  const { LocalStore } = await import(path.join(root, 'bench/.build/src/store/local/local-store.js'));
  const dir = mkdtempSync(path.join(tmpdir(), 'bench-trend-'));
  const storeDir = path.join(dir, 'store');
  try {
    const everyMinutes = (24 * 60 * 2) / PROFILES;
    const uploads = syntheticDay({ cpuEveryMinutes: everyMinutes, heap: false, goroutine: false });
    const store = await LocalStore.open(storeDir);
    const fillStarted = performance.now();
    try {
      for (const u of uploads) await store.upload(u);
    } finally {
      await store.close();
    }
    const fillSecs = (performance.now() - fillStarted) / 1000;
    const env = { ...process.env, KUBECTL_PROFEFE_HOME: path.join(dir, 'home'), PROFEFE_HOSTPORT: '' };
    const cli = path.join(root, 'bin/kubectl-profefe');
    const day = ['--store-dir', storeDir, '--from', DAY_START.toISOString(), '--to', DAY_END.toISOString()];

    const trend = await measureAsync(process.execPath, [cli, 'trend', ...day, '--step', '1h', '--nodes', '0', '-o', 'json'], env);
    if (trend.status !== 0) throw new Error(`trend failed (${trend.status}): ${trend.stderr}`);
    const json = JSON.parse(trend.stdout.toString());

    let topSecs = 0;
    let topPeakMb = 0;
    let agree = true;
    for (let b = 0; b < 24; b++) {
      const from = new Date(DAY_START.getTime() + b * 3_600_000);
      const to = b === 23 ? DAY_END : new Date(from.getTime() + 3_600_000 - 1);
      const top = await measureAsync(process.execPath, [cli, 'top', '--store-dir', storeDir, '--from', from.toISOString(), '--to', to.toISOString(), '--nodes', '0', '-o', 'json'], env);
      if (top.status !== 0) throw new Error(`top failed (${top.status}): ${top.stderr}`);
      topSecs += top.wallMs / 1000;
      topPeakMb = Math.max(topPeakMb, top.mb);
      const rows = new Map(JSON.parse(top.stdout.toString()).map((r) => [r.function, r]));
      for (const f of json.functions) {
        const row = rows.get(f.function);
        if (Number(f.raw[b]) !== Number(row?.flat ?? 0)) agree = false;
        for (const [service, s] of Object.entries(f.services)) if (Number(s.raw[b]) !== Number(row?.services[service] ?? 0)) agree = false;
      }
    }
    console.log(`\ntrend: ${uploads.length} stored CPU profiles over one day, 2 services, local store (filled in ${fillSecs.toFixed(1)} s), 24 buckets of 1 h\n`);
    console.log('| profiles | trend --step 1h: wall | trend: peak RSS | 24 separate top calls: wall (sum) | top: largest peak RSS | trend / 24 tops | same numbers |');
    console.log('|---:|---:|---:|---:|---:|---:|---|');
    console.log(`| ${uploads.length} | ${(trend.wallMs / 1000).toFixed(2)} s | ${trend.mb.toFixed(0)} MB | ${topSecs.toFixed(2)} s | ${topPeakMb.toFixed(0)} MB | ${(trend.wallMs / 1000 / topSecs).toFixed(2)} | ${agree ? 'yes' : 'NO'} |`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
