import { readFileSync, statSync } from 'node:fs';
import { load } from 'js-yaml';

const manifest = load(readFileSync('plugin.yaml', 'utf8')) as Record<string, any>;
const pkg = JSON.parse(readFileSync('package.json', 'utf8'));

describe('plugin.yaml (krew manifest)', () => {
  test('has the krew header and a plugin name that matches the command', () => {
    expect(manifest.apiVersion).toBe('krew.googlecontainertools.github.com/v1alpha2');
    expect(manifest.kind).toBe('Plugin');
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

  test('every platform has a selector, a .tar.gz uri with sha256, files and a bin that exists here', () => {
    expect(manifest.spec.platforms.length).toBeGreaterThan(0);
    for (const platform of manifest.spec.platforms) {
      expect(platform.selector.matchLabels ?? platform.selector.matchExpressions).toBeDefined();
      expect(platform.uri).toMatch(new RegExp(`/v${pkg.version}/.*\\.tar\\.gz$`));
      expect(platform.sha256).toMatch(/^[0-9a-f]{64}$/);
      expect(platform.files.length).toBeGreaterThan(0);
      expect(platform.bin).toBe('bin/kubectl-profefe');
      expect(statSync(platform.bin).mode & 0o111).not.toBe(0);
    }
  });
});
