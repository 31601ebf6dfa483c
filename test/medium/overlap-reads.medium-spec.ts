import { randomUUID } from 'node:crypto';
import { Pool } from 'pg';
import { PostgresDriver } from 'typeorm/driver/postgres/PostgresDriver';
import { Grant, GrantState, SystemClock } from '@jit/domain';
import { PostgresGrantRepository } from '@jit/persistence';
import { LocalCloudProvider } from '@jit/provider-local';
import { grantRow, targetKinds } from '@jit/testing';
import { openTestDatabase } from '../setup/test-database';
import { postgresStores } from '../setup/postgres-stores';

/**
 * The overlap read before each revoke (and grant) call: the reads the sweeper makes for every
 * grant of one claim, in the same tick, are one query, and each still gets exactly its own
 * key's live grants but itself.
 */
describe('overlap reads on a real database', () => {
  type Db = Awaited<ReturnType<typeof openTestDatabase>>;
  let db: Db;
  const aws = new LocalCloudProvider('aws', targetKinds);

  beforeAll(async () => {
    db = await openTestDatabase();
  });
  afterAll(async () => {
    await db.close();
  });

  const grant = (principal: string, state: GrantState, expiresAt = new Date(Date.now() + 60_000)): Grant =>
    grantRow(aws, { id: randomUUID(), state, expiresAt, target: { kind: 'aws.iam-policy', actions: ['s3:GetObject'], resources: ['*'] }, principal: { type: 'workload', id: principal } });

  it("should answer reads made in one tick with one query, each with its own key's live grants but itself", async () => {
    const writer = postgresStores(db.dataSource, new SystemClock(), 'writer');
    // Two grants of one principal and target (one overlap key), one of another, and an ended one of the first key.
    const a1 = grant('arn:aws:iam::123456789012:role/a', 'active', new Date(Date.now() + 60_000));
    const a2 = grant('arn:aws:iam::123456789012:role/a', 'active', new Date(Date.now() + 120_000));
    const a3 = grant('arn:aws:iam::123456789012:role/a', 'expired');
    const b1 = grant('arn:aws:iam::123456789012:role/b', 'active');
    for (const g of [a1, a2, a3, b1]) await writer.insert(g, null, [], null);
    expect(a1.overlapKey).toBe(a2.overlapKey);

    const repo = new PostgresGrantRepository(db.dataSource, new SystemClock());
    const pool = (db.dataSource.driver as PostgresDriver).master as Pool;
    const query = jest.spyOn(pool, 'query');
    try {
      const [forA1, forA2, forB1, forNone] = await Promise.all([
        repo.liveWithOverlapKey(a1.overlapKey, a1.id),
        repo.liveWithOverlapKey(a2.overlapKey, a2.id),
        repo.liveWithOverlapKey(b1.overlapKey, b1.id),
        repo.liveWithOverlapKey('no-such-key', randomUUID()),
      ]);
      expect(forA1.map((g) => g.id)).toEqual([a2.id]);
      expect(forA2.map((g) => g.id)).toEqual([a1.id]);
      expect(forB1).toEqual([]);
      expect(forNone).toEqual([]);
      expect(query).toHaveBeenCalledTimes(1);
      // A read alone, later, sees the rows as they are then (no cache).
      await db.dataSource.query(`UPDATE grants SET state = 'expired' WHERE id = $1`, [a2.id]);
      expect(await repo.liveWithOverlapKey(a1.overlapKey, a1.id)).toEqual([]);
    } finally {
      query.mockRestore();
    }
  });

  it('should go on answering through its prepared statement after a migration adds a column to grants', async () => {
    // A rolling upgrade: a newer replica's migration adds a column while this one runs. The read,
    // prepared on the connections already, must not fail with "cached plan must not change result
    // type" (0A000) from then on. Reads one after another reuse the pool's last idle connection.
    const writer = postgresStores(db.dataSource, new SystemClock(), 'writer');
    const g = grant('arn:aws:iam::123456789012:role/upgrade', 'active');
    const other = grant('arn:aws:iam::123456789012:role/upgrade', 'active', new Date(Date.now() + 90_000));
    for (const x of [g, other]) await writer.insert(x, null, [], null);
    const repo = new PostgresGrantRepository(db.dataSource, new SystemClock());
    for (let i = 0; i < 3; i++) expect((await repo.liveWithOverlapKey(g.overlapKey, g.id)).map((x) => x.id)).toEqual([other.id]);
    await db.dataSource.query(`ALTER TABLE grants ADD COLUMN upgrade_probe text`);
    try {
      for (let i = 0; i < 3; i++) expect((await repo.liveWithOverlapKey(g.overlapKey, g.id)).map((x) => x.id)).toEqual([other.id]);
    } finally {
      await db.dataSource.query(`ALTER TABLE grants DROP COLUMN upgrade_probe`);
    }
  });
});
