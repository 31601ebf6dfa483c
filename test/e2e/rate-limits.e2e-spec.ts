import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TestBroker, awsPolicyGrant, startTestBroker } from '../setup/test-broker';

/** Only bob may have anything: every request of alice's is decided, denied and audited. */
const ONLY_BOB = `version: 1
rules:
  - name: bob-only
    requesters:
      - subjects: [bob]
    targets:
      - { kind: aws.iam-policy, actions: ["*"], resources: ["*"] }
    maxDuration: PT8H
    approval: auto
`;

const WRITES = 5;
const DRY_RUNS = 3;

interface EventBody {
  type: string;
  actor: string;
}

/** Issue 10 point 9: per-subject limits, 429 with nothing written, X-Powered-By gone, /health says up or down. */
describe('abuse limits', () => {
  let t: TestBroker;

  beforeAll(async () => {
    const dir = mkdtempSync(join(tmpdir(), 'jit-limits-'));
    writeFileSync(join(dir, 'rules.yaml'), ONLY_BOB);
    // An hour-long window: the counters cannot reset while the test runs.
    t = await startTestBroker({
      JIT_POLICY_FILE: join(dir, 'rules.yaml'),
      JIT_RATE_LIMIT_WRITES: `${WRITES}/PT1H`,
      JIT_RATE_LIMIT_DRY_RUNS: `${DRY_RUNS}/PT1H`,
    });
  });
  afterAll(async () => {
    await t.close();
  });

  const auditOf = async (actor: string): Promise<EventBody[]> =>
    (await t.http.get(`/v1/audit?actor=${actor}&limit=1000`).set(t.as('auditor')).expect(200)).body.items as EventBody[];
  const grantCount = async (): Promise<number> => (await t.http.get('/v1/grants?limit=500').set(t.as('admin')).expect(200)).body.items.length;
  const limitedTotal = async (limit: string): Promise<number> => {
    const text = (await t.http.get('/metrics').set(t.as('auditor')).expect(200)).text;
    const m = new RegExp(`^jit_rate_limited_total\\{limit="${limit}"\\} (\\d+)$`, 'm').exec(text);
    return m ? Number(m[1]) : 0;
  };
  const denied = (i: number) => awsPolicyGrant({ principal: { type: 'workload', id: `arn:aws:iam::123456789012:role/flood${i}` } });

  describe('writes', () => {
    it('should decide and audit every request up to the limit, then refuse with 429 problem+json naming it and Retry-After', async () => {
      for (let i = 0; i < WRITES; i++) {
        const res = await t.http.post('/v1/grants').set(t.as('alice')).send(denied(i));
        expect(res.status).toBe(403);
        expect(res.body.type).toBe('urn:jit-broker:problem:policy_denied');
      }
      const res = await t.http.post('/v1/grants').set(t.as('alice')).send(denied(99));
      expect(res.status).toBe(429);
      expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
      const retryAfter = Number(res.headers['retry-after']);
      expect(Number.isInteger(retryAfter)).toBe(true);
      expect(retryAfter).toBeGreaterThan(0);
      expect(retryAfter).toBeLessThanOrEqual(3600);
      expect(res.body).toMatchObject({
        type: 'urn:jit-broker:problem:rate_limited',
        status: 429,
        limit: { name: 'writes', setting: 'JIT_RATE_LIMIT_WRITES', requests: WRITES, period: 'PT1H' },
      });
      expect(res.body.detail).toContain('JIT_RATE_LIMIT_WRITES');
    });

    it('should write nothing for a burst of refused requests: no audit event, no grant row, each one counted in /metrics', async () => {
      const eventsBefore = await auditOf('alice');
      const grantsBefore = await grantCount();
      const countedBefore = await limitedTotal('writes');
      const burst = await Promise.all(
        Array.from({ length: 20 }, (_, i) =>
          i % 2 ? t.http.post('/v1/grants').set(t.as('alice')).send(denied(100 + i)) : t.http.post(`/v1/grants/00000000-0000-4000-8000-00000000000${i % 10}/revoke`).set(t.as('alice')).send({}),
        ),
      );
      expect(burst.map((r) => r.status)).toEqual(Array(20).fill(429));
      expect(await auditOf('alice')).toEqual(eventsBefore);
      expect(eventsBefore.filter((e) => e.type === 'policy.denied')).toHaveLength(WRITES);
      expect(await grantCount()).toBe(grantsBefore);
      expect(await limitedTotal('writes')).toBe(countedBefore + 20);
    });

    it('should leave another subject and the limited subject\'s reads alone', async () => {
      await t.http.post('/v1/grants').set(t.as('bob')).send(denied(500)).expect(201);
      await t.http.get('/v1/grants').set(t.as('alice')).expect(200);
    });

    it('should answer an unauthenticated write 401, not 429: the limit applies after authentication', async () => {
      await t.http.post('/v1/grants').send(denied(600)).expect(401);
      await t.http.post('/v1/grants').set('Authorization', 'Bearer not-a-known-token-000000').send(denied(601)).expect(401);
    });
  });

  describe('dry runs', () => {
    it('should have a bucket of their own: past it a 429 naming JIT_RATE_LIMIT_DRY_RUNS, while writes still go through', async () => {
      for (let i = 0; i < DRY_RUNS; i++) {
        const res = await t.http.post('/v1/policy/evaluate').set(t.as('frank')).send(denied(700 + i)).expect(200);
        expect(res.body.effect).toBe('deny');
      }
      const before = await limitedTotal('dry_runs');
      const res = await t.http.post('/v1/policy/evaluate').set(t.as('frank')).send(denied(710));
      expect(res.status).toBe(429);
      expect(Number(res.headers['retry-after'])).toBeGreaterThan(0);
      expect(res.body.limit).toEqual({ name: 'dry_runs', setting: 'JIT_RATE_LIMIT_DRY_RUNS', requests: DRY_RUNS, period: 'PT1H' });
      expect(await limitedTotal('dry_runs')).toBe(before + 1);
      // frank's writes are counted apart: decided (denied by the rules) and audited.
      await t.http.post('/v1/grants').set(t.as('frank')).send(denied(720)).expect(403);
      expect((await auditOf('frank')).map((e) => e.type)).toEqual(['policy.denied']);
    });
  });

  describe('what the broker tells anyone', () => {
    it('should not send X-Powered-By', async () => {
      for (const res of [await t.http.get('/health'), await t.http.get('/v1/grants').set(t.as('bob')), await t.http.get('/v1/nothing-here')]) {
        expect(res.headers['x-powered-by']).toBeUndefined();
      }
    });

    it('should say only up on /health, with or without a token; the details are in /metrics', async () => {
      expect((await t.http.get('/health').expect(200)).body).toEqual({ status: 'ok' });
      expect((await t.http.get('/health').set(t.as('admin')).expect(200)).body).toEqual({ status: 'ok' });
      const metrics = (await t.http.get('/metrics').set(t.as('auditor')).expect(200)).text;
      expect(metrics).toMatch(/^jit_broker_info\{role="all",clouds="aws,azure,gcp",database="(embedded|postgresql)"\} 1$/m);
    });

    it('should say only down, 503, when the database does not answer', async () => {
      const ds = t.broker.database.dataSource;
      await ds.destroy();
      try {
        const res = await t.http.get('/health').expect(503);
        expect(res.body).toEqual({ status: 'unavailable' });
      } finally {
        await ds.initialize();
      }
    });
  });
});
