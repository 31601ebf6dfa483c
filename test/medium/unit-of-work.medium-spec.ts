import { randomUUID } from 'node:crypto';
import { AuditEventInput, Grant, SystemClock } from '@jit/domain';
import { openTestDatabase } from '../setup/test-database';
import { PostgresStores, postgresStores } from '../setup/postgres-stores';

/**
 * The store split (issue 11 point 2) on a real database: the grant repository's writes and the
 * audit log's append share one transaction, so a grant change and its events commit together.
 */
describe('one unit of work for a grant change and its audit events', () => {
  let db: Awaited<ReturnType<typeof openTestDatabase>>;
  let stores: PostgresStores;

  beforeAll(async () => {
    db = await openTestDatabase();
    stores = postgresStores(db.dataSource, new SystemClock(), 'replica-a');
  });
  afterAll(async () => {
    await db.close();
  });

  const grant = (): Grant => {
    const id = randomUUID();
    const now = new Date();
    const principal = { type: 'workload' as const, id: `arn:aws:iam::123456789012:role/r-${id.slice(0, 8)}` };
    return {
      id, state: 'active', cloud: 'aws', kind: 'aws.assume-role', principal, target: { kind: 'aws.assume-role', roleArn: 'arn:aws:iam::123456789012:role/deploy' },
      requestedBy: 'alice', justification: null, ticket: null, durationSeconds: 3600, createdAt: now, startsAt: now,
      expiresAt: new Date(now.getTime() + 3600_000), endedAt: null, endReason: null, approvals: [], decision: null, approvalDeadline: null,
      artifactName: `jit-${id}`, overlapKey: id, providerRef: null, lastError: null, attempts: 0, nextAttemptAt: null,
    };
  };
  const event = (g: Grant, data: Record<string, unknown>): AuditEventInput => ({ type: 'grant.requested', grantId: g.id, cloud: 'aws', principal: g.principal.id, actor: 'alice', data });

  it('should store neither the grant nor its events when appending the events fails, and chain the next change as usual', async () => {
    const before = await stores.audit.head();
    const refused = grant();
    // jsonb refuses U+0000: the audit insert fails after the grant row was written in the same transaction.
    await expect(stores.insert(refused, null, [event(refused, { justification: 'a\u0000b' })], null)).rejects.toThrow();
    expect(await stores.grants.findById(refused.id)).toBeNull();
    expect(await stores.audit.head()).toEqual(before);

    const kept = grant();
    await stores.insert(kept, null, [event(kept, { justification: 'ok' })], null);
    expect(await stores.grants.findById(kept.id)).toMatchObject({ id: kept.id, state: 'active' });
    expect((await stores.audit.list({ grantId: kept.id }, 10, null)).items).toMatchObject([{ seq: before.seq + 1, prevHash: before.hash }]);
  });

  it('should leave a transition undone when its events cannot be stored', async () => {
    const g = grant();
    await stores.insert(g, null, [], null);
    const ended = { endReason: 'revoked' as const, endedAt: new Date() };
    await expect(stores.transition(g.id, 'active', 'revoked', ended, (row) => [event(row, { reason: '\u0000' })])).rejects.toThrow();
    expect(await stores.grants.findById(g.id)).toMatchObject({ state: 'active', endReason: null });
    expect(await stores.transition(g.id, 'active', 'revoked', ended, (row) => [event(row, { reason: 'done' })])).toMatchObject({ state: 'revoked' });
  });
});
