import { randomUUID } from 'node:crypto';
import { Client } from 'pg';
import { AuditLog } from '@jit/audit';
import { AuditEvent, AuditEventInput, SystemClock } from '@jit/domain';
import { Actor, AuditLogUseCase } from '@jit/grants';
import { PostgresAuditChainStore, PostgresUnitOfWork } from '@jit/persistence';
import { openTestDatabase } from '../setup/test-database';

const auditor: Actor = { subject: 'carol-auditor', roles: ['auditor'] };
/** Short, so the spec does not sit out the production bound (AUDIT_READ_CHAIN_WAIT_MS); nothing here is timed. */
const WAIT_MS = 300;

/**
 * The audit API's reads wait for a chaining round (docs/audit.md), but only so long: while
 * chaining is held up (another session holds the head's lock) or failing, list, export and verify
 * answer with what is chained and say how many committed events are still staged, instead of
 * hanging or failing (before: list awaited chained() with no bound and rejected when it did).
 */
describe('audit reads while chaining is held up', () => {
  let db: Awaited<ReturnType<typeof openTestDatabase>>;
  const clock = new SystemClock();

  beforeAll(async () => {
    db = await openTestDatabase();
  });
  afterAll(async () => {
    await db.close();
  });

  const logOver = (chain: PostgresAuditChainStore) => new AuditLog(new PostgresUnitOfWork(db.dataSource, clock, 'replica-a'), chain, clock);
  const event = (grantId: string): AuditEventInput => ({ type: 'grant.expired', grantId, cloud: 'aws', principal: 'p', actor: 'broker', data: { lagSeconds: 0.1 } });
  const collect = async (pages: AsyncIterable<AuditEvent[]>) => {
    const all: AuditEvent[] = [];
    for await (const page of pages) all.push(...page);
    return all;
  };

  // A second session holds the head: the server (TEST_DATABASE_URL); PGlite is a single session.
  (process.env.TEST_DATABASE_URL ? it : it.skip)('should answer list, export and verify while another session holds the chain head, reporting the staged events', async () => {
    const log = logOver(new PostgresAuditChainStore(db.dataSource));
    const audit = new AuditLogUseCase(log, null, WAIT_MS);
    const grantId = randomUUID();
    const other = new Client({ connectionString: db.url });
    await other.connect();
    try {
      await other.query('BEGIN');
      await other.query('SELECT seq FROM audit_chain_head WHERE id = 1 FOR UPDATE');
      // Committed (staged), and its round waits for the lock.
      await log.record([event(grantId)]);

      const page = await audit.list(auditor, { grantId }, 10, null);
      expect({ items: page.items.length, staged: page.staged }).toEqual({ items: 0, staged: 1 });
      const exported = await audit.export(auditor, { grantId });
      expect({ staged: exported.staged, events: (await collect(exported.pages)).length }).toEqual({ staged: 1, events: 0 });
      expect(await audit.verify(auditor)).toMatchObject({ ok: true, staged: 1 });
    } finally {
      await other.query('COMMIT');
      await other.end();
    }
    // Once the lock is free the round that was waiting chains it, and the next read shows it.
    const after = await audit.list(auditor, { grantId }, 10, null);
    expect({ types: after.items.map((e) => e.type), staged: after.staged }).toEqual({ types: ['grant.expired'], staged: 0 });
  });

  it('should answer list and export with what is chained when every chaining round fails, reporting the staged events', async () => {
    const real = new PostgresAuditChainStore(db.dataSource);
    // The database refuses every round (as when chaining keeps failing); staging and reading work.
    const refusing = Object.create(real, {
      chainStaged: { value: async () => Promise.reject(new Error('chaining refused')) },
    }) as PostgresAuditChainStore;
    const failing = logOver(refusing);
    const grantId = randomUUID();
    await failing.record([event(grantId)]);
    const before = await real.stagedCount();
    expect(before).toBeGreaterThanOrEqual(1);

    const audit = new AuditLogUseCase(failing, null, WAIT_MS);
    const page = await audit.list(auditor, { grantId }, 10, null);
    expect({ items: page.items.length, staged: page.staged }).toEqual({ items: 0, staged: before });
    const exported = await audit.export(auditor, { grantId });
    expect({ staged: exported.staged, events: (await collect(exported.pages)).length }).toEqual({ staged: before, events: 0 });

    // A working chainer takes them, and the read reports nothing left.
    const healthy = new AuditLogUseCase(logOver(real), null, WAIT_MS);
    const after = await healthy.list(auditor, { grantId }, 10, null);
    expect({ items: after.items.length, staged: after.staged }).toEqual({ items: 1, staged: 0 });
  });
});
