import { randomUUID } from 'node:crypto';
import { Grant, SystemClock } from '@jit/domain';
import { MIGRATIONS } from '@jit/persistence';
import { openTestDatabase } from '../setup/test-database';
import { postgresStores } from '../setup/postgres-stores';

describe('the open_approval_groups migration', () => {
  let db: Awaited<ReturnType<typeof openTestDatabase>>;

  beforeAll(async () => {
    db = await openTestDatabase();
  });
  afterAll(async () => {
    await db.close();
  });

  it('should fill the column for the requests pending when it runs, so they stay in their approvers\' lists', async () => {
    const stores = postgresStores(db.dataSource, new SystemClock(), 'migrating');
    const now = new Date();
    const id = randomUUID();
    const pending: Grant = {
      id, state: 'pending_approval', cloud: 'aws', kind: 'aws.assume-role', principal: { type: 'workload', id: 'arn:aws:iam::123456789012:role/ci' },
      target: { kind: 'aws.assume-role', roleArn: 'arn:aws:iam::123456789012:role/deploy' }, requestedBy: 'alice', justification: null, ticket: null,
      durationSeconds: 3600, createdAt: now, startsAt: null, expiresAt: new Date(now.getTime() + 3600_000), endedAt: null, endReason: null,
      approvals: [{ approver: 'bob', decision: 'approved', at: now.toISOString(), groups: ['sre'] }],
      decision: { rule: 'r', mode: 'approvals', required: 2, groups: ['sre', 'security'], policyVersion: 'v', steps: [{ required: 1, groups: ['sre'] }, { required: 1, groups: ['security'] }] },
      approvalDeadline: new Date(now.getTime() + 600_000), artifactName: `jit-${id}`, overlapKey: id, providerRef: null, lastError: null, attempts: 0, nextAttemptAt: null,
    };
    await stores.insert(pending, null, [], null);
    const migration = new (MIGRATIONS.find((m) => m.name === 'AddOpenApprovalGroups1764206000000')!)();
    const runner = db.dataSource.createQueryRunner();
    try {
      await migration.down(runner);
      await migration.up(runner);
    } finally {
      await runner.release();
    }
    const [row] = await db.dataSource.query(`SELECT open_approval_groups FROM grants WHERE id = $1`, [id]);
    expect(row.open_approval_groups).toEqual(['security']);
    const list = (groups: string[]) => stores.grants.list({ awaitingDecisionBy: { subject: 'dave', groups } }, 10, null);
    expect((await list(['security'])).items.map((g) => g.id)).toEqual([id]);
    expect((await list(['sre'])).items).toEqual([]);
  });
});
