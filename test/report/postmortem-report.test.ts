/** The words of postmortem's report: times, durations, spans and triggers as the table prints them. */
import type { PostmortemReport } from '../../src/postmortem/postmortem.js';
import { formatDuration, formatSpan, formatTime, notFoundLine, renderPostmortemTable, triggerText } from '../../src/report/postmortem-report.js';

test.each([
  [0, '0s'],
  [250, '250ms'],
  [45_000, '45s'],
  [300_000, '5m0s'],
  [3_600_000, '1h0m0s'],
  [5_430_500, '1h30m30s'],
])('formatDuration(%d ms) is Go\'s %s, to the second', (ms, text) => {
  expect(formatDuration(ms)).toBe(text);
});

test.each([
  [3_600_000, '1h'],
  [86_400_000, '24h'],
  [5_400_000, '1h30m'],
  [90_000, '1m30s'],
  [0, '0s'],
])('formatSpan(%d ms) is %s, a value --window takes', (ms, text) => {
  expect(formatSpan(ms)).toBe(text);
});

test('formatTime: RFC 3339 in UTC, whole seconds without .000', () => {
  expect(formatTime(new Date('2026-06-01T12:00:00Z'))).toBe('2026-06-01T12:00:00Z');
  expect(formatTime(new Date('2026-06-01T12:00:00.250Z'))).toBe('2026-06-01T12:00:00.250Z');
});

test.each([
  ['with the percent', { kind: 'memory', usage: '445644800', limit: '536870912', percent: 83 }, 'trigger=memory at 83% of the limit'],
  ['labels that do not say the percent', { kind: 'memory' }, 'trigger=memory'],
  ['a kind from outside, escaped', { kind: 'cpu\u001b[2J' }, 'trigger=cpu\\x1b[2J'],
])('triggerText: %s', (_name, facts, text) => {
  expect(triggerText(facts)).toBe(text);
});

test("notFoundLine: kubectl's words, the name escaped", () => {
  expect(notFoundLine('nope-1')).toBe('Error from server (NotFound): pods "nope-1" not found');
  expect(notFoundLine('a\u202eb')).toBe('Error from server (NotFound): pods "a\\u202eb" not found');
});

const podWithout = (lastTermination?: { container: string; reason?: string; exitCode?: number; finishedAt?: Date }): PostmortemReport => ({
  pods: [{ namespace: 'shop', pod: 'cart-1', service: 'cart-1', enabled: true, kills: [], ...(lastTermination ? { lastTermination } : {}) }],
  missing: [], windowMs: 3_600_000, lookbackMs: 86_400_000,
});

test.each([
  ['none has terminated', undefined, 'shop/cart-1: no container was OOM-killed (none has terminated)'],
  ['another reason', { container: 'app', reason: 'Error', exitCode: 2, finishedAt: new Date('2026-06-01T12:00:00Z') },
    'shop/cart-1: no container was OOM-killed (last termination: container app, Error, exit code 2, at 2026-06-01T12:00:00Z)'],
  // The kubelet always writes finishedAt; a status without it (written by hand) has no time to look before.
  ['an OOM kill without finishedAt', { container: 'app', reason: 'OOMKilled', exitCode: 137 },
    'shop/cart-1: container app was OOM-killed (exit code 137), but its status has no finishedAt: no time to look for heap snapshots before'],
])('a pod without a kill to examine, %s: one line', (_name, termination, line) => {
  expect(renderPostmortemTable(podWithout(termination), { store: 'the local store in /x' })).toBe(`${line}\n`);
});
