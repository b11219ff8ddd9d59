#!/usr/bin/env node
// `npm run bench`: each benchmark measures kubectl-profefe and, where there is one, the
// reference implementation in the same run, and prints a markdown table. Nothing asserts.
//
//   npm run bench                    everything
//   BENCH=merge npm run bench        only the merge benchmark (BENCH=capture, BENCH=store likewise)
import { buildGoTarget } from './common.mjs';
import { benchCapture } from './capture.mjs';
import { benchMerge } from './merge.mjs';
import { benchStore } from './store.mjs';

const which = (process.env.BENCH ?? 'merge,capture,store').split(',');
const bin = buildGoTarget();
if (which.includes('merge')) benchMerge(bin);
if (which.includes('capture')) await benchCapture(bin);
if (which.includes('store')) await benchStore();
