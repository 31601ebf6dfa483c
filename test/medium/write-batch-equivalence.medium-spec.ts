import { randomUUID } from 'node:crypto';
import { DomainError, Grant, GrantDecision, GrantPatch, GrantState, GrantWrite, StagedAuditEvent } from '@jit/domain';
import { ManualClock } from '@jit/testing';
import { openTestDatabase } from '../setup/test-database';
import { PostgresStores, postgresStores } from '../setup/postgres-stores';

/**
 * The group commit's one statement (grant-write-batch.statement.ts, `PostgresUnitOfWork.write`)
 * against the single-write SQL it replaced (`insertGrantStatement` and `transitionStatement`, run
 * by `PostgresGrantWrites` in a transaction, as the base `UnitOfWork.write` does): the same write
 * from the same row must leave the same row (every column, compared whole), return the same grant,
 * stage the same events (or none), and fail the same way. Each case runs once per path on one grant
 * id, the row and its staged events deleted and seeded again in between; both paths read one
 * stopped clock, so `updated_at` and the lease checks see the same time.
 */
describe('the group commit statement writes what the single-write statements write', () => {
  let db: Awaited<ReturnType<typeof openTestDatabase>>;
  let stores: PostgresStores;
  const NOW = new Date('2026-12-05T12:00:00.123Z');
  const clock = new ManualClock(NOW);
  const at = (minutes: number) => new Date(NOW.getTime() + minutes * 60_000);
  const ME = 'replica-a';
  const OTHER = 'replica-b';

  beforeAll(async () => {
    db = await openTestDatabase();
    stores = postgresStores(db.dataSource, clock, ME);
  });
  afterAll(async () => {
    await db.close();
  });

  /** Text that needs escaping in an array literal, a JSON string or both. */
  const TRICKY = `a "quoted" \\ back\\slash, {braces} NULL 'single' \t tab\nnewline é ✓ 🙂`;
  const approvalsDecision: GrantDecision = {
    rule: 'two-step', mode: 'approvals', required: 2, groups: ['sre', 'security', 'dba'], policyVersion: 'v1',
    steps: [{ required: 1, groups: ['sre'] }, { required: 1, groups: ['security', 'dba'] }],
  };
  const bySre = { approver: 'bob', decision: 'approved' as const, at: '2026-12-05T11:00:00Z', groups: ['sre'], comment: TRICKY };

  /** A row with every nullable column filled, so that a patch setting one to null shows. */
  const fullGrant = (id: string, state: GrantState = 'provisioning'): Grant => ({
    id, state, cloud: 'aws', kind: 'aws.assume-role', principal: { type: 'workload', id: `arn:aws:iam::123456789012:role/r-${id.slice(0, 8)}` },
    target: { kind: 'aws.assume-role', roleArn: 'arn:aws:iam::123456789012:role/deploy', note: TRICKY },
    requestedBy: 'alice', justification: TRICKY, ticket: 'T-1', durationSeconds: 3600, createdAt: at(-60), startsAt: at(-50),
    expiresAt: at(10), endedAt: at(-40), endReason: 'failed', approvals: [bySre], decision: approvalsDecision, approvalDeadline: at(-30),
    artifactName: `jit-${id}`, overlapKey: `ok-${id}`, providerRef: { arn: 'arn:aws:sso:::x', nested: { s: TRICKY } }, lastError: 'old error',
    attempts: 2, nextAttemptAt: at(-20),
  });

  interface Seed {
    state?: GrantState;
    lease?: { owner: string; until: Date } | null;
    /** revoke_requested_* filled (default) or left null. */
    revokeRequested?: boolean;
    grant?: (g: Grant) => Grant;
  }

  /** Stores the case's starting row, through the single-write insert and a plain UPDATE for what it does not write. */
  const seed = async (id: string, s: Seed) => {
    const base = fullGrant(id, s.state);
    const g = s.grant ? s.grant(base) : base;
    await stores.unitOfWork.run((tx) => tx.grants.insert(g, null, null));
    await db.dataSource.query(
      `UPDATE grants SET lease_owner = $2, lease_until = $3, revoke_requested_at = $4, revoke_requested_by = $5, revoke_request_reason = $6 WHERE id = $1`,
      [id, s.lease?.owner ?? null, s.lease?.until ?? null, ...(s.revokeRequested === false ? [null, null, null] : [at(-45), 'carol', 'old reason'])],
    );
  };

  const reset = async (ids: readonly string[]) => {
    await db.dataSource.query(`DELETE FROM audit_staged WHERE grant_id = ANY($1::uuid[])`, [ids]);
    await db.dataSource.query(`DELETE FROM grants WHERE id = ANY($1::uuid[])`, [ids]);
  };

  const rowOf = async (id: string) => {
    const [row] = await db.dataSource.query<Record<string, unknown>[]>(`SELECT * FROM grants WHERE id = $1`, [id]);
    // The exact text of every column as well (microseconds, jsonb as stored).
    const [text] = await db.dataSource.query<{ t: string }[]>(`SELECT g::text AS t FROM grants g WHERE id = $1`, [id]);
    return row ? { row, text: text.t } : null;
  };

  /** Staged events in the order the chainer takes them (without the serial id and the transaction id). */
  const stagedOf = async (ids: readonly string[]) =>
    db.dataSource.query<Record<string, unknown>[]>(
      `SELECT event_id, occurred_at, type, grant_id, cloud, principal, actor, data, data::text AS data_text FROM audit_staged
        WHERE grant_id = ANY($1::uuid[]) ORDER BY id`,
      [ids],
    );

  const events = (id: string, n = 2): StagedAuditEvent[] =>
    Array.from({ length: n }, (_, i) => ({
      id: randomUUID(), occurredAt: at(i), type: i === 0 ? 'grant.requested' : 'grant.approved', grantId: id,
      cloud: i === 0 ? 'aws' : null, principal: i === 0 ? 'arn:aws:iam::123456789012:role/x' : null, actor: TRICKY, data: { i, s: TRICKY, nested: [null, { q: '"' }] },
    }));

  type Path = 'batch' | 'transaction';
  /** The write through the group commit, or as the base UnitOfWork.write does it: PostgresGrantWrites in a transaction. */
  const through = (path: Path, write: GrantWrite, evs: readonly StagedAuditEvent[]): Promise<Grant | null> =>
    path === 'batch'
      ? stores.unitOfWork.write(write, evs)
      : stores.unitOfWork.run(async (tx) => {
          const row =
            write.op === 'insert'
              ? await tx.grants.insert(write.grant, write.idempotency, write.leaseUntil)
              : await tx.grants.transition(write.id, write.from, write.to, write.patch, write.expect, write.options);
          if (row && evs.length) await tx.auditChain.stage(evs);
          return row;
        });

  const errorOf = (e: unknown) => (e instanceof DomainError ? { domain: e.code } : { code: (e as { code?: string }).code ?? String(e) });

  interface Case {
    name: string;
    /** No seed: the grant does not exist before the write (an insert). */
    seed?: Seed;
    /** Other grants stored first (an Idempotency-Key already taken). */
    others?: (ids: string[]) => Promise<void>;
    write: (id: string) => GrantWrite;
    /** What the single-write path does: stores a row, returns null, or fails. */
    outcome: 'stored' | 'null' | 'error';
    /** Columns the write changes (transitions on a seeded row; checked on the single-write path). */
    changes?: string[];
  }

  const runCase = async (path: Path, c: Case, ids: string[], evs: StagedAuditEvent[]) => {
    await reset(ids);
    if (c.others) await c.others(ids);
    const [id] = ids;
    if (c.seed) await seed(id, c.seed);
    const before = await rowOf(id);
    const stats0 = stores.unitOfWork.writeBatchStats();
    let returned: Grant | null = null;
    let error: unknown = null;
    try {
      returned = await through(path, c.write(id), evs);
    } catch (e) {
      error = errorOf(e);
    }
    const viaBatch = stores.unitOfWork.writeBatchStats().writes - stats0.writes;
    return { returned, error, before, after: await rowOf(id), found: await stores.grants.findById(id), staged: await stagedOf(ids), viaBatch };
  };

  const changedColumns = (before: Record<string, unknown> | undefined, after: Record<string, unknown> | undefined) =>
    before && after ? Object.keys(after).filter((k) => JSON.stringify(before[k]) !== JSON.stringify(after[k])).sort() : [];

  const check = async (c: Case) => {
    const ids = [randomUUID(), randomUUID()];
    const evs = events(ids[0]);
    const old = await runCase('transaction', c, ids, evs);
    const neu = await runCase('batch', c, ids, evs);
    await reset(ids);
    // The group commit took it (not the transaction UnitOfWork.write falls back to).
    expect(neu.viaBatch).toBe(1);
    expect(old.viaBatch).toBe(0);
    // The reference did what the case says, so the comparison tests something.
    if (c.outcome === 'stored') {
      expect(old.error).toBeNull();
      expect(old.returned).not.toBeNull();
      expect(old.staged.map((e) => e.event_id)).toEqual(evs.map((e) => e.id));
      // What it returned is the row it stored.
      expect(old.returned).toEqual(old.found);
    } else if (c.outcome === 'null') {
      expect(old.error).toBeNull();
      expect(old.returned).toBeNull();
      expect(old.staged).toEqual([]);
      expect(old.after).toEqual(old.before);
    } else {
      expect(old.error).not.toBeNull();
      expect(old.staged).toEqual([]);
      expect(old.after).toEqual(old.before);
    }
    if (c.changes) expect(changedColumns(old.before?.row, old.after?.row)).toEqual([...c.changes].sort());
    // The same on both paths: starting row, error, returned grant, stored row (whole), staged events.
    expect(neu.before).toEqual(old.before);
    expect(neu.error).toEqual(old.error);
    expect(neu.returned).toEqual(old.returned);
    expect(neu.after?.row).toEqual(old.after?.row);
    expect(neu.after?.text).toBe(old.after?.text);
    expect(neu.staged).toEqual(old.staged);
    expect(neu.found).toEqual(old.found);
  };

  const transition = (from: GrantState, to: GrantState, patch: GrantPatch, more: Partial<Extract<GrantWrite, { op: 'transition' }>> = {}) =>
    (id: string): GrantWrite => ({ op: 'transition', id, from, to, patch, ...more });

  // ---- every GrantPatch key alone (provisioning -> provisioning: only the key, updated_at and the lease move)

  const REVOKE_COLS = ['revoke_request_reason', 'revoke_requested_at', 'revoke_requested_by'];
  const alone: [string, GrantPatch, string[] | 'error'][] = [
    ['startsAt', { startsAt: at(1) }, ['starts_at']],
    ['startsAt null', { startsAt: null }, ['starts_at']],
    ['expiresAt', { expiresAt: at(120) }, ['expires_at']],
    // NOT NULL column: both refuse.
    ['expiresAt null', { expiresAt: null as unknown as Date }, 'error'],
    ['approvalDeadline', { approvalDeadline: at(5) }, ['approval_deadline']],
    ['approvalDeadline null', { approvalDeadline: null }, ['approval_deadline']],
    ['endedAt', { endedAt: at(2) }, ['ended_at']],
    ['endedAt null', { endedAt: null }, ['ended_at']],
    ['endReason', { endReason: 'timeout' }, ['end_reason']],
    ['endReason null', { endReason: null }, ['end_reason']],
    ['providerRef', { providerRef: { arn: TRICKY, list: [1, 'two', null, { deep: '\\"' }], empty: {} } }, ['provider_ref']],
    ['providerRef {}', { providerRef: {} }, ['provider_ref']],
    ['providerRef null', { providerRef: null }, ['provider_ref']],
    ['lastError', { lastError: TRICKY }, ['last_error']],
    ['lastError empty string', { lastError: '' }, ['last_error']],
    ['lastError "NULL"', { lastError: 'NULL' }, ['last_error']],
    ['lastError null', { lastError: null }, ['last_error']],
    ['lastError undefined (key present)', { lastError: undefined }, ['last_error']],
    ['attempts', { attempts: 7 }, ['attempts']],
    ['attempts 0', { attempts: 0 }, ['attempts']],
    ['attempts null (NOT NULL column)', { attempts: null as unknown as number }, 'error'],
    ['attempts beyond int4', { attempts: 2 ** 31 }, 'error'],
    ['nextAttemptAt', { nextAttemptAt: at(3) }, ['next_attempt_at']],
    ['nextAttemptAt null', { nextAttemptAt: null }, ['next_attempt_at']],
    ['approvals', { approvals: [bySre, { approver: TRICKY, decision: 'denied', at: '2026-12-05T11:30:00Z' }] }, ['approvals']],
    ['approvals []', { approvals: [] }, ['approvals']],
    ['approvals null (NOT NULL column)', { approvals: null as unknown as [] }, 'error'],
    ['revokeRequest', { revokeRequest: { at: at(1), by: TRICKY, reason: TRICKY } }, REVOKE_COLS],
    ['revokeRequest without reason', { revokeRequest: { at: at(1), by: 'dave', reason: null } }, REVOKE_COLS],
    ['revokeRequest null', { revokeRequest: null }, REVOKE_COLS],
    ['empty patch', {}, []],
  ];
  it.each(alone)('should set %s alone as the single-write statement does', async (name, patch, cols) => {
    await check({
      name,
      seed: {},
      write: transition('provisioning', 'provisioning', patch),
      outcome: cols === 'error' ? 'error' : 'stored',
      changes: cols === 'error' ? undefined : [...cols, 'updated_at'],
    });
  });

  it('should set a timestamp at the epoch and one with milliseconds far ahead alike', async () => {
    await check({
      name: 'edge dates', seed: {},
      write: transition('provisioning', 'provisioning', { startsAt: new Date(0), nextAttemptAt: new Date('2999-12-31T23:59:59.999Z'), endedAt: new Date('1969-07-20T20:17:40.001Z') }),
      outcome: 'stored', changes: ['starts_at', 'next_attempt_at', 'ended_at', 'updated_at'],
    });
  });

  // ---- several keys together

  it('should set several keys together, with a state change and a lease, alike', async () => {
    await check({
      name: 'provisioned', seed: {},
      write: transition('provisioning', 'active', {
        startsAt: at(0), expiresAt: at(60), providerRef: { arn: 'arn:new' }, attempts: 0, lastError: null, nextAttemptAt: null, leaseUntil: at(5),
      }),
      outcome: 'stored',
      changes: ['state', 'starts_at', 'expires_at', 'provider_ref', 'attempts', 'last_error', 'next_attempt_at', 'lease_owner', 'lease_until', 'updated_at'],
    });
    await check({
      name: 'revoke failed', seed: { state: 'revoking' },
      write: transition('revoking', 'revoke_failed', { endedAt: at(1), endReason: 'revoked', lastError: TRICKY, attempts: 3, nextAttemptAt: at(10) }),
      outcome: 'stored', changes: ['state', 'ended_at', 'end_reason', 'last_error', 'attempts', 'next_attempt_at', 'updated_at'],
    });
  });

  it('should set every key at once alike', async () => {
    await check({
      name: 'all keys', seed: {},
      write: transition('provisioning', 'revoking', {
        startsAt: null, expiresAt: at(30), approvalDeadline: null, endedAt: null, endReason: null, providerRef: { k: TRICKY }, lastError: null,
        attempts: 9, nextAttemptAt: null, approvals: [], revokeRequest: { at: at(0), by: 'erin', reason: null }, leaseUntil: at(2),
      }),
      outcome: 'stored',
      changes: [
        'state', 'starts_at', 'expires_at', 'approval_deadline', 'ended_at', 'end_reason', 'provider_ref', 'last_error', 'attempts',
        'next_attempt_at', 'approvals', ...REVOKE_COLS, 'lease_owner', 'lease_until', 'updated_at',
      ],
    });
  });

  // ---- the lease

  const lease: [string, Case][] = [
    ['leaseUntil set takes the free row', { name: '', seed: {}, write: transition('provisioning', 'provisioning', { leaseUntil: at(5) }), outcome: 'stored', changes: ['lease_owner', 'lease_until', 'updated_at'] }],
    ['leaseUntil null releases this replica\'s lease', {
      name: '', seed: { lease: { owner: ME, until: at(5) } }, write: transition('provisioning', 'provisioning', { leaseUntil: null }), outcome: 'stored',
      changes: ['lease_owner', 'lease_until', 'updated_at'],
    }],
    ['leaseUntil absent releases this replica\'s lease', {
      name: '', seed: { lease: { owner: ME, until: at(5) } }, write: transition('provisioning', 'active', { attempts: 1 }), outcome: 'stored',
      changes: ['state', 'attempts', 'lease_owner', 'lease_until', 'updated_at'],
    }],
    ['leaseUntil extends this replica\'s live lease', {
      name: '', seed: { lease: { owner: ME, until: at(5) } }, write: transition('provisioning', 'provisioning', { leaseUntil: at(9) }), outcome: 'stored',
      changes: ['lease_until', 'updated_at'],
    }],
    ['leaseUntil takes another replica\'s lapsed lease', {
      name: '', seed: { lease: { owner: OTHER, until: at(-1) } }, write: transition('provisioning', 'provisioning', { leaseUntil: at(5) }), outcome: 'stored',
      changes: ['lease_owner', 'lease_until', 'updated_at'],
    }],
    ['a lease lapsing at this very instant is lapsed', {
      name: '', seed: { lease: { owner: OTHER, until: NOW } }, write: transition('provisioning', 'provisioning', { leaseUntil: at(5) }), outcome: 'stored',
      changes: ['lease_owner', 'lease_until', 'updated_at'],
    }],
    ['another replica\'s live lease refuses the write', {
      name: '', seed: { lease: { owner: OTHER, until: new Date(NOW.getTime() + 1) } }, write: transition('provisioning', 'active', { attempts: 5, leaseUntil: at(5) }), outcome: 'null',
    }],
    ['underLease stores the revoke request under another replica\'s live lease and keeps it', {
      name: '', seed: { lease: { owner: OTHER, until: at(5) }, revokeRequested: false },
      write: transition('provisioning', 'provisioning', { revokeRequest: { at: at(0), by: TRICKY, reason: 'now' }, leaseUntil: at(30) }, { options: { underLease: true } }),
      outcome: 'stored', changes: [...REVOKE_COLS, 'updated_at'],
    }],
    ['underLease keeps this replica\'s lease although leaseUntil is absent', {
      name: '', seed: { lease: { owner: ME, until: at(5) } },
      write: transition('provisioning', 'provisioning', { revokeRequest: null }, { options: { underLease: true } }), outcome: 'stored', changes: [...REVOKE_COLS, 'updated_at'],
    }],
    ['underLease takes no lease on a free row', {
      name: '', seed: {}, write: transition('provisioning', 'provisioning', { leaseUntil: at(5), lastError: 'x' }, { options: { underLease: true } }), outcome: 'stored',
      changes: ['last_error', 'updated_at'],
    }],
    ['underLease false is no lease option', {
      name: '', seed: { lease: { owner: OTHER, until: at(5) } }, write: transition('provisioning', 'provisioning', { lastError: 'x' }, { options: { underLease: false } }), outcome: 'null',
    }],
    ['underLease with a wrong from stores nothing', {
      name: '', seed: { lease: { owner: OTHER, until: at(5) } },
      write: transition('active', 'active', { revokeRequest: { at: at(0), by: 'x', reason: null } }, { options: { underLease: true } }), outcome: 'null',
    }],
  ];
  it.each(lease)('should handle the lease alike: %s', async (name, c) => {
    await check({ ...c, name });
  });

  // ---- guards

  const guards: [string, Case][] = [
    ['a wrong from', { name: '', seed: { state: 'active' }, write: transition('revoking', 'revoked', { endReason: 'revoked', endedAt: at(0) }), outcome: 'null' }],
    ['no such grant', { name: '', write: transition('active', 'revoked', { endReason: 'revoked' }), outcome: 'null' }],
    ['an approval count that does not match', {
      name: '', seed: { state: 'pending_approval' }, write: transition('pending_approval', 'provisioning', { leaseUntil: at(5) }, { expect: { approvalCount: 0 } }), outcome: 'null',
    }],
    ['an approval count that matches', {
      name: '', seed: { state: 'pending_approval' }, write: transition('pending_approval', 'provisioning', { leaseUntil: at(5) }, { expect: { approvalCount: 1 } }), outcome: 'stored',
      changes: ['state', 'lease_owner', 'lease_until', 'open_approval_groups', 'updated_at'],
    }],
    ['an approval count of 0 on a row without approvals', {
      name: '', seed: { state: 'pending_approval', grant: (g) => ({ ...g, approvals: [] }) },
      write: transition('pending_approval', 'denied', { endReason: 'timeout', endedAt: at(0) }, { expect: { approvalCount: 0 } }), outcome: 'stored',
      changes: ['state', 'end_reason', 'ended_at', 'open_approval_groups', 'updated_at'],
    }],
    ['another replica\'s live lease with a matching count', {
      name: '', seed: { state: 'pending_approval', lease: { owner: OTHER, until: at(1) } },
      write: transition('pending_approval', 'provisioning', {}, { expect: { approvalCount: 1 } }), outcome: 'null',
    }],
  ];
  it.each(guards)('should refuse or pass the guard alike: %s', async (name, c) => {
    await check({ ...c, name });
  });

  // ---- pending_approval and its open approval groups

  it('should clear open_approval_groups when leaving pending_approval, and keep them when staying', async () => {
    const groups = async (id: string) => (await db.dataSource.query<{ o: unknown }[]>(`SELECT open_approval_groups AS o FROM grants WHERE id = $1`, [id]))[0]?.o;
    // The seed is as the insert stores it: the steps still open.
    const id = randomUUID();
    await seed(id, { state: 'pending_approval' });
    expect(await groups(id)).toEqual(['security', 'dba']);
    await reset([id]);

    await check({
      name: 'approved', seed: { state: 'pending_approval' }, write: transition('pending_approval', 'provisioning', { leaseUntil: at(5) }), outcome: 'stored',
      changes: ['state', 'lease_owner', 'lease_until', 'open_approval_groups', 'updated_at'],
    });
    await check({
      name: 'denied', seed: { state: 'pending_approval' },
      write: transition('pending_approval', 'denied', { endReason: 'denied', endedAt: at(0), approvals: [bySre, { approver: 'x', decision: 'denied', at: 'now' }] }),
      outcome: 'stored', changes: ['state', 'end_reason', 'ended_at', 'approvals', 'open_approval_groups', 'updated_at'],
    });
    await check({
      name: 'stays pending', seed: { state: 'pending_approval' }, write: transition('pending_approval', 'pending_approval', { approvalDeadline: at(60) }), outcome: 'stored',
      changes: ['approval_deadline', 'updated_at'],
    });
  });

  it('should leave an approval that reopens steps to the transaction, as before', async () => {
    // to pending_approval with approvals: UnitOfWork.write recomputes the open steps in a transaction (reopensApprovals), not the batch.
    const ids = [randomUUID(), randomUUID()];
    const evs = events(ids[0]);
    const c: Case = { name: 'reopen', seed: { state: 'pending_approval' }, write: transition('pending_approval', 'pending_approval', { approvals: [] }), outcome: 'stored' };
    const old = await runCase('transaction', c, ids, evs);
    const neu = await runCase('batch', c, ids, evs);
    await reset(ids);
    expect(neu.viaBatch).toBe(0);
    expect(neu.after).toEqual(old.after);
    expect(neu.staged).toEqual(old.staged);
    expect(old.after?.row.open_approval_groups).toEqual(['sre', 'security', 'dba']);
  });

  // ---- inserts

  const insert = (make: (g: Grant) => Grant, idempotency: { key: string; requestHash: string } | null, leaseUntil: Date | null) =>
    (id: string): GrantWrite => ({ op: 'insert', grant: make(fullGrant(id, 'active')), idempotency, leaseUntil });
  const bare = (g: Grant): Grant => ({
    ...g, justification: null, ticket: null, startsAt: null, endedAt: null, endReason: null, approvals: [], decision: null, approvalDeadline: null,
    providerRef: null, lastError: null, attempts: 0, nextAttemptAt: null,
  });
  const pending = (g: Grant): Grant => ({ ...bare(g), state: 'pending_approval', decision: approvalsDecision, approvalDeadline: at(15) });

  const inserts: [string, Case][] = [
    ['a bare active grant', { name: '', write: insert(bare, null, null), outcome: 'stored' }],
    ['every column filled', { name: '', write: insert((g) => g, null, null), outcome: 'stored' }],
    ['with an Idempotency-Key', { name: '', write: insert(bare, { key: TRICKY, requestHash: 'h'.repeat(64) }, null), outcome: 'stored' }],
    ['with a lease', { name: '', write: insert(bare, null, at(5)), outcome: 'stored' }],
    ['with an auto decision', { name: '', write: insert((g) => ({ ...bare(g), decision: { rule: 'auto', mode: 'auto', required: 0, groups: [], policyVersion: TRICKY } }), null, null), outcome: 'stored' }],
    ['pending approval (open groups computed)', { name: '', write: insert(pending, null, null), outcome: 'stored' }],
    ['pending approval with a step filled', { name: '', write: insert((g) => ({ ...pending(g), approvals: [bySre] }), null, null), outcome: 'stored' }],
    ['pending approval with Idempotency-Key, lease and every column', {
      name: '', write: insert((g) => ({ ...g, state: 'pending_approval', durationSeconds: 90.5 }), { key: 'k', requestHash: 'h' }, at(5)), outcome: 'stored',
    }],
    ['a grant whose revokeRequest the insert does not store', {
      name: '', write: insert((g) => ({ ...bare(g), revokeRequest: { at: at(0), by: 'x', reason: 'y' } }), null, null), outcome: 'stored',
    }],
    ['pending approval without a deadline (a CHECK refuses it)', { name: '', write: insert((g) => ({ ...pending(g), approvalDeadline: null }), null, null), outcome: 'error' }],
    ['an id already stored', { name: '', seed: { state: 'active' }, write: insert(bare, null, null), outcome: 'error' }],
    ['an Idempotency-Key already taken', {
      name: '',
      others: async ([, other]) => {
        await stores.unitOfWork.run((tx) => tx.grants.insert(bare(fullGrant(other, 'active')), { key: 'taken', requestHash: 'h' }, null));
      },
      write: insert(bare, { key: 'taken', requestHash: 'h2' }, null), outcome: 'error',
    }],
  ];
  it.each(inserts)('should insert alike: %s', async (name, c) => {
    await check({ ...c, name });
  });

  it('should answer a taken Idempotency-Key as the domain conflict on both paths', async () => {
    const [, c] = inserts[inserts.length - 1];
    const ids = [randomUUID(), randomUUID()];
    const old = await runCase('transaction', c, ids, events(ids[0]));
    const neu = await runCase('batch', c, ids, events(ids[0]));
    await reset(ids);
    expect(old.error).toEqual({ domain: 'idempotency_conflict' });
    expect(neu.error).toEqual({ domain: 'idempotency_conflict' });
  });

  // ---- writes sharing one statement

  it('should give each of several writes sharing one statement its own row and events, in order, as written one by one', async () => {
    const seeded = Array.from({ length: 8 }, () => randomUUID());
    const fresh = Array.from({ length: 6 }, () => randomUUID());
    const ids = [...seeded, ...fresh];
    const seeds: Seed[] = [
      {}, { lease: { owner: ME, until: at(5) } }, { lease: { owner: OTHER, until: at(5) } }, { state: 'pending_approval' },
      { state: 'pending_approval' }, { state: 'active' }, { lease: { owner: OTHER, until: at(5) } }, { state: 'revoking' },
    ];
    const writes: GrantWrite[] = [
      // Goes out alone (nothing in flight), the rest queue behind it and share the next statement.
      insert(bare, null, null)(fresh[0]),
      transition('provisioning', 'active', { startsAt: at(0), attempts: 1, leaseUntil: null })(seeded[0]),
      transition('provisioning', 'provisioning', { leaseUntil: at(9), lastError: TRICKY })(seeded[1]),
      // Another replica's live lease: null, no events, the others unaffected.
      transition('provisioning', 'active', { attempts: 4 })(seeded[2]),
      transition('pending_approval', 'provisioning', { leaseUntil: at(5) }, { expect: { approvalCount: 1 } })(seeded[3]),
      // Count mismatch: null.
      transition('pending_approval', 'provisioning', {}, { expect: { approvalCount: 2 } })(seeded[4]),
      // Wrong from: null.
      transition('revoking', 'revoked', { endReason: 'revoked' })(seeded[5]),
      transition('provisioning', 'provisioning', { revokeRequest: { at: at(0), by: 'bob', reason: TRICKY } }, { options: { underLease: true } })(seeded[6]),
      transition('revoking', 'revoked', { endedAt: at(0), endReason: 'revoked', providerRef: null, nextAttemptAt: null })(seeded[7]),
      insert((g) => g, { key: 'batch-key', requestHash: 'h' }, at(3))(fresh[1]),
      insert(pending, null, null)(fresh[2]),
      insert((g) => ({ ...pending(g), approvals: [bySre] }), null, at(1))(fresh[3]),
      insert(bare, null, at(2))(fresh[4]),
      insert((g) => ({ ...bare(g), decision: { rule: 'auto', mode: 'auto', required: 0, groups: [], policyVersion: 'v' } }), null, null)(fresh[5]),
      // A second change of a grant written in this round: waits for a later statement, as it would for the row lock.
      transition('active', 'revoking', { attempts: 1, nextAttemptAt: at(1), leaseUntil: at(4) })(fresh[5]),
    ];
    const evs = writes.map((w) => events(w.op === 'insert' ? w.grant.id : w.id, 2));
    const expected = ['row', 'row', 'row', null, 'row', null, null, 'row', 'row', 'row', 'row', 'row', 'row', 'row', 'row'];

    const runAll = async (path: Path) => {
      await reset(ids);
      for (const [i, id] of seeded.entries()) await seed(id, seeds[i]);
      const stats0 = stores.unitOfWork.writeBatchStats();
      const results =
        path === 'batch'
          ? await Promise.all(writes.map((w, i) => through('batch', w, evs[i])))
          : await writes.reduce<Promise<(Grant | null)[]>>(async (acc, w, i) => [...(await acc), await through('transaction', w, evs[i])], Promise.resolve([]));
      const stats1 = stores.unitOfWork.writeBatchStats();
      const rows = await Promise.all(ids.map(rowOf));
      const staged = await db.dataSource.query<{ event_id: string; tx: string }[]>(
        `SELECT event_id, tx::text AS tx FROM audit_staged WHERE grant_id = ANY($1::uuid[]) ORDER BY id`,
        [ids],
      );
      return { results, rows, staged, stats0, stats1, stagedFull: await stagedOf(ids) };
    };

    const old = await runAll('transaction');
    const neu = await runAll('batch');
    await reset(ids);

    expect(old.results.map((r) => (r ? 'row' : null))).toEqual(expected);
    // Shared statements: 15 writes in fewer statements, at least one carrying more than one write.
    expect(neu.stats1.writes - neu.stats0.writes).toBe(writes.length);
    expect(neu.stats1.statements - neu.stats0.statements).toBeLessThan(writes.length);
    expect(neu.stats1.sizes.slice(1).reduce((a, b) => a + b, 0)).toBeGreaterThan(neu.stats0.sizes.slice(1).reduce((a, b) => a + b, 0));

    // Each write's own outcome, row and events, the same as written one by one in a transaction each.
    expect(neu.results).toEqual(old.results);
    expect(neu.rows).toEqual(old.rows);
    expect(neu.stagedFull).toEqual(old.stagedFull);
    // In the order the writes came, both events of each stored write and none of a refused one.
    const stagedOrder = writes.flatMap((_, i) => (expected[i] ? evs[i].map((e) => e.id) : []));
    expect(neu.staged.map((e) => e.event_id)).toEqual(stagedOrder);
    // The first write alone, then the queued writes together in one transaction, the second change of fresh[5] after them.
    const txOf = (i: number) => neu.staged.find((e) => e.event_id === evs[i][0].id)?.tx;
    const shared = [1, 2, 4, 7, 8, 9, 10, 11, 12, 13].map(txOf);
    expect(shared.every((tx) => tx !== undefined && tx === shared[0])).toBe(true);
    expect([txOf(0), txOf(14)].every((tx) => tx !== undefined && tx !== shared[0])).toBe(true);
    expect(txOf(0)).not.toBe(txOf(14));
    // Both events of each write in one transaction.
    for (const [i, w] of evs.entries()) if (expected[i]) expect(neu.staged.find((e) => e.event_id === w[1].id)?.tx).toBe(txOf(i));
  });
});
