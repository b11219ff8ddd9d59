/** inflateProfileAsync (on libuv's pool) gives what inflateProfile gives, errors included. */
import { gzipSync } from 'node:zlib';
import { encodeProfile, inflateProfile, inflateProfileAsync } from '../../src/pprof/index.js';
import { gzipBomb } from '../support/pprof-bombs.js';
import { buildProfile } from '../support/profile-builder.js';

const profile = buildProfile({ samples: [{ stack: 'main;work', values: [1, 10] }] });
const gz = Buffer.from(encodeProfile(profile));
// Inflates past 1 MiB: several of the pool's output chunks.
const large = gzipSync(Buffer.concat([profile.encode(), Buffer.from([0xa2, 0x06, 0x80, 0x80, 0x40]), Buffer.alloc(2 ** 20)]));

async function outcome(run: () => Uint8Array | Promise<Uint8Array>): Promise<string> {
  try {
    return `ok ${Buffer.from(await run()).toString('base64')}`;
  } catch (err) {
    return `${(err as Error).name}: ${(err as Error).message}`;
  }
}

describe('inflateProfileAsync', () => {
  test.each([
    ['a gzipped profile', gz, {}],
    ['a raw profile, returned as it is', Buffer.from(profile.encode()), {}],
    ['a profile inflating past 1 MiB', large, {}],
    ['empty input', Buffer.alloc(0), {}],
    ['an empty gzip stream', gzipSync(Buffer.alloc(0)), {}],
    ['truncated gzip', gz.subarray(0, gz.length >> 1), {}],
    ['corrupt gzip', Buffer.concat([gz.subarray(0, 10), Buffer.alloc(40, 0xff)]), {}],
    ['a gzipped HTML page', gzipSync(Buffer.from('<html><body>404</body></html>')), {}],
    ['a bomb over the size limit', gzipBomb(70), {}],
    ['a profile over a lower size limit', large, { maxInflatedBytes: 2 ** 19 }],
    ['a raw profile over a lower size limit', Buffer.from(profile.encode()), { maxInflatedBytes: 16 }],
  ])('%s', async (_name, bytes, limits) => {
    const sync = await outcome(() => inflateProfile(bytes, 'pod/heap.pb.gz', limits));
    expect(await outcome(() => inflateProfileAsync(bytes, 'pod/heap.pb.gz', limits))).toBe(sync);
  });
});
