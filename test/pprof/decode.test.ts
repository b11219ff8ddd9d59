import { gzipSync } from 'node:zlib';
import { decodeProfile, encodeProfile, ProfileFormatError } from '../../src/pprof/index.js';
import { buildProfile, foldedStacks } from '../support/profile-builder.js';

const sample = buildProfile({
  timeNanos: 1_795_618_063_218_047_386n,
  samples: [
    { stack: 'main.main;main.handler;encoding/json.Marshal', values: [3, 30_000_000] },
    { stack: 'main.main;main.handler', values: [1, 10_000_000], labels: { endpoint: '/api' } },
  ],
});
const raw = sample.encode();
const gz = encodeProfile(sample);

describe('decodeProfile', () => {
  test('round-trips an encoded profile, gzipped and raw', () => {
    for (const bytes of [gz, raw]) {
      const p = decodeProfile(bytes);
      expect(foldedStacks(p)).toBe(foldedStacks(sample));
      expect(p.timeNanos).toBe(1_795_618_063_218_047_386n); // exact: beyond a double's 53 bits
      expect(p.period).toBe(10_000_000);
    }
  });

  test('encodeProfile is deterministic', () => {
    expect(Buffer.from(encodeProfile(decodeProfile(gz))).equals(Buffer.from(encodeProfile(decodeProfile(gz))))).toBe(true);
  });

  test('keeps negative and large int64 values exact', () => {
    const p = buildProfile({ samples: [{ stack: 'a;b', values: [-5, 5_000_000_000_123] }] });
    const back = decodeProfile(encodeProfile(p));
    expect(back.sample[0]!.value).toEqual([-5, 5_000_000_000_123]);
  });

  const html = '<!DOCTYPE html>\n<html><head><title>404 Not Found</title></head><body>not found</body></html>';
  const cases: [string, Uint8Array, RegExp][] = [
    ['empty input', new Uint8Array(0), /empty input/],
    ['empty gzip stream', gzipSync(Buffer.alloc(0)), /empty input/],
    ['truncated gzip', gz.subarray(0, Math.floor(gz.length / 2)), /truncated gzip/],
    ['corrupt gzip', Buffer.concat([Buffer.from(gz.subarray(0, 10)), Buffer.alloc(40, 0xff)]), /corrupt gzip|truncated gzip/],
    ['an HTML 404 page', Buffer.from(html), /HTML page/],
    ['a gzipped HTML page', gzipSync(Buffer.from(html)), /HTML page/],
    ['a debug=1 heap profile', Buffer.from('heap profile: 3: 1024 [10: 4096] @ heap/524288\n1: 512 [1: 512] @ 0x1 0x2\n'), /text profile \(debug=1/],
    ['a debug=1 goroutine profile', Buffer.from('goroutine profile: total 4\n1 @ 0x43 0x44\n'), /text profile/],
    ['a debug=1 mutex profile', Buffer.from('--- mutex:\ncycles/second=1000\n'), /text profile/],
    ['a JSON error envelope', Buffer.from('{"code":404,"error":"nothing found"}\n'), /got JSON/],
    ['plain text', Buffer.from('404 page not found\n'), /got text/],
    ['concatenated raw profiles', Buffer.concat([raw, raw]), /concatenated profiles/],
    ['concatenated gzip members', Buffer.concat([gz, gz]), /concatenated profiles/],
    ['truncated protobuf', raw.subarray(0, raw.length - 7), /truncated protobuf/],
    ['binary garbage', Buffer.from([0x0f, 0xff, 0x01, 0x02, 0x00, 0x9a]), /not a pprof protobuf|truncated protobuf/],
  ];
  test.each(cases)('rejects %s with a one-line reason', (_name, bytes, why) => {
    let error: unknown;
    try {
      decodeProfile(bytes, 'pod-a/cpu.pb.gz');
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ProfileFormatError);
    const message = (error as Error).message;
    expect(message).toMatch(why);
    expect(message.startsWith('pod-a/cpu.pb.gz: ')).toBe(true);
    expect(message).not.toContain('\n');
  });

  test('rejects a sample that refers to a missing location', () => {
    const p = buildProfile({ samples: [{ stack: 'a;b', values: [1, 2] }] });
    p.sample[0]!.locationId.push(99);
    expect(() => decodeProfile(p.encode())).toThrow(/sample 0 refers to unknown location 99/);
  });

  test('rejects a sample with the wrong number of values', () => {
    const p = buildProfile({ samples: [{ stack: 'a;b', values: [1, 2, 3] }] });
    expect(() => decodeProfile(p.encode())).toThrow(/3 values for 2 sample types/);
  });
});
