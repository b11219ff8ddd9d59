/** doctor's report over a fixed report: the table's exact lines, the ok profile types on one line, escaping, and the data of -o json/yaml. */
import type { DoctorReport } from '../../src/doctor/findings.js';
import { doctorData, renderDoctorJson, renderDoctorTable, renderDoctorYaml, summarizeDoctor } from '../../src/report/doctor-report.js';

const report: DoctorReport = {
  connect: 'port-forward',
  store: [{ check: 'store', severity: 'ok', code: 'store-ok', message: 'the local store in /data/store: 2 services stored' }],
  cluster: [{ check: 'access', severity: 'ok', code: 'list-pods', message: 'list pods in namespace "shop": allowed' }],
  pods: [
    {
      namespace: 'shop',
      pod: 'api-1',
      endpoint: { port: 6060, path: '/debug/pprof', service: 'api', container: 'app' },
      findings: [
        { check: 'annotations', severity: 'ok', code: 'endpoint', message: 'pprof is looked for at port 6060 of container "app", path /debug/pprof, service "api"' },
        { check: 'profiles', severity: 'ok', code: 'type-ok', profileType: 'heap', samples: 12, bytes: 900, message: 'heap: 12 samples' },
        { check: 'profiles', severity: 'warn', code: 'block-disabled', profileType: 'block', samples: 0, bytes: 80, message: 'block: no samples', fix: 'call runtime.SetBlockProfileRate(rate) in main' },
        { check: 'profiles', severity: 'ok', code: 'type-ok', profileType: 'goroutine', samples: 1, bytes: 300, message: 'goroutine: 1 sample' },
      ],
    },
    {
      namespace: 'shop',
      pod: 'web-1',
      findings: [{ check: 'annotations', severity: 'error', code: 'port-name', message: 'profefe.com/port "p\u202eo\u001b[2J" names no port', fix: 'name the container port' }],
    },
    { namespace: 'shop', pod: 'ok-1', findings: [{ check: 'endpoint', severity: 'ok', code: 'serving', message: 'answers' }] },
  ],
  missing: [{ namespace: 'shop', pod: 'gone-1' }],
};

test('the table: store and access lines, a block per pod with its verdict, the ok types on one line, a summary', () => {
  expect(renderDoctorTable(report)).toBe(
    [
      'ok     store        the local store in /data/store: 2 services stored',
      'ok     access       list pods in namespace "shop": allowed',
      '',
      'shop/api-1: needs attention (1 warning)',
      '  ok     annotations  pprof is looked for at port 6060 of container "app", path /debug/pprof, service "api"',
      '  ok     profiles     heap: 12 samples, goroutine: 1 sample',
      '  warn   profiles     block: no samples. Fix: call runtime.SetBlockProfileRate(rate) in main',
      '',
      'shop/web-1: needs attention (1 error)',
      '  error  annotations  profefe.com/port "p\\u202eo\\x1b[2J" names no port. Fix: name the container port',
      '',
      'shop/ok-1: all well',
      '  ok     endpoint     answers',
      '',
      '3 pods examined: 1 all well, 2 need attention (1 error, 1 warning in all); 1 pod not found',
      '',
    ].join('\n'),
  );
});

test('on a terminal of 80 columns, a long finding is wrapped under its own column; a pipe gets one line each', () => {
  const lines = renderDoctorTable(report, undefined, 80).split('\n');
  expect(lines.slice(4, 8)).toEqual([
    '  ok     annotations  pprof is looked for at port 6060 of container "app", path',
    '                      /debug/pprof, service "api"',
    '  ok     profiles     heap: 12 samples, goroutine: 1 sample',
    '  warn   profiles     block: no samples. Fix: call',
  ]);
  expect(lines[8]).toBe('                      runtime.SetBlockProfileRate(rate) in main');
  expect(Math.max(...lines.map((l) => l.length))).toBeLessThanOrEqual(80);
  // Too narrow to read in columns: one line each, as in a pipe.
  expect(renderDoctorTable(report, undefined, 40)).toBe(renderDoctorTable(report));
});

test('the summary counts pods and the findings of the whole report', () => {
  expect(summarizeDoctor(report)).toEqual({ pods: 3, allWell: 1, errors: 1, warnings: 1 });
});

test('-o json: every finding with its code and fix, a verdict per pod and for the whole; controls escaped, the value the same', () => {
  const text = renderDoctorJson(report);
  expect(text).not.toMatch(/[\u202e\u001b]/);
  const data = JSON.parse(text);
  expect(data).toEqual(JSON.parse(JSON.stringify(doctorData(report))));
  expect(data).toMatchObject({ connect: 'port-forward', verdict: 'error', missing: [{ namespace: 'shop', pod: 'gone-1' }] });
  expect(data.pods.map((p: { verdict: string }) => p.verdict)).toEqual(['warn', 'error', 'ok']);
  expect(data.pods[0].findings[2]).toEqual({ check: 'profiles', severity: 'warn', code: 'block-disabled', message: 'block: no samples', fix: 'call runtime.SetBlockProfileRate(rate) in main', profileType: 'block', samples: 0, bytes: 80 });
  expect(data.pods[1].findings[0].message).toBe('profefe.com/port "p\u202eo\u001b[2J" names no port');
});

test('-o yaml: the same data, controls escaped', () => {
  const text = renderDoctorYaml(report);
  expect(text).toMatch(/^verdict: error$/m);
  expect(text).toContain('message: "profefe.com/port \\"p\\u202eo\\u001b[2J\\" names no port"');
});

test('-o json: a named pod that does not exist makes the whole verdict an error, as it makes the exit status 1, however well the rest is', () => {
  const onlyMissing: DoctorReport = { ...report, pods: [report.pods[2]!] };
  expect(doctorData(onlyMissing)).toMatchObject({ verdict: 'error', pods: [{ pod: 'ok-1', verdict: 'ok' }], missing: [{ namespace: 'shop', pod: 'gone-1' }] });
  expect(doctorData({ ...onlyMissing, missing: [] })).toMatchObject({ verdict: 'ok' });
});
