import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { CONFIGURATION_DOC, referencedNames, renderConfigurationReference } from './config-reference';

const ROOT = join(__dirname, '..', '..', '..', '..');
/** Test-only code (docs/architecture.md): simulators and test helpers read test settings, not the broker's. */
const TEST_ONLY = [/^libs\/simulators\//, /^libs\/testing\//, /\.(spec|medium-spec|e2e-spec|contract-spec)\.ts$/];

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sources(path);
    return path.endsWith('.ts') ? [path] : [];
  });
}

/**
 * Each variable name a production file of the broker, the sandbox or a lib reads by name
 * (`process.env.X`, `env.X`, `env['X']`), with the files. Other apps (the `jit` client in apps/cli)
 * are programs of their own with their own settings, not the broker's configuration.
 */
function variablesReadByName(): Map<string, string[]> {
  const found = new Map<string, string[]>();
  for (const file of ['apps/broker', 'apps/sandbox', 'libs'].flatMap((dir) => sources(join(ROOT, dir)))) {
    const rel = relative(ROOT, file);
    if (TEST_ONLY.some((p) => p.test(rel))) continue;
    const text = readFileSync(file, 'utf8');
    for (const m of text.matchAll(/\benv(?:\.([A-Z][A-Z0-9_]*)|\[\s*['"]([A-Z][A-Z0-9_]*)['"]\s*\])/g)) {
      const name = m[1] ?? m[2];
      found.set(name, [...(found.get(name) ?? []), rel]);
    }
  }
  return found;
}

describe('configuration reference', () => {
  it('should be what npm run docs:config writes now (run it after changing a variable)', () => {
    const expected = renderConfigurationReference();
    const current = readFileSync(CONFIGURATION_DOC, 'utf8');
    if (current !== expected) throw new Error('docs/configuration.md is out of date: run npm run docs:config and commit the file');
    expect(current).toBe(expected);
  });

  it('should list every environment variable that the broker, the sandbox and libs/ read by name', () => {
    const listed = referencedNames();
    const read = variablesReadByName();
    // The scan itself works: it finds reads we know of, in and out of the schemas.
    expect(read.get('DATABASE_URL')).toContain('apps/broker/src/cli/audit-archive.ts');
    expect(read.has('JIT_PROVIDERS')).toBe(true);
    const missing = [...read].filter(([name]) => !listed.has(name)).map(([name, files]) => `${name} (${[...new Set(files)].join(', ')})`);
    expect(missing).toEqual([]);
  });

  it('should document the deprecated provider names and the secrets as such', () => {
    const text = renderConfigurationReference();
    expect(text).toMatch(/\| `AWS_JIT_MEMBER_ACCOUNTS` \| `JIT_AWS_MEMBER_ACCOUNTS` \|/);
    expect(text).toMatch(/\| `GCP_STATIC_ACCESS_TOKEN` \| `JIT_GCP_STATIC_ACCESS_TOKEN` \|/);
    expect(text).toMatch(/\| `AZURE_CLIENT_SECRET` \|[^\n]*\(\*\*secret\*\*\) \|/);
  });
});
