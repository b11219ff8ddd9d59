/**
 * The spool under faults: unique names, half entries quarantined and reported, statuses that
 * keep a profile versus the ones that reject it, early stop when the store is down, and
 * idempotent re-pushes (the upload_id label). Stores are real: our serve over a local store, and
 * a small scripted HTTP server for the statuses a profefe collector or a proxy answers.
 */
import { createServer, type Server } from 'node:http';
import { mkdir, mkdtemp, readdir, readFile, rm, utimes, writeFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { StoreSink } from '../../src/capture/store-sink.js';
import type { CapturedProfile } from '../../src/capture/engine.js';
import { encodeProfile } from '../../src/pprof/index.js';
import { ProfefeClient } from '../../src/store/profefe/client.js';
import { drainSpool, HALF_ENTRY_AGE_MS, Spool, UPLOAD_ID_LABEL, uploadIdOf } from '../../src/store/spool.js';
import { buildProfile } from '../support/profile-builder.js';
import { runCli } from '../support/run-cli.js';
import { startTestStore, type TestStore } from '../support/store-server.js';

let dir: string;
let served: TestStore;
let scripted: { server: Server; url: string; status: number; uploads: number };

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'spool-'));
  served = await startTestStore(path.join(dir, 'store'));
  scripted = { server: createServer(), url: '', status: 500, uploads: 0 };
  scripted.server.on('request', (req, res) => {
    req.resume();
    req.on('end', () => {
      if (req.method === 'POST') scripted.uploads++;
      // Finds see an empty store, as profefe answers it; uploads get the status under test.
      const s = req.method === 'POST' ? scripted.status : 404;
      res.writeHead(s, { 'Content-Type': 'application/json' }).end(JSON.stringify({ code: s, error: s === 404 ? 'nothing found' : `status ${s}` }) + '\n');
    });
  });
  await new Promise<void>((r) => scripted.server.listen(0, '127.0.0.1', r));
  scripted.url = `http://127.0.0.1:${(scripted.server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await served?.close();
  await new Promise((r) => scripted?.server.close(r));
  await rm(dir, { recursive: true, force: true });
});

let seq = 0;
/** A distinct valid profile each call (its time differs). */
function profileBytes(): Uint8Array {
  seq++;
  return encodeProfile(buildProfile({ timeNanos: BigInt(Date.now()) * 1_000_000n + BigInt(seq), samples: [{ stack: `main;f${seq}`, values: [1, 10] }] }));
}

function captured(bytes: Uint8Array, takenAt = new Date('2026-11-25T10:00:00.250Z')): CapturedProfile {
  return {
    target: { namespace: 'shop', pod: 'cart-1', service: 'cart', port: 6060, path: '/debug/pprof', labels: {}, annotations: {} },
    type: 'heap',
    bytes,
    takenAt,
    samples: 1,
  };
}

const freshSpool = async (name: string) => new Spool(await mkdtemp(path.join(dir, `${name}-`)));
const files = async (d: string) => (await readdir(d)).filter((f) => !['rejected', 'quarantine'].includes(f)).sort();
const down = () => new ProfefeClient({ baseUrl: 'http://127.0.0.1:9', retries: 0 });

describe('spool names and entries', () => {
  test('two captures of one pod and type in the same second are two entries, named by their upload ids', async () => {
    const spool = await freshSpool('same-second');
    const sink = new StoreSink(down(), spool);
    const [a, b] = [profileBytes(), profileBytes()];
    await expect(sink.write(captured(a))).rejects.toThrow(/upload failed .*kept in .*\.pb\.gz, upload it later/);
    await expect(sink.write(captured(b))).rejects.toThrow(/kept in/);
    const names = await files(spool.dir);
    expect(names).toEqual([
      `20261125T100000Z.shop.cart-1.heap.${uploadIdOf(a)}.json`,
      `20261125T100000Z.shop.cart-1.heap.${uploadIdOf(a)}.pb.gz`,
      `20261125T100000Z.shop.cart-1.heap.${uploadIdOf(b)}.json`,
      `20261125T100000Z.shop.cart-1.heap.${uploadIdOf(b)}.pb.gz`,
    ].sort());
    const { entries } = await spool.list();
    expect(entries.map((e) => e.uploadId).sort()).toEqual([uploadIdOf(a), uploadIdOf(b)].sort());
    expect(entries[0]!.request.labels).toContainEqual({ key: UPLOAD_ID_LABEL, value: entries[0]!.uploadId });
  });

  test('a torn or empty description and a lone profile are quarantined and reported; the good entry is pushed', async () => {
    const spool = await freshSpool('torn');
    await new StoreSink(down(), spool).write(captured(profileBytes())).catch(() => undefined);
    await writeFile(path.join(spool.dir, 'empty.json'), '');
    await writeFile(path.join(spool.dir, 'empty.pb.gz'), profileBytes());
    await writeFile(path.join(spool.dir, 'torn.json'), '{"service":"ca');
    await writeFile(path.join(spool.dir, 'torn.pb.gz'), profileBytes());
    await writeFile(path.join(spool.dir, 'lonely.pb.gz'), profileBytes());
    await writeFile(path.join(spool.dir, 'young.pb.gz'), profileBytes());
    await writeFile(path.join(spool.dir, '.x.pb.gz.123.4.tmp'), 'half');
    const old = new Date(Date.now() - HALF_ENTRY_AGE_MS - 5000);
    for (const f of ['lonely.pb.gz', '.x.pb.gz.123.4.tmp']) await utimes(path.join(spool.dir, f), old, old);

    const run = await runCli(['push', '--spool-dir', spool.dir, '--profefe-hostport', served.server.url]);
    const out = run.stdout.toString();
    if (run.code !== 3) throw new Error(out + run.stderr);
    expect(run.stderr).toBe('error: 6 of 7 spooled profiles were not uploaded: see the table\n');
    expect(run.code).toBe(3);
    expect(out).toMatch(/^empty\.json\s+quarantined\s+is empty \(a write cut short\); moved to .*quarantine\/empty\.json$/m);
    expect(out).toMatch(/^torn\.json\s+quarantined\s+is not valid JSON/m);
    expect(out).toMatch(/^lonely\.pb\.gz\s+quarantined\s+a profile without its description/m);
    expect(out).toMatch(/^\.x\.pb\.gz\.123\.4\.tmp\s+quarantined\s+a temporary file left by a write that did not finish; removed$/m);
    expect(out).toMatch(/^20261125T100000Z\.shop\.cart-1\.heap\.[0-9a-f]{32}\s+uploaded\s+profefe id [0-9a-v]{20}$/m);
    // The young lone profile may still be being written by a running collector: left alone.
    expect(await files(spool.dir)).toEqual(['young.pb.gz']);
    expect((await readdir(path.join(spool.dir, 'quarantine'))).sort()).toEqual(['empty.json', 'empty.pb.gz', 'lonely.pb.gz', 'torn.json', 'torn.pb.gz']);
  });
});

describe('which answers keep a profile, which reject it', () => {
  test.each([
    [401, 'kept'],
    [403, 'kept'],
    [404, 'kept'],
    [408, 'kept'],
    [429, 'kept'],
    [500, 'kept'],
    [503, 'kept'],
    [400, 'rejected'],
    [413, 'rejected'],
  ])('%i: the first profile is %s; a failure that is not the profile\'s stops the push early', async (status, first) => {
    const spool = await freshSpool(`status-${status}`);
    for (let i = 0; i < 3; i++) await new StoreSink(down(), spool).write(captured(profileBytes())).catch(() => undefined);
    scripted.status = status;
    scripted.uploads = 0;
    const outcomes = await drainSpool(spool, new ProfefeClient({ baseUrl: scripted.url, retries: 0 }));
    expect(outcomes.map((o) => o.result)).toEqual(first === 'kept' ? ['kept', 'kept', 'kept'] : ['rejected', 'rejected', 'rejected']);
    if (first === 'kept') {
      expect(scripted.uploads).toBeLessThanOrEqual(1);
      expect(outcomes[1]!.detail).toMatch(/^not tried \(the store failed: /);
      expect((await spool.list()).entries).toHaveLength(3);
    } else {
      expect(scripted.uploads).toBe(3);
      expect((await readdir(path.join(spool.dir, 'rejected'))).filter((f) => f.endsWith('.pb.gz'))).toHaveLength(3);
    }
  });

  test('a store that cannot be reached costs one attempt, not one per entry', async () => {
    const spool = await freshSpool('down');
    for (let i = 0; i < 6; i++) await new StoreSink(down(), spool).write(captured(profileBytes())).catch(() => undefined);
    const outcomes = await drainSpool(spool, new ProfefeClient({ baseUrl: 'http://127.0.0.1:9', retries: 2, backoffMs: 10 }));
    expect(outcomes.map((o) => o.detail.replace(/;.*/, ''))).toEqual([
      expect.stringMatching(/cannot reach profefe at http:\/\/127\.0\.0\.1:9: .* \(after 3 attempts\)$/),
      ...Array(5).fill('not tried (the store failed: unreachable)'),
    ]);
  });

  test('a deadline keeps the entries not tried yet', async () => {
    const spool = await freshSpool('deadline');
    for (let i = 0; i < 2; i++) await new StoreSink(down(), spool).write(captured(profileBytes())).catch(() => undefined);
    const outcomes = await drainSpool(spool, served.store, { deadline: AbortSignal.abort() });
    expect(outcomes.map((o) => o.detail.replace(/;.*/, ''))).toEqual(['not tried (the push ran out of time)', 'not tried (the push ran out of time)']);
  });
});

describe('idempotent pushes', () => {
  test('an entry the store already has (a push killed before removing it) is not stored twice', async () => {
    const spool = await freshSpool('repush');
    const bytes = profileBytes();
    await new StoreSink(down(), spool).write(captured(bytes, new Date())).catch(() => undefined);
    const copy = await mkdtemp(path.join(dir, 'repush-copy-'));
    for (const f of await files(spool.dir)) await writeFile(path.join(copy, f), await readFile(path.join(spool.dir, f)));
    // Against a real profefe-like HTTP store: the first push uploads, the second finds it.
    const client = new ProfefeClient({ baseUrl: served.server.url });
    expect((await drainSpool(spool, client)).map((o) => o.detail)).toEqual([expect.stringMatching(/^profefe id /)]);
    expect((await drainSpool(new Spool(copy), client)).map((o) => o.detail)).toEqual([expect.stringMatching(/^already stored as profefe id /)]);
    const stored = await served.store.find({ service: 'cart', from: new Date(0), to: new Date(Date.now() + 3_600_000) });
    expect(stored.filter((m) => m.labels.some((l) => l.key === UPLOAD_ID_LABEL && l.value === uploadIdOf(bytes)))).toHaveLength(1);
    expect(await files(copy)).toEqual([]);
  });

  test('the local store itself stores one profile once, even for concurrent uploads of it', async () => {
    const bytes = profileBytes();
    const req = { service: 'twice', type: 'heap' as const, labels: [{ key: UPLOAD_ID_LABEL, value: uploadIdOf(bytes) }], body: bytes };
    const metas = await Promise.all([served.store.upload(req), served.store.upload(req), served.store.upload(req)]);
    expect(new Set(metas.map((m) => m.id)).size).toBe(1);
    expect(await served.store.find({ service: 'twice', from: new Date(0), to: new Date(Date.now() + 3_600_000) })).toHaveLength(1);
    await mkdir(path.join(dir, 'unused'), { recursive: true });
  });
});
