import { randomUUID } from 'node:crypto';
import { AuditTrail } from '@jit/audit';
import { Clock, Grant, GrantState, SystemClock, Target, grantSpec } from '@jit/domain';
import { CloudProviderRegistry } from '@jit/grants';
import { LocalCloudProvider } from '@jit/provider-local';
import { ManualClock, grantRow, targetKinds } from '@jit/testing';
import { openTestDatabase } from '../setup/test-database';
import { wireGrantUseCases } from '../setup/wire-grant-use-cases';
import { PostgresStores, auditChained, postgresStores } from '../setup/postgres-stores';

const HOUR = 3_600_000;
const LEASE_MS = 60_000;
const SETTINGS = { leaseMs: LEASE_MS, providerTimeoutMs: 5_000, revokeMaxAttempts: 3, revokeFailedRetryMs: 60_000 };

/**
 * Issue 2 items 3 and 4 (design.md section 5) on a real database: row claims with
 * FOR UPDATE SKIP LOCKED and a lease, and recovery of a grant a crashed replica left in
 * `provisioning`.
 */
describe('sweeper claims and crash recovery on a real database', () => {
  type Db = Awaited<ReturnType<typeof openTestDatabase>>;
  let db: Db;
  let aws: LocalCloudProvider;
  let gcp: LocalCloudProvider;
  let registry: CloudProviderRegistry;

  beforeAll(async () => {
    db = await openTestDatabase();
  });
  afterAll(async () => {
    await db.close();
  });
  beforeEach(async () => {
    await db.dataSource.query(`DELETE FROM grants`);
    aws = new LocalCloudProvider('aws', targetKinds);
    gcp = new LocalCloudProvider('gcp', targetKinds);
    registry = new CloudProviderRegistry([aws, gcp, new LocalCloudProvider('azure', targetKinds)]);
  });

  const store = (owner: string, clock: Clock = new SystemClock()) => postgresStores(db.dataSource, clock, owner);

  function grant(
    state: GrantState,
    expiresAt: Date,
    target: Target = { kind: 'aws.iam-policy', actions: ['s3:GetObject'], resources: ['*'] },
    principalId = `arn:aws:iam::123456789012:role/r-${randomUUID().slice(0, 8)}`,
  ): Grant {
    const provider = registry.get(target.kind.startsWith('gcp') ? 'gcp' : 'aws');
    return grantRow(provider, { state, expiresAt, target, principal: { type: 'workload', id: principalId } });
  }

  const leaseOf = async (id: string): Promise<{ lease_owner: string | null; lease_until: Date | null; state: string }> =>
    (await db.dataSource.query(`SELECT lease_owner, lease_until, state FROM grants WHERE id = $1`, [id]))[0];

  describe('claims', () => {
    it('should give two replicas claiming concurrently disjoint sets that together cover every due grant', async () => {
      const past = new Date(Date.now() - 1000);
      const writer = store('writer');
      const due: string[] = [];
      for (let i = 0; i < 120; i++) {
        const g = grant('active', new Date(past.getTime() - i * 10));
        due.push(g.id);
        await writer.insert(g, null, [], null);
      }
      // Not due: must never be claimed.
      const later = grant('active', new Date(Date.now() + HOUR));
      await writer.insert(later, null, [], null);

      const a = store('replica-a');
      const b = store('replica-b');
      const claimAll = async (s: PostgresStores, owner: string) => {
        const mine: string[] = [];
        for (;;) {
          const batch = await s.queue.claimDue(owner, LEASE_MS, 7);
          if (batch.length === 0) return mine;
          mine.push(...batch.map((g) => g.id));
        }
      };
      const [fromA, fromB] = await Promise.all([claimAll(a, 'replica-a'), claimAll(b, 'replica-b'), claimAll(b, 'replica-b')]).then(
        ([x, y, z]) => [x, [...y, ...z]],
      );
      expect(fromA.filter((id) => fromB.includes(id))).toEqual([]);
      expect([...fromA, ...fromB].sort()).toEqual([...due].sort());
      expect(new Set([...fromA, ...fromB]).size).toBe(120);
      expect(fromA).not.toContain(later.id);
      // Each row records the replica that claimed it.
      for (const id of fromA.slice(0, 5)) expect((await leaseOf(id)).lease_owner).toBe('replica-a');
      for (const id of fromB.slice(0, 5)) expect((await leaseOf(id)).lease_owner).toBe('replica-b');
    });

    it('should claim the most overdue grants first', async () => {
      const writer = store('writer');
      const now = Date.now();
      const ids = [];
      for (const ago of [5_000, 60_000, 1_000, 30_000]) {
        const g = grant('active', new Date(now - ago));
        ids.push({ id: g.id, ago });
        await writer.insert(g, null, [], null);
      }
      const claimed = await store('r').queue.claimDue('r', LEASE_MS, 2);
      expect(claimed.map((g) => g.id).sort()).toEqual(ids.filter((x) => x.ago >= 30_000).map((x) => x.id).sort());
    });

    it('should count an expired grant with a revoke still to carry out once, so a claim of as many as are due takes them all', async () => {
      // Review finding 3: such a grant matched the revoke-request branch and the expiry branch, and
      // the outer LIMIT counted it twice (4 due, limit 4, 2 claimed), so the sweeper saw no backlog.
      const writer = store('writer');
      const now = Date.now();
      const both = [grant('active', new Date(now - 60_000)), grant('active', new Date(now - 50_000))];
      const expired = [grant('active', new Date(now - 5_000)), grant('active', new Date(now - 4_000))];
      for (const g of [...both, ...expired]) await writer.insert(g, null, [], null);
      await db.dataSource.query(`UPDATE grants SET revoke_requested_at = $2, revoke_requested_by = 'alice' WHERE id = ANY($1::uuid[])`, [
        both.map((g) => g.id),
        new Date(now - 70_000),
      ]);
      const claimed = await store('r').queue.claimDue('r', LEASE_MS, 4);
      expect(claimed.map((g) => g.id).sort()).toEqual([...both, ...expired].map((g) => g.id).sort());
    });

    it('should go on claiming and finding the next wake-up through their prepared statements after a migration adds a column to grants', async () => {
      // A rolling upgrade: both are named statements, prepared on the connections already; they
      // must not fail with "cached plan must not change result type" (0A000) once a newer
      // replica's migration adds a column. Calls one after another reuse the pool's last idle connection.
      const writer = store('writer');
      const now = Date.now();
      const due = [grant('active', new Date(now - 2_000)), grant('active', new Date(now - 1_000))];
      const later = grant('active', new Date(now + 3_000));
      for (const g of [...due, later]) await writer.insert(g, null, [], null);
      const queue = store('r').queue;
      expect((await queue.claimDueByCloud('r', LEASE_MS, new Map([['aws', 1]]))).map((g) => g.id)).toEqual([due[0].id]);
      expect(await queue.nextDueAt(new Date(now), 10_000)).toEqual(later.expiresAt);
      await db.dataSource.query(`ALTER TABLE grants ADD COLUMN upgrade_probe text`);
      try {
        expect((await queue.claimDueByCloud('r', LEASE_MS, new Map([['aws', 1]]))).map((g) => g.id)).toEqual([due[1].id]);
        expect(await queue.nextDueAt(new Date(now), 10_000)).toEqual(later.expiresAt);
      } finally {
        await db.dataSource.query(`ALTER TABLE grants DROP COLUMN upgrade_probe`);
      }
    });

    it('should not reclaim a live lease, and reclaim it once it has expired', async () => {
      const g = grant('active', new Date(Date.now() - 1000));
      await store('writer').insert(g, null, [], null);
      const first = await store('replica-a').queue.claimDue('replica-a', LEASE_MS, 10);
      expect(first.map((x) => x.id)).toEqual([g.id]);

      // Another replica, now and 59 s later: the lease still holds.
      expect(await store('replica-b').queue.claimDue('replica-b', LEASE_MS, 10)).toEqual([]);
      expect(await store('replica-b', ManualClock.offset(LEASE_MS - 1000)).queue.claimDue('replica-b', LEASE_MS, 10)).toEqual([]);
      expect((await leaseOf(g.id)).lease_owner).toBe('replica-a');

      // Past the lease (replica-a died): replica-b takes it over.
      const taken = await store('replica-b', ManualClock.offset(LEASE_MS + 1000)).queue.claimDue('replica-b', LEASE_MS, 10);
      expect(taken.map((x) => x.id)).toEqual([g.id]);
      expect((await leaseOf(g.id)).lease_owner).toBe('replica-b');
    });

    it('should let only the lease holder move a claimed row, and never hand out an ended one', async () => {
      const g = grant('active', new Date(Date.now() - 1000));
      await store('writer').insert(g, null, [], null);
      const [claimed] = await store('replica-a').queue.claimDue('replica-a', LEASE_MS, 1);
      // replica-b cannot move a row replica-a holds.
      const stolen = await store('replica-b').transition(claimed.id, 'active', 'expired', { endReason: 'expired', endedAt: new Date() }, () => []);
      expect(stolen).toBeNull();
      const own = await store('replica-a').transition(claimed.id, 'active', 'expired', { endReason: 'expired', endedAt: new Date() }, (x) => [
        AuditTrail.ended(x, 'expired', {}),
      ]);
      expect(own?.state).toBe('expired');
      expect(await store('replica-c', ManualClock.offset(2 * LEASE_MS)).queue.claimDue('replica-c', LEASE_MS, 10)).toEqual([]);
    });

    it('should not claim a provisioning grant whose request is still in flight (live lease)', async () => {
      const g = grant('provisioning', new Date(Date.now() + HOUR));
      await store('api-replica').insert(g, null, [], new Date(Date.now() + LEASE_MS));
      expect(await store('sweeper').queue.claimDue('sweeper', LEASE_MS, 10)).toEqual([]);
      const later = await store('sweeper', ManualClock.offset(LEASE_MS + 1000)).queue.claimDue('sweeper', LEASE_MS, 10);
      expect(later.map((x) => x.id)).toEqual([g.id]);
    });
  });

  describe('next wake-up', () => {
    const HORIZON = 10_000;
    /** Each kind of work claimDue takes, written as the lifecycle writes it, due at `at`. */
    const kinds: [string, (at: Date) => { g: Grant; lease: Date | null }][] = [
      ['an expiry', (at) => ({ g: grant('active', at), lease: null })],
      [
        'a revocation retry',
        (at) => ({ g: { ...grant('revoking', new Date(at.getTime() - HOUR)), endReason: 'expired', attempts: 1, nextAttemptAt: at }, lease: null }),
      ],
      [
        'an approval deadline',
        (at) => ({ g: { ...grant('pending_approval', new Date(at.getTime() + HOUR)), approvalDeadline: at }, lease: null }),
      ],
      ['a provisioning retry (its lease)', (at) => ({ g: grant('provisioning', new Date(at.getTime() + HOUR)), lease: at })],
      // A replica claimed this overdue grant and died: nobody may take it before the lease lapses.
      ['the lapse of a dead replica\'s claim', (at) => ({ g: grant('active', new Date(at.getTime() - 5_000)), lease: at })],
    ];

    it.each(kinds)('should wake at %s and find it claimable then, not a millisecond before', async (_name, make) => {
      const now = Date.now();
      const at = new Date(now + 3_000);
      const { g, lease } = make(at);
      await store('writer').insert(g, null, [], lease);
      // Later work and ended rows do not pull the wake-up time.
      await store('writer').insert(grant('active', new Date(now + 6_000)), null, [], null);
      await store('writer').insert({ ...grant('expired', new Date(now + 1_000)), endedAt: new Date(now), endReason: 'expired' }, null, [], null);

      expect(await store('sweeper').queue.nextDueAt(new Date(now), HORIZON)).toEqual(at);
      // Beyond the horizon there is nothing to wake for.
      expect(await store('sweeper').queue.nextDueAt(new Date(now), 2_000)).toBeNull();

      expect(await store('sweeper', new ManualClock(new Date(at.getTime() - 1))).queue.claimDue('sweeper', LEASE_MS, 10)).toEqual([]);
      const claimed = await store('sweeper', new ManualClock(at)).queue.claimDue('sweeper', LEASE_MS, 10);
      expect(claimed.map((x) => x.id)).toEqual([g.id]);
    });

    it('should let another replica finish an early revocation whose process died mid-call, once its lease lapses', async () => {
      const g = grant('active', new Date(Date.now() + HOUR));
      await store('writer').insert(g, null, [], null);
      await aws.grant(grantSpec(g), { overlapping: [] });
      // The requester's replica moves the grant to revoking and calls the cloud, which does not answer before it dies.
      aws.inject({ latencyMs: 1_000 });
      const dying = wireGrantUseCases(store('api-replica'), registry, new SystemClock(), SETTINGS);
      const inFlight = dying.revoke.execute({ subject: 'alice', roles: ['requester'] }, g.id, { reason: null, force: false });
      await new Promise((r) => setTimeout(r, 100));
      expect((await leaseOf(g.id)).state).toBe('revoking');

      // Nobody may take it while the lease holds; the sweeper is told to wake when it lapses, and can claim it then.
      const leaseUntil = (await leaseOf(g.id)).lease_until!;
      expect(await store('sweeper').queue.claimDue('sweeper', LEASE_MS, 10)).toEqual([]);
      expect(await store('sweeper').queue.nextDueAt(new Date(), 2 * LEASE_MS)).toEqual(leaseUntil);
      const taken = await store('sweeper', new ManualClock(leaseUntil)).queue.claimDue('sweeper', LEASE_MS, 10);
      expect(taken.map((x) => x.id)).toEqual([g.id]);
      aws.inject({ latencyMs: 0 });
      const done = await wireGrantUseCases(store('sweeper', new ManualClock(leaseUntil)), registry, new SystemClock(), SETTINGS).processDue.execute(taken[0]);
      expect(done).toMatchObject({ state: 'revoked', endReason: 'revoked' });
      expect(aws.size).toBe(0);
      // The dead process's late answer changes nothing.
      await inFlight.catch(() => undefined);
      expect((await leaseOf(g.id)).state).toBe('revoked');
    });

    it('should report work that fell due between the claim and the query, so the sweeper does not wait for its next poll', async () => {
      const now = Date.now();
      const g = grant('active', new Date(now + 50));
      await store('writer').insert(g, null, [], null);
      // The claim ran at `now`; the query runs after the grant fell due.
      await new Promise((r) => setTimeout(r, 80));
      const next = await store('sweeper').queue.nextDueAt(new Date(now), HORIZON);
      expect(next).toEqual(g.expiresAt);
      expect(next!.getTime()).toBeLessThan(Date.now());
    });
  });

  describe('requests awaiting an approver', () => {
    it('should list a pending request for an eligible approver only until its deadline, as approve would accept', async () => {
      const deadline = new Date(Date.now() + 60_000);
      const pending: Grant = {
        ...grant('pending_approval', new Date(Date.now() + HOUR)),
        requestedBy: 'alice',
        approvalDeadline: deadline,
        decision: { rule: 'humans', mode: 'approvals', required: 2, groups: ['sre', 'security'], policyVersion: 'v1' },
        approvals: [{ approver: 'erin', decision: 'approved', at: new Date().toISOString() }],
      };
      await store('writer').insert(pending, null, [], null);
      const ids = async (subject: string, groups: string[], at = new Date()) =>
        (await store('api', new ManualClock(at)).grants.list({ awaitingDecisionBy: { subject, groups } }, 50, null)).items.map((g) => g.id);
      expect(await ids('dave', ['sre'])).toEqual([pending.id]);
      expect(await ids('dave', ['developers'])).toEqual([]);
      expect(await ids('dave', [])).toEqual([]);
      // Not the requester, and not someone who already approved.
      expect(await ids('alice', ['sre'])).toEqual([]);
      expect(await ids('erin', ['security'])).toEqual([]);
      // Past the deadline (before the sweeper denies it) approve answers 409, so the list leaves it out.
      expect(await ids('dave', ['sre'], new Date(deadline.getTime() + 1))).toEqual([]);
    });
  });

  describe('requests awaiting an approver, by the steps still open', () => {
    it('should leave out a request whose steps the approver could fill are full, and fill the page from the query alone', async () => {
      await db.dataSource.query(`DELETE FROM grants`);
      const base = Date.now() - 60_000;
      const decision = {
        rule: 'two-teams', mode: 'approvals' as const, required: 2, groups: ['sre', 'security'], policyVersion: 'v1',
        steps: [{ required: 1, groups: ['sre'] }, { required: 1, groups: ['security'] }],
      };
      const bySre = { approver: 'bob', decision: 'approved' as const, at: new Date(base).toISOString(), groups: ['sre'] };
      // Newest first: six requests with the SRE step filled by bob, then two with both steps open.
      const created: Grant[] = [];
      for (let i = 0; i < 8; i++) {
        const g: Grant = {
          ...grant('pending_approval', new Date(Date.now() + HOUR)),
          createdAt: new Date(base - i * 1000),
          approvalDeadline: new Date(Date.now() + HOUR),
          decision,
          approvals: i < 6 ? [bySre] : [],
        };
        created.push(g);
        await store('writer').insert(g, null, [], null);
      }
      const page = (subject: string, groups: string[], cursor: string | null = null) =>
        store('api').grants.list({ awaitingDecisionBy: { subject, groups } }, 2, cursor);
      // Another SRE member cannot add to a request whose SRE step is full: only the last two are theirs, in one full page.
      const dave = await page('dave', ['sre']);
      expect(dave.items.map((g) => g.id)).toEqual([created[6].id, created[7].id]);
      expect(dave.nextCursor).toBeNull();
      const erin = await page('erin', ['security']);
      expect(erin.items.map((g) => g.id)).toEqual([created[0].id, created[1].id]);
      expect(erin.nextCursor).not.toBeNull();
      // The approval that fills the SRE step moves a request out of SRE's list, through the grant writes.
      const first = await store('api').transition(created[6].id, 'pending_approval', 'pending_approval', { approvals: [bySre] }, () => []);
      expect(first).not.toBeNull();
      expect((await page('dave', ['sre'])).items.map((g) => g.id)).toEqual([created[7].id]);
      expect((await page('frank', ['security', 'sre'])).items.map((g) => g.id)).toEqual([created[0].id, created[1].id]);
    });
  });

  describe('revocation retries', () => {
    it('should keep a revoke_failed grant revoke_failed when its slow retry meets a passing outage, and end it on the next', async () => {
      const g = grant('active', new Date(Date.now() - 1000));
      await store('writer').insert(g, null, [], null);
      await aws.grant(grantSpec(g), { overlapping: [] });
      const { processDue } = wireGrantUseCases(store('sweeper'), registry, new SystemClock(), SETTINGS);
      aws.inject({ terminal: 1 });
      expect(await processDue.execute(g)).toMatchObject({ state: 'revoke_failed', attempts: 1 });
      aws.inject({ transient: 1 });
      const retried = await processDue.execute((await store('sweeper').grants.findById(g.id))!);
      expect(retried).toMatchObject({ state: 'revoke_failed', attempts: 2 });
      const ended = await processDue.execute(retried);
      expect(ended).toMatchObject({ state: 'expired', endReason: 'expired' });
      expect(aws.size).toBe(0);
      await auditChained(db.dataSource);
      const events: { type: string; data: Record<string, unknown> }[] = await db.dataSource.query(
        `SELECT type, data FROM audit_events WHERE grant_id = $1 ORDER BY seq`,
        [g.id],
      );
      expect(events.map((e) => e.type)).toEqual(['grant.revoke_failed', 'grant.revoke_retried', 'grant.expired']);
      expect(events[2].data).toMatchObject({ attempts: 3, afterRevokeFailed: true });
    });
  });

  describe('the request path and its lease', () => {
    it('should stop retrying a grant call when another attempt would outlast the row\'s lease, so a sweeper never recovers it under a live request', async () => {
      const settings = { ...SETTINGS, leaseMs: 2_500, providerTimeoutMs: 600 };
      const g = grant('provisioning', new Date(Date.now() + HOUR));
      const leaseUntil = new Date(Date.now() + settings.leaseMs);
      await store('api-replica').insert(g, null, [], leaseUntil);
      // Every call hangs past the timeout: each attempt costs the full 600 ms.
      aws.inject({ latencyMs: 2_000 });
      const { lifecycle } = wireGrantUseCases(store('api-replica'), registry, new SystemClock(), settings);
      const result = await lifecycle.provision(g, { recovered: false, attempts: 3 });
      expect('error' in result && result.error.kind).toBe('transient');
      // Three attempts would need 1.8 s of calls plus the waits between them, past the lease less its margin.
      const calls = aws.calls.filter((c) => c.grantId === g.id && c.op === 'grant');
      expect(calls.length).toBeGreaterThanOrEqual(1);
      expect(calls.length).toBeLessThan(3);
      aws.inject({ latencyMs: 0 });
    });
  });

  describe('crash recovery of a provisioning grant', () => {
    /**
     * What `kill -9` between the cloud call and the database write leaves: the write-ahead row
     * in `provisioning` with the dead request's lease, and (maybe) the artifact in the cloud.
     */
    async function crashedAfterCloudCall(g: Grant, provider: LocalCloudProvider, cloudCallMade: boolean): Promise<void> {
      const crashed = store('dead-replica', ManualClock.offset(-2 * LEASE_MS));
      await crashed.insert(g, null, [AuditTrail.requested(g, null), AuditTrail.approved(g, 'policy', null, true)], new Date(Date.now() - LEASE_MS));
      if (cloudCallMade) await provider.grant(grantSpec(g), { overlapping: [] });
    }

    /** A fresh replica after the restart: claims due work and processes it. */
    async function recover(): Promise<Grant[]> {
      const s = store('new-replica');
      const { processDue } = wireGrantUseCases(s, registry, new SystemClock(), SETTINGS);
      const claimed = await s.queue.claimDue('new-replica', LEASE_MS, 10);
      return Promise.all(claimed.map((g) => processDue.execute(g)));
    }

    const auditTypes = async (grantId: string) => {
      await auditChained(db.dataSource);
      return db.dataSource.query<{ type: string; data: Record<string, unknown> }[]>(`SELECT type, data FROM audit_events WHERE grant_id = $1 ORDER BY seq`, [grantId]);
    };

    it('should finish a grant that has not expired yet: active, the cloud holding it once, recorded as recovered', async () => {
      const g = grant('provisioning', new Date(Date.now() + HOUR));
      await crashedAfterCloudCall(g, aws, true);
      const [done] = await recover();
      expect(done).toMatchObject({ id: g.id, state: 'active', endReason: null });
      expect(done.startsAt).not.toBeNull();
      expect(aws.holds({ artifactName: g.artifactName }, new Date())).toBe(true);
      expect(aws.size).toBe(1);
      expect(aws.calls.filter((c) => c.op === 'grant')).toHaveLength(2); // the crashed call and the idempotent retry
      const events = await auditTypes(g.id);
      expect(events.map((e) => e.type)).toEqual(['grant.requested', 'grant.approved', 'grant.provisioned', 'grant.activated']);
      expect(events[2].data).toMatchObject({ recovered: true });
      expect(await leaseOf(g.id)).toMatchObject({ state: 'active', lease_owner: null, lease_until: null });
    });

    it('should finish a grant whose cloud call never happened the same way', async () => {
      const g = grant('provisioning', new Date(Date.now() + HOUR), { kind: 'gcp.iam-binding', resource: 'projects/proj-123456', role: 'roles/viewer.custom' }, 'serviceAccount:ci@proj-123456.iam.gserviceaccount.com');
      await crashedAfterCloudCall(g, gcp, false);
      const [done] = await recover();
      expect(done.state).toBe('active');
      expect(gcp.holds({ artifactName: g.artifactName }, new Date())).toBe(true);
    });

    it('should fail a grant that expired while nobody was running, removing what the cloud may hold', async () => {
      const g = grant('provisioning', new Date(Date.now() - 1000));
      await crashedAfterCloudCall(g, aws, true);
      expect(aws.size).toBe(1);
      const [done] = await recover();
      expect(done).toMatchObject({ state: 'failed', endReason: 'failed' });
      expect(done.lastError).toMatch(/expired before provisioning completed/);
      expect(done.endedAt).not.toBeNull();
      expect(aws.size).toBe(0);
      expect(aws.calls.map((c) => c.op)).toEqual(['grant', 'revoke']);
      expect((await auditTypes(g.id)).map((e) => e.type)).toEqual(['grant.requested', 'grant.approved', 'grant.failed']);
    });

    it('should fail an aws.sts-credentials grant, whose credentials can no longer be delivered, and revoke the session', async () => {
      const g = grant('provisioning', new Date(Date.now() + HOUR), { kind: 'aws.sts-credentials', roleArn: 'arn:aws:iam::123456789012:role/deployer' });
      await crashedAfterCloudCall(g, aws, true);
      const [done] = await recover();
      expect(done).toMatchObject({ state: 'failed', endReason: 'failed' });
      expect(done.lastError).toMatch(/credentials/);
      expect(aws.size).toBe(0);
      expect(aws.calls.filter((c) => c.op === 'revoke')).toEqual([expect.objectContaining({ grantId: g.id, early: true })]);
      const events = await auditTypes(g.id);
      expect(events.map((e) => e.type)).toEqual(['grant.requested', 'grant.approved', 'grant.failed']);
      expect(events[2].data.error).toMatch(/credentials/);
    });

    it('should keep the row provisioning, with a retry lease, when the cleanup itself fails, then finish it later', async () => {
      const g = grant('provisioning', new Date(Date.now() - 1000));
      await crashedAfterCloudCall(g, aws, true);
      aws.inject({ transient: 1 });
      const [first] = await recover();
      expect(first).toMatchObject({ state: 'provisioning', endReason: 'failed' });
      expect(first.lastError).toMatch(/cleanup pending/);
      expect(aws.size).toBe(1);
      const row = await leaseOf(g.id);
      expect(row.lease_until).not.toBeNull();
      // The retry is due after the backoff; a replica later on finishes it.
      const s = store('later-replica', ManualClock.offset(LEASE_MS));
      const { processDue } = wireGrantUseCases(s, registry, ManualClock.offset(LEASE_MS), SETTINGS);
      const [claimed] = await s.queue.claimDue('later-replica', LEASE_MS, 10);
      const done = await processDue.execute(claimed);
      expect(done).toMatchObject({ state: 'failed', endReason: 'failed' });
      expect(done.lastError).not.toMatch(/cleanup pending/);
      expect(aws.size).toBe(0);
      expect((await auditTypes(g.id)).map((e) => e.type)).toEqual(['grant.requested', 'grant.approved', 'grant.failed']);
    });
  });
});
