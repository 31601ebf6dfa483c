import { AuditEventInput, SystemClock } from '@jit/domain';
import { Actor, AuditLogUseCase } from '@jit/grants';
import { AuditLog } from '@jit/audit';
import { PostgresAuditChainStore, createDataSource } from '@jit/persistence';
import { DataSource } from 'typeorm';
import { openTestDatabase } from '../setup/test-database';
import { PostgresStores, postgresStores } from '../setup/postgres-stores';

const auditor: Actor = { subject: 'carol-auditor', roles: ['auditor'] };
/** Two transactions open at once need two sessions: PostgreSQL (TEST_DATABASE_URL), not PGlite's one. */
const itWithSessions = process.env.TEST_DATABASE_URL ? it : it.skip;
/** A chain store whose chaining rounds fail (the head's lock cannot be had, say): what it stages stays staged. */
class StalledChain extends PostgresAuditChainStore {
  override chainStaged(): Promise<number> {
    return Promise.reject(new Error('chaining is down'));
  }
}
const event = (tag: string): AuditEventInput => ({ type: 'grant.requested', grantId: null, cloud: 'aws', principal: 'p', actor: 'alice', data: { tag } });

/**
 * The chain's write path on a real database (docs/audit.md, "How the chain is written"): events
 * are staged with their state change and chained after COMMIT, in commit order, one chainer at a
 * time across replicas, with nothing lost or chained twice.
 */
describe('deferred chaining of audit events on a real database', () => {
  let db: Awaited<ReturnType<typeof openTestDatabase>>;
  let a: PostgresStores;
  let b: PostgresStores;
  let second: DataSource | null = null;

  beforeAll(async () => {
    db = await openTestDatabase();
    a = postgresStores(db.dataSource, new SystemClock(), 'replica-a');
    // A second replica has its own pool when the database is a server (PGlite has one session).
    if (db.url) {
      second = createDataSource(db.url);
      await second.initialize();
    }
    b = postgresStores(second ?? db.dataSource, new SystemClock(), 'replica-b');
  });
  afterAll(async () => {
    await second?.destroy();
    await db.close();
  });

  /** The chain's tags once everything committed is chained (as the audit API reads it). */
  const tags = async () => {
    await a.audit.chained();
    const events = [];
    for await (const page of a.audit.stream({}, 1000)) events.push(...page);
    return events.map((e) => e.data.tag as string);
  };

  itWithSessions('should chain a transaction by its commit, not its start: one still open holds back no other, and comes after it', async () => {
    const before = (await tags()).length;
    let staged!: () => void;
    const hasStaged = new Promise<void>((r) => (staged = r));
    let commit!: () => void;
    const mayCommit = new Promise<void>((r) => (commit = r));
    const slow = a.unitOfWork.run(async (tx) => {
      await a.audit.append(tx, [event('slow-1'), event('slow-2')]);
      staged();
      await mayCommit;
    });
    await hasStaged;
    await a.audit.record([event('quick')]);
    // The quick one is in the log once chained; the open one is not, nor staged visibly.
    expect((await tags()).slice(before)).toEqual(['quick']);
    commit();
    await slow;
    expect((await tags()).slice(before)).toEqual(['quick', 'slow-1', 'slow-2']);
    expect(await a.audit.staged()).toBe(0);
  });

  it('should give two replicas writing at once one total order: every event once, in one verifiable chain', async () => {
    const before = (await tags()).length;
    const writes = Array.from({ length: 20 }, (_, i) => (i % 2 ? a : b).audit.record([event(`r${i}-1`), event(`r${i}-2`)]));
    await Promise.all(writes);
    const added = (await tags()).slice(before);
    expect([...added].sort()).toEqual(Array.from({ length: 20 }, (_, i) => [`r${i}-1`, `r${i}-2`]).flat().sort());
    // Each transaction's events stay together and in order.
    for (let i = 0; i < 20; i++) expect(added.indexOf(`r${i}-2`)).toBe(added.indexOf(`r${i}-1`) + 1);
    expect(await new AuditLogUseCase(a.audit).verify(auditor)).toMatchObject({ ok: true, brokenCount: 0 });
    expect(await a.audit.staged()).toBe(0);
  });

  it('should chain what a process left staged when it died after COMMIT, from any replica, and verify clean meanwhile', async () => {
    const head = await a.audit.head();
    // The state change's transaction commits its staged events; the process dies before any round.
    await a.unitOfWork.run((tx) => tx.auditChain.stage([{ ...event('orphaned'), id: crypto.randomUUID(), occurredAt: new Date() }]));
    expect(await a.audit.staged()).toBe(1);
    expect(await a.audit.head()).toEqual(head);
    // Not yet chained is not a break: a verify on a replica whose chaining fails (so the event
    // stays staged) finds the chain up to the head intact and counts the staged event.
    const stalled = new AuditLog(a.unitOfWork, new StalledChain(db.dataSource), new SystemClock());
    expect(await new AuditLogUseCase(stalled).verify(auditor)).toMatchObject({ ok: true, brokenCount: 0, staged: 1, head });
    await b.audit.chained();
    expect(await a.audit.staged()).toBe(0);
    expect((await a.audit.head()).seq).toBe(head.seq + 1);
    expect((await tags()).at(-1)).toBe('orphaned');
    expect(await new AuditLogUseCase(a.audit).verify(auditor)).toMatchObject({ ok: true, brokenCount: 0 });
  });

  it('should store an event chained with the time its hash covers: a staged time with microseconds is chained to the millisecond', async () => {
    // The broker stages JavaScript times (milliseconds); a row staged some other way may carry
    // microseconds, which node reads (and hashes) truncated. The chain stores what it hashed, so
    // editing those digits later is not an edit the hash would miss.
    const id = crypto.randomUUID();
    await db.dataSource.query(
      `INSERT INTO audit_staged (event_id, occurred_at, type, grant_id, cloud, principal, actor, data)
       VALUES ($1, '2026-03-04 05:06:07.123456+00', 'grant.requested', NULL, 'aws', 'p', 'alice', '{"tag":"micro"}')`,
      [id],
    );
    await a.audit.chained();
    const [row] = await db.dataSource.query(`SELECT to_char(occurred_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.US') AS at FROM audit_events WHERE id = $1`, [id]);
    expect(row.at).toBe('2026-03-04 05:06:07.123000');
    expect(await new AuditLogUseCase(a.audit).verify(auditor)).toMatchObject({ ok: true, brokenCount: 0 });
  });

  it('should refuse to rewrite or truncate a staged event', async () => {
    await a.unitOfWork.run((tx) => tx.auditChain.stage([{ ...event('kept'), id: crypto.randomUUID(), occurredAt: new Date() }]));
    await expect(db.dataSource.query(`UPDATE audit_staged SET actor = 'mallory'`)).rejects.toThrow(/not updated/);
    await expect(db.dataSource.query(`TRUNCATE audit_staged`)).rejects.toThrow(/not updated/);
    await a.audit.chained();
    expect((await tags()).at(-1)).toBe('kept');
  });
});
