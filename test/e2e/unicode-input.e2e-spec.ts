import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LocalOidcIssuer, startLocalOidcIssuer } from '@jit/testing';
import { TestBroker, awsPolicyGrant, startTestBroker } from '../setup/test-broker';

/**
 * Issue 10, point 1: a lone UTF-16 surrogate was hashed as a JS string but stored by PostgreSQL
 * as U+FFFD (text) or refused with a 500 (jsonb), which broke `/v1/audit/verify` for good. Every
 * edge now refuses ill-formed text with a 4xx naming the field, and the chain stays verifiable.
 */
const rules = (issuer: string) => `
version: 1
groups:
  sre: []
issuers:
  - name: ci
    issuer: ${issuer}
    audience: jit-broker
    groupsClaim: groups
    roles: [requester]
rules:
  - name: ci-deploy
    requesters:
      - issuer: ci
        claims: { repository: acme/app }
    targets:
      - { kind: aws.iam-policy, actions: ["*"], resources: ["*"] }
    maxDuration: PT1H
    approval: auto
  - name: people-gcp
    requesters:
      - subjects: [alice]
    targets:
      - { kind: gcp.iam-binding, roles: ["*"], resources: ["*"] }
    maxDuration: PT1H
    approval: { approvals: 1, from: [sre] }
  - name: people-aws
    requesters:
      - subjects: [alice]
    targets:
      - { kind: aws.iam-policy, actions: ["s3:*"], resources: ["*"] }
    maxDuration: PT1H
    approval: auto
`;

const LONE_HIGH = '\ud800';
const LONE_LOW = '\udc00';

describe('ill-formed Unicode at every edge', () => {
  let t: TestBroker;
  let oidc: LocalOidcIssuer;

  beforeAll(async () => {
    oidc = await startLocalOidcIssuer();
    const dir = mkdtempSync(join(tmpdir(), 'jit-unicode-'));
    const policyPath = join(dir, 'rules.yaml');
    writeFileSync(policyPath, rules(oidc.issuer));
    t = await startTestBroker({ JIT_POLICY_FILE: policyPath, JIT_POLICY_RELOAD_INTERVAL: 'PT1H' });
  });
  afterAll(async () => {
    await t?.close();
    await oidc?.close();
  });

  const gcpRequest = (over: Record<string, unknown> = {}) => ({
    cloud: 'gcp',
    principal: { type: 'user', id: 'user:alice@example.com' },
    target: { kind: 'gcp.iam-binding', resource: 'projects/acme-prod', role: 'roles/storage.objectViewer' },
    duration: 'PT30M',
    justification: 'restore a deleted object',
    ...over,
  });
  /** JSON.stringify writes a lone surrogate as the escape `\ud800`, as a client's JSON encoder does. */
  const postJson = (path: string, body: unknown, who: Parameters<TestBroker['as']>[0] = 'alice') =>
    t.http.post(path).set(t.as(who)).set('Content-Type', 'application/json').send(JSON.stringify(body));

  async function expectChainOk(): Promise<void> {
    const res = await t.http.get('/v1/audit/verify').set(t.as('auditor')).expect(200);
    expect(res.body).toMatchObject({ ok: true });
  }

  function expectProblem(res: { status: number; headers: Record<string, string>; body: { errors?: { field: string }[] } }, status: number, field: string): void {
    expect(res.status).toBe(status);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect((res.body.errors ?? []).map((e) => e.field)).toContain(field);
  }

  async function pendingGcpGrant(): Promise<string> {
    const res = await postJson('/v1/grants', gcpRequest()).expect(202);
    return res.body.id;
  }

  it.each([
    ['a GCP member', gcpRequest({ principal: { type: 'user', id: `user:${LONE_LOW}@x.com` } }), 'principal.id'],
    ['the justification', gcpRequest({ justification: `release ${LONE_HIGH}` }), 'justification'],
    ['the justification of a denied request', awsPolicyGrant({ target: { kind: 'aws.iam-policy', actions: ['iam:*'], resources: ['*'] }, justification: LONE_HIGH }), 'justification'],
    ['a condition value', awsPolicyGrant({ target: { kind: 'aws.iam-policy', actions: ['s3:GetObject'], resources: ['*'], conditions: { StringEquals: { 'aws:SourceVpc': `vpc-${LONE_LOW}` } } } }), 'target.conditions.StringEquals.aws:SourceVpc'],
    ['an object key', awsPolicyGrant({ target: { kind: 'aws.iam-policy', actions: ['s3:GetObject'], resources: ['*'], conditions: { StringEquals: { [`aws:${LONE_HIGH}`]: 'x' } } } }), `target.conditions.StringEquals.aws:\ufffd`],
  ])('POST /v1/grants with a lone surrogate in %s -> 400 naming it; verify stays ok', async (_what, body, field) => {
    const res = await postJson('/v1/grants', body);
    expectProblem(res, 400, field);
    await expectChainOk();
  });

  it('should refuse a lone surrogate in the approve comment with a 400 naming comment', async () => {
    const id = await pendingGcpGrant();
    const res = await postJson(`/v1/grants/${id}/approve`, { comment: `ok ${LONE_HIGH}` }, 'approver');
    expectProblem(res, 400, 'comment');
    await expectChainOk();
    await postJson(`/v1/grants/${id}/approve`, { comment: 'ok' }, 'approver').expect(200);
    await expectChainOk();
  });

  it('should refuse a lone surrogate in the deny comment and the revoke reason', async () => {
    const id = await pendingGcpGrant();
    expectProblem(await postJson(`/v1/grants/${id}/deny`, { comment: LONE_LOW }, 'approver'), 400, 'comment');
    const active = await postJson('/v1/grants', awsPolicyGrant({ target: { kind: 'aws.iam-policy', actions: ['s3:GetObject'], resources: ['*'] } })).expect(201);
    expectProblem(await postJson(`/v1/grants/${active.body.id}/revoke`, { reason: `done ${LONE_HIGH}` }), 400, 'reason');
    await expectChainOk();
    await postJson(`/v1/grants/${active.body.id}/revoke`, { reason: 'done' }).expect(200);
    await expectChainOk();
  });

  it.each([
    ['/v1/grants?principal=user%3A%ED%A0%80%40x.com', 'principal'],
    ['/v1/grants?requester=%F0%9F', 'requester'],
    ['/v1/audit?actor=%ED%B0%80', 'actor'],
    ['/v1/audit?%ED%A0%80=1', '%ED%A0%80'],
  ])('GET %s (percent-encoding that is not UTF-8) -> 400 naming %s', async (path, field) => {
    const res = await t.http.get(path).set(t.as('admin'));
    expectProblem(res, 400, field);
    await expectChainOk();
  });

  it('should refuse an Idempotency-Key whose bytes are an encoded surrogate with a 400 naming it', async () => {
    // ED A0 80 is U+D800 encoded as if it were a character; HTTP carries header bytes, Node reads them as Latin-1.
    const res = await postJson('/v1/grants', awsPolicyGrant()).set('Idempotency-Key', '\xed\xa0\x80');
    expectProblem(res, 400, 'Idempotency-Key');
    await expectChainOk();
  });

  it('should refuse an Authorization header that is not well-formed UTF-8 with a 400 naming it', async () => {
    const res = await t.http.get('/v1/grants').set('Authorization', 'Bearer tok-\xed\xa0\x80');
    expectProblem(res, 400, 'Authorization');
  });

  it('should refuse raw bytes that are not UTF-8 in the body with a 400, not a 500', async () => {
    const json = Buffer.from(JSON.stringify(awsPolicyGrant({ justification: 'JUSTIFICATION' })));
    const at = json.indexOf('JUSTIFICATION');
    for (const bad of [[0xed, 0xa0, 0x80], [0xff], [0xc3], [0xf0, 0x9f, 0x98]]) {
      const body = Buffer.concat([json.subarray(0, at), Buffer.from(bad), json.subarray(at + 'JUSTIFICATION'.length)]);
      const res = await t.http
        .post('/v1/grants')
        .set(t.as('alice'))
        .set('Content-Type', 'application/json')
        // superagent would JSON-encode the Buffer; send its bytes as they are.
        .serialize((bytes) => bytes as string)
        .send(body);
      expectProblem(res, 400, '(body)');
    }
    await expectChainOk();
  });

  it('should still accept well-formed text outside ASCII where the field allows it (a surrogate pair)', async () => {
    const res = await postJson('/v1/grants', awsPolicyGrant({ target: { kind: 'aws.iam-policy', actions: ['s3:GetObject'], resources: ['*'] }, justification: 'déploiement 🚀' }));
    expect(res.status).toBe(201);
    expect(res.body.justification).toBe('déploiement 🚀');
    await expectChainOk();
  });

  it('should refuse a non-ASCII GCP member email, which Google accounts cannot have', async () => {
    expectProblem(await postJson('/v1/grants', gcpRequest({ principal: { type: 'user', id: 'user:josé@example.com' } })), 400, 'principal.id');
    expectProblem(await postJson('/v1/grants', gcpRequest({ principal: { type: 'group', id: 'group:ops@exämple.com' } })), 400, 'principal.id');
  });

  describe('OIDC tokens', () => {
    const token = (claims: Record<string, unknown>) =>
      oidc.sign({ sub: 'repo:acme/app:ref:refs/heads/main', repository: 'acme/app', ...claims });
    const request = async (claims: Record<string, unknown>) =>
      t.http
        .post('/v1/grants')
        .set('Authorization', `Bearer ${await token(claims)}`)
        .set('Content-Type', 'application/json')
        .send(JSON.stringify(awsPolicyGrant()));

    it('should accept a well-formed pipeline token (the control)', async () => {
      expect((await request({})).status).toBe(201);
      await expectChainOk();
    });

    it.each([
      ['sub', { sub: `repo:acme/${LONE_HIGH}` }],
      ['groups', { groups: ['deployers', LONE_LOW] }],
      ['repository', { repository: `acme/app${LONE_HIGH}` }],
      ['nested', { nested: { [LONE_LOW]: 'x' } }],
    ])('should answer 401 naming the claim for a lone surrogate in %s, and verify stays ok', async (claim, claims) => {
      const res = await request(claims);
      expect(res.status).toBe(401);
      expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(res.body.detail).toContain(`"${claim}`);
      expect(res.body.detail).toMatch(/well-formed/);
      await expectChainOk();
    });

    it('should answer 401 naming the claim for a NUL character in groups, not a 500 from the database', async () => {
      const res = await t.http.get('/v1/grants').set('Authorization', `Bearer ${await token({ groups: '\u0000' })}`);
      expect(res.status).toBe(401);
      expect(res.body.detail).toContain('"groups" must not contain the NUL character');
    });
  });
});
