/**
 * Resource quantities read and written back as the API server does (apimachinery's
 * pkg/api/resource: ParseQuantity, then Quantity.String's canonical form).
 */
import { canonicalQuantity, formatQuantity, parseQuantity } from './quantity.js';

describe('canonicalQuantity', () => {
  it.each([
    // what users write in manifests
    ['0.5', '500m'], ['.5', '500m'], ['1.5', '1500m'], ['1000m', '1'], ['250m', '250m'], ['5.', '5'], ['2', '2'],
    ['128Mi', '128Mi'], ['1024Mi', '1Gi'], ['1.5Gi', '1536Mi'], ['307200Ki', '300Mi'], ['2048Ki', '2Mi'], ['1Ki', '1Ki'],
    ['100M', '100M'], ['1000M', '1G'], ['0.001T', '1G'], ['1.08', '1080m'], ['1080000000n', '1080m'], ['1000000n', '1m'], ['1000u', '1m'],
    // BinarySI below 1024, or not whole bytes, is written DecimalSI
    ['0.5Ki', '512'], ['.001Ki', '1024m'], ['.000001Ki', '1024u'], ['.000000001Ki', '1024n'], ['1025', '1025'], ['1024', '1024'],
    // below one nano unit rounds up (away from zero)
    ['.000000000001Ki', '2n'], ['0.1n', '1n'], ['-0.1n', '-1n'],
    // exponents keep their format, at a multiple of 3
    ['1e3', '1e3'], ['1E3', '1e3'], ['12e6', '12e6'], ['.001e12', '1e9'], ['0.001e0', '1e-3'], ['1000e-12', '1e-9'], ['80e-3', '80e-3'],
    // zero in any suffix
    ['0', '0'], ['00', '0'], ['0Mi', '0'], ['0m', '0'], ['-0', '0'],
    ['-1Gi', '-1Gi'], ['+500m', '500m'],
  ])('%s is stored as %s', (input, canonical) => {
    expect(canonicalQuantity(input)).toBe(canonical);
    expect(canonicalQuantity(canonical)).toBe(canonical); // canonical text is a fixed point
  });

  it.each([
    ['', /^quantities must match the regular expression/],
    ['abc', /^quantities must match/], ['1 Gi', /^quantities must match/], ['1.5.5', /^quantities must match/], ['1Gi2x', /^quantities must match/],
    ['10Mo', /^quantities must match/], ['1KiB', /^quantities must match/], ['1mi', /^unable to parse quantity's suffix$/], ['1Gi2', /^unable to parse quantity's suffix$/],
    ['1e', /^unable to parse quantity's suffix$/],
  ])('rejects %j', (input, message) => {
    expect(() => parseQuantity(input)).toThrow(message);
  });

  it('keeps exact values and formats', () => {
    expect(parseQuantity('1.5Gi')).toEqual({ nanos: 1_610_612_736_000_000_000n, format: 'BinarySI' });
    expect(parseQuantity('250m')).toEqual({ nanos: 250_000_000n, format: 'DecimalSI' });
    expect(formatQuantity({ nanos: 250_123_456n, format: 'DecimalSI' })).toBe('250123456n'); // metrics-server's cpu: NewScaledQuantity(n, -9)
    expect(formatQuantity({ nanos: 13_776n * 1024n * 1_000_000_000n, format: 'BinarySI' })).toBe('13776Ki'); // its memory
  });
});
