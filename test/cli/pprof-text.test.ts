/**
 * `kubectl profefe merge --top N` is `go tool pprof -top -nodecount=N`, byte for byte from the
 * "Showing nodes" line on, on generated profiles that each stress one of pprof's report rules:
 * percentages on exact binary ties and below 1%, the one output unit, node-fraction trimming and
 * -nodecount legends, int64 values beyond 2^53 and sums that wrap, frames without symbols
 * (with and without a mapping, nameless functions), inlined frames and their markers, and
 * drop_frames / keep_frames with RE2-only syntax or a pattern Go cannot compile.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { encodeProfile } from '../../src/pprof/index.js';
import { toInt64 } from '../../src/pprof/int64.js';
import { goPprofTopText, withOurTopHeader } from '../support/go-pprof.js';
import { buildProfile, type ProfileSpec, type SampleSpec } from '../support/profile-builder.js';
import { runCli } from '../support/run-cli.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'pprof-text-'));
});
afterAll(() => (process.env.KEEP_DIR ? console.log(dir) : rm(dir, { recursive: true, force: true })));

const cpu = (stack: string, ns: number | bigint, count: number | bigint = 1): SampleSpec => ({ stack, values: [count, ns] });
const P53 = 2n ** 53n;
const P63 = 2n ** 63n;

/** name, profile, -nodecount values, sample types to report (undefined: the default). */
const CASES: [string, ProfileSpec, number[], (string | undefined)[]][] = [
  [
    'percentages on exact binary ties (40.625% is 40.62%) and below 1% (%5.2g)',
    { samples: [cpu('main;a', 325), cpu('main;b', 275), cpu('main;c', 100), cpu('main;d', 1), cpu('main;e', 99)] },
    [0, 3],
    [undefined, 'samples'],
  ],
  [
    'one output unit for the report: the smallest value decides, scaled up beside a large total',
    {
      sampleTypes: [['alloc_space', 'bytes'], ['inuse_space', 'bytes']],
      periodType: ['space', 'bytes'],
      samples: [
        { stack: 'main;small', values: [100, 100] },
        { stack: 'main;big', values: [9 << 20, 9900] },
        { stack: 'main;mid', values: [1536, 10240] },
      ],
    },
    [0, 1, 2],
    ['alloc_space', 'inuse_space'],
  ],
  [
    'node-fraction trimming: many small nodes dropped, the top N of the rest',
    { samples: [cpu('main;hot', 1_000_000_000), ...Array.from({ length: 30 }, (_, i) => cpu(`main;cold${i};leaf${i % 3}`, 1_000_000 * (i + 1)))] },
    [0, 5, 40],
    [undefined],
  ],
  [
    'int64 values at and beyond 2^53, a sum that wraps past MaxInt64',
    {
      samples: [
        cpu('main;a', toInt64(P53 + 1n), toInt64(P53 - 1n)),
        cpu('main;b', toInt64(P53), 3),
        cpu('main;c;d', toInt64(P63 - 1n), toInt64(P63 - 1n)),
        cpu('main;c;e', 12345, toInt64(P63 - 1n)),
      ],
    },
    [0, 2],
    [undefined, 'samples'],
  ],
  [
    'negative values (a hand-made diff), MinInt64, and a node whose values cancel',
    { samples: [cpu('main;a', -40), cpu('main;b', 30), cpu('main;c', toInt64(-P63), -1), cpu('main;d;x', 5), cpu('main;d;y', -5)] },
    [0],
    [undefined, 'samples'],
  ],
  [
    'frames without symbols: [binary] per mapping, <unknown>, nameless functions by start line',
    {
      mapping: { start: 0x400000, limit: 0x800000, file: '/usr/local/bin/app', buildId: 'b1d2c3' },
      samples: [cpu('@0x45a9f0;@0x461010', 30), cpu('@0x45a9f0;@0x4610f0', 20), cpu('@0x45a9f0;@@0x7f0000001000', 10), cpu('main;#12', 7), cpu('main;#13', 7), cpu('main;#12;@0x461010', 3), cpu('@@0x7f0000001000;main', 4)],
    },
    [0, 2],
    [undefined],
  ],
  [
    'inlined frames: (inline) and (partial-inline) markers, edges under the edge fraction ignored',
    {
      samples: [
        cpu('main;parse+strconv.Atoi+strconv.ParseInt', 500),
        cpu('main;handler;strconv.Atoi', 300),
        cpu('main;encode+json.Marshal', 200),
        cpu('main;tiny+json.Marshal', 1),
        cpu('main;fmt.Sprintf+fmt.doPrintf', 100),
      ],
    },
    [0, 3],
    [undefined],
  ],
  [
    'drop_frames and a keep_frames that rescues a frame, with RE2-only syntax',
    {
      dropFrames: '\\A(?P<pkg>runtime)\\.[[:alpha:]]+\\z|(?i)SYNC\\..*',
      keepFrames: 'runtime\\.keep\\pL+',
      samples: [
        cpu('main;handler;runtime.mallocgc;runtime.nextFreeFast', 70),
        cpu('main;handler;runtime.keepalive;runtime.memmove', 20),
        cpu('main;worker;sync.(*Mutex).Lock;sync.runtime_SemacquireMutex', 40),
        cpu('runtime.goexit;runtime.gcBgMarkWorker', 15),
        cpu('main;readBody+runtime.makeslice+runtime.mallocgc', 33),
      ],
    },
    [0],
    [undefined],
  ],
  [
    'a drop_frames Go cannot compile: nothing is dropped',
    { dropFrames: 'runtime\\.(?=malloc)', samples: [cpu('main;handler;runtime.mallocgc', 70), cpu('main;other', 30)] },
    [0],
    [undefined],
  ],
  [
    'a unit pprof does not know, and counts',
    { sampleTypes: [['widgets', 'widgets'], ['events', 'count']], periodType: ['widgets', 'widgets'], samples: [{ stack: 'main;a', values: [1234567, 3] }, { stack: 'main;b', values: [89, 1] }] },
    [0],
    ['widgets', 'events'],
  ],
];

describe('merge --nodes N is go tool pprof -top -nodecount=N', () => {
  test.each(CASES)('%s', async (name, spec, nodeCounts, sampleTypes) => {
    const file = path.join(dir, `${name.replace(/\W+/g, '-').slice(0, 60)}.pb.gz`);
    await writeFile(file, encodeProfile(buildProfile(spec)));
    for (const n of nodeCounts) {
      for (const sampleType of sampleTypes) {
        const run = await runCli(['merge', file, '--nodes', String(n), ...(sampleType ? ['--sample-type', sampleType] : [])]);
        expect(run.code).toBe(0);
        const ours = run.stdout.toString();
        const go = withOurTopHeader(await goPprofTopText([file], { nodeCount: n, sampleIndex: sampleType }));
        expect({ n, sampleType, text: ours.slice(ours.indexOf('Showing nodes')) }).toEqual({ n, sampleType, text: go });
      }
    }
  });
});
