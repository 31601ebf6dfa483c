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
