import { randomUUID } from 'node:crypto';
import { DataSource, EntityManager } from 'typeorm';
import { hashEvent } from '@jit/audit';
import {
  AuditEvent,
  AuditEventInput,
  AuditFilter,
  Clock,
  DomainError,
  Grant,
  GrantFilter,
  GrantPatch,
  GrantState,
  GrantStore,
  LIVE_STATES,
  Page,
  toWellFormedDeep,
} from '@jit/domain';
import { decodeCursor, encodeCursor } from '../cursor';
import { SqlConditions } from '../sql-conditions';
import { AuditRow, GrantRow, toAuditEvent, toGrant } from '../mappers/grant-row.mapper';

const PATCH_COLUMNS: Record<Exclude<keyof GrantPatch, 'leaseUntil'>, string> = {
  startsAt: 'starts_at',
  expiresAt: 'expires_at',
  approvalDeadline: 'approval_deadline',
  endedAt: 'ended_at',
  endReason: 'end_reason',
  providerRef: 'provider_ref',
  lastError: 'last_error',
  attempts: 'attempts',
  nextAttemptAt: 'next_attempt_at',
  approvals: 'approvals',
};
const JSON_COLUMNS = new Set(['provider_ref', 'approvals', 'decision']);

type GrantCursor = { t: string; i: string };
/** Rows a filtered list reads at most per request before answering a short page with a cursor. */
export const LIST_SCAN_LIMIT = 2_000;

const grantCursor = (g: Grant): string => encodeCursor({ t: g.createdAt.toISOString(), i: g.id });

const isGrantCursor = (v: unknown): v is GrantCursor =>
  typeof v === 'object' && v !== null && typeof (v as GrantCursor).t === 'string' && typeof (v as GrantCursor).i === 'string' &&
  !Number.isNaN(Date.parse((v as GrantCursor).t)) && /^[0-9a-f-]{36}$/.test((v as GrantCursor).i);
type AuditCursor = { s: number };
const isAuditCursor = (v: unknown): v is AuditCursor =>
  typeof v === 'object' && v !== null && Number.isSafeInteger((v as AuditCursor).s) && (v as AuditCursor).s >= 0;

/** GrantStore on PostgreSQL (or the embedded PGlite), with the hash-chained audit log in the same transactions. */
export class PostgresGrantStore extends GrantStore {
  constructor(
    private readonly db: DataSource,
    private readonly clock: Clock,
    /** This replica's lease owner id. */
    private readonly owner: string,
  ) {
    super();
  }

  /** Settles when the transaction now appending to the audit chain in this process has ended. */
  private headTurn: Promise<void> = Promise.resolve();

  async insert(
    grant: Grant,
    idempotency: { key: string; requestHash: string } | null,
    events: AuditEventInput[],
    leaseUntil: Date | null,
  ): Promise<Grant> {
    try {
      return await this.chainedTransaction(async (m, append) => {
        const [row] = await m.query(
          `INSERT INTO grants (id, state, cloud, kind, principal_type, principal_id, target, requested_by, justification, ticket,
             duration_seconds, created_at, starts_at, expires_at, ended_at, end_reason, approvals, artifact_name, overlap_key,
             provider_ref, last_error, attempts, next_attempt_at, lease_owner, lease_until, idempotency_key, request_hash, updated_at,
             decision, approval_deadline)
           VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15,$16,$17,$18,$19,$20,$21,$22,$23,$24,$25,$26,$27,$12,$28,$29)
           RETURNING *`,
          [
            grant.id, grant.state, grant.cloud, grant.kind, grant.principal.type, grant.principal.id, JSON.stringify(grant.target),
            grant.requestedBy, grant.justification, grant.ticket, grant.durationSeconds, grant.createdAt, grant.startsAt,
            grant.expiresAt, grant.endedAt, grant.endReason, JSON.stringify(grant.approvals), grant.artifactName, grant.overlapKey,
            grant.providerRef && JSON.stringify(grant.providerRef), grant.lastError, grant.attempts, grant.nextAttemptAt,
            leaseUntil ? this.owner : null, leaseUntil, idempotency?.key ?? null, idempotency?.requestHash ?? null,
            grant.decision && JSON.stringify(grant.decision), grant.approvalDeadline,
          ],
        );
        await append(events);
        return toGrant(row);
      });
    } catch (e) {
      if ((e as { code?: string }).code === '23505' && idempotency) {
        throw new DomainError('idempotency_conflict', 'a request with this Idempotency-Key is already being processed', [
          { field: 'Idempotency-Key', message: 'is in use' },
        ]);
      }
      throw e;
    }
  }

  async transition(
    id: string,
    from: GrantState,
    to: GrantState,
    patch: GrantPatch,
    events: (g: Grant) => AuditEventInput[],
    expect?: { approvalCount: number },
  ): Promise<Grant | null> {
    const now = this.clock.now();
    const sets = ['state = $3', 'updated_at = $4'];
    const params: unknown[] = [id, from, to, now, this.owner];
    for (const [key, column] of Object.entries(PATCH_COLUMNS)) {
      if (!(key in patch)) continue;
      const value = patch[key as keyof typeof PATCH_COLUMNS];
      params.push(JSON_COLUMNS.has(column) && value != null ? JSON.stringify(value) : value);
      sets.push(`${column} = $${params.length}`);
    }
    params.push(patch.leaseUntil ?? null);
    sets.push(`lease_until = $${params.length}`, `lease_owner = CASE WHEN $${params.length}::timestamptz IS NULL THEN NULL ELSE $5 END`);
    let approvalGuard = '';
    if (expect) {
      params.push(expect.approvalCount);
      approvalGuard = ` AND jsonb_array_length(approvals) = $${params.length}`;
    }
    return this.chainedTransaction(async (m, append) => {
      const [rows]: [GrantRow[], number] = await m.query(
        `UPDATE grants SET ${sets.join(', ')}
         WHERE id = $1 AND state = $2 AND (lease_until IS NULL OR lease_until <= $4 OR lease_owner = $5)${approvalGuard}
         RETURNING *`,
        params,
      );
      if (rows.length === 0) return null;
      const grant = toGrant(rows[0]);
      await append(events(grant));
      return grant;
    });
  }

  async findById(id: string): Promise<Grant | null> {
    const rows: GrantRow[] = await this.db.query(`SELECT * FROM grants WHERE id = $1`, [id]);
    return rows[0] ? toGrant(rows[0]) : null;
  }

  async findByIdempotencyKey(requester: string, key: string): Promise<{ grant: Grant; requestHash: string } | null> {
    const rows: (GrantRow & { request_hash: string })[] = await this.db.query(
      `SELECT * FROM grants WHERE requested_by = $1 AND idempotency_key = $2`,
      [requester, key],
    );
    return rows[0] ? { grant: toGrant(rows[0]), requestHash: rows[0].request_hash } : null;
  }

  async list(filter: GrantFilter, limit: number, cursor: string | null, keep?: (g: Grant) => boolean): Promise<Page<Grant>> {
    if (!keep) return this.listPage(filter, limit, cursor);
    const items: Grant[] = [];
    let next = cursor;
    for (let scanned = 0; ; ) {
      const page = await this.listPage(filter, limit, next);
      for (const g of page.items) {
        scanned++;
        if (keep(g)) items.push(g);
        next = grantCursor(g);
        if (items.length === limit) return { items, nextCursor: next };
      }
      if (!page.nextCursor) return { items, nextCursor: null };
      if (scanned >= LIST_SCAN_LIMIT) return { items, nextCursor: next };
    }
  }

  private async listPage(filter: GrantFilter, limit: number, cursor: string | null): Promise<Page<Grant>> {
    const q = new SqlConditions()
      .addIf('cloud = ?', filter.cloud)
      .addIf('state = ?', filter.state)
      .addIf('principal_id = ?', filter.principal)
      .addIf('requested_by = ?', filter.requester)
      .addIf('created_at >= ?', filter.from)
      .addIf('created_at < ?', filter.to);
    const reader = filter.visibleTo;
    if (reader) {
      // Without groups this is the requester's index; with them, the reader's own or their groups' rules
      // (the operator form, which IDX_grants_decision_groups serves; jsonb_exists_any would read every row).
      q.where.push(
        reader.groups.length
          ? `(requested_by = ${q.param(reader.subject)} OR (decision->'groups') ?| ${q.param(reader.groups)}::text[])`
          : `requested_by = ${q.param(reader.subject)}`,
      );
    }
    const approver = filter.awaitingDecisionBy;
    if (approver) {
      q.where.push(
        `state = 'pending_approval'`,
        `decision->>'mode' = 'approvals'`,
        `(approval_deadline IS NULL OR approval_deadline > ${q.param(this.clock.now())})`,
        `requested_by <> ${q.param(approver.subject)}`,
        `jsonb_exists_any(decision->'groups', ${q.param(approver.groups)}::text[])`,
        `NOT approvals @> ${q.param(JSON.stringify([{ approver: approver.subject }]))}::jsonb`,
      );
    }
    if (cursor) {
      const c = decodeCursor(cursor, isGrantCursor);
      q.where.push(`(created_at, id) < (${q.param(new Date(c.t))}, ${q.param(c.i)})`);
    }
    const rows: GrantRow[] = await this.db.query(
      `SELECT * FROM grants ${q.clause()} ORDER BY created_at DESC, id DESC LIMIT ${q.param(limit + 1)}`,
      q.params,
    );
    const items = rows.slice(0, limit).map(toGrant);
    const last = items[items.length - 1];
    return {
      items,
      nextCursor: rows.length > limit && last ? grantCursor(last) : null,
    };
  }

  async liveWithOverlapKey(overlapKey: string, exceptId: string): Promise<Grant[]> {
    const rows: GrantRow[] = await this.db.query(
      `SELECT * FROM grants WHERE overlap_key = $1 AND id <> $2 AND state = ANY($3) ORDER BY expires_at`,
      [overlapKey, exceptId, LIVE_STATES],
    );
    return rows.map(toGrant);
  }

  async claimDue(owner: string, leaseMs: number, limit: number): Promise<Grant[]> {
    const now = this.clock.now();
    const leaseUntil = new Date(now.getTime() + leaseMs);
    const claimed: Grant[] = [];
    // One statement per kind of work, each on its own partial index, most urgent first.
    const kinds = [
      `state = 'active' AND expires_at <= $1 ORDER BY expires_at`,
      `state IN ('revoking','revoke_failed') AND next_attempt_at <= $1 ORDER BY next_attempt_at`,
      `state = 'provisioning' ORDER BY lease_until NULLS FIRST`,
      `state = 'pending_approval' AND approval_deadline <= $1 ORDER BY approval_deadline`,
    ];
    for (const condition of kinds) {
      const room = limit - claimed.length;
      if (room <= 0) break;
      const [rows]: [GrantRow[], number] = await this.db.query(
        `UPDATE grants SET lease_owner = $2, lease_until = $3
         WHERE id IN (
           SELECT id FROM grants
           WHERE (lease_until IS NULL OR lease_until <= $1) AND ${condition}
           LIMIT $4 FOR UPDATE SKIP LOCKED)
         RETURNING *`,
        [now, owner, leaseUntil, room],
      );
      claimed.push(...rows.map(toGrant));
    }
    return claimed;
  }

  async releaseOwnLeases(): Promise<number> {
    const [, count]: [unknown[], number] = await this.db.query(
      `UPDATE grants SET lease_owner = NULL, lease_until = NULL WHERE lease_owner = $1 RETURNING id`,
      [this.owner],
    );
    await this.db.query(`UPDATE broker_jobs SET lease_owner = NULL, lease_until = NULL WHERE lease_owner = $1`, [this.owner]);
    return count;
  }

  async maxAuditSeq(): Promise<number> {
    const [row] = await this.db.query(`SELECT coalesce(max(seq), 0) AS seq FROM audit_events`);
    return Number(row.seq);
  }

  async nextDueAt(after: Date, horizonMs: number): Promise<Date | null> {
    const now = after;
    // One branch per kind of work claimDue takes, each on its partial index, plus the leases
    // that hold a row back (a claim in flight, a provisioning retry, a dead replica's claim).
    const rows: { at: Date }[] = await this.db.query(
      `SELECT min(at) AS at FROM (
         SELECT min(expires_at) AS at FROM grants WHERE state = 'active' AND expires_at > $1 AND expires_at <= $2
         UNION ALL
         SELECT min(next_attempt_at) FROM grants WHERE state IN ('revoking','revoke_failed') AND next_attempt_at > $1 AND next_attempt_at <= $2
         UNION ALL
         SELECT min(approval_deadline) FROM grants WHERE state = 'pending_approval' AND approval_deadline > $1 AND approval_deadline <= $2
         UNION ALL
         SELECT min(lease_until) FROM grants WHERE lease_until IS NOT NULL AND lease_until > $1 AND lease_until <= $2
       ) due`,
      [now, new Date(now.getTime() + horizonMs)],
    );
    return rows[0]?.at ?? null;
  }

  async countByState(): Promise<Record<string, number>> {
    const rows: { state: string; n: string }[] = await this.db.query(`SELECT state, count(*) AS n FROM grants GROUP BY state`);
    return Object.fromEntries(rows.map((r) => [r.state, Number(r.n)]));
  }

  async listAudit(filter: AuditFilter, limit: number, cursor: string | null): Promise<Page<AuditEvent>> {
    const after = cursor ? decodeCursor(cursor, isAuditCursor).s : 0;
    const events = await this.queryAudit(filter, after, limit + 1);
    const items = events.slice(0, limit);
    return {
      items,
      nextCursor: events.length > limit ? encodeCursor({ s: items[items.length - 1].seq }) : null,
    };
  }

  async *streamAudit(filter: AuditFilter, pageSize: number): AsyncIterable<AuditEvent[]> {
    let after = 0;
    for (;;) {
      const page = await this.queryAudit(filter, after, pageSize);
      if (page.length === 0) return;
      yield page;
      after = page[page.length - 1].seq;
      if (page.length < pageSize) return;
    }
  }

  async auditHead(): Promise<{ seq: number; hash: string }> {
    const [row] = await this.db.query(`SELECT seq, hash FROM audit_chain_head WHERE id = 1`);
    return { seq: Number(row.seq), hash: row.hash };
  }

  async claimJob(name: string, leaseMs: number): Promise<boolean> {
    const now = this.clock.now();
    const [rows]: [unknown[], number] = await this.db.query(
      `UPDATE broker_jobs SET lease_owner = $2, lease_until = $3, last_run_at = $4
       WHERE name = $1 AND (lease_until IS NULL OR lease_until <= $4) RETURNING name`,
      [name, this.owner, new Date(now.getTime() + leaseMs), now],
    );
    return rows.length === 1;
  }

  async appendAudit(events: AuditEventInput[]): Promise<void> {
    await this.chainedTransaction((_m, append) => append(events));
  }

  /**
   * A transaction whose audit events are chained last, under the head row lock, which is held
   * until COMMIT. Within this replica, transactions take their turn at the head in memory first:
   * sessions queued on the row lock (tuple and transactionid waits, each wake-up a context switch)
   * made one append cost ~3x a commit round trip, and every grant state change waits for the head.
   * The row lock still orders appends across replicas.
   */
  private async chainedTransaction<T>(work: (m: EntityManager, append: (events: AuditEventInput[]) => Promise<void>) => Promise<T>): Promise<T> {
    let release: (() => void) | undefined;
    try {
      return await this.db.transaction((m) =>
        work(m, async (events) => {
          if (events.length === 0 || release) return this.appendIn(m, events);
          const previous = this.headTurn;
          this.headTurn = new Promise<void>((r) => (release = r));
          await previous;
          await this.appendIn(m, events);
        }),
      );
    } finally {
      release?.();
    }
  }

  private async queryAudit(filter: AuditFilter, afterSeq: number, limit: number): Promise<AuditEvent[]> {
    const q = new SqlConditions()
      .add('seq > ?', afterSeq)
      .addIf('grant_id = ?', filter.grantId)
      .addIf('cloud = ?', filter.cloud)
      .addIf('principal = ?', filter.principal)
      .addIf('actor = ?', filter.actor)
      .addIf('type = ?', filter.type)
      .addIf('occurred_at >= ?', filter.from)
      .addIf('occurred_at < ?', filter.to);
    const rows: AuditRow[] = await this.db.query(
      `SELECT * FROM audit_events ${q.clause()} ORDER BY seq LIMIT ${q.param(limit)}`,
      q.params,
    );
    return rows.map(toAuditEvent);
  }

  /** Chains events onto the head under its row lock, in the caller's transaction. */
  private async appendIn(m: EntityManager, inputs: AuditEventInput[]): Promise<void> {
    if (inputs.length === 0) return;
    const [head] = await m.query(`SELECT seq, hash FROM audit_chain_head WHERE id = 1 FOR UPDATE`);
    let seq = Number(head.seq);
    let prevHash: string = head.hash;
    const now = this.clock.now();
    const values: string[] = [];
    const params: unknown[] = [];
    // PostgreSQL stores a lone surrogate as U+FFFD (text) or refuses it (jsonb): hash exactly what is stored.
    for (const input of inputs.map(toWellFormedDeep)) {
      seq++;
      const event = { ...input, seq, id: randomUUID(), occurredAt: now, prevHash };
      const hash = hashEvent(event);
      const base = params.length;
      params.push(seq, event.id, now, input.type, input.grantId, input.cloud, input.principal, input.actor, JSON.stringify(input.data), prevHash, hash);
      values.push(`(${Array.from({ length: 11 }, (_, i) => `$${base + i + 1}`).join(',')})`);
      prevHash = hash;
    }
    await m.query(
      `INSERT INTO audit_events (seq, id, occurred_at, type, grant_id, cloud, principal, actor, data, prev_hash, hash) VALUES ${values.join(',')}`,
      params,
    );
    await m.query(`UPDATE audit_chain_head SET seq = $1, hash = $2 WHERE id = 1`, [seq, prevHash]);
  }
}
