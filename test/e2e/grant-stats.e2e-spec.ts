import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { grantStatsResponse, GrantStatsResponse } from '../../apps/broker/src/http/dto/stats.response';
import { pollUntil } from '../setup/poll-until.util';
import { TestBroker, awsPolicyGrant, startTestBroker } from '../setup/test-broker';

const RULES = `
version: 1
groups:
  sre: []
breakGlass:
  subjects: [emergency]
  maxDuration: PT1H
denyList:
  - name: iam-admin
    reason: IAM administration is never granted just in time
    targets:
      - { kind: aws.iam-policy, actions: ["iam:*"], resources: ["*"] }
rules:
  - name: ci-auto
    requesters: [{ subjects: [alice] }]
    targets:
      - { kind: aws.iam-policy, actions: ["s3:*"], resources: ["*"] }
      - { kind: azure.app-role, resourceServicePrincipalIds: ["*"], appRoleIds: ["*"] }
    maxDuration: PT1H
    approval: auto
  - name: humans-storage
    requesters: [{ subjects: [bob] }]
    targets:
      - { kind: gcp.iam-binding, roles: ["roles/storage.*"], resources: ["projects/acme-prod"] }
    maxDuration: PT1H
    approval: { approvals: 2, from: [sre] }
  - name: humans-quick-timeout
    requesters: [{ subjects: [bob] }]
    targets:
      - { kind: gcp.iam-binding, roles: ["roles/logging.viewer"], resources: ["projects/acme-prod"] }
    maxDuration: PT1H
    approval: { approvals: 1, from: [sre], timeout: PT2S }
`;

interface GrantBody {
  id: string;
  state: string;
  cloud: string;
  kind?: string;
  target: { kind: string };
  createdAt: string;
  expiresAt: string | null;
  endedAt: string | null;
  endReason: string | null;
}

const gcpGrant = (role: string) => ({
  cloud: 'gcp',
  principal: { type: 'user', id: 'user:bob@example.com' },
  target: { kind: 'gcp.iam-binding', resource: 'projects/acme-prod', role },
  duration: 'PT30M',
  justification: 'incident 42',
});
const azureGrant = {
  cloud: 'azure',
  principal: { type: 'workload', id: '6f1a2b3c-4d5e-4f60-8a7b-9c0d1e2f3a01' },
  target: { kind: 'azure.app-role', resourceServicePrincipalId: '11111111-2222-4333-8444-555555555555', appRoleId: '00000000-0000-4000-8000-000000000001' },
  duration: 'PT30M',
};

/** Issue 15 point 5: GET /v1/stats over real grants, denials and expiries; its numbers against the grants themselves. */
describe('GET /v1/stats', () => {
  let t: TestBroker;
  let startedAt: Date;
  const grants: GrantBody[] = [];
  let breakGlassId: string;

  beforeAll(async () => {
    const dir = mkdtempSync(join(tmpdir(), 'jit-stats-'));
    writeFileSync(join(dir, 'rules.yaml'), RULES);
    t = await startTestBroker({ JIT_POLICY_FILE: join(dir, 'rules.yaml') });
    startedAt = new Date(Date.now() - 1000);
    const post = async (who: Parameters<TestBroker['as']>[0], body: object, status: number): Promise<GrantBody> =>
      (await t.http.post('/v1/grants').set(t.as(who)).send(body).expect(status)).body as GrantBody;

    // AWS: three active and two that expire within seconds; Azure: one active.
    for (let i = 0; i < 3; i++) grants.push(await post('alice', awsPolicyGrant({ principal: { type: 'workload', id: `arn:aws:iam::123456789012:role/job${i}` } }), 201));
    for (let i = 0; i < 2; i++) grants.push(await post('alice', awsPolicyGrant({ principal: { type: 'workload', id: `arn:aws:iam::123456789012:role/short${i}` }, duration: 'PT1S' }), 201));
    grants.push(await post('alice', azureGrant, 201));
    // Break-glass: one, outside every rule.
    const bg = await post('emergency', awsPolicyGrant({ principal: { type: 'workload', id: 'arn:aws:iam::123456789012:role/pager' } }), 201);
    breakGlassId = bg.id;
    grants.push(bg);
    // Refused by the rules: a deny-list hit and a request no rule matches (no grant is stored).
    await post('alice', awsPolicyGrant({ target: { kind: 'aws.iam-policy', actions: ['iam:*'], resources: ['*'] } }), 403);
    await post('bob', awsPolicyGrant(), 403);
    // GCP: four pending; one denied by an approver, one withdrawn, one timed out, one still pending.
    const [denied, withdrawn, , timedOut] = [
      await post('bob', gcpGrant('roles/storage.objectViewer'), 202),
      await post('bob', gcpGrant('roles/storage.objectAdmin'), 202),
      await post('bob', gcpGrant('roles/storage.admin'), 202),
      await post('bob', gcpGrant('roles/logging.viewer'), 202),
    ];
    await t.http.post(`/v1/grants/${denied.id}/deny`).set(t.as('approver')).send({ comment: 'not during the freeze' }).expect(200);
    await t.http.post(`/v1/grants/${withdrawn.id}/revoke`).set(t.as('bob')).send({ reason: 'not needed' }).expect(200);
    // The sweeper ends the two short grants and times out the quick request.
    const ended = (id: string) => async () => {
      const g = (await t.http.get(`/v1/grants/${id}`).set(t.as('admin')).expect(200)).body as GrantBody;
      return g.endedAt ? g : undefined;
    };
    await pollUntil(ended(timedOut.id), 30_000, 200);
    for (const short of grants.slice(3, 5)) await pollUntil(ended(short.id), 30_000, 200);
    // Every grant as stored now, for the expected figures.
    grants.length = 0;
    for (let cursor: string | null = null; ; ) {
      const page = (await t.http.get(`/v1/grants?limit=500${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`).set(t.as('admin')).expect(200)).body as {
        items: GrantBody[];
        nextCursor: string | null;
      };
      grants.push(...page.items);
      cursor = page.nextCursor;
      if (!cursor) break;
    }
  });
  afterAll(async () => {
    await t.close();
  });

  const stats = async (query: string, who: Parameters<TestBroker['as']>[0] = 'auditor'): Promise<GrantStatsResponse> => {
    const res = await t.http.get(`/v1/stats${query}`).set(t.as(who)).expect(200);
    return grantStatsResponse.parse(res.body);
  };
  const sum = (rows: { count: number }[]) => rows.reduce((n, r) => n + r.count, 0);

  it('should count grants per UTC day by cloud and kind, exactly as stored', async () => {
    const s = await stats('');
    const expected = new Map<string, number>();
    for (const g of grants) {
      const key = `${g.createdAt.slice(0, 10)} ${g.cloud} ${g.target.kind}`;
      expected.set(key, (expected.get(key) ?? 0) + 1);
    }
    expect(new Map(s.perDay.map((d) => [`${d.day} ${d.cloud} ${d.kind}`, d.count]))).toEqual(expected);
    expect(sum(s.perDay)).toBe(11);
    // The default range is the last 30 days, ending now.
    expect(Date.parse(s.to) - Date.parse(s.from)).toBe(30 * 86_400_000);
    expect(s.cloud).toBeNull();
  });

  it('should count the grants open now by cloud and state', async () => {
    const s = await stats('');
    expect(s.openNow).toEqual([
      { cloud: 'aws', state: 'active', count: 4 },
      { cloud: 'azure', state: 'active', count: 1 },
      { cloud: 'gcp', state: 'pending_approval', count: 1 },
    ]);
  });

  it('should give the revocation lag of expired grants from their expiresAt and end', async () => {
    const { revocationLag: lag } = await stats('');
    const expired = grants.filter((g) => g.state === 'expired');
    expect(expired).toHaveLength(2);
    const lags = expired.map((g) => (Date.parse(g.endedAt!) - Date.parse(g.expiresAt!)) / 1000).sort((a, b) => a - b);
    expect(lag.count).toBe(2);
    // The API's instants are in milliseconds, the database's in microseconds.
    expect(lag.maxSeconds).toBeCloseTo(lags[1], 2);
    expect(lag.p50Seconds).toBeCloseTo((lags[0] + lags[1]) / 2, 2);
    expect(lag.buckets.map((b) => b.upToSeconds)).toEqual([1, 5, 15, 60, 300, 900, 3600, null]);
    expect(sum(lag.buckets)).toBe(2);
    const bucketOf = (s: number) => lag.buckets.findIndex((b) => b.upToSeconds === null || s <= b.upToSeconds);
    for (const l of lags) expect(lag.buckets[bucketOf(l)].count).toBeGreaterThanOrEqual(1);
  });

  it('should list break-glass uses with the grant', async () => {
    const { breakGlass } = await stats('');
    expect(breakGlass.total).toBe(1);
    expect(breakGlass.perDay).toEqual([{ day: grants.find((g) => g.id === breakGlassId)!.createdAt.slice(0, 10), cloud: 'aws', count: 1 }]);
    expect(breakGlass.latest).toEqual([expect.objectContaining({ grantId: breakGlassId, requestedBy: 'emergency', cloud: 'aws', kind: 'aws.iam-policy' })]);
  });

  it('should count denials by rule and reason: refused by the rules, denied, timed out and withdrawn', async () => {
    const { denials } = await stats('');
    expect(new Set(denials.map((d) => JSON.stringify(d)))).toEqual(
      new Set(
        [
          { rule: 'deny-list:iam-admin', reason: 'policy', count: 1 },
          { rule: null, reason: 'policy', count: 1 },
          { rule: 'humans-storage', reason: 'denied', count: 1 },
          { rule: 'humans-storage', reason: 'withdrawn', count: 1 },
          { rule: 'humans-quick-timeout', reason: 'timeout', count: 1 },
        ].map((d) => JSON.stringify(d)),
      ),
    );
  });

  it('should count one cloud only when asked', async () => {
    const s = await stats('?cloud=gcp');
    expect(s.cloud).toBe('gcp');
    expect(sum(s.perDay)).toBe(4);
    expect(s.perDay.every((d) => d.cloud === 'gcp')).toBe(true);
    expect(s.openNow).toEqual([{ cloud: 'gcp', state: 'pending_approval', count: 1 }]);
    expect(s.revocationLag.count).toBe(0);
    expect(s.breakGlass.total).toBe(0);
    expect(sum(s.denials)).toBe(3);
    expect(s.denials.every((d) => d.reason !== 'policy')).toBe(true);
  });

  it('should count nothing in a range before the grants, except what is open now', async () => {
    const to = new Date(startedAt.getTime() - 60_000);
    const s = await stats(`?from=${new Date(to.getTime() - 86_400_000).toISOString()}&to=${to.toISOString()}`, 'admin');
    expect(s.perDay).toEqual([]);
    expect(s.revocationLag).toEqual({ count: 0, p50Seconds: null, p95Seconds: null, maxSeconds: null, buckets: expect.any(Array) });
    expect(sum(s.revocationLag.buckets)).toBe(0);
    expect(s.breakGlass).toEqual({ total: 0, perDay: [], latest: [] });
    expect(s.denials).toEqual([]);
    expect(sum(s.openNow)).toBe(6);
  });

  it.each([
    ['?from=yesterday', 'from'],
    ['?to=2026-13-01T00:00:00Z', 'to'],
    ['?cloud=oracle', 'cloud'],
    ['?limit=5', 'limit'],
    ['?from=2026-01-02T00:00:00Z&to=2026-01-01T00:00:00Z', 'from'],
    ['?from=2024-01-01T00:00:00Z&to=2026-01-01T00:00:00Z', 'from'],
  ])('should answer %s with a 400 problem naming %s', async (query, field) => {
    const res = await t.http.get(`/v1/stats${query}`).set(t.as('auditor')).expect(400);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect((res.body as { errors: { field: string }[] }).errors.map((e) => e.field)).toContain(field);
  });

  it('should refuse requesters and approvers (403) and anyone without a token (401)', async () => {
    await t.http.get('/v1/stats').set(t.as('alice')).expect(403);
    await t.http.get('/v1/stats').set(t.as('approver')).expect(403);
    await t.http.get('/v1/stats').expect(401);
  });

  it('should be in the OpenAPI document the broker serves', async () => {
    const doc = (await t.http.get('/docs').set(t.as('auditor')).expect(200)).body as {
      paths: Record<string, { get?: { operationId: string } }>;
      components: { schemas: Record<string, unknown> };
    };
    expect(doc.paths['/v1/stats']?.get?.operationId).toBe('getGrantStats');
    expect(doc.components.schemas.GrantStats).toBeDefined();
  });
});
