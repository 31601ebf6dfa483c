import { randomUUID } from 'node:crypto';
import { CloudName, Grant, SystemClock, Target } from '@jit/domain';
import { LocalCloudProvider } from '@jit/provider-local';
import { grantRow, targetKinds } from '@jit/testing';
import { openTestDatabase } from '../setup/test-database';
import { postgresStores } from '../setup/postgres-stores';

const LEASE_MS = 60_000;

/**
 * The claim the sweeper's per-cloud fair share rests on: `claimDue(..., cloud)` takes that cloud's
 * due grants only, even when another cloud's fell due earlier (and would come first without it),
 * and `claimDueByCloud` each cloud's share of one claim.
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

  it("should claim each cloud's most overdue grants up to that cloud's limit in one claim, and leave a cloud with no room alone", async () => {
    await db.dataSource.query(`DELETE FROM grants`);
    const s = postgresStores(db.dataSource, new SystemClock(), 'r1');
    const now = Date.now();
    const aws = [1, 2, 3, 4, 5].map((i) => dueGrant('aws', new Date(now - i * 60_000)));
    const gcp = [1, 2, 3].map((i) => dueGrant('gcp', new Date(now - i * 1_000)));
    for (const g of [...aws, ...gcp]) await s.insert(g, null, [], null);

    const ids = (gs: Grant[]) => gs.map((g) => g.id).sort();
    // The two most overdue of each cloud, whatever the other cloud's expiries.
    const first = await s.queue.claimDueByCloud('r1', LEASE_MS, new Map<CloudName, number>([['aws', 2], ['gcp', 2]]));
    expect(ids(first)).toEqual(ids([aws[4], aws[3], gcp[2], gcp[1]]));
    // No room for GCP: its last due grant stays unclaimed.
    const second = await s.queue.claimDueByCloud('r1', LEASE_MS, new Map<CloudName, number>([['aws', 10], ['gcp', 0]]));
    expect(ids(second)).toEqual(ids(aws.slice(0, 3)));
    const left: { id: string }[] = await db.dataSource.query(`SELECT id FROM grants WHERE lease_until IS NULL`);
    expect(left.map((r) => r.id)).toEqual([gcp[0].id]);
  });

  it('should give replicas claiming for every cloud at once disjoint sets that together cover every due grant', async () => {
    await db.dataSource.query(`DELETE FROM grants`);
    const writer = postgresStores(db.dataSource, new SystemClock(), 'writer');
    const now = Date.now();
    const due = Array.from({ length: 90 }, (_, i) => dueGrant(i % 3 === 0 ? 'gcp' : 'aws', new Date(now - 1_000 - i * 10)));
    for (const g of due) await writer.insert(g, null, [], null);
    const claimAll = async (owner: string) => {
      const s = postgresStores(db.dataSource, new SystemClock(), owner);
      const mine: Grant[] = [];
      for (;;) {
        const batch = await s.queue.claimDueByCloud(owner, LEASE_MS, new Map<CloudName, number>([['aws', 7], ['gcp', 3]]));
        if (batch.length === 0) return mine;
        mine.push(...batch);
      }
    };
    const [a, b, c] = await Promise.all([claimAll('replica-a'), claimAll('replica-b'), claimAll('replica-b')]);
    const all = [...a, ...b, ...c].map((g) => g.id);
    expect(new Set(all).size).toBe(all.length);
    expect([...all].sort()).toEqual(due.map((g) => g.id).sort());
  });
});
