import { randomBytes, randomInt } from 'node:crypto';

/** base32hex, lowercase, as xid and profefe's badger store spell IDs. */
const ALPHABET = '0123456789abcdefghijklmnopqrstuv';

/** What every ID made by {@link newProfileId} looks like. */
export const PROFILE_ID_PATTERN = /^[0-9a-v]{20}$/;

// Like xid's machine id + pid: fixed per process, so IDs made here never collide with another
// process's, and a counter (not fresh randomness) keeps one second's IDs in upload order.
const processBytes = randomBytes(5);
let counter = randomInt(0, 2 ** 24);

/**
 * A new xid-style profile ID: 12 bytes (4 of upload time in Unix seconds, 5 fixed per process,
 * 3 of a per-process counter) as 20 characters of lowercase base32hex, `[0-9a-v]{20}`, the
 * shape of profefe's badger IDs. IDs sort by upload time to the second, and within a second by
 * creation order in this process. Callers must still treat IDs as opaque.
 */
export function newProfileId(uploadedAt: Date): string {
  const bytes = Buffer.alloc(12);
  bytes.writeUInt32BE(Math.floor(uploadedAt.getTime() / 1000) >>> 0, 0);
  processBytes.copy(bytes, 4);
  counter = (counter + 1) % 2 ** 24;
  bytes.writeUIntBE(counter, 9, 3);
  return encodeBase32Hex(bytes);
}

/** Bits taken most significant first, 5 to a character, the last one padded with zeros. */
function encodeBase32Hex(bytes: Uint8Array): string {
  let out = '';
  let acc = 0;
  let bits = 0;
  for (const b of bytes) {
    acc = (acc << 8) | b;
    bits += 8;
    while (bits >= 5) {
      bits -= 5;
      out += ALPHABET[(acc >> bits) & 31];
    }
    acc &= (1 << bits) - 1;
  }
  if (bits > 0) out += ALPHABET[(acc << (5 - bits)) & 31];
  return out;
}
