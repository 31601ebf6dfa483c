import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const ROOT = join(__dirname, '..', '..', '..');
const DOCUMENT = join(ROOT, 'docs', 'openapi.json');
const GENERATED = join(__dirname, 'openapi.generated.ts');

describe('openapi.generated.ts', () => {
  it('should be what openapi-typescript writes from docs/openapi.json now (run npm run openapi after an API change)', () => {
    const fresh = join(mkdtempSync(join(tmpdir(), 'jit-client-')), 'openapi.generated.ts');
    execFileSync(process.execPath, [join(ROOT, 'node_modules', 'openapi-typescript', 'bin', 'cli.js'), DOCUMENT, '-o', fresh], { stdio: 'pipe' });
    expect(readFileSync(GENERATED, 'utf8')).toBe(readFileSync(fresh, 'utf8'));
  });

  it('should type every operation of the document, by its operationId', () => {
    const document = JSON.parse(readFileSync(DOCUMENT, 'utf8')) as { paths: Record<string, Record<string, { operationId: string }>> };
    const ids = Object.values(document.paths).flatMap((item) => Object.values(item).map((o) => o.operationId));
    const generated = readFileSync(GENERATED, 'utf8');
    const operations = generated.slice(generated.indexOf('export interface operations {'));
    expect(ids.length).toBeGreaterThan(10);
    for (const id of ids) expect({ id, typed: operations.includes(`\n    ${id}: {`) }).toEqual({ id, typed: true });
  });
});
