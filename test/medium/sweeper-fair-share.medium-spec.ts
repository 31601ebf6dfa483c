import { randomUUID } from 'node:crypto';
import { CloudName, Grant, SystemClock, Target } from '@jit/domain';
import { LocalCloudProvider } from '@jit/provider-local';
import { grantRow, targetKinds } from '@jit/testing';
import { openTestDatabase } from '../setup/test-database';
import { postgresStores } from '../setup/postgres-stores';

const LEASE_MS = 60_000;

/**
 * The claim the sweeper's per-cloud fair share rests on: `claimDue(..., cloud)` takes that cloud's
 * due grants only, even when another cloud's fell due earlier (and would come first without it).
 */
describe('claims per cloud on a real database', () => {
  type Db = Awaited<ReturnType<typeof openTestDatabase>>;
  let db: Db;
  const providers = { aws: new LocalCloudProvider('aws', targetKinds), gcp: new LocalCloudProvider('gcp', targetKinds) };

  beforeAll(async () => {
    db = await openTestDatabase();
  });
  afterAll(async () => {
    await db.close();
  });

  function dueGrant(cloud: 'aws' | 'gcp', expiresAt: Date): Grant {
    const id = randomUUID();
    const target: Target =
      cloud === 'aws'
        ? { kind: 'aws.iam-policy', actions: ['s3:GetObject'], resources: ['*'] }
        : { kind: 'gcp.iam-binding', resource: 'projects/p', role: 'roles/viewer' };
    const principal = cloud === 'aws' ? { type: 'workload' as const, id: `arn:aws:iam::123456789012:role/r-${id.slice(0, 8)}` } : { type: 'user' as const, id: 'user:a@example.com' };
    return grantRow(providers[cloud], { id, state: 'active', expiresAt, target, principal });
  }

  it("should claim one cloud's due grants only, past another cloud's earlier ones", async () => {
    const s = postgresStores(db.dataSource, new SystemClock(), 'r1');
    const now = Date.now();
    const aws = [1, 2, 3, 4, 5].map((i) => dueGrant('aws', new Date(now - 60_000 - i * 1000)));
    const gcp = dueGrant('gcp', new Date(now - 1_000));
    for (const g of [...aws, gcp]) await s.insert(g, null, [], null);

    const clouds = (gs: Grant[]): CloudName[] => gs.map((g) => g.cloud);
    expect(clouds(await s.queue.claimDue('r1', LEASE_MS, 2, 'gcp'))).toEqual(['gcp']);
    expect(clouds(await s.queue.claimDue('r1', LEASE_MS, 2, 'aws'))).toEqual(['aws', 'aws']);
    // Without a cloud, the most overdue first, whichever cloud: the three AWS grants left.
    expect(clouds(await s.queue.claimDue('r1', LEASE_MS, 10))).toEqual(['aws', 'aws', 'aws']);
  });
});
