import DataLoader from 'dataloader';
import { DataSource, EntityManager } from 'typeorm';
import {
  Clock,
  CloudName,
  DomainError,
  Grant,
  GrantFilter,
  GrantPatch,
  GrantRepository,
  GrantState,
  GrantWrite,
  GrantWrites,
  GRANT_STATES,
  GrantSubject,
  LIVE_STATES,
  Page,
  PrincipalType,
  TERMINAL_STATES,
  Target,
  openApprovalGroups,
} from '@jit/domain';
import { decodeCursor, encodeCursor } from '../cursor';
import { SqlConditions } from '../sql-conditions';
import { GrantRow, grantColumns, toGrant } from '../mappers/grant-row.mapper';
import { pgPool } from '../pg-pool';

const PATCH_COLUMNS: Record<Exclude<keyof GrantPatch, 'leaseUntil' | 'revokeRequest'>, string> = {
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

/** States that are not terminal, as the partial index of AddReconcileScopeIndexes lists them. */
const OPEN_STATES = GRANT_STATES.filter((s) => !TERMINAL_STATES.includes(s));
/** Known constants (grant states), inlined so the planner can match the partial indexes. */
const sqlList = (values: readonly string[]) => values.map((v) => `'${v}'`).join(',');

type GrantCursor = { t: string; i: string };

const grantCursor = (g: Grant): string => encodeCursor({ t: g.createdAt.toISOString(), i: g.id });

const isGrantCursor = (v: unknown): v is GrantCursor =>
  typeof v === 'object' && v !== null && typeof (v as GrantCursor).t === 'string' && typeof (v as GrantCursor).i === 'string' &&
  !Number.isNaN(Date.parse((v as GrantCursor).t)) && /^[0-9a-f-]{36}$/.test((v as GrantCursor).i);

/** Grant rows on PostgreSQL (or the embedded PGlite): the reads. Writes are `PostgresGrantWrites`, in a unit of work. */
export class PostgresGrantRepository extends GrantRepository {
  /**
   * Overlap reads asked for in the same tick, as the sweeper asks for every grant of a claim,
   * answered by one query (DataLoader, no cache: each read sees the rows as they are when it runs).
   */
  private readonly overlapReads = new DataLoader<string, Grant[]>((keys) => this.liveWithOverlapKeys(keys), { cache: false, maxBatchSize: 500 });

  constructor(
    private readonly db: DataSource,
    private readonly clock: Clock,
  ) {
    super();
  }

  async findById(id: string): Promise<Grant | null> {
    const rows: GrantRow[] = await this.db.query(`SELECT * FROM grants WHERE id = $1`, [id]);
    return rows[0] ? toGrant(rows[0]) : null;
  }

  async findByIds(ids: readonly string[]): Promise<Grant[]> {
    if (!ids.length) return [];
    const rows: GrantRow[] = await this.db.query(`SELECT * FROM grants WHERE id = ANY($1::uuid[])`, [[...new Set(ids)]]);
    return rows.map(toGrant);
  }

  async findByIdempotencyKey(requester: string, key: string): Promise<{ grant: Grant; requestHash: string } | null> {
    const rows: (GrantRow & { request_hash: string })[] = await this.db.query(
      `SELECT * FROM grants WHERE requested_by = $1 AND idempotency_key = $2`,
      [requester, key],
    );
    return rows[0] ? { grant: toGrant(rows[0]), requestHash: rows[0].request_hash } : null;
  }

  async list(filter: GrantFilter, limit: number, cursor: string | null): Promise<Page<Grant>> {
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
        `(approval_deadline IS NULL OR approval_deadline > ${q.param(this.clock.now())})`,
        `requested_by <> ${q.param(approver.subject)}`,
        // A step one of the approver's groups could still fill (IDX_grants_open_approval_groups).
        `open_approval_groups ?| ${q.param(approver.groups)}::text[]`,
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
    return (await this.overlapReads.load(overlapKey)).filter((g) => g.id !== exceptId);
  }

  /** The live grants of each of `keys`, in one query (the reads liveWithOverlapKey coalesces). */
  private async liveWithOverlapKeys(keys: readonly string[]): Promise<Grant[][]> {
    // Read before every grant and revoke call: a named statement, parsed and planned once per
    // connection instead of every time, straight on the pool; the live states are inlined so
    // even a generic plan matches the partial index IDX_grants_overlap_live. (On the embedded
    // database, whose connections share one session, each new connection first drops the
    // statements a gone one prepared: openDatabase's forgetGoneConnections.) Its columns are
    // named, not `*`, so a column a newer replica's migration adds does not break it.
    const { rows } = await pgPool(this.db).query<GrantRow>({
      name: 'grants_live_with_overlap_keys',
      text: `SELECT ${grantColumns()} FROM grants WHERE overlap_key = ANY($1::text[]) AND state IN (${sqlList(LIVE_STATES)}) ORDER BY expires_at`,
      values: [[...new Set(keys)]],
    });
    const byKey = new Map<string, Grant[]>();
    for (const row of rows) {
      const g = toGrant(row);
      const list = byKey.get(g.overlapKey);
      if (list) list.push(g);
      else byKey.set(g.overlapKey, [g]);
    }
    return keys.map((k) => byKey.get(k) ?? []);
  }

  async subjectsOf(cloud: CloudName, since: Date): Promise<GrantSubject[]> {
    // Two branches, each served by its partial index (AddReconcileScopeIndexes), folded into one
    // row per subject with whether any of its grants is live, the latest expiry among them, and
    // the latest end (a grant ended early, revoked, failed or denied, ended at ended_at), and the
    // providerRefs its grants were provisioned with (none for a grant never provisioned).
    const rows: {
      principal_type: string; principal_id: string; target: Target; live: boolean; last_expires_at: Date; last_ended_at: Date; provider_refs: Record<string, unknown>[] | null;
    }[] = await this.db.query(
      `SELECT principal_type, principal_id, target, bool_or(live) AS live, max(expires_at) AS last_expires_at, max(ends_at) AS last_ended_at,
              jsonb_agg(provider_ref) FILTER (WHERE provider_ref IS NOT NULL) AS provider_refs FROM (
         SELECT principal_type, principal_id, target, state IN (${sqlList(LIVE_STATES)}) AS live, expires_at, expires_at AS ends_at, provider_ref FROM grants
          WHERE cloud = $1 AND state IN (${sqlList(OPEN_STATES)})
         UNION ALL
         SELECT principal_type, principal_id, target, false, expires_at, LEAST(ended_at, expires_at), provider_ref FROM grants
          WHERE cloud = $1 AND state IN (${sqlList(TERMINAL_STATES)}) AND GREATEST(ended_at, expires_at) >= $2
       ) s GROUP BY principal_type, principal_id, target`,
      [cloud, since],
    );
    return rows.map((r) => ({
      principal: { type: r.principal_type as PrincipalType, id: r.principal_id },
      target: r.target,
      live: r.live,
      lastExpiresAt: new Date(r.last_expires_at),
      lastEndedAt: new Date(r.last_ended_at),
      providerRefs: r.provider_refs ?? [],
    }));
  }

  async countByState(): Promise<Record<string, number>> {
    // The open grants only, an index-only scan of IDX_grants_open_state: ended grants pile up forever.
    const rows: { state: string; n: string }[] = await this.db.query(
      `SELECT state, count(*) AS n FROM grants WHERE state IN ('pending_approval','provisioning','active','revoking','revoke_failed') GROUP BY state`,
    );
    return Object.fromEntries(rows.map((r) => [r.state, Number(r.n)]));
  }
}

/** A statement and its parameters. */
export interface Statement {
  sql: string;
  params: unknown[];
}

/** The INSERT of a new grant (RETURNING the row), with its lease taken by `owner` when `leaseUntil` is set. */
export function insertGrantStatement(
  grant: Grant,
  idempotency: { key: string; requestHash: string } | null,
  leaseUntil: Date | null,
  owner: string,
): Statement {
  return {
    sql: `INSERT INTO grants (id, state, cloud, kind, principal_type, principal_id, target, requested_by, justification, ticket,
           duration_seconds, created_at, starts_at, expires_at, ended_at, end_reason, approvals, artifact_name, overlap_key,
           provider_ref, last_error, attempts, next_attempt_at, lease_owner, lease_until, idempotency_key, request_hash, updated_at,
           decision, approval_deadline, open_approval_groups)
         VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15,$16,$17,$18,$19,$20,$21,$22,$23,$24,$25,$26,$27,$12,$28,$29,$30)
         RETURNING *`,
    params: [
      grant.id, grant.state, grant.cloud, grant.kind, grant.principal.type, grant.principal.id, JSON.stringify(grant.target),
      grant.requestedBy, grant.justification, grant.ticket, grant.durationSeconds, grant.createdAt, grant.startsAt,
      grant.expiresAt, grant.endedAt, grant.endReason, JSON.stringify(grant.approvals), grant.artifactName, grant.overlapKey,
      grant.providerRef && JSON.stringify(grant.providerRef), grant.lastError, grant.attempts, grant.nextAttemptAt,
      leaseUntil ? owner : null, leaseUntil, idempotency?.key ?? null, idempotency?.requestHash ?? null,
      grant.decision && JSON.stringify(grant.decision), grant.approvalDeadline,
      grant.state === 'pending_approval' ? JSON.stringify(openApprovalGroups(grant)) : null,
    ],
  };
}

/** A second grant with the requester's Idempotency-Key (unique violation) as the domain's conflict; anything else as it is. */
export function idempotencyConflict(e: unknown, idempotency: { key: string } | null): unknown {
  if ((e as { code?: string }).code === '23505' && idempotency) {
    return new DomainError('idempotency_conflict', 'a request with this Idempotency-Key is already being processed', [
      { field: 'Idempotency-Key', message: 'is in use' },
    ]);
  }
  return e;
}

/**
 * The guarded UPDATE of a transition (RETURNING the row; none when the guard fails): see
 * `GrantWrites.transition`. `now` is the change's time, `owner` this replica's lease owner id.
 */
export function transitionStatement(
  w: Extract<GrantWrite, { op: 'transition' }>,
  now: Date,
  owner: string,
): Statement {
  const { id, from, to, patch, expect } = w;
  // A change made under another replica's lease leaves the lease to its holder: no owner ($5) in it.
  const underLease = w.options?.underLease === true;
  const sets = ['state = $3', 'updated_at = $4'];
  const params: unknown[] = underLease ? [id, from, to, now] : [id, from, to, now, owner];
  for (const [key, column] of Object.entries(PATCH_COLUMNS)) {
    if (!(key in patch)) continue;
    const value = patch[key as keyof typeof PATCH_COLUMNS];
    params.push(JSON_COLUMNS.has(column) && value != null ? JSON.stringify(value) : value);
    sets.push(`${column} = $${params.length}`);
  }
  if ('revokeRequest' in patch) {
    const r = patch.revokeRequest ?? null;
    params.push(r?.at ?? null, r?.by ?? null, r?.reason ?? null);
    const n = params.length;
    sets.push(`revoke_requested_at = $${n - 2}`, `revoke_requested_by = $${n - 1}`, `revoke_request_reason = $${n}`);
  }
  if (!underLease) {
    params.push(patch.leaseUntil ?? null);
    sets.push(`lease_until = $${params.length}`, `lease_owner = CASE WHEN $${params.length}::timestamptz IS NULL THEN NULL ELSE $5 END`);
  }
  const leaseGuard = underLease ? '' : ' AND (lease_until IS NULL OR lease_until <= $4 OR lease_owner = $5)';
  // Only pending requests are listed by the groups that could approve them.
  if (from === 'pending_approval' && to !== 'pending_approval') sets.push('open_approval_groups = NULL');
  let approvalGuard = '';
  if (expect) {
    params.push(expect.approvalCount);
    approvalGuard = ` AND jsonb_array_length(approvals) = $${params.length}`;
  }
  return {
    sql: `UPDATE grants SET ${sets.join(', ')}
       WHERE id = $1 AND state = $2${leaseGuard}${approvalGuard}
       RETURNING *`,
    params,
  };
}

/** Whether a transition must also recompute the open approval steps from the stored row (a second statement). */
export const reopensApprovals = (w: Extract<GrantWrite, { op: 'transition' }>) => w.to === 'pending_approval' && 'approvals' in w.patch;

/** Grant writes in one transaction (`m`), for `PostgresUnitOfWork`. */
export class PostgresGrantWrites implements GrantWrites {
  constructor(
    private readonly m: EntityManager,
    private readonly clock: Clock,
    /** This replica's lease owner id. */
    private readonly owner: string,
  ) {}

  async insert(grant: Grant, idempotency: { key: string; requestHash: string } | null, leaseUntil: Date | null): Promise<Grant> {
    const { sql, params } = insertGrantStatement(grant, idempotency, leaseUntil, this.owner);
    try {
      const [row] = await this.m.query(sql, params);
      return toGrant(row);
    } catch (e) {
      throw idempotencyConflict(e, idempotency);
    }
  }

  async transition(
    id: string,
    from: GrantState,
    to: GrantState,
    patch: GrantPatch,
    expect?: { approvalCount: number },
    options?: { underLease?: boolean },
  ): Promise<Grant | null> {
    const write = { op: 'transition' as const, id, from, to, patch, expect, options };
    const { sql, params } = transitionStatement(write, this.clock.now(), this.owner);
    const [rows]: [GrantRow[], number] = await this.m.query(sql, params);
    if (rows.length === 0) return null;
    const grant = toGrant(rows[0]);
    if (reopensApprovals(write)) {
      // The steps an approval leaves open follow from the rule's decision, which is on the row.
      await this.m.query(`UPDATE grants SET open_approval_groups = $2 WHERE id = $1`, [id, JSON.stringify(openApprovalGroups(grant))]);
    }
    return grant;
  }
}
