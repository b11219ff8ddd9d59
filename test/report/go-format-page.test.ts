/**
 * The page's formatting script (src/report/flame-page/go-format.js, plain script for the browser)
 * checked directly against Go and pprof's measurement package (test/support/go-ref) on the same
 * cases as src/report's formatters; flame-page.browser.test.ts checks it in Chromium too.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import vm from 'node:vm';
import type { Int64 } from '../../src/pprof/int64.js';
import { floatCases, int64Cases, percentageCases, UNIT_PAIRS } from './format-cases.js';
import { goRef, type GoRefRequest } from '../support/go-ref.js';

interface PageFormat {
  formatFloat(x: number, verb: 'f' | 'e' | 'g', prec: number): string;
  padLeft(s: string, width: number): string;
  scaledLabel(v: Int64, from: string, to: string): string;
  percentage(v: Int64, total: Int64): string;
}

let format: PageFormat;
beforeAll(async () => {
  const code = await readFile(path.resolve('src/report/flame-page/go-format.js'), 'utf8');
  const context = vm.createContext({ BigInt, DataView, ArrayBuffer, Number, Math, String, Object });
  vm.runInContext(`${code}\nthis.pprofFormat = pprofFormat;`, context);
  format = (context as unknown as { pprofFormat: PageFormat }).pprofFormat;
});

describe('the page’s go-format.js', () => {
  test('%.2f and %5.2g are fmt.Sprintf’s', async () => {
    const values = floatCases();
    const [f, g] = await Promise.all([
      goRef(values.map((value): GoRefRequest => ({ op: 'sprintf', format: '%.2f', value }))),
      goRef(values.map((value): GoRefRequest => ({ op: 'sprintf', format: '%5.2g', value }))),
    ]);
    const mismatches = values.flatMap((v, i) => {
      const ours = [format.formatFloat(v, 'f', 2), format.padLeft(format.formatFloat(v, 'g', 2), 5)];
      return ours[0] === f[i]!.out && ours[1] === g[i]!.out ? [] : [`${v}: ${ours.join(' ')} vs Go ${f[i]!.out} ${g[i]!.out}`];
    });
    expect(mismatches).toEqual([]);
  });

  test('ScaledLabel and Percentage are pprof’s, int64 limits included', async () => {
    const labels: GoRefRequest[] = UNIT_PAIRS.flatMap(([from, to]) => int64Cases().map((value): GoRefRequest => ({ op: 'scaledLabel', value, from, to })));
    const pcts = percentageCases();
    const [goLabels, goPcts] = await Promise.all([goRef(labels), goRef(pcts.map(([value, total]): GoRefRequest => ({ op: 'percentage', value, total })))]);
    const mismatches = [
      ...labels.flatMap((r, i) => (r.op === 'scaledLabel' && format.scaledLabel(r.value, r.from, r.to) !== goLabels[i]!.out ? [`${r.value} ${r.from}->${r.to}`] : [])),
      ...pcts.flatMap(([v, t], i) => (format.percentage(v, t) !== goPcts[i]!.out ? [`${v}/${t}`] : [])),
    ];
    expect(mismatches).toEqual([]);
  });
});
