#!/usr/bin/env node
// `npm run bench`: each benchmark measures kubectl-profefe and, where there is one, the
// reference implementation in the same run, and prints a markdown table. Nothing asserts.
//
//   npm run bench                    everything
//   BENCH=merge npm run bench        only the merge benchmark (BENCH=page, capture, store, collect, shard, startup, trend, triggers, top-usage likewise)
import { buildGoTarget } from './common.mjs';
import { benchCapture } from './capture.mjs';
import { benchCollect } from './collect.mjs';
import { benchMerge } from './merge.mjs';
import { benchPage } from './page.mjs';
import { benchShard } from './shard.mjs';
import { benchStartup } from './startup.mjs';
import { benchStore } from './store.mjs';
import { benchTopUsage } from './top-usage.mjs';
import { benchTrend } from './trend.mjs';
import { benchTriggers } from './triggers.mjs';

const which = (process.env.BENCH ?? 'startup,merge,page,capture,store,collect,shard,trend,triggers,top-usage').split(',');
const bin = buildGoTarget();
if (which.includes('startup')) await benchStartup(bin);
if (which.includes('merge')) benchMerge(bin);
if (which.includes('page')) await benchPage(bin);
if (which.includes('capture')) await benchCapture(bin);
if (which.includes('store')) await benchStore(bin);
if (which.includes('collect')) await benchCollect(bin);
if (which.includes('shard')) await benchShard(bin);
if (which.includes('trend')) await benchTrend();
if (which.includes('triggers')) await benchTriggers();
if (which.includes('top-usage')) await benchTopUsage();
