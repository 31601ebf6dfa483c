import { randomUUID } from 'node:crypto';
import { Grant, StandingAssignment } from '@jit/domain';
import { DEFAULT_PRIVILEGE_CRITERIA, DiscoveryScanner, StandingRemovalService } from '@jit/discovery';
import { Actor } from '@jit/grants';
import { LocalCloudProvider, LocalStandingInventory } from '@jit/provider-local';
import { PostgresDiscoveryStore, PostgresGrantRepository } from '@jit/persistence';
import { emptyAccessPolicy } from '@jit/policy';
import { ManualClock, grantRow, targetKinds } from '@jit/testing';
import { postgresStores } from '../setup/postgres-stores';
import { openTestDatabase } from '../setup/test-database';

/**
 * Discovery's store with the scan runner and removals on a real database: PostgreSQL when
 * TEST_DATABASE_URL is set, else the embedded PGlite (the broker's two databases).
 */
const DAY = 86_400_000;
const FAST_RETRY = { maxAttempts: 4, backoff: { baseMs: 1, capMs: 5, jitter: 'equal' as const } };

function assignment(key: string, over: Partial<StandingAssignment> = {}): StandingAssignment {
  return {
    cloud: 'aws',
    key,
    principal: { id: `arn:aws:iam::111122223333:user/${key}`, kind: 'user', human: true },
    scope: 'aws:111122223333',
    access: { type: 'aws.managed-policy', name: 'ReadOnlyAccess', actions: ['s3:GetObject'] },
    since: null,
    lastUsedAt: null,
    brokerOwned: false,
    removable: true,
    locator: { key },
    ...over,
  };
}

describe('discovery on the database', () => {
  let db: Awaited<ReturnType<typeof openTestDatabase>>;
  let store: PostgresDiscoveryStore;
  let grants: PostgresGrantRepository;
  /** The ids of each claim lookup the scanner made (one a page). */
  let lookups: string[][] = [];
  const clock = new ManualClock(new Date('2026-11-01T00:00:00Z'));
  let stagedMark = '0';

  beforeAll(async () => {
    db = await openTestDatabase();
    store = new PostgresDiscoveryStore(db.dataSource);
    grants = new PostgresGrantRepository(db.dataSource, clock);
  });
  afterAll(async () => db.close());
  beforeEach(async () => {
    await db.dataSource.query(
      'TRUNCATE discovery_removals, discovery_finding_history, discovery_findings, discovery_scan_parts, discovery_scans, discovery_leases CASCADE',
    );
    // Staged audit rows are append-only (a trigger refuses changes): each test reads those after this mark.
    [{ mark: stagedMark }] = await db.dataSource.query<{ mark: string }[]>('SELECT coalesce(max(id), 0) AS mark FROM audit_staged');
    lookups = [];
  });

  /** Stores a grant of `cloud` to `principalId` as it would be in `state` (ended `endedAgoMs` ago when it has ended). */
  async function storedGrant(cloud: 'aws' | 'gcp', principalId: string, state: Grant['state'], endedAgoMs = 0): Promise<Grant> {
    const provider = new LocalCloudProvider(cloud, targetKinds);
    const target = cloud === 'aws' ? { kind: 'aws.iam-policy', actions: ['s3:GetObject'], resources: ['*'] } : { kind: 'gcp.iam-binding', resource: 'projects/p', role: 'roles/viewer' };
    const ended = ['expired', 'revoked', 'failed', 'denied'].includes(state);
    const expiresAt = new Date(clock.now().getTime() + (ended ? -endedAgoMs : 3_600_000));
    const g = { ...grantRow(provider, { state, expiresAt, target, principal: { type: 'user', id: principalId } }), endedAt: ended ? expiresAt : null };
    return postgresStores(db.dataSource, clock, 'seed').insert(g, null, [], null);
  }

  const scanner = (inventory: LocalStandingInventory, owner = 'r1', onPage?: () => void | Promise<void>) =>
    new DiscoveryScanner(store, [inventory], DEFAULT_PRIVILEGE_CRITERIA, clock, () => undefined, {
      grants: {
        findByIds: (ids) => {
          lookups.push([...ids]);
          return grants.findByIds(ids);
        },
      },
      owner,
      leaseMs: 60_000,
      retry: FAST_RETRY,
      onPage: onPage,
    });

  async function scan(inventory: LocalStandingInventory) {
    const s = scanner(inventory);
    const created = await s.create('manual', 'admin');
    expect(created).not.toBeNull();
    const outcome = await s.runPending();
    expect(outcome.ran).toBe(true);
    return outcome.scan!;
  }

  it('should store findings judged, leave out the broker\'s own, and track them by key across scans: resolved when gone, reopened when back', async () => {
    const inv = new LocalStandingInventory('aws');
    const own = await storedGrant('aws', 'arn:aws:iam::111122223333:user/jit-own', 'active');
    inv.seed(
      assignment('admin', { access: { type: 'aws.managed-policy', name: 'AdministratorAccess', actions: ['*'] } }),
      assignment('reader'),
      assignment('jit-own', { brokerOwned: true, brokerGrantIds: [own.id], access: { type: 'aws.inline-policy', name: 'jit-1', actions: ['*'] } }),
      assignment('other-account', { scope: 'aws:444455556666' }),
    );
    const first = await scan(inv);
    expect(first.state).toBe('completed');
    expect(first.parts.map((p) => [p.part, p.state])).toEqual([
      ['aws:111122223333', 'done'],
      ['aws:444455556666', 'done'],
    ]);
    let all = await store.listFindings({}, { limit: 100 }, clock.now());
    expect(all.map((f) => f.key).sort()).toEqual(['admin', 'other-account', 'reader']);
    expect(all.find((f) => f.key === 'admin')).toMatchObject({ privileged: true, status: 'open', reasons: [expect.stringMatching(/AdministratorAccess/), expect.any(String)] });
    expect(all.find((f) => f.key === 'reader')).toMatchObject({ privileged: false, reasons: [] });

    inv.unseed('admin');
    clock.advance(DAY);
    await scan(inv);
    const admin = all.find((f) => f.key === 'admin')!;
    expect(await store.getFinding(admin.id)).toMatchObject({ status: 'resolved', resolvedAt: clock.now() });

    inv.seed(assignment('admin', { access: { type: 'aws.managed-policy', name: 'AdministratorAccess', actions: ['*'] } }));
    clock.advance(DAY);
    await scan(inv);
    expect(await store.getFinding(admin.id)).toMatchObject({ status: 'open', resolvedAt: null });
    expect((await store.findingHistory(admin.id)).map((h) => h.change)).toEqual(['opened', 'resolved', 'reopened']);
    all = await store.listFindings({ status: 'open' }, { limit: 100 }, clock.now());
    expect(all).toHaveLength(3);
  });

  it("should leave out only the assignments a live grant of the same cloud and principal backs, and report every other claim to be the broker's", async () => {
    const alice = 'arn:aws:iam::111122223333:user/alice';
    const active = await storedGrant('aws', alice, 'active');
    const justRevoked = await storedGrant('aws', alice, 'revoked', 5 * 60_000);
    const longExpired = await storedGrant('aws', alice, 'expired', 2 * DAY);
    const denied = await storedGrant('aws', alice, 'denied', 60_000);
    const gcpGrant = await storedGrant('gcp', 'user:alice@example.com', 'active');
    const claim = (key: string, ids: string[], principal = alice) =>
      assignment(key, { brokerOwned: true, brokerGrantIds: ids, principal: { id: principal, kind: 'user', human: true }, access: { type: 'aws.inline-policy', name: 'jit-broker-grants', actions: ['*'] } });
    const inv = new LocalStandingInventory('aws');
    inv.pageSize = 10;
    inv.seed(
      // The inventory lists the user with its path and the id in capitals: the same user, the same grant.
      claim('live', [active.id.toUpperCase()], 'arn:aws:iam::111122223333:user/engineering/alice'),
      claim('just-revoked', [justRevoked.id]),
      claim('long-expired', [longExpired.id]),
      claim('denied', [denied.id]),
      claim('other-principal', [active.id], 'arn:aws:iam::111122223333:user/mallory'),
      claim('other-cloud', [gcpGrant.id]),
      claim('unknown-grant', [randomUUID()]),
      claim('not-a-grant-id', ['jit-broker-grants', "x'; DROP TABLE grants; --"]),
      claim('no-claim', []),
      claim('one-of-two', [randomUUID(), active.id]),
    );
    const done = await scan(inv);
    expect(done.state).toBe('completed');
    const found = await store.listFindings({}, { limit: 100 }, clock.now());
    expect(found.map((f) => f.key).sort()).toEqual(['denied', 'long-expired', 'no-claim', 'not-a-grant-id', 'other-cloud', 'other-principal', 'unknown-grant']);
    expect(found.find((f) => f.key === 'other-principal')).toMatchObject({
      privileged: true,
      reasons: [`claims to be the broker's (grant ${active.id}) but no live grant matches`, expect.stringMatching(/wildcard actions/)],
    });
    expect(found.find((f) => f.key === 'no-claim')!.reasons[0]).toBe("claims to be the broker's (grant none named) but no live grant matches");
    // One lookup for the page, of the claimed ids that can be grant ids.
    expect(lookups).toHaveLength(1);
    expect(lookups[0]).not.toContain('jit-broker-grants');
  });

  it('should run one scan at a time and one replica at a time', async () => {
    const inv = new LocalStandingInventory('aws');
    inv.seed(assignment('a'));
    const s = scanner(inv);
    expect(await s.create('manual', 'x')).not.toBeNull();
    expect(await s.create('schedule', 'y')).toBeNull();
    expect(await store.claimLease('discovery-scan', 'other', 60_000, clock.now())).toBe(true);
    expect((await s.runPending()).ran).toBe(false);
    await store.releaseLease('discovery-scan', 'other');
    expect((await s.runPending()).ran).toBe(true);
    expect(await store.runningScan()).toBeNull();
  });

  it('should resume a scan killed mid-way from the stored cursor, once its lease has lapsed', async () => {
    const inv = new LocalStandingInventory('aws');
    inv.pageSize = 1;
    inv.seed(...['a', 'b', 'c', 'd', 'e'].map((k) => assignment(k)));
    // The first replica "dies" after its second page: it never returns, its lease is left in the database.
    let pages = 0;
    const dying = scanner(inv, 'replica-1', () => {
      if (++pages === 2) return new Promise<never>(() => undefined);
    });
    await dying.create('manual', 'admin');
    void dying.runPending();
    await new Promise((r) => setTimeout(r, 300));
    const running = (await store.runningScan())!;
    expect(running.parts[0]).toMatchObject({ cursor: '2', pages: 2, state: 'pending' });

    const second = scanner(inv, 'replica-2');
    expect((await second.runPending()).ran).toBe(false);
    clock.advance(61_000);
    inv.calls.length = 0;
    const outcome = await second.runPending();
    expect(outcome.ran).toBe(true);
    expect(outcome.scan).toMatchObject({ id: running.id, state: 'completed' });
    // It asked for the pages after the stored cursor only, and listed the parts no more.
    expect(inv.calls.map((c) => c.cursor ?? c.op)).toEqual(['2', '3', '4']);
    expect(outcome.scan!.parts[0]).toMatchObject({ pages: 5, assignments: 5, state: 'done' });
    expect(await store.listFindings({}, { limit: 10 }, clock.now())).toHaveLength(5);
  });

  it('should retry throttling, record a part that keeps failing and go on, and leave that part\'s findings as they were', async () => {
    const inv = new LocalStandingInventory('aws');
    inv.seed(assignment('a'), assignment('b', { scope: 'aws:444455556666' }));
    await scan(inv);
    inv.unseed('b');
    inv.inject({ throttled: 2, failingPart: 'aws:444455556666' });
    inv.seed(assignment('b2', { scope: 'aws:444455556666' }));
    const s = await scan(inv);
    expect(s.state).toBe('completed');
    expect(s.parts.find((p) => p.part === 'aws:444455556666')).toMatchObject({ state: 'failed', errors: 1, lastError: expect.stringMatching(/AccessDenied/) });
    expect(s.parts.find((p) => p.part === 'aws:111122223333')).toMatchObject({ state: 'done' });
    const b = (await store.listFindings({ scope: 'aws:4444*' }, { limit: 10 }, clock.now()))[0];
    // Not resolved: the part was not read to its end, so nothing is known to be gone.
    expect(b).toMatchObject({ key: 'b', status: 'open' });
    const staged: { type: string; data: { failedParts: number } }[] = await db.dataSource.query(`SELECT type, data FROM audit_staged WHERE type = 'discovery.scan_completed' AND id > $1 ORDER BY id`, [stagedMark]);
    expect(staged.at(-1)!.data.failedParts).toBe(1);
  });

  it('should filter by unused days, privilege, principal and globs, page by id, and sum up per cloud', async () => {
    const inv = new LocalStandingInventory('gcp');
    const now = clock.now().getTime();
    inv.seed(
      assignment('old', { cloud: 'gcp', scope: 'projects/p1', access: { type: 'gcp.role-binding', name: 'roles/owner' }, lastUsedAt: new Date(now - 200 * DAY) }),
      assignment('never', { cloud: 'gcp', scope: 'projects/p1', principal: { id: 'serviceAccount:ci@p1.iam.gserviceaccount.com', kind: 'service_account', human: false }, access: { type: 'gcp.role-binding', name: 'roles/editor' }, neverUsed: true }),
      assignment('recent', { cloud: 'gcp', scope: 'projects/p2', access: { type: 'gcp.role-binding', name: 'roles/storage.admin' }, lastUsedAt: new Date(now - 2 * DAY) }),
      assignment('viewer', { cloud: 'gcp', scope: 'projects/p2', access: { type: 'gcp.role-binding', name: 'roles/viewer' }, lastUsedAt: new Date(now - 300 * DAY) }),
    );
    await scan(inv);
    const keys = async (f: Parameters<typeof store.listFindings>[0]) => (await store.listFindings(f, { limit: 100 }, clock.now())).map((x) => x.key).sort();
    expect(await keys({ unusedForDays: 90 })).toEqual(['never', 'old', 'viewer']);
    expect(await keys({ unusedForDays: 90, privileged: true })).toEqual(['never', 'old']);
    expect(await keys({ principalKind: 'service_account' })).toEqual(['never']);
    expect(await keys({ human: true, scope: 'projects/p2' })).toEqual(['recent', 'viewer']);
    expect(await keys({ access: 'roles/*admin' })).toEqual(['recent']);
    expect(await keys({ scope: 'projects/p_' })).toEqual([]);
    const first = await store.listFindings({}, { limit: 2 }, clock.now());
    const rest = await store.listFindings({}, { limit: 10, after: first[1].id }, clock.now());
    expect([...first, ...rest].map((f) => f.id)).toEqual([...first, ...rest].map((f) => f.id).sort());
    expect(first.length + rest.length).toBe(4);
    expect(await store.summary(90, clock.now())).toEqual([
      { cloud: 'gcp', open: 4, privileged: 3, privilegedUnused: 2, privilegedHumans: 2, privilegedWorkloads: 1, privilegedUnknown: 0, eligiblePrivileged: 0 },
    ]);
  });

  it('should not count as unused for N days what the cloud tracked for fewer days', async () => {
    const inv = new LocalStandingInventory('gcp');
    const owner = { type: 'gcp.role-binding', name: 'roles/owner' };
    inv.seed(
      // Nothing used in GCP's 30-day insight, never used per a 30-day window, and a 120-day window with nothing used.
      assignment('short-window', { cloud: 'gcp', scope: 'projects/p', access: owner, usage: { granted: ['x.get'], used: [], periodDays: 30 } }),
      assignment('never-in-short-window', { cloud: 'gcp', scope: 'projects/p', access: owner, neverUsed: true, usage: { granted: ['x.get'], used: [], periodDays: 30 } }),
      assignment('long-window', { cloud: 'gcp', scope: 'projects/p', access: owner, usage: { granted: ['x.get'], used: [], periodDays: 120 } }),
    );
    await scan(inv);
    const keys = async (days: number) => (await store.listFindings({ unusedForDays: days }, { limit: 100 }, clock.now())).map((x) => x.key).sort();
    expect(await keys(90)).toEqual(['long-window']);
    expect(await keys(30)).toEqual(['long-window', 'never-in-short-window', 'short-window']);
    expect((await store.summary(90, clock.now()))[0]).toMatchObject({ privileged: 3, privilegedUnused: 1 });
  });

  it('should count eligibility to a privileged role apart from standing privilege', async () => {
    const inv = new LocalStandingInventory('azure');
    const sub = '/subscriptions/00000000-0000-0000-0000-000000000001';
    const user = (id: string) => ({ id, kind: 'user' as const, human: true });
    inv.seed(
      assignment('eligible-owner', { cloud: 'azure', scope: sub, principal: user('u1'), access: { type: 'azure.pim-eligible', name: 'Owner' }, neverUsed: true }),
      assignment('eligible-reader', { cloud: 'azure', scope: sub, principal: user('u2'), access: { type: 'azure.pim-eligible', name: 'Reader', actions: ['*/read'] } }),
      assignment('owner', { cloud: 'azure', scope: sub, principal: user('u3'), access: { type: 'azure.role-assignment', name: 'Owner' }, neverUsed: true }),
    );
    await scan(inv);
    const found = await store.listFindings({}, { limit: 100 }, clock.now());
    expect(found.find((f) => f.key === 'eligible-owner')).toMatchObject({ privileged: true, reasons: ['eligible for privileged role: Owner'] });
    expect(found.find((f) => f.key === 'eligible-reader')).toMatchObject({ privileged: false, reasons: [] });
    expect(await store.summary(90, clock.now())).toEqual([
      { cloud: 'azure', open: 3, privileged: 1, privilegedUnused: 1, privilegedHumans: 1, privilegedWorkloads: 0, privilegedUnknown: 0, eligiblePrivileged: 1 },
    ]);
  });

  it('should remove a standing assignment once someone else approves, audit each step, and restore it', async () => {
    const inv = new LocalStandingInventory('aws');
    inv.seed(assignment('admin', { access: { type: 'aws.managed-policy', name: 'AdministratorAccess', actions: ['*'] } }));
    await scan(inv);
    const [finding] = await store.listFindings({}, { limit: 1 }, clock.now());
    const removals = new StandingRemovalService(store, [inv], { current: emptyAccessPolicy(clock.now(), targetKinds) }, clock, () => undefined, {
      approvals: 1,
      retry: { ...FAST_RETRY, retryable: () => false },
    });
    const alice: Actor = { subject: 'alice', roles: ['admin'] };
    const bob: Actor = { subject: 'bob', roles: ['admin'] };
    const carol: Actor = { subject: 'carol', roles: ['requester'] };
    await expect(removals.requestAsAdmin(carol, finding.id, 'x')).rejects.toMatchObject({ code: 'forbidden' });
    await expect(removals.requestAsAdmin(alice, finding.id, '  ')).rejects.toMatchObject({ code: 'validation', issues: [{ field: 'justification' }] });
    const removal = await removals.requestAsAdmin(alice, finding.id, 'unused for a year');
    expect(removal).toMatchObject({ state: 'pending_approval', requestedBy: 'alice', origin: 'discovery' });
    await expect(removals.requestAsAdmin(alice, finding.id, 'again')).rejects.toMatchObject({ code: 'invalid_state' });
    await expect(removals.approve(alice, removal.id, null)).rejects.toMatchObject({ code: 'forbidden', message: expect.stringMatching(/own/) });
    await expect(removals.approve(carol, removal.id, null)).rejects.toMatchObject({ code: 'forbidden' });
    const applied = await removals.approve(bob, removal.id, 'ok');
    expect(applied).toMatchObject({ state: 'applied', decidedBy: 'bob', approvals: [{ by: 'bob', comment: 'ok' }] });
    expect(inv.has('admin')).toBe(false);
    expect(await store.getFinding(finding.id)).toMatchObject({ status: 'removed' });

    await expect(removals.restore(bob, removal.id, null).then(() => removals.restore(bob, removal.id, null))).rejects.toMatchObject({ code: 'invalid_state' });
    expect(inv.has('admin')).toBe(true);
    expect(await store.getRemoval(removal.id)).toMatchObject({ state: 'restored' });
    expect(await store.getFinding(finding.id)).toMatchObject({ status: 'open' });
    const events: { type: string; actor: string; principal: string }[] = await db.dataSource.query(
      `SELECT type, actor, principal FROM audit_staged WHERE (type LIKE 'discovery.removal%' OR type = 'discovery.restored') AND id > $1 ORDER BY id`,
      [stagedMark],
    );
    expect(events.map((e) => [e.type, e.actor])).toEqual([
      ['discovery.removal_requested', 'alice'],
      ['discovery.removal_approved', 'bob'],
      ['discovery.removal_applied', 'bob'],
      ['discovery.restored', 'bob'],
    ]);
    expect(new Set(events.map((e) => e.principal))).toEqual(new Set([finding.principal.id]));
    expect((await store.findingHistory(finding.id)).map((h) => h.change)).toEqual(['opened', 'removed', 'restored']);
  });

  it('should take a removal asked by an access review, with its origin, through the same approvals', async () => {
    const inv = new LocalStandingInventory('aws');
    inv.seed(assignment('x'));
    await scan(inv);
    const [finding] = await store.listFindings({}, { limit: 1 }, clock.now());
    const removals = new StandingRemovalService(store, [inv], { current: emptyAccessPolicy(clock.now(), targetKinds) }, clock, () => undefined, {
      approvals: 2,
      retry: { ...FAST_RETRY, retryable: () => false },
    });
    const r = await removals.request(finding.id, { actor: 'reviewer', justification: 'revoked in review', origin: 'review:c1' });
    expect(await removals.get(r.id)).toMatchObject({ origin: 'review:c1', state: 'pending_approval' });
    expect(await removals.approve({ subject: 'a1', roles: ['admin'] }, r.id, null)).toMatchObject({ state: 'pending_approval', approvals: [{ by: 'a1' }] });
    await expect(removals.approve({ subject: 'a1', roles: ['admin'] }, r.id, null)).rejects.toMatchObject({ code: 'invalid_state' });
    expect(await removals.approve({ subject: 'a2', roles: ['admin'] }, r.id, null)).toMatchObject({ state: 'applied' });
  });
});
