import { DomainError, Grant } from '@jit/domain';
import { Actor, CloudProviderRegistry } from '@jit/grants';
import { AccessPolicy, parseAccessPolicy } from '@jit/policy';
import { LocalCloudProvider } from '@jit/provider-local';
import { ManualClock, targetKinds } from '@jit/testing';
import { auditChained, postgresStores } from '../setup/postgres-stores';
import { openTestDatabase } from '../setup/test-database';
import { wireGrantUseCases } from '../setup/wire-grant-use-cases';

const MINUTE = 60_000;
const SETTINGS = { leaseMs: MINUTE, providerTimeoutMs: 5_000, revokeMaxAttempts: 3, revokeFailedRetryMs: MINUTE };

const RULES = `
version: 1
approvalTimeout: PT1H
groups:
  sre: [dave, erin, frank]
  developers: [alice, frank]
denyList:
  - name: iam-admin
    targets:
      - { kind: gcp.iam-binding, roles: ["roles/iam.*"], resources: ["*"] }
rules:
  - name: humans-storage
    requesters:
      - groups: [developers]
    targets:
      - { kind: gcp.iam-binding, roles: ["roles/storage.*"], resources: ["projects/acme-prod"] }
    maxDuration: PT4H
    approval: { approvals: 2, from: [sre], timeout: PT30M }
`;
const FROZEN = RULES.replace(
  'denyList:\n',
  'denyList:\n  - name: storage-frozen\n    reason: storage is frozen during the audit\n    targets:\n      - { kind: gcp.iam-binding, roles: ["roles/storage.objectAdmin"], resources: ["*"] }\n',
);

const requester = (subject: string): Actor => ({ subject, roles: ['requester'] });
const approver = (subject: string): Actor => ({ subject, roles: ['approver', 'requester'] });
const alice = requester('alice');
const [dave, erin, frank] = ['dave', 'erin', 'frank'].map(approver);

const body = (over: Record<string, unknown> = {}) => ({
  cloud: 'gcp',
  principal: { type: 'user', id: 'user:alice@acme.com' },
  target: { kind: 'gcp.iam-binding', resource: 'projects/acme-prod', role: 'roles/storage.objectAdmin' },
  duration: 'PT1H',
  justification: 'restore a deleted object',
  ...over,
});

async function domainError(promise: Promise<unknown>): Promise<DomainError> {
  const error = await promise.then(() => undefined, (e: unknown) => e);
  expect(error).toBeInstanceOf(DomainError);
  return error as DomainError;
}

/**
 * The request, approve and deny use cases on a real database (PostgreSQL or PGlite) with the
 * in-memory clouds and a manual clock: what HTTP tests cannot pin down, such as the instant the
 * approval window closes, the clock starting at the final approval, writers racing on one row,
 * and Idempotency-Key replays against the unique index.
 */
describe('requesting, approving and denying a grant on a real database', () => {
  let db: Awaited<ReturnType<typeof openTestDatabase>>;
  let gcp: LocalCloudProvider;
  let clock: ManualClock;
  let policies: { current: AccessPolicy };
  let use: ReturnType<typeof wire>;

  function wire() {
    const stores = postgresStores(db.dataSource, clock, 'api');
    const registry = new CloudProviderRegistry([gcp, new LocalCloudProvider('aws', targetKinds), new LocalCloudProvider('azure', targetKinds)]);
    return { ...wireGrantUseCases(stores, registry, clock, SETTINGS, policies), find: (id: string) => stores.grants.findById(id) };
  }

  const eventsOf = async (grantId: string) => {
    await auditChained(db.dataSource);
    return db.dataSource.query<{ type: string; actor: string; data: Record<string, unknown> }[]>(
      `SELECT type, actor, data FROM audit_events WHERE grant_id = $1 ORDER BY seq`,
      [grantId],
    );
  };
  const cloudCalls = (grantId: string) => gcp.calls.filter((c) => c.grantId === grantId).map((c) => c.op);
  const pending = async (by: Actor = alice, over: Record<string, unknown> = {}): Promise<Grant> => {
    const { grant } = await use.request.execute(by, body(over), undefined);
    expect(grant.state).toBe('pending_approval');
    return grant;
  };

  beforeAll(async () => {
    db = await openTestDatabase();
  });
  afterAll(async () => {
    await db.close();
  });
  beforeEach(() => {
    clock = new ManualClock(new Date());
    gcp = new LocalCloudProvider('gcp', targetKinds);
    policies = { current: parseAccessPolicy(RULES, 'rules.yaml', clock.now(), targetKinds) };
    use = wire();
  });

  describe('who approves', () => {
    it('should not let the requester approve or deny their own request, even from an approver group', async () => {
      const own = await pending(frank);
      const approving = await domainError(use.approve.execute(frank, own.id, { comment: null }));
      expect(approving).toMatchObject({ code: 'forbidden', issues: [{ field: 'id', message: 'is your own request' }] });
      const denying = await domainError(use.deny.execute(frank, own.id, { comment: 'no' }));
      expect(denying.code).toBe('forbidden');
      expect(await use.find(own.id)).toMatchObject({ state: 'pending_approval', approvals: [] });
      expect((await eventsOf(own.id)).map((e) => e.type)).toEqual(['grant.requested']);
    });

    it('should count one approver once, even when they approve twice at the same moment', async () => {
      const g = await pending();
      const outcomes = await Promise.allSettled([use.approve.execute(dave, g.id, { comment: null }), use.approve.execute(dave, g.id, { comment: null })]);
      expect(outcomes.map((o) => o.status).sort()).toEqual(['fulfilled', 'rejected']);
      expect(await use.find(g.id)).toMatchObject({ state: 'pending_approval', approvals: [{ approver: 'dave', decision: 'approved' }] });
      expect((await eventsOf(g.id)).map((e) => e.type)).toEqual(['grant.requested', 'grant.approved']);
      expect(cloudCalls(g.id)).toEqual([]);
    });
  });

  describe('concurrent decisions', () => {
    it('should count two simultaneous approvals once each and provision once', async () => {
      for (let round = 0; round < 5; round++) {
        const g = await pending();
        const [a, b] = await Promise.all([use.approve.execute(dave, g.id, { comment: null }), use.approve.execute(erin, g.id, { comment: 'ok' })]);
        expect([a.state, b.state].sort()).toEqual(['active', 'pending_approval']);
        const stored = await use.find(g.id);
        expect(stored?.state).toBe('active');
        expect(stored?.approvals.map((x) => x.approver).sort()).toEqual(['dave', 'erin']);
        const types = (await eventsOf(g.id)).map((e) => e.type);
        expect(types.filter((t) => t === 'grant.approved')).toHaveLength(2);
        expect(types.filter((t) => t === 'grant.provisioned')).toHaveLength(1);
        expect(cloudCalls(g.id)).toEqual(['grant']);
      }
    });

    it('should let exactly one of a final approval and a denial at the same moment decide', async () => {
      for (let round = 0; round < 5; round++) {
        const g = await pending();
        await use.approve.execute(dave, g.id, { comment: null });
        const [approved, denied] = await Promise.allSettled([
          use.approve.execute(erin, g.id, { comment: null }),
          use.deny.execute(frank, g.id, { comment: 'not today' }),
        ]);
        expect([approved.status, denied.status].sort()).toEqual(['fulfilled', 'rejected']);
        const stored = await use.find(g.id);
        const types = (await eventsOf(g.id)).map((e) => e.type);
        if (approved.status === 'fulfilled') {
          expect(stored?.state).toBe('active');
          expect(cloudCalls(g.id)).toEqual(['grant']);
          expect(types).not.toContain('grant.denied');
        } else {
          expect(stored).toMatchObject({ state: 'denied', endReason: 'denied' });
          expect(cloudCalls(g.id)).toEqual([]);
          expect(types).not.toContain('grant.provisioned');
        }
      }
    });
  });

  describe('when the clock starts and stops', () => {
    it('should start the grant at the final approval, not at the request', async () => {
      const requestedAt = clock.now();
      const g = await pending();
      clock.advance(10 * MINUTE);
      await use.approve.execute(dave, g.id, { comment: null });
      clock.advance(5 * MINUTE);
      const active = await use.approve.execute(erin, g.id, { comment: null });
      expect(active.state).toBe('active');
      expect(active.startsAt).toEqual(new Date(requestedAt.getTime() + 15 * MINUTE));
      expect(active.expiresAt).toEqual(new Date(requestedAt.getTime() + 75 * MINUTE));
    });

    it('should take an approval up to the last millisecond before the approval deadline', async () => {
      const g = await pending();
      expect(g.approvalDeadline).toEqual(new Date(clock.now().getTime() + 30 * MINUTE));
      clock.set(new Date(g.approvalDeadline!.getTime() - 1));
      expect((await use.approve.execute(dave, g.id, { comment: null })).approvals).toHaveLength(1);
    });

    it('should deny a request at its approval deadline when an approver comes too late, and grant nothing', async () => {
      const g = await pending();
      await use.approve.execute(dave, g.id, { comment: null });
      clock.set(g.approvalDeadline!);
      const late = await domainError(use.approve.execute(erin, g.id, { comment: null }));
      expect(late).toMatchObject({ code: 'invalid_state', extra: { grantId: g.id, state: 'denied' } });
      expect(await use.find(g.id)).toMatchObject({ state: 'denied', endReason: 'timeout' });
      expect((await eventsOf(g.id)).at(-1)).toMatchObject({ type: 'grant.denied', actor: 'broker', data: { reason: 'timeout' } });
      expect(cloudCalls(g.id)).toEqual([]);
      // Nor can a denial come in after the window closed.
      expect((await domainError(use.deny.execute(frank, g.id, { comment: 'too late' }))).code).toBe('invalid_state');
    });
  });

  describe('the deny-list', () => {
    it('should check the deny-list again at the final approval, so a target denied while waiting is never granted', async () => {
      const g = await pending();
      await use.approve.execute(dave, g.id, { comment: null });
      policies.current = parseAccessPolicy(FROZEN, 'rules.yaml', clock.now(), targetKinds);
      const refused = await domainError(use.approve.execute(erin, g.id, { comment: null }));
      expect(refused).toMatchObject({ code: 'policy_denied', extra: { grantId: g.id, state: 'denied', decision: { rule: 'deny-list:storage-frozen', code: 'deny_list' } } });
      expect(await use.find(g.id)).toMatchObject({ state: 'denied', endReason: 'denied' });
      expect((await eventsOf(g.id)).at(-1)).toMatchObject({ type: 'grant.denied', actor: 'policy' });
      expect(cloudCalls(g.id)).toEqual([]);
    });
  });

  describe('Idempotency-Key', () => {
    it('should answer a retry with the same key and body with the same grant, storing and auditing it once', async () => {
      const first = await use.request.execute(alice, body(), 'ticket-7');
      const again = await use.request.execute(alice, body(), 'ticket-7');
      expect(first.replayed).toBe(false);
      expect(again).toMatchObject({ replayed: true, grant: { id: first.grant.id } });
      const [{ n }] = await db.dataSource.query<{ n: string }[]>(`SELECT count(*) AS n FROM grants WHERE idempotency_key = 'ticket-7'`);
      expect(Number(n)).toBe(1);
      expect((await eventsOf(first.grant.id)).map((e) => e.type)).toEqual(['grant.requested']);
    });

    it('should refuse the same key with another body as a conflict naming the key and the first grant', async () => {
      const first = await use.request.execute(alice, body(), 'ticket-8');
      const conflict = await domainError(use.request.execute(alice, body({ duration: 'PT2H' }), 'ticket-8'));
      expect(conflict).toMatchObject({ code: 'idempotency_conflict', issues: [{ field: 'Idempotency-Key' }], extra: { grantId: first.grant.id } });
    });

    it('should store one grant when two requests with the same key arrive at the same moment, and replay it to the other', async () => {
      for (let round = 0; round < 5; round++) {
        const key = `race-${round}`;
        const results = await Promise.all([use.request.execute(alice, body(), key), use.request.execute(alice, body(), key)]);
        expect(results.filter((r) => r.replayed)).toHaveLength(1);
        expect(results[0].grant.id).toBe(results[1].grant.id);
        expect((await eventsOf(results[0].grant.id)).map((e) => e.type)).toEqual(['grant.requested']);
      }
    });

    it('should keep keys per requester, and replay a grant even after the rules changed', async () => {
      const mine = await use.request.execute(alice, body(), 'shared-key');
      const franks = await use.request.execute(frank, body(), 'shared-key');
      expect(franks.grant.id).not.toBe(mine.grant.id);
      policies.current = parseAccessPolicy(FROZEN, 'rules.yaml', clock.now(), targetKinds);
      expect(await use.request.execute(alice, body(), 'shared-key')).toMatchObject({ replayed: true, grant: { id: mine.grant.id } });
      expect((await domainError(use.request.execute(alice, body(), 'new-key'))).code).toBe('policy_denied');
    });
  });
});
