import { z } from 'zod';
import { GRANT_STATES, Grant, approvalSteps } from '@jit/domain';
import { approvalStepResponse, stepResponse } from './approval-step.response';
import { instantOut, pageOf, principalResponse, targetResponse } from './wire.schemas';

const approvalResponse = z
  .object({
    approver: z.string(),
    decision: z.enum(['approved', 'denied']),
    comment: z.string().optional(),
    at: z.string().describe('RFC 3339'),
    groups: z.array(z.string()).optional().describe('the approver\'s groups that counted for this approval'),
  })
  .meta({ id: 'Approval' });

const decisionResponse = z
  .object({
    rule: z.string().describe('the rule (or deny-list entry, or break-glass) that decided'),
    mode: z.enum(['auto', 'approvals', 'break_glass']),
    approvalsRequired: z.number().int().min(0),
    approverGroups: z.array(z.string()),
    approvalSteps: z.array(approvalStepResponse).optional().describe('mode approvals: every step must be met'),
    policyVersion: z.string().describe('SHA-256 of the rules file that decided'),
  })
  .meta({ id: 'GrantDecision', description: 'how the access rules decided the request' });

/** The API's view of a grant (design.md section 3); `credentials` only on the creating response. */
export const grantResponse = z
  .object({
    id: z.uuid(),
    state: z.enum(GRANT_STATES),
    cloud: z.enum(['aws', 'azure', 'gcp']),
    principal: principalResponse,
    target: targetResponse,
    requestedBy: z.string(),
    justification: z.string().nullable(),
    ticket: z.string().nullable(),
    duration: z.string().describe('ISO-8601 duration in seconds, e.g. PT1200S'),
    createdAt: instantOut,
    startsAt: instantOut.nullable(),
    expiresAt: instantOut.nullable().describe('null until the final approval: the clock starts when the grant does'),
    endedAt: instantOut.nullable(),
    endReason: z.enum(['expired', 'revoked', 'denied', 'failed', 'timeout', 'withdrawn']).nullable(),
    approvals: z.array(approvalResponse),
    decision: decisionResponse.nullable(),
    approvalDeadline: instantOut.nullable().optional().describe('pending_approval only: denied (timeout) if not approved by then'),
    providerRef: z.record(z.string(), z.unknown()).nullable().describe('what the cloud calls the artifact'),
    lastError: z.string().nullable(),
    revokeAttempts: z.number().int().min(0).optional().describe('revoking and revoke_failed only'),
    nextAttemptAt: instantOut.nullable().optional().describe('revoking and revoke_failed only: the next revoke attempt'),
    revokeRequestedAt: instantOut.optional().describe('a revoke recorded while provisioning, carried out once provisioning settles'),
    credentials: z.record(z.string(), z.string()).optional().describe('kinds that vend credentials: on the creating response only, never again'),
  })
  .meta({ id: 'Grant', description: 'a grant and where it stands' });

export type GrantResponse = z.infer<typeof grantResponse>;

export const grantPageResponse = pageOf(grantResponse, 'GrantPage', 'grants, newest first');

export function toGrantResponse(g: Grant, credentials?: Record<string, string>): GrantResponse {
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
