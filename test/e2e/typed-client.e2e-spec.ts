import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import Ajv from 'ajv/dist/2020';
import { GrantRequest, JitApiError, createJitClient } from '@jit/client';
import { TOKENS, TestBroker, awsPolicyGrant, startTestBroker } from '../setup/test-broker';

interface OpenApiDocument {
  paths: Record<string, Record<string, { operationId: string; responses: Record<string, { content?: Record<string, { schema: object }> }> }>>;
}

const DOCUMENT = JSON.parse(readFileSync(join(__dirname, '..', '..', 'docs', 'openapi.json'), 'utf8')) as OpenApiDocument;

/** A response the client received, as the wire had it. */
interface Seen {
  method: string;
  path: string;
  status: number;
  mediaType: string;
  body: unknown;
}

/** The operation of the document that a concrete path and method belong to. */
function operationOf(method: string, path: string) {
  for (const [template, operations] of Object.entries(DOCUMENT.paths)) {
    const pattern = new RegExp(`^${template.replace(/\{[^}]+\}/g, '[^/]+')}$`);
    const operation = operations[method.toLowerCase()];
    if (pattern.test(path) && operation) return { template, operation };
  }
  return undefined;
}

describe('@jit/client against a running broker', () => {
  let t: TestBroker;
  const seen: Seen[] = [];
  /** Records every JSON response it passes on, to validate against the document afterwards. */
  const recordingFetch = async (request: Request): Promise<Response> => {
    const response = await fetch(request);
    const mediaType = (response.headers.get('content-type') ?? '').split(';')[0].trim();
    if (mediaType === 'application/json' || mediaType === 'application/problem+json') {
      seen.push({ method: request.method, path: new URL(request.url).pathname, status: response.status, mediaType, body: await response.clone().json() });
    }
    return response;
  };
  const as = (who: keyof typeof TOKENS) => createJitClient({ baseUrl: t.broker.url!, token: TOKENS[who], fetch: recordingFetch });

  beforeAll(async () => {
    t = await startTestBroker();
  });
  afterAll(async () => {
    await t.close();
  });

  it('should request a grant (201), replay it by Idempotency-Key (200, same grant), get, list and revoke it', async () => {
    const alice = as('alice');
    const body = awsPolicyGrant() as GrantRequest;

    const created = await alice.requestGrant(body, { idempotencyKey: 'typed-client-1' });
    expect(created.status).toBe(201);
    expect(created.grant).toMatchObject({ state: 'active', requestedBy: 'alice', cloud: 'aws' });
    const replayed = await alice.requestGrant(body, { idempotencyKey: 'typed-client-1' });
    expect(replayed).toMatchObject({ status: 200, grant: { id: created.grant.id } });

    expect(await alice.getGrant(created.grant.id)).toMatchObject({ id: created.grant.id, state: 'active' });
    const page = await alice.listGrants({ cloud: 'aws', limit: 1 });
    expect(page.items.map((g) => g.id)).toEqual([created.grant.id]);

    const revoked = await alice.revokeGrant(created.grant.id, { reason: 'typed client done' });
    expect(revoked).toMatchObject({ status: 200, grant: { state: 'revoked', endReason: 'revoked' } });
    const all = [];
    for await (const g of alice.allGrants({ state: 'revoked', limit: 1 })) all.push(g.id);
    expect(all).toContain(created.grant.id);
  });

  it('should throw a JitApiError naming the field for bad input, and carry the problem of a 404 and a 401', async () => {
    const alice = as('alice');
    const bad = await alice.requestGrant(awsPolicyGrant({ target: { kind: 'aws.no-such-kind' } }) as GrantRequest).catch((e: unknown) => e);
    expect(bad).toBeInstanceOf(JitApiError);
    expect(bad).toMatchObject({ status: 400, code: 'validation', type: 'urn:jit-broker:problem:validation', field: 'target.kind' });

    const missing = await alice.getGrant('00000000-0000-4000-8000-000000000000').catch((e: unknown) => e);
    expect(missing).toMatchObject({ status: 404, code: 'not_found' });

    const stranger = createJitClient({ baseUrl: t.broker.url!, getToken: () => 'tok-nobody-0000000000000000000000', fetch: recordingFetch });
    const refused = await stranger.listGrants().catch((e: unknown) => e);
    expect(refused).toMatchObject({ status: 401, code: 'unauthenticated', title: 'Unauthorized' });
  });

  it('should read the audit log, verify it and list checkpoints as an auditor, and refuse a requester with 403', async () => {
    const auditor = as('auditor');
    const page = await auditor.listAuditEvents({ limit: 5 });
    expect(page.items.length).toBeGreaterThan(0);
    expect((await auditor.verifyAuditChain({ full: 'true' })).ok).toBe(true);
    expect((await auditor.listAuditCheckpoints({ limit: 10 })).signed).toBe(true);
    await expect(as('alice').listAuditEvents()).rejects.toMatchObject({ status: 403, code: 'forbidden' });
    const exported = await new Response(await auditor.exportAuditEvents('jsonl')).text();
    expect(exported.trim().split('\n').length).toBeGreaterThanOrEqual(page.items.length);
  });

  it('should name the query parameter at fault, and give 409 for a force-close of a grant that has not failed', async () => {
    await expect(as('alice').listGrants({ limit: 0 })).rejects.toMatchObject({ status: 400, code: 'validation', field: 'limit' });
    const { grant } = await as('alice').requestGrant(awsPolicyGrant() as GrantRequest);
    await expect(as('admin').revokeGrant(grant.id, { force: true })).rejects.toMatchObject({ status: 409, code: 'invalid_state', field: 'force' });
  });

  it('should serve at /docs the document committed as docs/openapi.json', async () => {
    const served = await as('alice').api.GET('/docs');
    expect(served.data).toEqual(DOCUMENT);
  });

  it('should evaluate a request and read the rules as an admin', async () => {
    const admin = as('admin');
    expect(await admin.evaluateGrantRequest(awsPolicyGrant() as GrantRequest)).toMatchObject({ effect: 'allow' });
    expect((await admin.getAccessRules()).version).toMatch(/^[0-9a-f]{64}$/);
  });

  it('should have received only responses that the API document describes, each valid against its schema', () => {
    const ajv = new Ajv({ strict: false, validateFormats: false, allErrors: true });
    ajv.addSchema(DOCUMENT, 'openapi');
    expect(seen.length).toBeGreaterThanOrEqual(15);
    const checked = new Set<string>();
    for (const r of seen) {
      const found = operationOf(r.method, r.path);
      expect({ request: `${r.method} ${r.path}`, documented: found !== undefined }).toEqual({ request: `${r.method} ${r.path}`, documented: true });
      const { template, operation } = found!;
      const content = operation.responses[String(r.status)]?.content?.[r.mediaType];
      expect({ operation: operation.operationId, status: r.status, mediaType: r.mediaType, documented: content !== undefined }).toMatchObject({ documented: true });
      const pointer = `openapi#/paths/${template.replace(/~/g, '~0').replace(/\//g, '~1')}/${r.method.toLowerCase()}/responses/${r.status}/content/${r.mediaType.replace(/\//g, '~1')}/schema`;
      const validate = ajv.getSchema(pointer)!;
      const valid = validate(r.body);
      expect({ operation: operation.operationId, status: r.status, errors: valid ? null : validate.errors }).toEqual({ operation: operation.operationId, status: r.status, errors: null });
      checked.add(`${operation.operationId} ${r.status}`);
    }
    // Each kind of answer this suite provokes was checked at least once.
    expect([...checked].sort()).toEqual(
      expect.arrayContaining(['listGrants 400', 'revokeGrant 409', 'requestGrant 201', 'requestGrant 200', 'requestGrant 400', 'getGrant 200', 'getGrant 404', 'listGrants 200', 'listGrants 401', 'revokeGrant 200', 'listAuditEvents 200', 'listAuditEvents 403', 'verifyAuditChain 200', 'listAuditCheckpoints 200', 'evaluateGrantRequest 200', 'getAccessRules 200']),
    );
  });
});
