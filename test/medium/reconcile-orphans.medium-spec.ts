import { randomUUID } from 'node:crypto';
import { GrantSpec, SystemClock } from '@jit/domain';
import { CloudProviderRegistry, ReconcileOrphansUseCase } from '@jit/grants';
import { LocalCloudProvider } from '@jit/provider-local';
import { grantRow, targetKinds } from '@jit/testing';
import { openTestDatabase } from '../setup/test-database';
import { PostgresStores, postgresStores } from '../setup/postgres-stores';

describe(ReconcileOrphansUseCase.name, () => {
  let db: Awaited<ReturnType<typeof openTestDatabase>>;
  let store: PostgresStores;
  const aws = new LocalCloudProvider('aws', targetKinds);
  const target = { kind: 'aws.assume-role' as const, roleArn: 'arn:aws:iam::123456789012:role/deploy' };
  const principal = { type: 'workload' as const, id: 'arn:aws:iam::123456789012:role/ci' };

  beforeAll(async () => {
    db = await openTestDatabase();
    store = postgresStores(db.dataSource, new SystemClock(), 'replica-a');
  });
  afterAll(async () => {
    await db.close();
  });

  const spec = (grantId: string): GrantSpec => ({
    grantId,
    principal,
    target,
    startsAt: new Date(),
    expiresAt: new Date(Date.now() + 3600_000),
    requestedBy: 'alice',
    justification: null,
    artifactName: aws.artifactName(grantId),
  });

  async function storeGrant(id: string, state: 'provisioning' | 'expired') {
    const row = grantRow(aws, { id, state, principal, target, expiresAt: new Date(Date.now() + 3600_000), durationSeconds: 3600, providerRef: null });
    await store.insert(row, null, [], null);
  }

  it('should remove artifacts with no grant or an ended one, and leave live grants alone', async () => {
    const unknown = randomUUID();
    const ended = randomUUID();
    const live = randomUUID();
    await storeGrant(ended, 'expired');
    await storeGrant(live, 'provisioning');
    for (const id of [unknown, ended, live]) await aws.grant(spec(id), { overlapping: [] });

    const report = await new ReconcileOrphansUseCase(store.grants, store.audit, new CloudProviderRegistry([aws])).execute();

    expect(report).toMatchObject({ found: 2, removed: 2, failed: 0 });
    expect(aws.holds(spec(live), new Date())).toBe(true);
    expect(aws.holds(spec(unknown), new Date())).toBe(false);
    expect(aws.holds(spec(ended), new Date())).toBe(false);
    await store.audit.chained();
    const events = (await store.audit.list({}, 100, null)).items.filter((e) => e.type.startsWith('reconcile.'));
    expect(events.map((e) => [e.type, e.grantId])).toEqual([
      ['reconcile.orphan_found', unknown],
      ['reconcile.orphan_removed', unknown],
      ['reconcile.orphan_found', ended],
      ['reconcile.orphan_removed', ended],
    ]);
    expect(events[2].data).toMatchObject({ why: 'grant is expired' });
  });

  it('should let only one replica take the reconcile job per lease', async () => {
    const other = postgresStores(db.dataSource, new SystemClock(), 'replica-b');
    expect(await store.queue.claimJob('reconcile', 60_000)).toBe(true);
    expect(await other.queue.claimJob('reconcile', 60_000)).toBe(false);
    expect(await store.queue.claimJob('reconcile', 60_000)).toBe(false);
  });
});
