/**
 * The reference answers of Go and of the pprof behind `go tool pprof` (the `go` on PATH), for
 * values that are easier to ask about one by one than through a profile: Go's fmt verbs,
 * measurement.ScaledLabel / Scale / Percentage, regexp.Compile as RemoveUninteresting calls
 * it, and profile.RemoveUninteresting itself. The program (./go-ref/main.go) is built inside a
 * copy of GOROOT's vendored github.com/google/pprof, so it runs that exact code.
 */
import { execFile, spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { cp, mkdir, mkdtemp, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const supportDir = path.dirname(fileURLToPath(import.meta.url));
const cacheDir = path.join(supportDir, '..', '.cache');
const run = promisify(execFile);

export type GoRefRequest =
  | { op: 'sprintf'; format: string; value: number }
  | { op: 'scaledLabel'; value: bigint | number; from: string; to: string }
  | { op: 'scale'; value: bigint | number; from: string; to: string }
  | { op: 'percentage'; value: bigint | number; total: bigint | number }
  | { op: 'regexp'; pattern: string; inputs: string[] }
  | { op: 'removeUninteresting'; file: string };

export interface GoRefAnswer {
  out?: string;
  unit?: string;
  error?: string;
  matches?: boolean[];
  samples?: string[];
}

let building: Promise<string> | undefined;

function goEnv(): NodeJS.ProcessEnv {
  return {
    ...process.env,
    GOCACHE: process.env.GOCACHE || path.join(cacheDir, 'gocache'),
    GOPROXY: 'off',
    GOTOOLCHAIN: 'local',
    GOFLAGS: '-mod=mod',
    GOWORK: 'off',
    GO111MODULE: 'on',
    CGO_ENABLED: '0',
  };
}

/** Builds the helper once per source and Go version into test/.cache; returns its path. */
export function buildGoRef(): Promise<string> {
  building ??= build().catch((err: unknown) => {
    building = undefined;
    throw err;
  });
  return building;
}

async function build(): Promise<string> {
  const env = goEnv();
  const goroot = (await run('go', ['env', 'GOROOT'], { env })).stdout.trim();
  const version = (await run('go', ['version'], { env })).stdout.trim();
  const source = await readFile(path.join(supportDir, 'go-ref', 'main.go'));
  const hash = createHash('sha256').update(version).update('\0').update(source).digest('hex').slice(0, 16);
  const bin = path.join(cacheDir, `go-ref-${hash}`);
  if (await stat(bin).then((s) => s.isFile(), () => false)) return bin;
  await mkdir(cacheDir, { recursive: true });
  const dir = await mkdtemp(path.join(tmpdir(), 'go-ref-'));
  const tmp = `${bin}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
  try {
    const pprof = path.join(goroot, 'src', 'cmd', 'vendor', 'github.com', 'google', 'pprof');
    await cp(path.join(pprof, 'profile'), path.join(dir, 'profile'), { recursive: true });
    await cp(path.join(pprof, 'internal', 'measurement'), path.join(dir, 'internal', 'measurement'), { recursive: true });
    await mkdir(path.join(dir, 'cmd', 'ref'), { recursive: true });
    await writeFile(path.join(dir, 'cmd', 'ref', 'main.go'), source);
    await writeFile(path.join(dir, 'go.mod'), 'module github.com/google/pprof\n\ngo 1.19\n');
    await run('go', ['build', '-trimpath', '-o', tmp, './cmd/ref'], { cwd: dir, env });
    await rename(tmp, bin);
  } finally {
    await rm(tmp, { force: true });
    await rm(dir, { recursive: true, force: true });
  }
  return bin;
}

/** Float64 bits as hex, for an exact hand-over of a double. */
function floatBits(x: number): string {
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, x);
  return view.getBigUint64(0).toString(16);
}

/** Asks the helper every request (one process for the batch); answers in request order. */
export async function goRef(requests: readonly GoRefRequest[]): Promise<GoRefAnswer[]> {
  const bin = await buildGoRef();
  const lines = requests.map((r) => {
    switch (r.op) {
      case 'sprintf':
        return JSON.stringify({ op: r.op, format: r.format, bits: floatBits(r.value) });
      case 'scaledLabel':
      case 'scale':
        return JSON.stringify({ op: r.op, value: String(r.value), from: r.from, to: r.to });
      case 'percentage':
        return JSON.stringify({ op: r.op, value: String(r.value), total: String(r.total) });
      default:
        return JSON.stringify(r);
    }
  });
  const child = spawn(bin, [], { stdio: ['pipe', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c));
  child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
  const done = new Promise<number | null>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', resolve);
  });
  child.stdin.end(lines.map((l) => l + '\n').join(''));
  const code = await done;
  if (code !== 0) throw new Error(`go-ref failed (${code}): ${stderr}`);
  const answers = stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l) as GoRefAnswer);
  if (answers.length !== requests.length) throw new Error(`go-ref answered ${answers.length} of ${requests.length} requests: ${stderr}`);
  return answers;
}
