/**
 * The bundle scripts/build.mjs writes (dist/): which chunks each command can load, read from
 * esbuild's metafile of a fresh build, and that every worker a source starts is there.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Metafile } from 'esbuild';
import { buildBundle, workerEntries } from '../../scripts/build.mjs';

let dir: string;
let out: string;
let meta: Metafile;

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'bundle-'));
  out = path.join(dir, 'dist');
  meta = (await buildBundle({ outdir: out })) as Metafile;
}, 60_000);
afterAll(() => rm(dir, { recursive: true, force: true }));

/** The output files `from` loads: only static imports, or dynamic ones too. */
function reachable(from: string, withDynamic: boolean): Set<string> {
  const seen = new Set<string>();
  const visit = (file: string) => {
    if (seen.has(file)) return;
    seen.add(file);
    for (const i of meta.outputs[file]!.imports) {
      if (i.external) continue;
      if (i.kind === 'import-statement' || (withDynamic && i.kind === 'dynamic-import')) visit(i.path);
    }
  };
  visit(from);
  return seen;
}

/** The sources and packages inside some output files, as esbuild names them (`node_modules/...`, `src/...`). */
const inputsOf = (files: Set<string>) => [...files].flatMap((f) => Object.keys(meta.outputs[f]!.inputs));
const entry = () => Object.keys(meta.outputs).find((f) => f.endsWith('/kubectl-profefe.js'))!;
/**
 * The chunk `import('./NAME.js')` of a command's module loads: the one whose entry is src/cli/NAME.ts
 * (src/postmortem/postmortem.ts and src/doctor/doctor.ts are chunks of the same name), else the
 * first chunk of that name (capture-urls).
 */
const commandChunk = (name: string) =>
  Object.keys(meta.outputs).find((f) => meta.outputs[f]!.entryPoint === `src/cli/${name}.ts`) ??
  Object.keys(meta.outputs).find((f) => new RegExp(`/${name}-[A-Z0-9]+\\.js$`).test(f))!;

const CLIENT_NODE = /node_modules\/@kubernetes\/client-node\//;
const PAGE = /src\/report\/flame-page-assets\.ts$/;

describe('the bundle', () => {
  test('starts with its entry alone: no command module, client-node, ws, js-yaml, ora, pprof or page', () => {
    const loaded = inputsOf(reachable(entry(), false));
    expect(loaded).toContain('src/cli/main.ts');
    const heavy = loaded.filter((i) =>
      /src\/cli\/(capture|collect|get|merge|top|diff|postmortem|doctor|open|push|serve|version)\.ts$|node_modules\/(@kubernetes\/client-node|ws|js-yaml|ora|pprof-format|d3)\/|src\/pprof\/|flame-page-assets/.test(i),
    );
    expect(heavy).toEqual([]);
  });

  test.each([
    ['capture', true, false],
    ['collect', true, false],
    ['get', false, false],
    ['merge', false, false],
    ['top', false, false],
    ['diff', true, true],
    ['postmortem', true, true],
    ['doctor', true, false],
    ['open', false, true],
    ['push', false, false],
    ['serve', false, false],
    ['version', false, false],
  ])('%s can load client-node: %s, the flame page: %s', (command, kube, page) => {
    const chunk = commandChunk(command);
    expect(chunk).toBeDefined();
    const all = inputsOf(reachable(chunk, true));
    expect(all.some((i) => CLIENT_NODE.test(i))).toBe(kube);
    expect(all.some((i) => PAGE.test(i))).toBe(page);
    // Loaded when the command starts (before any dynamic import): never the page, which only --html needs,
    // nor client-node for diff, which only --rollout needs.
    expect(inputsOf(reachable(chunk, false)).some((i) => PAGE.test(i))).toBe(false);
    if (command === 'diff') expect(inputsOf(reachable(chunk, false)).some((i) => CLIENT_NODE.test(i))).toBe(false);
  });

  test('capture --url can load neither client-node nor ws: its chunk and capture\'s start-up chunks hold neither', () => {
    const urlChunk = commandChunk('capture-urls');
    expect(urlChunk).toBeDefined();
    const kubeOrWs = (i: string) => CLIENT_NODE.test(i) || /node_modules\/ws\//.test(i);
    expect(inputsOf(reachable(urlChunk, true)).filter(kubeOrWs)).toEqual([]);
    expect(inputsOf(reachable(commandChunk('capture'), false)).filter(kubeOrWs)).toEqual([]);
  });

  test('a capture --url run of the built CLI loads no chunk that holds client-node', async () => {
    // A web server that is not pprof: the capture takes the --url path and fails (exit 1), no Go needed.
    const server = createServer((_req, res) => res.writeHead(404).end('not pprof'));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const record = path.join(dir, 'loaded.txt');
    const launcher = path.join(dir, 'bin', 'kubectl-profefe.mjs');
    mkdirSync(path.dirname(launcher), { recursive: true });
    writeFileSync(record, '');
    writeFileSync(launcher, "const { runFromProcess } = await import('../dist/kubectl-profefe.js');\nawait runFromProcess();\n");
    const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
    const hooks = path.join(root, 'test/support/record-modules.mjs');
    const args = ['--import', hooks, launcher, 'capture', '--url', `http://127.0.0.1:${(server.address() as AddressInfo).port}`, '--type', 'goroutine', '--output-dir', path.join(dir, 'profiles')];
    const code = await new Promise<number | null>((resolve) => {
      const child = spawn(process.execPath, args, { env: { PATH: process.env.PATH, HOME: dir, KUBECTL_PROFEFE_HOME: path.join(dir, 'data'), RECORD_MODULES: record }, stdio: 'ignore' });
      child.on('close', resolve);
    });
    server.close();
    expect(code).toBe(1);
    const loaded = readFileSync(record, 'utf8').split('\n').filter((u) => u.startsWith('file:')).map((u) => fileURLToPath(u));
    const chunks = loaded.filter((f) => f.startsWith(out + path.sep));
    expect(chunks.some((f) => /capture-urls-/.test(f))).toBe(true);
    // The metafile names outputs relative to the build's working directory, the repository.
    const outputOf = (f: string) => Object.keys(meta.outputs).find((o) => path.resolve(root, o) === f);
    for (const f of chunks) expect(outputOf(f)).toBeDefined();
    const withKube = chunks.filter((f) => Object.keys(meta.outputs[outputOf(f)!]!.inputs).some((i) => CLIENT_NODE.test(i)));
    expect(withKube).toEqual([]);
    expect(loaded.filter((f) => /node_modules/.test(f))).toEqual([]);
  }, 60_000);

  test('holds only the client-node APIs it calls (CoreV1Api; CustomObjectsApi for metrics.k8s.io; AuthorizationV1Api for doctor; AppsV1Api for diff --rollout), not every API group', () => {
    // Bytes of each client-node API module in the outputs (esbuild reads them all, keeps what is used).
    const bytes = new Map<string, number>();
    for (const o of Object.values(meta.outputs)) {
      for (const [input, v] of Object.entries(o.inputs)) {
        const api = /client-node\/dist\/gen\/apis\/(\w+Api)\.js$/.exec(input)?.[1];
        if (api) bytes.set(api, (bytes.get(api) ?? 0) + v.bytesInOutput);
      }
    }
    expect(bytes.get('CoreV1Api')).toBeGreaterThan(100_000);
    const called = new Set(['CoreV1Api', 'CustomObjectsApi', 'AuthorizationV1Api', 'AppsV1Api']);
    const others = [...bytes].filter(([api]) => !called.has(api)).reduce((n, [, b]) => n + b, 0);
    expect(others).toBeLessThan(2_000);
    // The metrics client: two list calls of a small API module.
    expect(bytes.get('CustomObjectsApi')).toBeLessThan(100_000);
    // doctor's access reviews: one create call of a small API module.
    expect(bytes.get('AuthorizationV1Api')).toBeLessThan(40_000);
    // The workloads' revisions (apps/v1): about 120 kB, the whole class (esbuild keeps every method of a class).
    expect(bytes.get('AppsV1Api')).toBeLessThan(150_000);
  });

  test('has every worker a source starts, beside the chunks that start it', () => {
    const workers = Object.keys(workerEntries());
    expect(workers).toEqual(expect.arrayContaining(['merge-worker']));
    for (const name of workers) expect(existsSync(path.join(out, `${name}.js`))).toBe(true);
    // Every chunk is in the same folder, so `new URL('./NAME.js', import.meta.url)` finds them from any of them.
    expect(readdirSync(out, { withFileTypes: true }).filter((e) => e.isDirectory())).toEqual([]);
  });

  test('has no source maps, and lists the licences of the packages inside it', () => {
    for (const f of readdirSync(out)) {
      expect(f.endsWith('.map')).toBe(false);
      if (f.endsWith('.js')) expect(readFileSync(path.join(out, f), 'utf8')).not.toContain('sourceMappingURL');
    }
    const notices = readFileSync(path.join(out, 'THIRD-PARTY-NOTICES.txt'), 'utf8');
    for (const pkg of ['@kubernetes/client-node', 'yargs', 'ws', 'd3', 'd3-flame-graph', 'pprof-format']) expect(notices).toMatch(new RegExp(`^${pkg} \\d+\\.\\d+\\.\\d+ \\(`, 'm'));
  });
});
