import { Grant, GrantPatch, GrantWrite, StagedAuditEvent, openApprovalGroups } from '@jit/domain';
import { grantColumns } from '../mappers/grant-row.mapper';

/** The columns the statement returns: those `toGrant` reads, named rather than `*` (see `GRANT_COLUMN_NAMES`). */
const RETURNED = grantColumns();

/**
 * The group commit's statement (`PostgresGrantWriteBatch`): any mix of grant inserts and guarded
 * transitions, with their staged events, as one data-modifying WITH whose text never changes. Every
 * write's values travel as arrays (`unnest`), so PostgreSQL parses and plans it once per connection
 * (a named statement) instead of once per batch: a batch of 32 writes written out as 32 CTEs took
 * about 8 ms to plan and as long again to run (docs/benchmarks.md, "One statement text").
 *
 * What each write does is what `insertGrantStatement` and `transitionStatement` do alone: an
 * insert stores its row (`updated_at` = `created_at`); a transition changes the row only while it is
 * in `from` and, unless made under another replica's lease, this replica may take the row (no
 * lease, a lapsed one, or its own), and only with `expect`'s approval count when given; a patch
 * sets exactly the columns it names; without `underLease` the lease is set from `leaseUntil` (none
 * releases it); leaving `pending_approval` clears the open approval groups. Each event is staged
 * only if its own write returned its row. The transitions' rows are locked first, in grant id
 * order (`locked`, whatever join the planner picks for the UPDATE), so two replicas' statements
 * take row locks in one order.
 */

export const WRITE_BATCH_SQL = `WITH
ins_in AS (
  SELECT * FROM unnest($1::int[], $2::uuid[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::jsonb[], $9::text[],
    $10::text[], $11::text[], $12::numeric[], $13::timestamptz[], $14::timestamptz[], $15::timestamptz[], $16::timestamptz[],
    $17::text[], $18::jsonb[], $19::text[], $20::text[], $21::jsonb[], $22::text[], $23::int[], $24::timestamptz[], $25::text[],
    $26::timestamptz[], $27::text[], $28::text[], $29::jsonb[], $30::timestamptz[], $31::jsonb[])
    AS i(w, id, state, cloud, kind, principal_type, principal_id, target, requested_by, justification, ticket, duration_seconds,
      created_at, starts_at, expires_at, ended_at, end_reason, approvals, artifact_name, overlap_key, provider_ref, last_error,
      attempts, next_attempt_at, lease_owner, lease_until, idempotency_key, request_hash, decision, approval_deadline,
      open_approval_groups)
),
ins AS (
  INSERT INTO grants (id, state, cloud, kind, principal_type, principal_id, target, requested_by, justification, ticket,
    duration_seconds, created_at, starts_at, expires_at, ended_at, end_reason, approvals, artifact_name, overlap_key,
    provider_ref, last_error, attempts, next_attempt_at, lease_owner, lease_until, idempotency_key, request_hash, updated_at,
    decision, approval_deadline, open_approval_groups)
  SELECT id, state, cloud, kind, principal_type, principal_id, target, requested_by, justification, ticket,
    duration_seconds, created_at, starts_at, expires_at, ended_at, end_reason, approvals, artifact_name, overlap_key,
    provider_ref, last_error, attempts, next_attempt_at, lease_owner, lease_until, idempotency_key, request_hash, created_at,
    decision, approval_deadline, open_approval_groups
  FROM ins_in ORDER BY id
  RETURNING ${RETURNED}
),
upd_in AS (
  SELECT * FROM unnest($32::int[], $33::uuid[], $34::text[], $35::text[], $36::boolean[], $37::int[], $38::int[],
    $39::timestamptz[], $40::timestamptz[], $41::timestamptz[], $42::timestamptz[], $43::text[], $44::jsonb[], $45::text[],
    $46::int[], $47::timestamptz[], $48::jsonb[], $49::timestamptz[], $50::text[], $51::text[], $52::timestamptz[], $53::boolean[])
    AS u(w, id, from_state, to_state, under_lease, expect, sets, starts_at, expires_at, approval_deadline, ended_at,
      end_reason, provider_ref, last_error, attempts, next_attempt_at, approvals, revoke_requested_at, revoke_requested_by,
      revoke_request_reason, lease_until, clear_open_groups)
),
locked AS (
  SELECT id FROM grants WHERE id IN (SELECT id FROM upd_in) ORDER BY id FOR UPDATE
),
upd AS (
  UPDATE grants g SET
    state = u.to_state,
    updated_at = $54::timestamptz,
    starts_at = CASE WHEN u.sets & 1 <> 0 THEN u.starts_at ELSE g.starts_at END,
    expires_at = CASE WHEN u.sets & 2 <> 0 THEN u.expires_at ELSE g.expires_at END,
    approval_deadline = CASE WHEN u.sets & 4 <> 0 THEN u.approval_deadline ELSE g.approval_deadline END,
    ended_at = CASE WHEN u.sets & 8 <> 0 THEN u.ended_at ELSE g.ended_at END,
    end_reason = CASE WHEN u.sets & 16 <> 0 THEN u.end_reason ELSE g.end_reason END,
    provider_ref = CASE WHEN u.sets & 32 <> 0 THEN u.provider_ref ELSE g.provider_ref END,
    last_error = CASE WHEN u.sets & 64 <> 0 THEN u.last_error ELSE g.last_error END,
    attempts = CASE WHEN u.sets & 128 <> 0 THEN u.attempts ELSE g.attempts END,
    next_attempt_at = CASE WHEN u.sets & 256 <> 0 THEN u.next_attempt_at ELSE g.next_attempt_at END,
    approvals = CASE WHEN u.sets & 512 <> 0 THEN u.approvals ELSE g.approvals END,
    revoke_requested_at = CASE WHEN u.sets & 1024 <> 0 THEN u.revoke_requested_at ELSE g.revoke_requested_at END,
    revoke_requested_by = CASE WHEN u.sets & 1024 <> 0 THEN u.revoke_requested_by ELSE g.revoke_requested_by END,
    revoke_request_reason = CASE WHEN u.sets & 1024 <> 0 THEN u.revoke_request_reason ELSE g.revoke_request_reason END,
    lease_until = CASE WHEN u.under_lease THEN g.lease_until ELSE u.lease_until END,
    lease_owner = CASE WHEN u.under_lease THEN g.lease_owner WHEN u.lease_until IS NULL THEN NULL ELSE $55::text END,
    open_approval_groups = CASE WHEN u.clear_open_groups THEN NULL ELSE g.open_approval_groups END
  FROM upd_in u JOIN locked l ON l.id = u.id
  WHERE g.id = u.id AND g.state = u.from_state
    AND (u.under_lease OR g.lease_until IS NULL OR g.lease_until <= $54::timestamptz OR g.lease_owner = $55::text)
    AND (u.expect IS NULL OR jsonb_array_length(g.approvals) = u.expect)
  RETURNING u.w AS w__, ${grantColumns('g')}
),
written AS (
  SELECT i.w AS w__, ${grantColumns('g')} FROM ins g JOIN ins_in i ON i.id = g.id
  UNION ALL
  SELECT * FROM upd
),
staged AS (
  INSERT INTO audit_staged (event_id, occurred_at, type, grant_id, cloud, principal, actor, data)
  SELECT e.id, e.at, e.type, e.grant_id, e.cloud, e.principal, e.actor, e.data
  FROM unnest($56::int[], $57::uuid[], $58::timestamptz[], $59::text[], $60::uuid[], $61::text[], $62::text[], $63::text[], $64::jsonb[])
    WITH ORDINALITY AS e(w, id, at, type, grant_id, cloud, principal, actor, data, n)
  WHERE e.w IN (SELECT w__ FROM written)
  ORDER BY e.n
)
SELECT * FROM written`;

/** Which columns a transition's patch sets: bit k of `sets` for the k-th entry. */
const PATCH_BITS = [
  'startsAt', 'expiresAt', 'approvalDeadline', 'endedAt', 'endReason', 'providerRef', 'lastError', 'attempts', 'nextAttemptAt', 'approvals', 'revokeRequest',
] as const satisfies readonly Exclude<keyof GrantPatch, 'leaseUntil'>[];
/** Fails to compile while a patch key (other than the lease, handled apart) has no bit: the batch would drop it. */
const everyPatchKeyHasABit: [Exclude<keyof GrantPatch, 'leaseUntil' | (typeof PATCH_BITS)[number]>] extends [never] ? true : never = true;
void everyPatchKeyHasABit;

const json = (v: unknown) => (v == null ? null : JSON.stringify(v));

/** The parameters of `WRITE_BATCH_SQL` for `writes` (with their events), made at `now` by the replica `owner`. */
export function writeBatchParams(
  writes: readonly { write: GrantWrite; events: readonly StagedAuditEvent[] }[],
  now: Date,
  owner: string,
): unknown[] {
  const ins: { w: number; g: Grant; key: string | null; hash: string | null; lease: Date | null }[] = [];
  const upd: { w: number; t: Extract<GrantWrite, { op: 'transition' }> }[] = [];
  const events: { w: number; e: StagedAuditEvent }[] = [];
  writes.forEach(({ write, events: evs }, w) => {
    if (write.op === 'insert') {
      ins.push({ w, g: write.grant, key: write.idempotency?.key ?? null, hash: write.idempotency?.requestHash ?? null, lease: write.leaseUntil });
    } else {
      upd.push({ w, t: write });
    }
    for (const e of evs) events.push({ w, e });
  });
  const col = <T, R>(rows: readonly T[], f: (r: T) => R) => rows.map(f);
  const patchOf = (t: Extract<GrantWrite, { op: 'transition' }>) => t.patch;
  return [
    // $1-$31: inserts
    col(ins, (r) => r.w), col(ins, (r) => r.g.id), col(ins, (r) => r.g.state), col(ins, (r) => r.g.cloud), col(ins, (r) => r.g.kind),
    col(ins, (r) => r.g.principal.type), col(ins, (r) => r.g.principal.id), col(ins, (r) => JSON.stringify(r.g.target)),
    col(ins, (r) => r.g.requestedBy), col(ins, (r) => r.g.justification), col(ins, (r) => r.g.ticket), col(ins, (r) => r.g.durationSeconds),
    col(ins, (r) => r.g.createdAt), col(ins, (r) => r.g.startsAt), col(ins, (r) => r.g.expiresAt), col(ins, (r) => r.g.endedAt),
    col(ins, (r) => r.g.endReason), col(ins, (r) => JSON.stringify(r.g.approvals)), col(ins, (r) => r.g.artifactName),
    col(ins, (r) => r.g.overlapKey), col(ins, (r) => json(r.g.providerRef)), col(ins, (r) => r.g.lastError), col(ins, (r) => r.g.attempts),
    col(ins, (r) => r.g.nextAttemptAt), col(ins, (r) => (r.lease ? owner : null)), col(ins, (r) => r.lease), col(ins, (r) => r.key),
    col(ins, (r) => r.hash), col(ins, (r) => json(r.g.decision)), col(ins, (r) => r.g.approvalDeadline),
    col(ins, (r) => (r.g.state === 'pending_approval' ? JSON.stringify(openApprovalGroups(r.g)) : null)),
    // $32-$53: transitions
    col(upd, (r) => r.w), col(upd, (r) => r.t.id), col(upd, (r) => r.t.from), col(upd, (r) => r.t.to),
    col(upd, (r) => r.t.options?.underLease === true), col(upd, (r) => r.t.expect?.approvalCount ?? null),
    col(upd, (r) => PATCH_BITS.reduce((bits, key, k) => (key in patchOf(r.t) ? bits | (1 << k) : bits), 0)),
    col(upd, (r) => r.t.patch.startsAt ?? null), col(upd, (r) => r.t.patch.expiresAt ?? null), col(upd, (r) => r.t.patch.approvalDeadline ?? null),
    col(upd, (r) => r.t.patch.endedAt ?? null), col(upd, (r) => r.t.patch.endReason ?? null), col(upd, (r) => json(r.t.patch.providerRef)),
    col(upd, (r) => r.t.patch.lastError ?? null), col(upd, (r) => r.t.patch.attempts ?? null), col(upd, (r) => r.t.patch.nextAttemptAt ?? null),
    col(upd, (r) => json(r.t.patch.approvals)), col(upd, (r) => r.t.patch.revokeRequest?.at ?? null),
    col(upd, (r) => r.t.patch.revokeRequest?.by ?? null), col(upd, (r) => r.t.patch.revokeRequest?.reason ?? null),
    col(upd, (r) => r.t.patch.leaseUntil ?? null), col(upd, (r) => r.t.from === 'pending_approval' && r.t.to !== 'pending_approval'),
    // $54, $55: the change's time and this replica's lease owner id
    now, owner,
    // $56-$64: events, in the order the writes came
    events.map((x) => x.w), events.map((x) => x.e.id), events.map((x) => x.e.occurredAt), events.map((x) => x.e.type),
    events.map((x) => x.e.grantId), events.map((x) => x.e.cloud), events.map((x) => x.e.principal), events.map((x) => x.e.actor),
    events.map((x) => JSON.stringify(x.e.data)),
  ];
}
