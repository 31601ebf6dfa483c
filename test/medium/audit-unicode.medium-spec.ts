import { AuditEventInput, SystemClock } from '@jit/domain';
import { Actor, AuditLogUseCase } from '@jit/grants';
import { openTestDatabase } from '../setup/test-database';
import { PostgresStores, postgresStores } from '../setup/postgres-stores';

/**
 * Issue 10, point 1, defence in depth: a lone surrogate that slipped past every edge reaches
 * the store. PostgreSQL keeps it as U+FFFD in text columns and refuses it in jsonb, so the store
 * hashes what it stores: the append succeeds and the chain still verifies.
 */
const auditor: Actor = { subject: 'carol-auditor', roles: ['auditor'] };

describe('audit append of ill-formed text on a real database', () => {
  type Db = Awaited<ReturnType<typeof openTestDatabase>>;
  let db: Db;
  let store: PostgresStores;
  let audit: AuditLogUseCase;

  beforeAll(async () => {
    db = await openTestDatabase();
    store = postgresStores(db.dataSource, new SystemClock(), 'test-replica');
    audit = new AuditLogUseCase(store.audit);
  });
  afterAll(async () => {
    await db.close();
  });

  const event = (over: Partial<AuditEventInput>): AuditEventInput => ({
    type: 'policy.denied',
    grantId: null,
    cloud: 'gcp',
    principal: 'user:a@example.com',
    actor: 'alice',
    data: { reason: 'no rule' },
    ...over,
  });

  it('should store and chain lone surrogates in every text and jsonb field as U+FFFD, and verify', async () => {
    await store.audit.record([event({ data: { justification: 'before' } })]);
    await store.audit.record([
      event({ principal: 'user:\udc00@x.com', actor: 'ci:\ud800', data: { justification: 'x\ud800', ['k\udc00']: ['\ud800', { deep: '\udfff' }], n: 1 } }),
      event({ type: 'grant.revoke_requested', data: { reason: '\ud800done' } }),
    ]);
    await store.audit.record([event({ data: { justification: 'after' } })]);

    const result = await audit.verify(auditor);
    const stored = await audit.list(auditor, {}, 10, null);

    expect(result).toMatchObject({ ok: true });
    expect(stored.items).toHaveLength(4);
    expect(stored.items[1]).toMatchObject({
      principal: 'user:\ufffd@x.com',
      actor: 'ci:\ufffd',
      data: { justification: 'x\ufffd', ['k\ufffd']: ['\ufffd', { deep: '\ufffd' }], n: 1 },
    });
    expect(stored.items[2].data).toEqual({ reason: '\ufffddone' });
  });
});
