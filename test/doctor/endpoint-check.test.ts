/**
 * doctor's endpoint check against a real HTTP server reached directly (DirectTunnel, as
 * `--connect direct` does), serving a fixed heap profile of 12 samples: one over doctor's decode
 * limits is a profile too large to check (raise the flag doctor takes), not "something else".
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { resolveDoctorOptions } from '../../src/cli/doctor.js';
import { probeEndpoint, type ProbeOptions } from '../../src/doctor/endpoint-check.js';
import { DirectTunnel } from '../../src/kube/direct-tunnel.js';
import { encodeProfile } from '../../src/pprof/encode.js';
import { buildProfile } from '../support/profile-builder.js';

const HEAP_TYPES: [string, string][] = [['alloc_objects', 'count'], ['alloc_space', 'bytes'], ['inuse_objects', 'count'], ['inuse_space', 'bytes']];
const heap = encodeProfile(buildProfile({ sampleTypes: HEAP_TYPES, samples: Array.from({ length: 12 }, (_, i) => ({ stack: `main.main;main.f${i}`, values: [1, 512, 1, 512] })), durationNanos: 0 }));

let server: Server;
let port: number;

beforeAll(async () => {
  server = createServer((req, res) => {
    if (req.url === '/debug/pprof/heap') res.writeHead(200, { 'Content-Type': 'application/octet-stream' }).end(heap);
    else res.writeHead(404).end();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  port = (server.address() as AddressInfo).port;
});

afterAll(async () => {
  await new Promise((r) => server.close(r));
});

const probe = (opts: ProbeOptions) =>
  probeEndpoint({ namespace: 'shop', pod: 'api-1', port, path: '/debug/pprof', podIP: '127.0.0.1', types: ['heap'] }, opts, { tunnel: new DirectTunnel(), connect: 'direct' });

describe('probeEndpoint: decode limits', () => {
  test('a heap profile within the limits is served', async () => {
    const { decodeLimits } = resolveDoctorOptions({}).probe;
    const result = await probe({ timeoutMs: 10_000, maxBytes: 2 ** 20, ...(decodeLimits ? { decodeLimits } : {}) });
    expect(result.findings.map((f) => `${f.severity} ${f.code}`)).toEqual(['ok serving', 'ok type-ok']);
  });

  test.each([
    ['--max-samples', { 'max-samples': 11 }, /^GET \/debug\/pprof\/heap: .*--max-samples.*; not checked further$/],
    ['--max-inflated-size', { 'max-inflated-size': 100 / 2 ** 20 }, /^GET \/debug\/pprof\/heap: .*--max-inflated-size.*; not checked further$/],
  ])('a heap profile over %s is too large to check, with the flag doctor takes to raise it', async (flag, args, message) => {
    const { probe: opts } = resolveDoctorOptions(args);
    const result = await probe(opts);
    expect(result.serving).toBe(false);
    expect(result.findings).toEqual([expect.objectContaining({ check: 'endpoint', severity: 'warn', code: 'too-large', fix: `raise ${flag} to check it` })]);
    expect(result.findings[0]!.message).toMatch(message);
  });
});
