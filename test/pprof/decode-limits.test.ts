/**
 * decodeProfile's limits: bombs end in one ProfileFormatError naming the limit, quickly and
 * without building the objects; a large real-shaped heap profile passes with the defaults.
 */
import { gunzipSync } from 'node:zlib';
import { decodeProfile, DEFAULT_DECODE_LIMITS, ProfileFormatError } from '../../src/pprof/index.js';
import { emptySamplesBomb, gzipBomb, largeHeapProfile, unknownFieldProfile } from '../support/pprof-bombs.js';

describe('decodeProfile limits', () => {
  test.each([
    ['a gzip that inflates to 1 GiB stops inflating at the limit', () => gzipBomb(1024), {}, /^bomb: inflates to more than 64 MiB \(the --max-inflated-size limit\)$/],
    ['3 million empty samples are counted, not built', () => emptySamplesBomb(3), {}, /^bomb: more than 2000000 samples \(the --max-samples limit\)$/],
    ['100 million empty samples (200 MB) hit the size limit first', () => emptySamplesBomb(100), {}, /inflates to more than 64 MiB/],
    ['a huge unknown field', () => unknownFieldProfile(8), {}, /^bomb: more than 1048576 bytes of fields profile\.proto does not define \(a decode limit\)$/],
    ['a raw (not gzipped) body over the size limit', () => gunzipSync(largeHeapProfile(1).gzipped), { maxInflatedBytes: 2 ** 19 }, /^bomb: is [\d.]+ MiB, more than 0\.5 MiB \(the --max-inflated-size limit\)$/],
    ['locations over a lower limit', () => largeHeapProfile(1).gzipped, { maxLocations: 100 }, /^bomb: more than 100 locations \(a decode limit\)$/],
    ['functions over a lower limit', () => largeHeapProfile(1).gzipped, { maxFunctions: 100 }, /^bomb: more than 100 functions/],
    ['strings over a lower limit', () => largeHeapProfile(1).gzipped, { maxStrings: 100 }, /^bomb: more than 100 strings/],
  ])('%s', (_what, make, limits, message) => {
    const body = make();
    expect(body.length).toBeLessThan(2 * 2 ** 20); // small to send
    expect(() => decodeProfile(body, 'bomb', limits)).toThrow(ProfileFormatError);
    expect(() => decodeProfile(body, 'bomb', limits)).toThrow(message);
  });

  test('a large heap profile of tens of MiB (what a big service\'s agent sends) passes the defaults', () => {
    const { gzipped, inflatedBytes, samples } = largeHeapProfile(20);
    expect(inflatedBytes).toBeGreaterThan(20 * 2 ** 20);
    expect(inflatedBytes).toBeLessThan(DEFAULT_DECODE_LIMITS.maxInflatedBytes);
    expect(decodeProfile(gzipped).sample).toHaveLength(samples);
  });
});
