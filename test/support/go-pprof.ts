/**
 * Wrappers around the real `go tool pprof` (the `go` on PATH), used as the
 * reference our own pprof handling is checked against.
 *
 * Every run is non-interactive (an output flag is always given, stdin is
 * closed), uses `-symbolize=none` (profiles from Go carry their symbols), and
 * gets a private temporary PPROF_TMPDIR and an empty PPROF_BINARY_PATH so
 * pprof neither writes under ~/pprof nor goes looking for binaries. HOME is
 * only filled in (with that directory) when unset; pprof needs it only for
 * those two defaults.
 */
import { spawn } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { Writable } from 'node:stream';

/** One function row of `go tool pprof -top`. Values are in raw sample units (see {@link goPprofTop}). */
export interface GoTopRow {
  flat: number;
  flatPct: number;
  sumPct: number;
  cum: number;
  cumPct: number;
  /** Function name, without pprof's `(inline)` / `(partial-inline)` marker. */
  name: string;
  /** Set when pprof marks the function as (partly) inlined into its callers. */
  inline?: 'inline' | 'partial-inline';
}

/** Result of {@link goPprofTop}. */
export interface GoTop {
  rows: GoTopRow[];
  /**
   * Total of the reported sample type, from "Showing nodes accounting for X,
   * P% of TOTAL total"; includes samples with no stack, which no row has.
   */
  total: number;
  /** The sample type reported (pprof's "Type:" line), e.g. `cpu` or `inuse_space`. */
  sampleType?: string;
}

/** Options for {@link goPprofTop}. */
export interface GoTopOptions {
  /** pprof's -sample_index, e.g. `alloc_space`; default is the profile's default type. */
  sampleIndex?: string;
  /** Further flags, placed after ours (Go's flag package lets the last one win). */
  extraArgs?: string[];
}

/**
 * Runs `go tool pprof -top` over the files (merged, as pprof does) with no
 * node dropped, and parses the table.
 *
 * Values come back exact, in the profile's raw unit: pprof prints every value
 * as "%.2f" in an output unit, so the default automatic units ("1.50MB",
 * "88ms") lose precision. With `-unit=ns` time values print in ns; a memory
 * profile does not know "ns" and falls back to its base unit B; unit-less
 * counts print unscaled (with a meaningless "ns" suffix). Each is the raw
 * integer. (`-raw` prints the raw samples, but not per-function totals.)
 */
export async function goPprofTop(files: string[], opts: GoTopOptions = {}): Promise<GoTop> {
  const args = ['-top', '-nodecount=0', '-nodefraction=0', '-edgefraction=0', '-unit=ns'];
  if (opts.sampleIndex !== undefined) args.push(`-sample_index=${opts.sampleIndex}`);
  args.push(...(opts.extraArgs ?? []));
  return parseTop(await runPprof([...args, ...files]));
}

/**
 * Runs `go tool pprof -proto` over the files (merging them) and writes the
 * resulting gzipped profile to outFile. Rejects with pprof's stderr on failure.
 */
export async function goPprofProto(files: string[], outFile: string): Promise<void> {
  await runPprof(['-proto', ...files], createWriteStream(outFile));
}

/**
 * Returns `go tool pprof -raw` output for one file: period type, period, time,
 * duration, sample types, and the samples with their location ids. Samples
 * with no stack are left out (the -top total still counts them).
 */
export async function goPprofRaw(file: string): Promise<string> {
  return runPprof(['-raw', file]);
}

/**
 * `go tool pprof -top` as text, from its "Showing nodes" line on (what our `merge --top`
 * prints byte for byte), with pprof's default trimming: `-nodecount=N` when given, the
 * default -nodefraction and -edgefraction. `extraArgs` go before the files.
 */
export async function goPprofTopText(files: string[], opts: { nodeCount?: number; sampleIndex?: string; extraArgs?: string[] } = {}): Promise<string> {
  const args = ['-top'];
  if (opts.nodeCount !== undefined) args.push(`-nodecount=${opts.nodeCount}`);
  if (opts.sampleIndex !== undefined) args.push(`-sample_index=${opts.sampleIndex}`);
  const out = await runPprof([...args, ...(opts.extraArgs ?? []), ...files]);
  return out.slice(out.indexOf('Showing nodes'));
}

/** Parses `-top` text output; exported for tests of the parser itself. */
export function parseTop(text: string): GoTop {
  const rows: GoTopRow[] = [];
  let total: number | undefined;
  let sampleType: string | undefined;
  let inTable = false;
  for (const line of text.split('\n')) {
    if (inTable) {
      if (line.trim() === '') continue;
      const m = /^\s*(\S+)\s+(\S+)%\s+(\S+)%\s+(\S+)\s+(\S+)%\s{2}(.*?)(?: \((inline|partial-inline)\))?$/.exec(line);
      if (!m) throw new Error(`unexpected pprof -top row: ${JSON.stringify(line)}`);
      const row: GoTopRow = {
        flat: parseValue(m[1]),
        flatPct: parsePct(m[2]),
        sumPct: parsePct(m[3]),
        cum: parseValue(m[4]),
        cumPct: parsePct(m[5]),
        name: m[6],
      };
      if (m[7] !== undefined) row.inline = m[7] as 'inline' | 'partial-inline';
      rows.push(row);
      continue;
    }
    const type = /^Type: (.*)$/.exec(line);
    if (type) sampleType = type[1];
    const showing = /^Showing nodes accounting for \S+, \S+ of (\S+) total$/.exec(line);
    if (showing) total = parseValue(showing[1]);
    if (/^\s*flat\s+flat%\s+sum%\s+cum\s+cum%\s*$/.test(line)) inTable = true;
  }
  if (total === undefined || !inTable) {
    throw new Error(`pprof -top output lacks its totals or table:\n${text.slice(0, 2000)}`);
  }
  return { rows, total, sampleType };
}

/** pprof's unit labels (measurement.go); memory units are 1024-based. */
const unitFactors: Record<string, number> = {
  '': 1,
  ns: 1,
  us: 1e3,
  μs: 1e3,
  ms: 1e6,
  s: 1e9,
  hrs: 3600e9,
  B: 1,
  kB: 2 ** 10,
  MB: 2 ** 20,
  GB: 2 ** 30,
  TB: 2 ** 40,
  PB: 2 ** 50,
};

function parseValue(label: string): number {
  const m = /^(-?\d+(?:\.\d+)?)(\D*)$/.exec(label);
  const factor = m ? unitFactors[m[2]] : undefined;
  if (!m || factor === undefined) throw new Error(`unexpected pprof value: ${JSON.stringify(label)}`);
  return Math.round(Number(m[1]) * factor);
}

function parsePct(label: string): number {
  const pct = Number(label); // small ones are printed like "1.2e-05"
  if (Number.isNaN(pct)) throw new Error(`unexpected pprof percentage: ${JSON.stringify(label)}`);
  return pct;
}

/**
 * Runs `go tool pprof -symbolize=none <args>`. Stdout is returned as text, or
 * streamed into `out` when given (then '' is returned).
 */
async function runPprof(args: string[], out?: Writable): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'go-pprof-'));
  try {
    const tmpDir = path.join(dir, 'tmp');
    const binDir = path.join(dir, 'binaries');
    await Promise.all([mkdir(tmpDir), mkdir(binDir)]);
    const env = {
      ...process.env,
      HOME: process.env.HOME || dir,
      PPROF_TMPDIR: tmpDir,
      PPROF_BINARY_PATH: binDir,
    };
    const child = spawn('go', ['tool', 'pprof', '-symbolize=none', ...args], {
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const exit = new Promise<number | string>((resolve, reject) => {
      child.once('error', reject);
      child.once('close', (code, signal) => resolve(code ?? signal ?? 'unknown'));
    });
    let stdout = '';
    if (!out) child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    // Awaited together so a spawn error can't go unhandled while piping.
    const [status] = await Promise.all([exit, out ? pipeline(child.stdout, out) : undefined]);
    if (status !== 0) {
      throw new Error(`go tool pprof ${args.join(' ')} failed (${status}):\n${stderr.trim()}`);
    }
    return stdout;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** The cells of one `go tool pprof -top` text row, as printed (percentages trimmed). */
export interface GoTopTextRow {
  flat: string;
  flatPct: string;
  sumPct: string;
  cum: string;
  cumPct: string;
  /** The name with pprof's ` (inline)` marker, if any. */
  name: string;
}

/** The legend lines and rows of goPprofTopText's output. */
export function parseTopText(text: string): { legend: string[]; rows: GoTopTextRow[] } {
  const lines = text.trimEnd().split('\n');
  const header = lines.findIndex((l) => /^\s*flat\s+flat%\s+sum%\s+cum\s+cum%(\s+FUNCTION)?\s*$/i.test(l));
  if (header < 0) throw new Error(`no -top table in:\n${text}`);
  const rows = lines.slice(header + 1).map((line) => {
    const m = /^\s*(\S+) +(\S+%) +(\S+%) +(\S+) +(\S+%)  (.*)$/.exec(line);
    if (!m) throw new Error(`unexpected pprof -top row: ${JSON.stringify(line)}`);
    return { flat: m[1]!, flatPct: m[2]!, sumPct: m[3]!, cum: m[4]!, cumPct: m[5]!, name: m[6]! };
  });
  return { legend: lines.slice(0, header), rows };
}

/**
 * go tool pprof -top text with its column header as our tables print it (upper case, with
 * FUNCTION, as in top and diff); every other byte is pprof's.
 */
export function withOurTopHeader(text: string): string {
  return text.replace(/^( *)flat( +)flat%( +)sum%( +)cum( +)cum%$/m, '$1FLAT$2FLAT%$3SUM%$4CUM$5CUM%  FUNCTION');
}
