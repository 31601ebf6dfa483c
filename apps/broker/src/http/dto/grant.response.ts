import { Grant, approvalSteps } from '@jit/domain';
import { stepResponse } from './approval-step.response';

/** The API's view of a grant (design.md section 3); credentials only on the creating response. */
export function toGrantResponse(g: Grant, credentials?: Record<string, string>) {
  return {
    id: g.id,
    state: g.state,
    cloud: g.cloud,
    principal: g.principal,
    target: g.target,
    requestedBy: g.requestedBy,
    justification: g.justification,
    ticket: g.ticket,
    duration: `PT${g.durationSeconds}S`,
    createdAt: g.createdAt.toISOString(),
    startsAt: g.startsAt?.toISOString() ?? null,
    // Until the final approval there is no window yet: the clock starts when the grant does.
    expiresAt: g.state === 'pending_approval' || (g.state === 'denied' && !g.startsAt) ? null : g.expiresAt.toISOString(),
    endedAt: g.endedAt?.toISOString() ?? null,
    endReason: g.endReason,
    approvals: g.approvals,
    decision: g.decision && {
      rule: g.decision.rule,
      mode: g.decision.mode,
      approvalsRequired: g.decision.required,
      approverGroups: g.decision.groups,
      ...(g.decision.mode === 'approvals' && { approvalSteps: approvalSteps(g.decision).map(stepResponse) }),
      policyVersion: g.decision.policyVersion,
    },
    ...(g.state === 'pending_approval' ? { approvalDeadline: g.approvalDeadline?.toISOString() ?? null } : {}),
    providerRef: g.providerRef,
    lastError: g.lastError,
    ...(g.state === 'revoking' || g.state === 'revoke_failed'
      ? { revokeAttempts: g.attempts, nextAttemptAt: g.nextAttemptAt?.toISOString() ?? null }
      : {}),
    // A revoke recorded while provisioning: carried out once provisioning settles.
    ...(g.revokeRequest ? { revokeRequestedAt: g.revokeRequest.at.toISOString() } : {}),
    ...(credentials ? { credentials } : {}),
  };
}
