/**
 * Quantities as the API server reads them (apimachinery resource.ParseQuantity, Value, ScaledValue):
 * the values below are what `resource.MustParse(q).ScaledValue(resource.Nano)` and `.Value()` give.
 */
import { cpuNanocores, formatCpu, formatMemory, isQuantity, memoryBytes } from '../../src/kube/quantity.js';

test.each([
  ['250m', 250_000_000], ['1', 1_000_000_000], ['0.5', 500_000_000], ['.5', 500_000_000], ['2.', 2_000_000_000],
  ['12345n', 12_345], ['1u', 1_000], ['1.5k', 1_500_000_000_000], ['1e-3', 1_000_000], ['1E2', 100_000_000_000],
  ['0.1n', 1], ['+100m', 100_000_000], ['0', 0], ['1Ki', 1_024_000_000_000],
])('cpu %s is %d nanocores', (q, want) => {
  expect(cpuNanocores(q)).toBe(want);
});

test.each([
  ['128Mi', 134_217_728], ['1Gi', 2 ** 30], ['4096Ki', 4_194_304], ['1G', 1e9], ['1k', 1000], ['129e6', 129_000_000],
  ['1.5Gi', 1_610_612_736], ['100m', 1], ['1Ti', 2 ** 40], ['7', 7],
])('memory %s is %d bytes', (q, want) => {
  expect(memoryBytes(q)).toBe(want);
});

test.each(['', 'MB', '1.5 Gi', '1MB', 'abc', '1e', '--1', '1.2.3', 'Ki', '1Ki1', ' '.repeat(3), '9'.repeat(70)])('%j is not a quantity', (q) => {
  expect(isQuantity(q)).toBe(false);
  expect(memoryBytes(q)).toBeUndefined();
});

test('negative quantities and ones beyond exact integers are refused', () => {
  expect(isQuantity('-1')).toBe(true);
  expect(memoryBytes('-1')).toBeUndefined();
  expect(memoryBytes('8Ei')).toBeUndefined();
  expect(cpuNanocores('1E')).toBeUndefined();
});

test.each([[950_000_000, '950m'], [2e9, '2'], [1, '1m'], [1_500_000_000, '1500m']])('cpu %d shows as %s', (n, want) => {
  expect(formatCpu(n)).toBe(want);
});

test.each([[2 ** 29, '512Mi'], [2 ** 30, '1Gi'], [3 * 2 ** 30, '3Gi'], [315_621_376, '301Mi'], [4096, '4Ki'], [1000, '1Ki']])('memory %d shows as %s', (n, want) => {
  expect(formatMemory(n)).toBe(want);
});
