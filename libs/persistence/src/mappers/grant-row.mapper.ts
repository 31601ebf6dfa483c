import { CloudName, EndReason, Grant, GrantDecision, GrantState, PrincipalType, Target } from '@jit/domain';

export interface GrantRow {
  id: string;
  state: string;
  cloud: string;
  kind: string;
  principal_type: string;
  principal_id: string;
  target: Target;
  requested_by: string;
  justification: string | null;
  ticket: string | null;
  duration_seconds: string | number;
  created_at: Date;
  starts_at: Date | null;
  expires_at: Date;
  ended_at: Date | null;
  end_reason: string | null;
  approvals: Grant['approvals'];
  artifact_name: string;
  overlap_key: string;
  provider_ref: Record<string, unknown> | null;
  last_error: string | null;
  attempts: number;
  next_attempt_at: Date | null;
  decision: GrantDecision | null;
  approval_deadline: Date | null;
  /** Absent on rows read before the revoke-request columns existed (migration 1764250000000). */
  revoke_requested_at?: Date | null;
  revoke_requested_by?: string | null;
  revoke_request_reason?: string | null;
}

/**
 * The columns `toGrant` reads, for statements that name them rather than `*`: a prepared (named)
 * statement whose result type changes, as when a newer replica's migration adds a column to
 * `grants` while this one runs, fails on every later run with "cached plan must not change result
 * type" (0A000). A column of `GrantRow` missing here fails to compile.
 */
export const GRANT_COLUMN_NAMES = [
  'id', 'state', 'cloud', 'kind', 'principal_type', 'principal_id', 'target', 'requested_by', 'justification', 'ticket',
  'duration_seconds', 'created_at', 'starts_at', 'expires_at', 'ended_at', 'end_reason', 'approvals', 'artifact_name', 'overlap_key',
  'provider_ref', 'last_error', 'attempts', 'next_attempt_at', 'decision', 'approval_deadline', 'revoke_requested_at',
  'revoke_requested_by', 'revoke_request_reason',
] as const satisfies readonly (keyof GrantRow)[];
type UnlistedColumn = Exclude<keyof GrantRow, (typeof GRANT_COLUMN_NAMES)[number]>;
const everyColumnListed: [UnlistedColumn] extends [never] ? true : UnlistedColumn = true;
void everyColumnListed;

/** `GRANT_COLUMN_NAMES` as a select list, each qualified by `alias` when given. */
export function grantColumns(alias?: string): string {
  return GRANT_COLUMN_NAMES.map((c) => (alias ? `${alias}.${c}` : c)).join(', ');
}

export function toGrant(r: GrantRow): Grant {
  return {
    id: r.id,
    state: r.state as GrantState,
    cloud: r.cloud as CloudName,
    kind: r.kind,
    principal: { type: r.principal_type as PrincipalType, id: r.principal_id },
    target: r.target,
    requestedBy: r.requested_by,
    justification: r.justification,
    ticket: r.ticket,
    durationSeconds: Number(r.duration_seconds),
    createdAt: r.created_at,
    startsAt: r.starts_at,
    expiresAt: r.expires_at,
    endedAt: r.ended_at,
    endReason: r.end_reason as EndReason | null,
    approvals: r.approvals,
    artifactName: r.artifact_name,
    overlapKey: r.overlap_key,
    providerRef: r.provider_ref,
    lastError: r.last_error,
    attempts: r.attempts,
    nextAttemptAt: r.next_attempt_at,
    decision: r.decision,
    approvalDeadline: r.approval_deadline,
    revokeRequest: r.revoke_requested_at
      ? { at: r.revoke_requested_at, by: r.revoke_requested_by ?? 'unknown', reason: r.revoke_request_reason ?? null }
      : null,
  };
}
