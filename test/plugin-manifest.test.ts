/**
 * plugin.yaml, the krew manifest template: what krew reads from it, and which archive each
 * platform gets. The sha256 values are filled in by `npm run release` (test/release/).
 */
import { readFileSync, statSync } from 'node:fs';
import { load } from 'js-yaml';
import { SHA256_PLACEHOLDER } from '../scripts/release.mjs';

const manifest = load(readFileSync('plugin.yaml', 'utf8')) as Record<string, any>;
const pkg = JSON.parse(readFileSync('package.json', 'utf8'));

interface Selector {
  matchLabels?: Record<string, string>;
  matchExpressions?: { key: string; operator: 'In' | 'NotIn' | 'Exists' | 'DoesNotExist'; values?: string[] }[];
}

/** A Kubernetes label selector, as krew matches it against {os, arch}. */
function matches(selector: Selector, labels: Record<string, string>): boolean {
  const byLabels = Object.entries(selector.matchLabels ?? {}).every(([k, v]) => labels[k] === v);
  const byExpressions = (selector.matchExpressions ?? []).every((e) => {
    switch (e.operator) {
      case 'In':
        return e.values!.includes(labels[e.key]!);
      case 'NotIn':
        return !e.values!.includes(labels[e.key]!);
      case 'Exists':
        return e.key in labels;
      case 'DoesNotExist':
        return !(e.key in labels);
    }
  });
  return byLabels && byExpressions;
}

describe('plugin.yaml (krew manifest)', () => {
  test('has the krew header and the name that makes the command `kubectl profefe`', () => {
    expect(manifest.apiVersion).toBe('krew.googlecontainertools.github.com/v1alpha2');
    expect(manifest.kind).toBe('Plugin');
    // krew links the plugin as kubectl-<name>: the name is the command.
    expect(manifest.metadata.name).toBe('profefe');
  });

  test('declares the package version with a v prefix and describes the plugin', () => {
    expect(manifest.spec.version).toBe(`v${pkg.version}`);
    expect(manifest.spec.shortDescription.length).toBeGreaterThan(10);
    expect(manifest.spec.shortDescription.length).toBeLessThanOrEqual(60);
    expect(manifest.spec.description).toMatch(/pprof/);
    expect(manifest.spec.homepage).toMatch(/^https:\/\//);
    expect(manifest.spec.caveats).toMatch(/node/i);
  });

  test('every platform has a selector, a release .tar.gz uri, a sha256 for the release to fill in, files and bin', () => {
    expect(manifest.spec.platforms.length).toBeGreaterThan(0);
    for (const platform of manifest.spec.platforms) {
      expect(platform.selector.matchLabels ?? platform.selector.matchExpressions).toBeDefined();
      expect(platform.uri).toMatch(new RegExp(`/releases/download/v${pkg.version}/kubectl-profefe-v${pkg.version}(-linux-amd64)?\\.tar\\.gz$`));
      expect(platform.sha256).toBe(SHA256_PLACEHOLDER);
      expect(platform.files).toEqual([{ from: 'kubectl-profefe/*', to: '.' }]);
      expect(platform.bin).toBe('bin/kubectl-profefe');
    }
    expect(statSync('bin/kubectl-profefe').mode & 0o111).not.toBe(0);
  });

  test.each([
    ['linux', 'amd64', '-linux-amd64.tar.gz'],
    ['linux', 'arm64', `v${pkg.version}.tar.gz`],
    ['darwin', 'amd64', `v${pkg.version}.tar.gz`],
    ['darwin', 'arm64', `v${pkg.version}.tar.gz`],
  ])('%s/%s gets exactly one archive: …%s', (os, arch, archive) => {
    const found = manifest.spec.platforms.filter((p: { selector: Selector }) => matches(p.selector, { os, arch }));
    expect(found).toHaveLength(1);
    expect(found[0].uri.endsWith(archive)).toBe(true);
  });

  test('windows gets nothing (the launcher is a shebang script)', () => {
    expect(manifest.spec.platforms.filter((p: { selector: Selector }) => matches(p.selector, { os: 'windows', arch: 'amd64' }))).toEqual([]);
  });
});
