import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { targetKinds } from '../target-kinds';
import { offlineOpenApiDocument } from './openapi-document';

const COMMITTED = join(__dirname, '..', '..', '..', '..', 'docs', 'openapi.json');

type Operation = { operationId?: string; security?: unknown[]; tags?: string[]; responses: Record<string, { content?: Record<string, unknown> }> };

describe('the OpenAPI document', () => {
  let document: Awaited<ReturnType<typeof offlineOpenApiDocument>>;
  beforeAll(async () => {
    document = await offlineOpenApiDocument(targetKinds);
  });
  const operations = () =>
    Object.entries(document.paths).flatMap(([path, item]) =>
      Object.entries(item as Record<string, Operation>).map(([method, operation]) => ({ name: `${method.toUpperCase()} ${path}`, operation })),
    );

  it('should be committed as docs/openapi.json as the code writes it (run npm run openapi after an API change)', () => {
    expect(JSON.parse(readFileSync(COMMITTED, 'utf8'))).toEqual(JSON.parse(JSON.stringify(document)));
  });

  it('should give every operation an operationId, a tag and its security, and every error a problem+json body', () => {
    const ids = operations().map((o) => o.operation.operationId);
    expect(new Set(ids).size).toBe(ids.length);
    for (const { name, operation } of operations()) {
      expect({ name, tagged: (operation.tags ?? []).length > 0, secured: Array.isArray(operation.security) }).toEqual({ name, tagged: true, secured: true });
      for (const [status, response] of Object.entries(operation.responses)) {
        const media = Object.keys(response.content ?? {});
        expect({ name, status, media: media.length > 0 }).toEqual({ name, status, media: true });
        // GET /health's 503 is its own "down" answer; every other error is a problem.
        if (Number(status) >= 400 && !(status === '503' && name === 'GET /health')) {
          expect({ name, status, media }).toEqual({ name, status, media: ['application/problem+json'] });
        }
      }
    }
  });

  it('should name the public URL as the server when one is configured (JIT_PUBLIC_URL), else the serving broker', async () => {
    expect(document.servers).toEqual([{ url: '/', description: 'the broker serving this document' }]);
    const published = await offlineOpenApiDocument(targetKinds, 'https://jit.example.com');
    expect(published.servers).toEqual([{ url: 'https://jit.example.com', description: 'this broker' }]);
  });
});
