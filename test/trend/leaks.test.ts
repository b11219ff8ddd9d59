import { fitWithinProcesses, rankLeakSuspects, splitProcesses, type LeakSnapshot } from '../../src/trend/leaks.js';

const H = 3_600_000;
const snap = (pod: string, hour: number, values: Record<string, number>, sinceStart?: number): LeakSnapshot => ({
  pod,
  t: hour * H,
  sinceStart,
  flats: new Map(Object.entries(values).map(([k, v]) => [k, { name: k, value: v }])),
});

describe('leak suspects', () => {
  test.each([
    ['one line', [[{ x: 0, y: 1 }, { x: 1, y: 3 }, { x: 2, y: 5 }]], { slope: 2, r2: 1, processes: 1 }],
    ['two processes at different levels share one slope', [[{ x: 0, y: 10 }, { x: 1, y: 12 }], [{ x: 5, y: 0 }, { x: 6, y: 2 }]], { slope: 2, r2: 1, processes: 2 }],
    ['a flat series', [[{ x: 0, y: 4 }, { x: 1, y: 4 }]], { slope: 0, r2: 0, processes: 1 }],
    ['noise around a slope', [[{ x: 0, y: 0 }, { x: 1, y: 2 }, { x: 2, y: 1 }, { x: 3, y: 3 }]], { slope: 0.8, r2: 0.64, processes: 1 }],
  ])('fitWithinProcesses: %s', (_name, processes, want) => {
    const fit = fitWithinProcesses(processes)!;
    expect(fit.slope).toBeCloseTo(want.slope, 12);
    expect(fit.r2).toBeCloseTo(want.r2, 12);
    expect(fit.processes).toBe(want.processes);
  });

  test('fitWithinProcesses: single points and one instant fit nothing', () => {
    expect(fitWithinProcesses([[{ x: 1, y: 1 }], [{ x: 2, y: 5 }]])).toBeUndefined();
    expect(fitWithinProcesses([[{ x: 1, y: 1 }, { x: 1, y: 5 }]])).toBeUndefined();
  });

  test('splitProcesses: a new process per pod, and where the count since start goes down (a restart in place)', () => {
    const s = [snap('a', 0, {}, 10), snap('b', 0, {}), snap('a', 1, {}, 20), snap('a', 2, {}, 5), snap('b', 1, {}), snap('a', 3, {}, 9)];
    expect(splitProcesses(s).map((p) => p.map((x) => `${x.pod}@${x.t / H}`))).toEqual([['a@0', 'a@1'], ['a@2', 'a@3'], ['b@0', 'b@1']]);
  });

  test('a function growing within each life of a pod restarted mid-window ranks first; a steady big one and a shrinking one do not', () => {
    const snapshots: LeakSnapshot[] = [];
    for (let i = 0; i < 24; i++) {
      const age = i % 12; // restarted in place at hour 12
      snapshots.push(snap('pod-0', i, { leak: 1000 + 500 * age, steady: 50_000 + (i % 3) * 100, shrinking: 9000 - 10 * i, slow: 2000 + 100 * i + (i % 2) * 30 }, 100 * (age + 1)));
    }
    const ranked = rankLeakSuspects(snapshots);
    expect(ranked.map((s) => s.function)).toEqual(['leak', 'slow', 'steady']);
    expect(ranked[0]!.slopePerHour).toBeCloseTo(500, 9);
    expect(ranked[0]!.r2).toBeCloseTo(1, 12);
    expect(ranked[0]!.processes).toBe(2);
    // Without the restart seen (no count since start), the saw-tooth hides the leak behind `slow`.
    const blind = rankLeakSuspects(snapshots.map((s) => ({ ...s, sinceStart: undefined })));
    expect(blind[0]!.function).toBe('slow');
  });
});
