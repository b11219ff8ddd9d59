// Store benchmark: `kubectl profefe serve` (a child process) with 100k stored profiles.
// Uploads 10k real Go heap profiles over HTTP with 16 in flight (profiles/s), times find
// queries over the 100k (p50, p99), and a merge of 1000 profiles through the server.
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { data, percentile, root, startServe } from './common.mjs';

// The store's modules compiled from src/ by bench/tsconfig.json, whatever form dist/ has.
const src = (p) => import(path.join(root, 'bench/.build/src', p));



/** Runs the benchmark; prints a markdown table. */
export async function benchStore() {
  const { LocalStore } = await src('store/local/local-store.js');
  const { ProfefeClient } = await src('store/profefe/client.js');
  const { decodeProfile, encodeProfile } = await src('pprof/index.js');
  const heapDir = path.join(data, 'heap-1000');
  const heaps = readdirSync(heapDir).sort().map((f) => readFileSync(path.join(heapDir, f)));
  const dir = mkdtempSync(path.join(tmpdir(), 'bench-store-'));
  try {
    // 90k small profiles straight into the store (files + index), spread over a week and 30 services.
    const seed = decodeProfile(heaps[0]);
    const week = 7 * 86_400_000;
    const t0 = Date.now() - week;
    const direct = await LocalStore.open(path.join(dir, 'store'), { sweepIntervalMs: 0 });
    const startFill = performance.now();
    const FILL = Number(process.env.BENCH_STORE_FILL ?? 90_000);
    for (let i = 0; i < FILL; i += 64) {
      await Promise.all(
        Array.from({ length: Math.min(64, FILL - i) }, (_, j) => {
          seed.timeNanos = BigInt(t0 + Math.floor(((i + j) / FILL) * week)) * 1_000_000n;
          return direct.upload({ service: `svc-${(i + j) % 30}`, type: 'heap', labels: [{ key: 'pod', value: `pod-${(i + j) % 200}` }], body: encodeProfile(seed) });
        }),
      );
    }
    await direct.close();
    const fillSecs = (performance.now() - startFill) / 1000;

    const { url, child } = await startServe(path.join(dir, 'store'), ['--retention', '0']);
    const client = new ProfefeClient({ baseUrl: url, retries: 0 });
    try {
      // 10k real heap profiles over HTTP, 16 at a time; 1000 of them form the merge service.
      const UPLOADS = 10_000;
      let next = 0;
      const startUp = performance.now();
      await Promise.all(
        Array.from({ length: 16 }, async () => {
          while (next < UPLOADS) {
            const i = next++;
            await client.upload({ service: i < 1000 ? 'merge-me' : `svc-${i % 30}`, type: 'heap', labels: [{ key: 'pod', value: `pod-${i % 200}` }, { key: 'version', value: `1.${i % 3}` }], body: heaps[i % heaps.length] });
          }
        }),
      );
      const upSecs = (performance.now() - startUp) / 1000;

      const finds = [];
      for (let q = 0; q < 200; q++) {
        const from = new Date(t0 + Math.random() * week * 0.9);
        const to = new Date(from.getTime() + (q % 2 ? 3_600_000 : 86_400_000));
        const labels = q % 3 === 0 ? [{ key: 'pod', value: `pod-${q % 200}` }] : [];
        const t = performance.now();
        await client.find({ service: `svc-${q % 30}`, type: 'heap', from, to, labels });
        finds.push(performance.now() - t);
      }
      const startMerge = performance.now();
      const merged = await client.mergeQuery({ service: 'merge-me', type: 'heap', from: new Date(0), to: new Date(Date.now() + 60_000) });
      const mergeSecs = (performance.now() - startMerge) / 1000;
      const services = await client.services();

      console.log(`\nstore: kubectl profefe serve with ${FILL + UPLOADS} profiles (${services.length} services)\n`);
      console.log('| measure | value |');
      console.log('|---|---:|');
      console.log(`| upload 10k real heap profiles over HTTP, 16 in flight | ${(UPLOADS / upSecs).toFixed(0)} profiles/s (${upSecs.toFixed(1)} s) |`);
      console.log(`| find over ${FILL + UPLOADS} profiles via HTTP (200 queries, 1 h / 1 day windows, some with a label) | p50 ${percentile(finds, 50).toFixed(1)} ms, p99 ${percentile(finds, 99).toFixed(1)} ms |`);
      console.log(`| merge of 1000 heap profiles through serve (/api/0/profiles/merge) | ${mergeSecs.toFixed(2)} s, ${(merged.length / 1024).toFixed(0)} kB |`);
      console.log(`| filling ${FILL} small profiles directly (setup, not HTTP) | ${fillSecs.toFixed(1)} s |`);
    } finally {
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
