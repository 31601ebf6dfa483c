import { execFile } from 'node:child_process';
import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { CheckpointKeyring, CheckpointSigner, hashEvent } from '@jit/audit';
import { AuditEvent, AuditEventInput } from '@jit/domain';
import { Actor, AuditLogUseCase, CheckpointTrust } from '@jit/grants';
import { PostgresAuditCheckpointStore } from '@jit/persistence';
import { ManualClock } from '@jit/testing';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { archiveHistory } from '../../apps/broker/src/cli/audit-archive';
import { verifyExport } from '../../apps/broker/src/cli/audit-verify';
import { openTestDatabase } from '../setup/test-database';
import { PostgresStores, postgresStores } from '../setup/postgres-stores';

/**
 * Issue 12 point 5 on a real database (PostgreSQL when TEST_DATABASE_URL is set, else PGlite):
 * time-bounded audit reads narrowed by seq still return exactly the events in the window, and
 * verify starts from the latest signed checkpoint unless asked for a full walk.
 */
const auditor: Actor = { subject: 'carol-auditor', roles: ['auditor'] };
const HOUR = 3_600_000;
const T0 = new Date('2026-03-01T00:00:00.000Z');

const event = (i: number, cloud: 'aws' | 'azure' | 'gcp' = 'aws'): AuditEventInput => ({
  type: 'grant.requested',
  grantId: null,
  cloud,
  principal: `p-${i}`,
  actor: 'alice',
  data: { i },
});

describe('audit history costs on a real database', () => {
  type Db = Awaited<ReturnType<typeof openTestDatabase>>;
  let db: Db;
  let clock: ManualClock;
  let store: PostgresStores;
  let checkpoints: PostgresAuditCheckpointStore;
  let signer: CheckpointSigner;
  let trust: CheckpointTrust;

  beforeAll(async () => {
    db = await openTestDatabase();
    clock = new ManualClock(T0);
    store = postgresStores(db.dataSource, clock, 'test-replica');
    checkpoints = new PostgresAuditCheckpointStore(db.dataSource);
    signer = CheckpointSigner.fromPem(generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(), 'k.pem');
    trust = { keyring: new CheckpointKeyring([signer.publicKeyPem]), publicKeyPem: signer.publicKeyPem, store: checkpoints, sinks: [] };
  });
  afterAll(async () => {
    await db.close();
  });
  beforeEach(async () => {
    await db.dataSource.query(`ALTER TABLE audit_events DISABLE TRIGGER USER`);
    await db.dataSource.query(`TRUNCATE audit_events`);
    await db.dataSource.query(`ALTER TABLE audit_events ENABLE TRIGGER USER`);
    await db.dataSource.query(`UPDATE audit_chain_head SET seq = 0, hash = repeat('0', 64)`);
    await db.dataSource.query(`DELETE FROM audit_checkpoints`);
    clock.set(T0);
  });

  const asAttacker = async (sql: string, params: unknown[] = []) => {
    await db.dataSource.query(`ALTER TABLE audit_events DISABLE TRIGGER audit_events_no_change`);
    try {
      await db.dataSource.query(sql, params);
    } finally {
      await db.dataSource.query(`ALTER TABLE audit_events ENABLE TRIGGER audit_events_no_change`);
    }
  };
  /** Alters an event's content in place, without re-hashing anything. */
  const alter = (seq: number) => asAttacker(`UPDATE audit_events SET data = '{"i":-1}' WHERE seq = $1`, [seq]);
  const row = async (seq: number) => (await db.dataSource.query(`SELECT * FROM audit_events WHERE seq = $1`, [seq]))[0];
  const sign = async (seq: number, signedAt = clock.now()) => checkpoints.add(signer.sign(seq, (await row(seq)).hash, signedAt));
  /**
   * Chains one event at the clock's time, hashed as the audit log hashes, written straight to the
   * rows: these tests are about reading and verifying, whatever path writes (issue 12 point 6).
   */
  const record = async (input: AuditEventInput) => {
    const [head] = await db.dataSource.query(`SELECT seq, hash FROM audit_chain_head`);
    const e = { ...input, seq: Number(head.seq) + 1, id: randomUUID(), occurredAt: clock.now(), prevHash: head.hash as string };
    const hash = hashEvent(e);
    await db.dataSource.query(
      `INSERT INTO audit_events (seq, id, occurred_at, type, grant_id, cloud, principal, actor, data, prev_hash, hash) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11)`,
      [e.seq, e.id, e.occurredAt, e.type, e.grantId, e.cloud, e.principal, e.actor, JSON.stringify(e.data), e.prevHash, hash],
    );
    await db.dataSource.query(`UPDATE audit_chain_head SET seq = $1, hash = $2`, [e.seq, hash]);
  };
  /** `n` events, one an hour. */
  const writeEvents = async (n: number, cloudOf: (i: number) => 'aws' | 'azure' | 'gcp' = () => 'aws') => {
    for (let i = 1; i <= n; i++) {
      await record(event(i, cloudOf(i)));
      clock.advance(HOUR);
    }
  };
  const all = async (filter: Parameters<PostgresStores['audit']['list']>[0], pageSize: number) => {
    const seen: AuditEvent[] = [];
    for (let cursor: string | null = null; ; ) {
      const page = await store.audit.list(filter, pageSize, cursor);
      seen.push(...page.items);
      if (!(cursor = page.nextCursor)) return seen.map((e) => e.seq);
    }
  };
  const naive = async (from: Date | null, to: Date | null) =>
    (
      await db.dataSource.query(
        `SELECT seq FROM audit_events WHERE ($1::timestamptz IS NULL OR occurred_at >= $1) AND ($2::timestamptz IS NULL OR occurred_at < $2) ORDER BY seq`,
        [from, to],
      )
    ).map((r: { seq: string }) => Number(r.seq));

  describe('time-bounded reads', () => {
    it('should return exactly the events in a window, in seq order, paged and streamed, even with times a little out of order', async () => {
      await writeEvents(30);
      // Two replicas' clocks 20 minutes apart: events whose occurred_at runs backwards against seq.
      clock.advance(-20 * 60_000);
      await record(event(31));
      clock.advance(40 * 60_000);
      await record(event(32));
      clock.advance(-50 * 60_000);
      await record(event(33));
      await writeEvents(20);
      const at = (h: number) => new Date(T0.getTime() + h * HOUR);
      const windows: [Date | null, Date | null][] = [
        [at(10), at(20)],
        [at(29.5), at(31)],
        [at(29.8), null],
        [null, at(30.1)],
        [at(-5), at(2)],
        [at(49), at(100)],
        [at(100), null],
        [at(10.5), at(10.6)],
      ];
      for (const [from, to] of windows) {
        const expected = await naive(from, to);
        const filter = { ...(from && { from }), ...(to && { to }) };
        expect({ from, to, seqs: await all(filter, 3) }).toEqual({ from, to, seqs: expected });
        const streamed: number[] = [];
        for await (const page of store.audit.stream(filter, 4)) streamed.push(...page.map((e) => e.seq));
        expect(streamed).toEqual(expected);
      }
      // The out-of-order events are inside the windows that hold them.
      expect(await all({ from: at(29.5), to: at(31) }, 100)).toEqual(expect.arrayContaining([31, 32, 33]));
    });

    it('should filter on cloud alone and with a window', async () => {
      await writeEvents(40, (i) => (i % 10 === 0 ? 'gcp' : 'aws'));
      expect(await all({ cloud: 'gcp' }, 2)).toEqual([10, 20, 30, 40]);
      expect(await all({ cloud: 'gcp', from: new Date(T0.getTime() + 15 * HOUR), to: new Date(T0.getTime() + 35 * HOUR) }, 1)).toEqual([20, 30]);
    });
  });

  describe('verify from the latest signed checkpoint', () => {
    const verify = (options: { full?: boolean; anchors?: { seq: number; hash: string }[] } = {}) =>
      new AuditLogUseCase(store.audit, trust).verify(auditor, options);

    beforeEach(async () => {
      await writeEvents(12);
      await sign(8);
    });

    it('should walk only the events after the checkpoint, and say so', async () => {
      const result = await verify();
      expect(result).toMatchObject({
        ok: true,
        checked: 4,
        walk: { mode: 'incremental', afterSeq: 8, from: 'checkpoint', checkpoint: { seq: 8, hash: (await row(8)).hash }, archivedThrough: 0 },
        checkpoints: { valid: 1, latestSeq: 8, uncovered: 4 },
      });
      expect(await verify({ full: true })).toMatchObject({ ok: true, checked: 12, walk: { mode: 'full', afterSeq: 0, from: 'genesis', checkpoint: null } });
    });

    it('should find an event altered before the checkpoint only with a full walk', async () => {
      await alter(5);
      expect(await verify()).toMatchObject({ ok: true, checked: 4, walk: { mode: 'incremental', afterSeq: 8 } });
      expect(await verify({ full: true })).toMatchObject({ ok: false, firstBroken: { seq: 5, kind: 'altered' } });
    });

    it('should find an event altered after the checkpoint either way', async () => {
      await alter(10);
      expect(await verify()).toMatchObject({ ok: false, brokenCount: 1, firstBroken: { seq: 10, kind: 'altered' }, walk: { mode: 'incremental' } });
      expect(await verify({ full: true })).toMatchObject({ ok: false, brokenCount: 1, firstBroken: { seq: 10, kind: 'altered' } });
    });

    it('should find a history re-chained from before the checkpoint without a full walk, at the first event after it', async () => {
      // The database's owner alters event 5 and re-hashes every event from it on, head included.
      await alter(5);
      let prev = (await row(4)).hash as string;
      for (let seq = 5; seq <= 12; seq++) {
        const r = await row(seq);
        const e: AuditEvent = {
          seq, id: r.id, occurredAt: new Date(r.occurred_at), type: r.type, grantId: r.grant_id, cloud: r.cloud,
          principal: r.principal, actor: r.actor, data: r.data, prevHash: prev, hash: '',
        };
        const hash = hashEvent(e);
        await asAttacker(`UPDATE audit_events SET prev_hash = $2, hash = $3 WHERE seq = $1`, [seq, prev, hash]);
        prev = hash;
      }
      await db.dataSource.query(`UPDATE audit_chain_head SET hash = $1`, [prev]);
      expect(await new AuditLogUseCase(store.audit).verify(auditor)).toMatchObject({ ok: true }); // the chain alone cannot show it
      expect(await verify()).toMatchObject({ ok: false, firstBroken: { seq: 9, kind: 'link' }, walk: { mode: 'incremental', afterSeq: 8 } });
      expect(await verify({ full: true })).toMatchObject({ ok: false, firstBroken: { seq: 8, kind: 'checkpoint' } });
    });

    it('should start before every anchor given, so each is still judged', async () => {
      const wrong = { seq: 6, hash: 'f'.repeat(64) };
      expect(await verify({ anchors: [wrong] })).toMatchObject({ ok: false, firstBroken: { seq: 6, kind: 'anchor' }, walk: { mode: 'full', afterSeq: 0 } });
      await sign(4);
      expect(await verify({ anchors: [{ seq: 6, hash: (await row(6)).hash }] })).toMatchObject({ ok: true, checked: 8, walk: { mode: 'incremental', afterSeq: 4 } });
    });

    it('should not start from a seq that two validly signed checkpoints disagree on, and report them', async () => {
      // The signing key signed a rewritten head for event 8 too: one copy in the database, the other in a sink.
      const rewritten = signer.sign(8, 'e'.repeat(64), clock.now());
      const sink = { name: 'file:other', publish: async () => undefined, readBack: async () => ({ checkpoints: [rewritten], unreadable: 0 }) };
      await sign(4);
      const result = await new AuditLogUseCase(store.audit, { ...trust, sinks: [sink] }).verify(auditor);
      expect(result).toMatchObject({ ok: false, walk: { mode: 'incremental', afterSeq: 4 } });
      expect(result.breaks).toEqual(
        expect.arrayContaining([
          expect.objectContaining({ seq: 8, kind: 'checkpoint', reason: expect.stringMatching(/two validly signed checkpoints state different hashes/) }),
          expect.objectContaining({ seq: 8, kind: 'checkpoint', reason: expect.stringMatching(/does not have the hash signed/) }),
        ]),
      );
    });

    it('should walk everything when the broker runs unsigned, and not start from a checkpoint that fails its signature', async () => {
      expect(await new AuditLogUseCase(store.audit).verify(auditor)).toMatchObject({ ok: true, checked: 12, walk: { mode: 'full', from: 'genesis' } });
      const forged = { ...signer.sign(11, (await row(11)).hash, clock.now()), signature: signer.sign(10, (await row(10)).hash, clock.now()).signature };
      await checkpoints.add(forged);
      expect(await verify()).toMatchObject({ ok: false, brokenCount: 1, firstBroken: { seq: 11, kind: 'checkpoint' }, walk: { afterSeq: 8 } });
    });
  });
  describe('archival of sealed segments and ended grants', () => {
    let out: string;
    const at = (h: number) => new Date(T0.getTime() + h * HOUR);
    const archive = (now: Date, retentionHours: number, dryRun = false) =>
      archiveHistory(db.dataSource, { out, publicKeysPem: [signer.publicKeyPem], retentionSeconds: retentionHours * 3600, dryRun, now });
    const insertGrant = (state: string, endedAt: Date | null) =>
      db.dataSource.query(
        `INSERT INTO grants (id, state, cloud, kind, principal_type, principal_id, target, requested_by, duration_seconds, created_at, expires_at, ended_at,
           artifact_name, overlap_key, updated_at)
         VALUES ($1::uuid, $2, 'aws', 'aws.iam-policy', 'role', 'p', '{}', 'alice', 3600, $3, $3, $4, 'jit-x', $1::text, $3) RETURNING id`,
        [randomUUID(), state, at(0), endedAt],
      );
    const offline = async (dir: string) => {
      const keyFile = join(out, 'key.pub.pem');
      writeFileSync(keyFile, signer.publicKeyPem);
      async function* lines() {
        yield* readFileSync(join(dir, 'events.jsonl'), 'utf8').split('\n');
      }
      return verifyExport(lines(), [join(dir, 'checkpoints.jsonl')], [keyFile], 20);
    };
    const fullVerify = () => new AuditLogUseCase(store.audit, trust).verify(auditor, { full: true });

    beforeEach(async () => {
      out = mkdtempSync(join(tmpdir(), 'jit-archive-'));
      await db.dataSource.query(`DELETE FROM grants`);
      await db.dataSource.query(`DELETE FROM audit_archives`);
      await writeEvents(14);
      await sign(4, at(4));
      await sign(8, at(8));
      await sign(12, at(12));
    });
    afterEach(() => rmSync(out, { recursive: true, force: true }));

    it('should export the segment up to the latest checkpoint older than the retention and the ended grants, then remove them, the checkpoint becoming the anchor', async () => {
      await insertGrant('expired', at(1));
      await insertGrant('active', null);
      await insertGrant('revoked', at(20));
      const result = await archive(at(30), 20); // cutoff at(10): checkpoints 4 and 8 are older
      expect(result).toMatchObject({ ok: true, fromSeq: 1, throughSeq: 8, events: 8, grants: 1, removed: { events: 8, grants: 1 } });
      expect(readdirSync(result.directory!).sort()).toEqual(['checkpoints.jsonl', 'events.jsonl', 'grants.jsonl', 'manifest.json']);
      expect((await db.dataSource.query(`SELECT min(seq)::int AS s FROM audit_events`))[0].s).toBe(9);
      expect((await db.dataSource.query(`SELECT state FROM grants ORDER BY state`)).map((r: { state: string }) => r.state)).toEqual(['active', 'revoked']);
      const grants = readFileSync(join(result.directory!, 'grants.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
      expect(grants).toEqual([expect.objectContaining({ state: 'expired' })]);

      // Online: the full walk starts from the checkpoint that sealed the archive.
      expect(await fullVerify()).toMatchObject({ ok: true, checked: 6, walk: { mode: 'full', from: 'archive', afterSeq: 8, archivedThrough: 8 } });
      // Offline: the archive verifies on its own, and a change in it shows.
      expect(await offline(result.directory!)).toMatchObject({ ok: true, events: 8, firstSeq: 1, lastSeq: 8, checkpoints: { valid: 2, uncovered: 0 } });
      // As an auditor runs it: npm run audit-verify on the archive's directory.
      const cli = await new Promise<{ code: number; stdout: string }>((done) =>
        execFile(process.execPath, ['-r', '@swc-node/register', 'apps/broker/src/cli/audit-verify.ts', result.directory!, '--public-key', join(out, 'key.pub.pem')], (error, stdout) =>
          done({ code: error ? Number(error.code) : 0, stdout }),
        ),
      );
      expect(cli).toEqual({ code: 0, stdout: expect.stringMatching(/^8 events \(seq 1\.\.8\), 2 checkpoints[^]*INTACT/) });
      const file = join(result.directory!, 'events.jsonl');
      writeFileSync(file, readFileSync(file, 'utf8').replace('"i":3', '"i":33'));
      expect(await offline(result.directory!)).toMatchObject({ ok: false, breaks: [expect.objectContaining({ seq: 3, kind: 'altered' })] });

      // The next archive goes on from that anchor, and its own files verify from it.
      const next = await archive(at(45), 20); // cutoff at(25): checkpoint 12, and the grant revoked at(20)
      expect(next).toMatchObject({ ok: true, fromSeq: 9, throughSeq: 12, events: 4, grants: 1 });
      expect(await offline(next.directory!)).toMatchObject({ ok: true, events: 4, firstSeq: 9 });
      expect(await fullVerify()).toMatchObject({ ok: true, checked: 2, walk: { from: 'archive', afterSeq: 12 } });
    });

    it('should remove nothing from a segment that does not verify, nor on a dry run', async () => {
      await alter(3);
      const broken = await archive(at(30), 20);
      expect(broken).toMatchObject({ ok: false, removed: { events: 0, grants: 0 }, breaks: [expect.objectContaining({ seq: 3, kind: 'altered' })] });
      await asAttacker(`UPDATE audit_events SET data = '{"i":3}' WHERE seq = 3`);
      expect(await archive(at(31), 20, true)).toMatchObject({ ok: true, throughSeq: 8, removed: { events: 0, grants: 0 } });
      expect((await db.dataSource.query(`SELECT count(*)::int AS n FROM audit_events`))[0].n).toBe(14);
    });

    it('should still refuse any other delete, and show events removed without a checkpoint to anchor them', async () => {
      await expect(db.dataSource.query(`DELETE FROM audit_events WHERE seq = 14`)).rejects.toThrow(/append-only/);
      await asAttacker(`DELETE FROM audit_events WHERE seq <= 6`);
      expect(await fullVerify()).toMatchObject({ ok: false, firstBroken: { seq: 1, kind: 'missing' }, walk: { from: 'genesis' } });
      await expect(archive(at(30), 20)).rejects.toThrow(/starts at event 7/);
    });
  });
});
