/**
 * Readers of the local store need no lock: while a real `serve` process holds the store, `get`,
 * `merge` and `top` read the same directory, before and after an upload through serve (from a
 * capture of a real Go program). A read-only open tolerates a line being appended (a torn last
 * line), leaves the files as they are, and refuses uploads.
 */
import { appendFile, mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { decodeProfile } from '../../src/pprof/index.js';
import { LocalStore } from '../../src/store/local/local-store.js';
import { startServeChild } from '../support/cli-child.js';
import { fetchProfile, startGoTarget, type GoTarget } from '../support/go-target.js';
import { runCli } from '../support/run-cli.js';

let go: GoTarget;
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'readers-serve-'));
  go = await startGoTarget({ load: 0 });
});

afterAll(async () => {
  await go?.close();
  await rm(dir, { recursive: true, force: true });
});

const lines = (out: Buffer) => out.toString().trim().split('\n').filter(Boolean);

test('get, merge and top read the local store while serve holds it, before and after an upload through serve', async () => {
  const storeDir = path.join(dir, 'served');
  const serve = await startServeChild(storeDir);
  try {
    const env = { HOME: dir, KUBECTL_PROFEFE_HOME: path.join(dir, 'data') };
    const empty = await runCli(['get', 'services', '--store-dir', storeDir], { env });
    expect(empty.code).toBe(0);
    expect(empty.stderr).not.toContain('in use');

    const capture = await runCli(['capture', '--url', go.url, '--service', 'api', '--type', 'heap,goroutine', '--output-dir', path.join(dir, 'out'), '--profefe-hostport', serve.url], { env });
    expect([capture.code, capture.stderr]).toEqual([0, '']);

    const get = await runCli(['get', 'profiles', '--service', 'api', '--store-dir', storeDir, '-o', 'name'], { env });
    expect([get.code, get.stderr]).toEqual([0, '']);
    expect(lines(get.stdout)).toHaveLength(2);

    const merge = await runCli(['merge', '--service', 'api', '--type', 'goroutine', '--store-dir', storeDir], { env });
    expect([merge.code, merge.stderr]).toEqual([0, '']);
    expect(decodeProfile(merge.stdout).sample.length).toBeGreaterThan(0);

    const top = await runCli(['top', '--type', 'goroutine', '--store-dir', storeDir], { env });
    expect([top.code, top.stderr]).toEqual([0, '']);
    expect(top.stdout.toString()).toContain('runtime.gopark');

    // serve still holds the store and still takes uploads.
    const again = await runCli(['get', 'profiles', '--service', 'api', '-o', 'name', '--profefe-hostport', serve.url], { env });
    expect(lines(again.stdout)).toHaveLength(2);
  } finally {
    serve.child.kill('SIGTERM');
    await serve.exited;
  }
}, 120_000);

test('a read-only open reads the whole lines, leaves a line being appended alone, and refuses uploads', async () => {
  const storeDir = path.join(dir, 'torn');
  const writer = await LocalStore.open(storeDir);
  try {
    await writer.upload({ service: 'api', type: 'goroutine', labels: [], body: await fetchProfile(go.url, 'goroutine') });
    // Half of a line: what a reader sees while the writer (still holding the lock) appends.
    const index = path.join(storeDir, 'index.jsonl');
    await appendFile(index, '{"id":"half-writ');
    const before = await readFile(index);
    const reader = await LocalStore.open(storeDir, { readOnly: true });
    const found = await reader.find({ service: 'api', from: new Date(0), to: new Date(Date.now() + 3600_000) });
    expect(found).toHaveLength(1);
    expect(reader.droppedIndexLines).toBe(0);
    expect(decodeProfile(await reader.get(found[0]!.id)).sample.length).toBeGreaterThan(0);
    await expect(reader.upload({ service: 'api', type: 'goroutine', labels: [], body: before })).rejects.toThrow(/open for reading only/);
    await reader.close();
    expect(await readFile(index)).toEqual(before);
    await expect(stat(path.join(storeDir, '.lock'))).resolves.toBeDefined();
  } finally {
    await writer.close();
  }
});

test('a read-only open of a store that does not exist reads as empty and creates nothing', async () => {
  const storeDir = path.join(dir, 'absent');
  const reader = await LocalStore.open(storeDir, { readOnly: true });
  expect(await reader.services()).toEqual([]);
  await reader.close();
  await expect(stat(storeDir)).rejects.toMatchObject({ code: 'ENOENT' });
});
