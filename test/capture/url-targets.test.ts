import { parsePprofUrl, urlTargets } from '../../src/capture/url-targets.js';
import { uploadLabels } from '../../src/capture/store-sink.js';
import { targetFileStem } from '../../src/capture/local-sink.js';

describe('parsePprofUrl', () => {
  test.each([
    ['a host and port: the default prefix', 'http://127.0.0.1:6060', { hostname: '127.0.0.1', port: 6060, hostPort: '127.0.0.1:6060', path: '/debug/pprof', display: 'http://127.0.0.1:6060/debug/pprof' }],
    ['a trailing slash means the default prefix', 'http://localhost:6060/', { path: '/debug/pprof', display: 'http://localhost:6060/debug/pprof' }],
    ['a prefix of its own, without its trailing slash', 'http://api:8080/internal/pprof/', { path: '/internal/pprof', display: 'http://api:8080/internal/pprof' }],
    ['http without a port: 80', 'http://api', { port: 80, hostPort: 'api:80' }],
    ['https without a port: 443', 'https://api.example.com', { protocol: 'https', port: 443, hostPort: 'api.example.com:443' }],
    ['IPv6: brackets in host:port, none to connect to', 'http://[::1]:6060', { hostname: '::1', hostPort: '[::1]:6060', display: 'http://[::1]:6060/debug/pprof' }],
    ['user information: Basic authorization, not in display', 'http://al%40ce:p%3Ass@h:1', { authorization: `Basic ${Buffer.from('al@ce:p:ss').toString('base64')}`, display: 'http://h:1/debug/pprof' }],
  ])('%s', (_what, raw, expected) => {
    expect(parsePprofUrl(raw)).toMatchObject(expected);
  });

  test.each([
    ['ftp://h:1', /only http and https/],
    ['h:1', /has no scheme/],
    ['http://h:1/debug/pprof#x', /without \? or #/],
    ['https://user:pw@[', /"https:\/\/\*\*\*@\[" is not a URL/],
  ])('%s is refused', (raw, message) => {
    expect(() => parsePprofUrl(raw)).toThrow(message);
  });
});

describe('urlTargets', () => {
  test('one target per URL, named by host:port, labelled url= on upload and named HOST_PORT in files', () => {
    const [t, ...rest] = urlTargets([parsePprofUrl('http://bob:pw@127.0.0.1:6060'), parsePprofUrl('http://127.0.0.1:6060/debug/pprof/')]);
    expect(rest).toEqual([]);
    expect(t).toMatchObject({ namespace: '', pod: '127.0.0.1:6060', service: '127.0.0.1_6060', url: 'http://127.0.0.1:6060/debug/pprof', podIP: '127.0.0.1', port: 6060 });
    expect(targetFileStem(t!)).toBe('127.0.0.1_6060');
    const labels = uploadLabels({ target: t!, type: 'allocs', bytes: new Uint8Array([1]), takenAt: new Date(0), samples: 0, delta: 'server' }, []);
    expect(labels.map((l) => l.key)).toEqual(['delta', 'from', 'profile', 'upload_id', 'url']);
    expect(labels.find((l) => l.key === 'url')!.value).toBe('127.0.0.1:6060');
    expect(JSON.stringify(labels)).not.toMatch(/bob|pw/);
  });

  test('--service names every target; a bad one is refused', () => {
    expect(urlTargets([parsePprofUrl('http://a:1'), parsePprofUrl('http://b:2')], 'api').map((t) => t.service)).toEqual(['api', 'api']);
    expect(() => urlTargets([parsePprofUrl('http://a:1')], '..')).toThrow(/--service "\.\." is not a name/);
    expect(() => urlTargets([parsePprofUrl('http://a:1')], 'a\u001b[31m')).toThrow(/control characters/);
  });
});
