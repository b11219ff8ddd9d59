/**
 * Hostile and large pprof bodies, written as raw protobuf so that they are cheap to make and
 * small to send: gzip members repeat (a gzip stream may hold many), so a 1 GiB bomb is made by
 * compressing 16 MiB once.
 */
import { gzipSync } from 'node:zlib';

function varint(n: number): number[] {
  const out: number[] = [];
  while (n >= 0x80) {
    out.push((n % 0x80) | 0x80);
    n = Math.floor(n / 0x80);
  }
  out.push(n);
  return out;
}

/** A length-delimited field. */
function field(num: number, payload: Uint8Array | number[]): Buffer {
  const p = Buffer.from(payload as Uint8Array);
  return Buffer.concat([Buffer.from([...varint(num * 8 + 2), ...varint(p.length)]), p]);
}

function varintField(num: number, value: number): number[] {
  return [...varint(num * 8), ...varint(value)];
}

/** The smallest valid profile header: strings, one sample type, and one sample of one location. */
function header(): Buffer {
  const strings = ['', 'samples', 'count', 'main.main'].map((s) => field(6, Buffer.from(s)));
  return Buffer.concat([
    ...strings,
    field(1, [...varintField(1, 1), ...varintField(2, 2)]), // sample_type samples/count
    field(5, [...varintField(1, 1), ...varintField(2, 3)]), // function 1 main.main
    field(4, [...varintField(1, 1), ...field(4, varintField(1, 1))]), // location 1 -> function 1
    field(2, [...field(1, [1]), ...field(2, [1])]), // one sample at location 1, value 1
    Buffer.from(varintField(9, 1_700_000_000)), // time_nanos
  ]);
}

/** `copies` gzip members of `chunk`, concatenated: inflates to copies × chunk.length. */
function repeatedGzip(chunk: Buffer, copies: number): Buffer {
  const member = gzipSync(chunk, { level: 9 });
  return Buffer.concat(Array(copies).fill(member));
}

/** A gzip body that inflates to `inflatedMiB` MiB of zeros (a classic decompression bomb; about 1 KiB per MiB). */
export function gzipBomb(inflatedMiB: number): Buffer {
  const chunkMiB = Math.min(16, inflatedMiB);
  return repeatedGzip(Buffer.alloc(chunkMiB * 2 ** 20), Math.ceil(inflatedMiB / chunkMiB));
}

/** A valid header, then `millions` million empty `sample` messages (2 bytes each): an allocation bomb. */
export function emptySamplesBomb(millions: number): Buffer {
  const head = gzipSync(header());
  const emptySample = Buffer.from([0x12, 0x00]);
  return Buffer.concat([head, repeatedGzip(Buffer.concat(Array(2 ** 19).fill(emptySample)), Math.ceil((millions * 1e6) / 2 ** 19))]);
}

/** A valid profile followed by an unknown field (number 100) of `mib` MiB of zeros. */
export function unknownFieldProfile(mib: number): Buffer {
  const len = mib * 2 ** 20;
  const prefix = Buffer.from([...varint(100 * 8 + 2), ...varint(len)]);
  return Buffer.concat([gzipSync(Buffer.concat([header(), prefix])), gzipBomb(mib)]);
}

/**
 * A heap-profile-like body of about `inflatedMiB` MiB inflated: 4 sample types, 20k functions
 * and locations, samples 24 frames deep with a `bytes` label, like a large Go service's
 * (deterministic). Returned gzipped, as agents send it.
 */
export function largeHeapProfile(inflatedMiB: number): { gzipped: Buffer; inflatedBytes: number; samples: number } {
  const parts: Buffer[] = [];
  const strings = ['', 'alloc_objects', 'count', 'alloc_space', 'bytes', 'inuse_objects', 'inuse_space', 'space'];
  const nFunctions = 20_000;
  for (let i = 0; i < nFunctions; i++) strings.push(`github.com/example/service/pkg${i % 97}.function${i}`);
  for (const s of strings) parts.push(field(6, Buffer.from(s)));
  for (const [t, u] of [[1, 2], [3, 4], [5, 2], [6, 4]]) parts.push(field(1, [...varintField(1, t!), ...varintField(2, u!)]));
  parts.push(field(11, [...varintField(1, 7), ...varintField(2, 4)])); // period_type space/bytes
  parts.push(Buffer.from(varintField(12, 524288)));
  parts.push(Buffer.from(varintField(9, 1_700_000_000)));
  for (let i = 1; i <= nFunctions; i++) {
    parts.push(field(5, [...varintField(1, i), ...varintField(2, 7 + i), ...varintField(3, 7 + i)]));
    parts.push(field(4, [...varintField(1, i), ...varintField(3, 0x400000 + i * 16), ...field(4, [...varintField(1, i), ...varintField(2, (i % 500) + 1)])]));
  }
  let size = parts.reduce((n, p) => n + p.length, 0);
  let samples = 0;
  let seed = 1;
  const next = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31);
  while (size < inflatedMiB * 2 ** 20) {
    const locs: number[] = [];
    for (let d = 0; d < 24; d++) locs.push(...varint((next() % nFunctions) + 1));
    const values: number[] = [];
    for (const v of [1, 4096, 1, 4096]) values.push(...varint(v + (next() % 100)));
    const sample = field(2, [...field(1, locs), ...field(2, values), ...field(3, [...varintField(1, 4), ...varintField(3, 4096), ...varintField(4, 4)])]);
    parts.push(sample);
    size += sample.length;
    samples++;
  }
  const raw = Buffer.concat(parts);
  return { gzipped: gzipSync(raw), inflatedBytes: raw.length, samples };
}

/**
 * A valid one-sample profile whose string table ends with one unused string of `mib` MiB: large
 * once inflated (for the inflated-size limit), cheap to send and to decode.
 */
export function largeStringProfile(mib: number): Buffer {
  const len = mib * 2 ** 20;
  const prefix = Buffer.from([...varint(6 * 8 + 2), ...varint(len)]);
  return Buffer.concat([gzipSync(Buffer.concat([header(), prefix])), repeatedGzip(Buffer.alloc(2 ** 20, 0x61), mib)]);
}

/**
 * A valid profile of exactly `count` samples (all at main.main, value 1): 8 bytes each inflated,
 * some 30 KiB gzipped for 2 million, and about 500 bytes each once decoded.
 */
export function manySamplesProfile(count: number): Buffer {
  const sample = field(2, [...field(1, [1]), ...field(2, [1])]);
  const chunk = 2 ** 16;
  const rest = count - 1; // header() has one
  return Buffer.concat([
    gzipSync(header()),
    repeatedGzip(Buffer.concat(Array(chunk).fill(sample)), Math.floor(rest / chunk)),
    gzipSync(Buffer.concat(Array(rest % chunk).fill(sample))),
  ]);
}
