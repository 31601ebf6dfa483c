import { randomUUID } from 'node:crypto';
import { generateKeyPairSync } from 'node:crypto';
import { AuditLog, CheckpointKeyring, CheckpointSigner, hashEvent } from '@jit/audit';
import { AuditEventInput, SystemClock } from '@jit/domain';
import { Actor, AuditLogUseCase } from '@jit/grants';
import { PostgresAuditCheckpointStore } from '@jit/persistence';
import { openTestDatabase } from '../setup/test-database';
import { PostgresStores, postgresStores } from '../setup/postgres-stores';

/**
 * Issue 2 item 5 and "a tampered audit row is detected": the real store on a real database
 * (PostgreSQL when TEST_DATABASE_URL is set, else the embedded PGlite), the real verifier.
 */
const auditor: Actor = { subject: 'carol-auditor', roles: ['auditor'] };
const GRANT = '3b2f0a4e-6c1d-4e8f-9a7b-5c4d3e2f1a0b';

const event = (type: AuditEventInput['type'], data: Record<string, unknown>, actor = 'broker'): AuditEventInput => ({
  type,
  grantId: GRANT,
  cloud: 'aws',
  principal: 'arn:aws:iam::123456789012:role/ci-deployer',
  actor,
  data,
});

/** Eight events in four transactions, as the lifecycle writes them. */
async function writeChain(store: PostgresStores): Promise<void> {
  await store.audit.record([event('grant.requested', { durationSeconds: 600 }, 'alice'), event('grant.approved', { rule: 'auto' }, 'policy')]);
  await store.audit.record([event('grant.provisioned', { artifactName: 'jit-x' }), event('grant.activated', { expiresAt: '2030-01-01T00:00:00.000Z' })]);
  await store.audit.record([event('grant.revoke_requested', { reason: 'job done' }, 'alice')]);
  await store.audit.record([event('grant.revoked', { attempts: 1 }), event('reconcile.orphan_found', { artifact: 'jit-y' }), event('reconcile.orphan_removed', { artifact: 'jit-y' })]);
  // A unit of work answers before its round: the tests read and alter audit_events directly.
  await store.audit.chained();
}

describe('audit hash chain on a real database', () => {
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
  // One database for the file (opening PGlite is slow); each test starts from a fresh, valid chain.
  beforeEach(async () => {
    await db.dataSource.query(`ALTER TABLE audit_events DISABLE TRIGGER USER`);
    await db.dataSource.query(`TRUNCATE audit_events`);
    await db.dataSource.query(`ALTER TABLE audit_events ENABLE TRIGGER USER`);
    await db.dataSource.query(`UPDATE audit_chain_head SET seq = 0, hash = repeat('0', 64)`);
    await writeChain(store);
  });

  /** The attacker has the database's owner rights and turns the append-only trigger off. */
  const asAttacker = async (sql: string, params: unknown[] = []) => {
    await db.dataSource.query(`ALTER TABLE audit_events DISABLE TRIGGER audit_events_no_change`);
    try {
      await db.dataSource.query(sql, params);
    } finally {
      await db.dataSource.query(`ALTER TABLE audit_events ENABLE TRIGGER audit_events_no_change`);
    }
  };
  const row = async (seq: number) => (await db.dataSource.query(`SELECT * FROM audit_events WHERE seq = $1`, [seq]))[0];

  it('should verify a valid chain as clean, every link checked, head at the last event', async () => {
    const result = await audit.verify(auditor);
    expect(result).toMatchObject({ ok: true, checked: 8, firstBroken: null, head: { seq: 8 } });
    const last = await row(8);
    expect(result.head.hash).toBe(last.hash);
    const first = await row(1);
    expect(first.prev_hash).toBe('0'.repeat(64));
  });

  it('should keep verifying clean while more events are appended', async () => {
    await store.audit.record([event('grant.expired', { lagSeconds: 0.1 })]);
    expect(await audit.verify(auditor)).toMatchObject({ ok: true, checked: 9, firstBroken: null });
  });

  it.each([
    ['UPDATE of data', `UPDATE audit_events SET data = '{}'::jsonb WHERE seq = 3`],
    ['UPDATE of every row', `UPDATE audit_events SET actor = 'nobody'`],
    ['DELETE of one event', `DELETE FROM audit_events WHERE seq = 8`],
    ['DELETE of everything', `DELETE FROM audit_events`],
    ['TRUNCATE', `TRUNCATE audit_events`],
  ])('should refuse %s: the table is append-only', async (_what, sql) => {
    await expect(db.dataSource.query(sql)).rejects.toThrow(/append-only/);
    expect(await audit.verify(auditor)).toMatchObject({ ok: true, checked: 8 });
    expect(Number((await db.dataSource.query(`SELECT count(*) AS n FROM audit_events`))[0].n)).toBe(8);
  });

  it.each([
    ['data', `UPDATE audit_events SET data = jsonb_set(data, '{reason}', '"routine"') WHERE seq = 5`, 5],
    ['actor', `UPDATE audit_events SET actor = 'mallory' WHERE seq = 1`, 1],
    ['type', `UPDATE audit_events SET type = 'grant.expired' WHERE seq = 6`, 6],
    ['occurred_at', `UPDATE audit_events SET occurred_at = occurred_at - interval '1 hour' WHERE seq = 4`, 4],
    ['principal', `UPDATE audit_events SET principal = 'arn:aws:iam::123456789012:role/other' WHERE seq = 2`, 2],
    ['the last event', `UPDATE audit_events SET data = '{"attempts": 2}'::jsonb WHERE seq = 8`, 8],
  ])('should detect an altered %s, at that event', async (_what, sql, seq) => {
    await asAttacker(sql);
    const result = await audit.verify(auditor);
    expect(result.ok).toBe(false);
    expect(result.firstBroken).toMatchObject({ seq, kind: 'altered', reason: expect.stringMatching(/altered/), intactAfter: 8 - seq });
    // One altered event is one break: the chain after it still links to its stored hash.
    expect(result).toMatchObject({ brokenCount: 1, checked: 8, intact: 7 });
  });

  it('should detect an altered event whose hash the attacker recomputed, at the next event', async () => {
    const e = await row(3);
    const forgedData = { artifactName: 'jit-forged' };
    const hash = hashEvent({
      seq: 3,
      id: e.id,
      occurredAt: e.occurred_at,
      type: e.type,
      grantId: e.grant_id,
      cloud: e.cloud,
      principal: e.principal,
      actor: e.actor,
      data: forgedData,
      prevHash: e.prev_hash,
    });
    await asAttacker(`UPDATE audit_events SET data = $1::jsonb, hash = $2 WHERE seq = 3`, [JSON.stringify(forgedData), hash]);
    const result = await audit.verify(auditor);
    expect(result.firstBroken).toMatchObject({ seq: 4, reason: expect.stringMatching(/prevHash/) });
  });

  it('should detect a deleted middle event, at its seq', async () => {
    await asAttacker(`DELETE FROM audit_events WHERE seq = 5`);
    const result = await audit.verify(auditor);
    expect(result.ok).toBe(false);
    expect(result.firstBroken).toMatchObject({ seq: 5, kind: 'missing', reason: expect.stringMatching(/missing/), intactAfter: 3 });
    expect(result).toMatchObject({ brokenCount: 1, checked: 7 });
  });

  it('should detect a deleted middle event even when the later events are renumbered to close the gap', async () => {
    await asAttacker(`DELETE FROM audit_events WHERE seq = 5`);
    await asAttacker(`UPDATE audit_events SET seq = seq - 1 WHERE seq > 5`);
    await db.dataSource.query(`UPDATE audit_chain_head SET seq = 7`);
    const result = await audit.verify(auditor);
    expect(result.firstBroken).toMatchObject({ seq: 5 });
  });

  it('should detect a forged event inserted in the middle with a correct hash of its own, at the event after it', async () => {
    // Make room at seq 4 (descending, so the primary key never collides), then insert a well-formed forgery.
    await asAttacker(`UPDATE audit_events SET seq = seq + 100 WHERE seq >= 4`);
    await asAttacker(`UPDATE audit_events SET seq = seq - 99 WHERE seq >= 100`);
    const prev = await row(3);
    const forged = {
      seq: 4,
      id: randomUUID(),
      occurredAt: new Date(prev.occurred_at),
      type: 'grant.approved' as const,
      grantId: GRANT,
      cloud: 'aws' as const,
      principal: 'arn:aws:iam::123456789012:role/ci-deployer',
      actor: 'mallory',
      data: { rule: 'manual' },
      prevHash: prev.hash as string,
    };
    await db.dataSource.query(
      `INSERT INTO audit_events (seq, id, occurred_at, type, grant_id, cloud, principal, actor, data, prev_hash, hash)
       VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11)`,
      [4, forged.id, forged.occurredAt, forged.type, forged.grantId, forged.cloud, forged.principal, forged.actor, JSON.stringify(forged.data), forged.prevHash, hashEvent(forged)],
    );
    await db.dataSource.query(`UPDATE audit_chain_head SET seq = 9`);
    const result = await audit.verify(auditor);
    expect(result.ok).toBe(false);
    // The forgery itself links correctly; the original event 4, now at 5, does not follow it.
    expect(result.firstBroken).toMatchObject({ seq: 5, kind: 'link' });
    // Every renumbered original no longer matches its hash (seq is hashed): each is reported.
    expect(result.breaks.map((b) => `${b.seq}:${b.kind}`)).toEqual(['5:link', '5:altered', '6:altered', '7:altered', '8:altered', '9:altered']);
    expect(result.brokenCount).toBe(6);
  });

  it('should detect a forged event inserted with a made-up hash, at the forgery', async () => {
    await asAttacker(`DELETE FROM audit_events WHERE seq = 6`);
    await db.dataSource.query(
      `INSERT INTO audit_events (seq, id, occurred_at, type, grant_id, cloud, principal, actor, data, prev_hash, hash)
       SELECT 6, $1, occurred_at, 'grant.approved', grant_id, cloud, principal, 'mallory', '{}'::jsonb, hash, repeat('a', 64)
       FROM audit_events WHERE seq = 5`,
      [randomUUID()],
    );
    const result = await audit.verify(auditor);
    expect(result.firstBroken).toMatchObject({ seq: 6, reason: expect.stringMatching(/altered/) });
  });

  it('should detect a deleted tail, at the first deleted seq, from the chain head', async () => {
    await asAttacker(`DELETE FROM audit_events WHERE seq >= 7`);
    const result = await audit.verify(auditor);
    expect(result.ok).toBe(false);
    expect(result.firstBroken).toMatchObject({ seq: 7, id: null, kind: 'tail', reason: expect.stringMatching(/tail/) });
    expect(result).toMatchObject({ checked: 6, intact: 6, brokenCount: 1 });
  });

  it('should detect a deleted last event', async () => {
    await asAttacker(`DELETE FROM audit_events WHERE seq = 8`);
    expect((await audit.verify(auditor)).firstBroken).toMatchObject({ seq: 8 });
  });

  it('should detect a forged event appended past the chain head without moving the head', async () => {
    const last = await row(8);
    const forged = {
      seq: 9, id: randomUUID(), occurredAt: new Date(), type: 'grant.approved' as const, grantId: null, cloud: null,
      principal: null, actor: 'mallory', data: { rule: 'forged' }, prevHash: last.hash as string,
    };
    await db.dataSource.query(
      `INSERT INTO audit_events (seq, id, occurred_at, type, grant_id, cloud, principal, actor, data, prev_hash, hash)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
      [9, forged.id, forged.occurredAt, forged.type, forged.grantId, forged.cloud, forged.principal, 'mallory', JSON.stringify(forged.data), last.hash, hashEvent(forged)],
    );
    const result = await audit.verify(auditor);
    expect(result.ok).toBe(false);
    expect(result.firstBroken).toMatchObject({ seq: 9, reason: expect.stringMatching(/not in the chain head/) });
  });

  describe('anchors: heads recorded outside the database', () => {
    /** The strongest attacker: rewrites event `from` and re-chains everything after it, head row included. */
    async function rewriteFrom(from: number, data: Record<string, unknown>): Promise<void> {
      let prevHash = (await row(from - 1)).hash as string;
      for (let seq = from; seq <= 8; seq++) {
        const e = await row(seq);
        const rewritten = {
          seq, id: e.id, occurredAt: new Date(e.occurred_at), type: e.type, grantId: e.grant_id, cloud: e.cloud,
          principal: e.principal, actor: e.actor, data: seq === from ? data : e.data, prevHash,
        };
        const hash = hashEvent(rewritten);
        await asAttacker(`UPDATE audit_events SET data = $1::jsonb, prev_hash = $2, hash = $3 WHERE seq = $4`, [JSON.stringify(rewritten.data), prevHash, hash, seq]);
        prevHash = hash;
      }
      await db.dataSource.query(`UPDATE audit_chain_head SET hash = $1`, [prevHash]);
    }

    it('should catch a rewrite of the whole tail and the head, which the chain alone cannot show', async () => {
      const earlier = (await audit.verify(auditor)).head;
      const midway = { seq: 5, hash: (await row(5)).hash as string };
      await rewriteFrom(3, { artifactName: 'jit-forged' });
      // Every link holds: without an anchor the rewrite passes.
      expect(await audit.verify(auditor)).toMatchObject({ ok: true, firstBroken: null });
      const caught = await audit.verify(auditor, { anchors: [earlier] });
      expect(caught).toMatchObject({ ok: false, anchors: 1, firstBroken: { seq: 8, reason: expect.stringMatching(/anchored hash/) } });
      expect((await audit.verify(auditor, { anchors: [midway, earlier] })).firstBroken).toMatchObject({ seq: 5 });
    });

    it('should catch a tail deleted together with the head rewound, from an anchor past the new end', async () => {
      const earlier = (await audit.verify(auditor)).head;
      await asAttacker(`DELETE FROM audit_events WHERE seq >= 7`);
      await db.dataSource.query(`UPDATE audit_chain_head SET seq = 6, hash = $1`, [(await row(6)).hash]);
      expect((await audit.verify(auditor)).ok).toBe(true);
      expect((await audit.verify(auditor, { anchors: [earlier] })).firstBroken).toMatchObject({ seq: 8, reason: expect.stringMatching(/ends at 6, before anchored event 8/) });
    });

    it('should pass a true anchor, and keep passing as the log grows past it', async () => {
      const earlier = (await audit.verify(auditor)).head;
      await store.audit.record([event('grant.expired', { lagSeconds: 0.1 })]);
      expect(await audit.verify(auditor, { anchors: [earlier, { seq: 1, hash: (await row(1)).hash }] })).toMatchObject({ ok: true, anchors: 2, checked: 9 });
    });
  });

  it('should not take a checkpoint signed while verify runs for a rewound head', async () => {
    const checkpoints = new PostgresAuditCheckpointStore(db.dataSource);
    const signer = CheckpointSigner.fromPem(generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(), 'k.pem');
    await checkpoints.add(signer.sign(8, (await row(8)).hash, new Date()));
    // The signer runs between verify's reads: one more event, and a checkpoint over the new head.
    let raced = false;
    const racing = Object.create(store.audit, {
      head: {
        value: async () => {
          const head = await store.audit.head();
          if (!raced) {
            raced = true;
            await store.audit.record([event('grant.expired', { lagSeconds: 0.1 })]);
            await store.audit.chained();
            const now = await store.audit.head();
            await checkpoints.add(signer.sign(now.seq, now.hash, new Date()));
          }
          return head;
        },
      },
    }) as AuditLog;
    const trust = { keyring: new CheckpointKeyring([signer.publicKeyPem]), publicKeyPem: signer.publicKeyPem, store: checkpoints, sinks: [] };
    const result = await new AuditLogUseCase(racing, trust).verify(auditor);
    expect(result).toMatchObject({ ok: true, brokenCount: 0, checkpoints: { valid: 1 } });
    // The next verify sees both, and the event between.
    expect(await new AuditLogUseCase(store.audit, trust).verify(auditor, { full: true })).toMatchObject({ ok: true, checked: 9, checkpoints: { valid: 2, uncovered: 0 } });
    await db.dataSource.query(`DELETE FROM audit_checkpoints`);
  });

  it('should refuse verification to a requester', async () => {
    await expect(audit.verify({ subject: 'alice', roles: ['requester'] })).rejects.toMatchObject({ code: 'forbidden' });
  });
});
