import { randomUUID } from 'node:crypto';
import { ReviewCampaign, ReviewItem } from '@jit/domain';
import { PostgresReviewStore, PostgresReviewUsageReader } from '@jit/persistence';
import { openTestDatabase } from '../setup/test-database';

/** The review store and the usage reader on the database the tests run on (PGlite, or PostgreSQL with TEST_DATABASE_URL). */
describe('PostgresReviewStore', () => {
  let db: Awaited<ReturnType<typeof openTestDatabase>>;
  let store: PostgresReviewStore;
  const t0 = new Date('2027-01-01T09:00:00Z');

  beforeAll(async () => {
    db = await openTestDatabase();
    store = new PostgresReviewStore(db.dataSource);
  });
  afterAll(async () => db.close());

  const campaign = (over: Partial<ReviewCampaign> = {}): ReviewCampaign => ({
    id: randomUUID(),
    definition: 'quarterly',
    description: 'a <b>quarterly</b> review',
    state: 'open',
    startedBy: 'root',
    startedAt: t0,
    endsAt: new Date(t0.getTime() + 14 * 86_400_000),
    closedAt: null,
    periodFrom: new Date(t0.getTime() - 90 * 86_400_000),
    defaultDecision: 'keep',
    spec: { name: 'quarterly', duration: 1209600 },
    remindedAt: null,
    policyVersion: 'abc',
    scheduledFor: null,
    ...over,
  });
  const item = (c: ReviewCampaign, over: Partial<ReviewItem> = {}): ReviewItem => ({
    id: randomUUID(),
    campaignId: c.id,
    source: 'standing',
    principal: 'arn:aws:iam::123456789012:user/alice',
    principalSubjects: ['arn:aws:iam::123456789012:user/alice', 'alice'],
    principalGroups: [],
    principalKind: 'user',
    displayName: 'alice',
    cloud: 'aws',
    access: 'AdministratorAccess',
    scope: 'aws:123456789012',
    since: new Date('2025-01-01T00:00:00Z'),
    lastUsedAt: null,
    findingId: 'f1',
    privileged: true,
    reasons: ['allows *:*'],
    rule: null,
    requesterIndex: null,
    requested: 2,
    granted: 1,
    detail: { removable: true },
    reviewerGroups: ['security'],
    decision: null,
    defaulted: false,
    justification: null,
    narrowing: null,
    decidedBy: null,
    decidedAt: null,
    applied: null,
    appliedAt: null,
    applyError: null,
    escalatedAt: null,
    ...over,
  });

  it('should store a campaign with its items and audit events in one transaction, and roll both back together', async () => {
    const c = campaign();
    const items = Array.from({ length: 1203 }, (_, k) => item(c, { reviewerGroups: k % 2 ? ['security'] : ['sre'], source: k % 3 ? 'standing' : 'eligibility' }));
    await store.transaction(async (tx) => {
      await tx.insertCampaign(c, items);
      await tx.stage([{ id: randomUUID(), occurredAt: t0, type: 'review.campaign_started', grantId: null, cloud: null, principal: null, actor: 'root', data: { campaignId: c.id } }]);
    });
    expect(await store.getCampaign(c.id)).toEqual(c);
    expect(await store.counts(c.id)).toEqual({ total: 1203, decided: 0, pending: 1203 });
    const [staged] = await db.dataSource.query(`SELECT count(*)::int AS n FROM audit_staged WHERE type = 'review.campaign_started'`);
    expect(staged.n).toBe(1);
    const got = await store.getItem(items[0].id);
    expect(got).toEqual(items[0]);

    const other = campaign();
    await expect(
      store.transaction(async (tx) => {
        await tx.insertCampaign(other, [item(other)]);
        await tx.stage([{ id: randomUUID(), occurredAt: t0, type: 'review.campaign_started', grantId: null, cloud: null, principal: null, actor: 'root', data: {} }]);
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    expect(await store.getCampaign(other.id)).toBeNull();
    const [after] = await db.dataSource.query(`SELECT count(*)::int AS n FROM audit_staged WHERE type = 'review.campaign_started'`);
    expect(after.n).toBe(1);

    // Paging by id, filters by reviewer groups, source and decided.
    const seen: string[] = [];
    let last: string | undefined;
    for (;;) {
      const page = await store.listItems(c.id, { reviewerGroups: ['sre'] }, { after: last, limit: 250 });
      seen.push(...page.map((i) => i.id));
      if (page.length < 250) break;
      last = page[page.length - 1].id;
    }
    expect(seen).toHaveLength(602);
    expect(new Set(seen).size).toBe(602);
    expect(await store.listItems(c.id, { source: 'eligibility', reviewerGroups: ['security', 'nobody'] }, { limit: 5000 })).toHaveLength(items.filter((i, k) => k % 2 && i.source === 'eligibility').length);
  });

  it('should decide an item once, mark what was applied, escalate, remind and close once', async () => {
    const c = campaign();
    const [a, b] = [item(c), item(c)];
    await store.transaction((tx) => tx.insertCampaign(c, [a, b]));
    const decision = { decision: 'remove' as const, defaulted: false, justification: 'left', narrowing: null, decidedBy: 'sec-1', decidedAt: t0 };
    expect(await store.transaction((tx) => tx.decide(a.id, decision))).toBe(true);
    expect(await store.transaction((tx) => tx.decide(a.id, { ...decision, decidedBy: 'sec-2' }))).toBe(false);
    await store.transaction((tx) => tx.markApplied(a.id, { applied: 'removal:r1', appliedAt: t0, applyError: null }));
    expect(await store.getItem(a.id)).toMatchObject({ decision: 'remove', decidedBy: 'sec-1', applied: 'removal:r1' });
    expect(await store.listItems(c.id, { decided: false }, { limit: 10 })).toEqual([expect.objectContaining({ id: b.id })]);

    const late = new Date(c.endsAt.getTime() + 1000);
    expect(await store.overdueItems(late)).toBeGreaterThanOrEqual(1);
    const before = await store.overdueItems(late);
    await store.transaction((tx) => tx.escalate(b.id, late, ['sre', 'security']));
    expect((await store.getItem(b.id))!.reviewerGroups.sort()).toEqual(['security', 'sre']);
    await store.transaction((tx) => tx.setReminded(c.id, t0));
    expect(await store.transaction((tx) => tx.close(c.id, late))).toBe(true);
    expect(await store.transaction((tx) => tx.close(c.id, late))).toBe(false);
    expect(await store.getCampaign(c.id)).toMatchObject({ state: 'closed', closedAt: late, remindedAt: t0 });
    expect(await store.overdueItems(late)).toBe(before - 1);
    expect((await store.openCampaigns()).map((x) => x.id)).not.toContain(c.id);
    expect((await store.latestOf('quarterly'))!.definition).toBe('quarterly');
    expect((await store.listCampaigns({ state: 'closed' }, { limit: 10 })).map((x) => x.id)).toEqual([c.id]);
  });

  it('should start one campaign per definition and firing, and remind or escalate once (two replicas at once)', async () => {
    const firing = new Date('2027-04-01T09:00:00Z');
    const first = campaign({ definition: 'monthly', scheduledFor: firing });
    const second = campaign({ definition: 'monthly', scheduledFor: firing });
    const results = await Promise.all([first, second].map((c) => store.transaction((tx) => tx.insertCampaign(c, [item(c)]))));
    expect(results.filter(Boolean)).toHaveLength(1);
    const [winner, loser] = results[0] ? [first, second] : [second, first];
    expect(await store.getCampaign(winner.id)).toMatchObject({ scheduledFor: firing });
    expect(await store.getCampaign(loser.id)).toBeNull();
    expect(await store.counts(loser.id)).toEqual({ total: 0, decided: 0, pending: 0 });
    // The next firing, and campaigns started by hand (no firing), are not held back.
    expect(await store.transaction((tx) => tx.insertCampaign(campaign({ definition: 'monthly', scheduledFor: new Date('2027-05-01T09:00:00Z') }), []))).toBe(true);
    expect(await store.transaction((tx) => tx.insertCampaign(campaign({ definition: 'monthly' }), []))).toBe(true);
    expect(await store.transaction((tx) => tx.insertCampaign(campaign({ definition: 'monthly' }), []))).toBe(true);

    const [i] = await store.listItems(winner.id, {}, { limit: 1 });
    expect(await store.transaction((tx) => tx.setReminded(winner.id, t0))).toBe(true);
    expect(await store.transaction((tx) => tx.setReminded(winner.id, new Date(t0.getTime() + 1000)))).toBe(false);
    expect((await store.getCampaign(winner.id))!.remindedAt).toEqual(t0);
    expect(await store.transaction((tx) => tx.escalate(i.id, t0, ['sre']))).toBe(true);
    expect(await store.transaction((tx) => tx.escalate(i.id, t0, ['sre']))).toBe(false);
  });

  it('should list decided items with nothing applied, decided before the given time', async () => {
    const c = campaign({ definition: 'unapplied' });
    const [a, b, d] = [item(c), item(c), item(c)];
    await store.transaction((tx) => tx.insertCampaign(c, [a, b, d]));
    const decision = { decision: 'remove' as const, defaulted: false, justification: 'left', narrowing: null, decidedBy: 'sec-1', decidedAt: t0 };
    await store.transaction((tx) => tx.decide(a.id, decision));
    await store.transaction((tx) => tx.decide(b.id, decision));
    await store.transaction((tx) => tx.markApplied(b.id, { applied: 'removal:r9', appliedAt: t0, applyError: null }));
    const later = new Date(t0.getTime() + 60_000);
    expect((await store.unappliedItems(later, 100)).filter((i) => i.campaignId === c.id).map((i) => i.id)).toEqual([a.id]);
    expect((await store.unappliedItems(t0, 100)).filter((i) => i.campaignId === c.id)).toEqual([]);
  });

  it('should keep definitions and one lease holder at a time', async () => {
    expect(await store.saveDefinition({ name: 'api-made', spec: { name: 'api-made' }, createdBy: 'root', createdAt: t0 })).toBe(true);
    expect(await store.saveDefinition({ name: 'api-made', spec: {}, createdBy: 'root', createdAt: t0 })).toBe(false);
    expect(await store.listDefinitions()).toEqual([{ name: 'api-made', spec: { name: 'api-made' }, createdBy: 'root', createdAt: t0 }]);
    const until = new Date(t0.getTime() + 60_000);
    expect(await store.claimLease('scheduler', 'r1', until, t0)).toBe(true);
    expect(await store.claimLease('scheduler', 'r2', until, t0)).toBe(false);
    expect(await store.claimLease('scheduler', 'r1', until, t0)).toBe(true);
    expect(await store.claimLease('scheduler', 'r2', new Date(until.getTime() + 60_000), new Date(until.getTime() + 1))).toBe(true);
    await store.releaseLease('scheduler', 'r1');
    expect(await store.claimLease('scheduler', 'r1', until, t0)).toBe(false);
    await store.releaseLease('scheduler', 'r2');
    expect(await store.claimLease('scheduler', 'r1', until, t0)).toBe(true);
  });

  it('should count requests and grants by principal and by rule in the period', async () => {
    const usage = new PostgresReviewUsageReader(db.dataSource);
    const insert = (principal: string, rule: string, by: string, createdAt: Date, startsAt: Date | null) =>
      db.dataSource.query(
        `INSERT INTO grants (id, state, cloud, kind, principal_type, principal_id, target, requested_by, duration_seconds, created_at, starts_at, expires_at, artifact_name, overlap_key, updated_at, decision)
         VALUES ($1, $2, 'aws', 'aws.assume-role', 'user', $3, '{}', $4, 3600, $5, $6, $7, 'a', $9, $5, $8)`,
        [randomUUID(), startsAt ? 'expired' : 'denied', principal, by, createdAt, startsAt, new Date(createdAt.getTime() + 3_600_000), JSON.stringify({ rule, mode: 'approvals', groups: ['sre'], required: 1 }), randomUUID()],
      );
    const day = 86_400_000;
    await insert('arn:aws:iam::1:role/dev', 'devs', 'erin', new Date(t0.getTime() - 10 * day), new Date(t0.getTime() - 10 * day));
    await insert('arn:aws:iam::1:role/dev', 'devs', 'dana', new Date(t0.getTime() - 5 * day), new Date(t0.getTime() - 5 * day));
    await insert('arn:aws:iam::1:role/dev', 'devs', 'dana', new Date(t0.getTime() - 4 * day), null);
    await insert('arn:aws:iam::1:role/dev', 'devs', 'dana', new Date(t0.getTime() - 200 * day), new Date(t0.getTime() - 200 * day));
    const from = new Date(t0.getTime() - 90 * day);
    expect(await usage.byPrincipal('arn:aws:iam::1:role/dev', from)).toEqual({ requested: 3, granted: 2, lastGrantedAt: new Date(t0.getTime() - 5 * day) });
    expect(await usage.byRule('devs', [], from)).toMatchObject({ requested: 3, granted: 2 });
    expect(await usage.byRule('devs', ['erin'], from)).toMatchObject({ requested: 1, granted: 1 });
    expect(await usage.byRule('other', [], from)).toEqual({ requested: 0, granted: 0, lastGrantedAt: null });
  });
});
