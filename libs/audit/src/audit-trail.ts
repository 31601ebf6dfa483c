import { AuditEventInput, AuditEventType, EndReason, FieldIssue, Grant, GrantRequest, RequesterClaims, RevokeRequest } from '@jit/domain';

function about(grant: Grant, type: AuditEventType, actor: string, data: Record<string, unknown> = {}): AuditEventInput {
  return { type, grantId: grant.id, cloud: grant.cloud, principal: grant.principal.id, actor, data };
}

/** One method per event type, so every event of a type carries the same fields. */
export const AuditTrail = {
  /** `requester`: a pipeline's OIDC issuer and run claims (repository, ref, run id...), so the log says which run asked. */
  requested: (g: Grant, idempotencyKey: string | null, requester?: RequesterClaims) =>
    about(g, 'grant.requested', g.requestedBy, {
      kind: g.kind,
      principalType: g.principal.type,
      target: g.target,
      durationSeconds: g.durationSeconds,
      // A pending request has no window yet: it starts at the final approval.
      expiresAt: g.state === 'pending_approval' ? null : g.expiresAt.toISOString(),
      justification: g.justification,
      ticket: g.ticket,
      idempotencyKey,
      state: g.state,
      approval: g.decision && {
        mode: g.decision.mode,
        rule: g.decision.rule,
        required: g.decision.required,
        groups: g.decision.groups,
        ...(g.decision.steps && { steps: g.decision.steps }),
        deadline: g.approvalDeadline?.toISOString() ?? null,
        policyVersion: g.decision.policyVersion,
      },
      ...(requester && { requester }),
    }),
  /** One approval: by the rules (`policy`), a break-glass account, or a human approver; `final` when it made the grant go ahead. */
  approved: (g: Grant, actor: string, comment: string | null, final: boolean) =>
    about(g, 'grant.approved', actor, {
      rule: g.decision?.rule ?? null,
      mode: g.decision?.mode ?? null,
      by: actor,
      comment,
      received: g.approvals.filter((a) => a.decision === 'approved' && g.decision?.mode === 'approvals').length,
      required: g.decision?.required ?? 0,
      final,
      ...(final ? { expiresAt: g.expiresAt.toISOString() } : {}),
    }),
  denied: (g: Grant, actor: string, reason: 'denied' | 'timeout' | 'withdrawn', comment: string | null) =>
    about(g, 'grant.denied', actor, { reason, comment }),
  /** A break-glass account bypassed approval: recorded at high severity and sent to every webhook that takes break_glass.used. */
  breakGlass: (g: Grant) =>
    about(g, 'policy.break_glass', g.requestedBy, {
      severity: 'high',
      kind: g.kind,
      target: g.target,
      durationSeconds: g.durationSeconds,
      justification: g.justification,
      ticket: g.ticket,
    }),
  policyDenied: (
    actor: string,
    request: GrantRequest,
    decision: { rule: string | null; code: string; reason: string; violations: FieldIssue[]; policyVersion: string },
    requester: { issuer?: string },
  ): AuditEventInput => ({
    type: 'policy.denied',
    grantId: null,
    cloud: request.cloud,
    principal: request.principal.id,
    actor,
    data: {
      rule: decision.rule,
      code: decision.code,
      reason: decision.reason,
      violations: decision.violations,
      policyVersion: decision.policyVersion,
      issuer: requester.issuer ?? null,
      kind: request.target.kind,
      principalType: request.principal.type,
      target: request.target,
      durationSeconds: request.durationSeconds,
      justification: request.justification,
      ticket: request.ticket,
    },
  }),
  policyLoaded: (data: {
    version: string;
    previousVersion: string | null;
    source: string;
    rules: number;
    trigger: string;
    replica: string;
    text: string | null;
  }): AuditEventInput => ({
    type: 'policy.loaded',
    grantId: null,
    cloud: null,
    principal: null,
    actor: 'broker',
    data,
  }),
  provisioned: (g: Grant, providerRef: Record<string, unknown>, recovered: boolean) =>
    about(g, 'grant.provisioned', 'broker', { providerRef, artifactName: g.artifactName, recovered }),
  activated: (g: Grant, startsAt: Date) =>
    about(g, 'grant.activated', 'broker', { startsAt: startsAt.toISOString(), expiresAt: g.expiresAt.toISOString() }),
  revokeRequested: (g: Grant, actor: string, reason: string | null) => about(g, 'grant.revoke_requested', actor, { reason }),
  /** A revoke asked for while provisioning: recorded, to be carried out once provisioning settles. */
  revokeDeferred: (g: Grant, actor: string, reason: string | null) =>
    about(g, 'grant.revoke_requested', actor, { reason, deferred: true, state: 'provisioning' }),
  /** The broker carries out the revoke recorded while provisioning (`revokeDeferred`): who asked, when, why. */
  revokeCarriedOut: (g: Grant, request: RevokeRequest) =>
    about(g, 'grant.revoke_requested', 'broker', { reason: request.reason, requestedBy: request.by, requestedAt: request.at.toISOString() }),
  ended: (g: Grant, endReason: Extract<EndReason, 'expired' | 'revoked'>, data: Record<string, unknown>) =>
    about(g, endReason === 'expired' ? 'grant.expired' : 'grant.revoked', 'broker', data),
  forceClosed: (g: Grant, actor: string, reason: string | null) =>
    about(g, 'grant.revoked', actor, { forced: true, reason, lastError: g.lastError }),
  /** A revoke recorded while provisioning is noted: the grant ended failed before it could be carried out. */
  failed: (g: Grant, error: string) =>
    about(g, 'grant.failed', 'broker', {
      error,
      ...(g.revokeRequest && { revokeRequestedBy: g.revokeRequest.by, revokeRequestedAt: g.revokeRequest.at.toISOString() }),
    }),
  revokeRetried: (g: Grant, attempt: number, error: string, nextAttemptAt: Date) =>
    about(g, 'grant.revoke_retried', 'broker', { attempt, error, nextAttemptAt: nextAttemptAt.toISOString() }),
  revokeFailed: (g: Grant, attempt: number, error: string, nextAttemptAt: Date) =>
    about(g, 'grant.revoke_failed', 'broker', { attempt, error, nextAttemptAt: nextAttemptAt.toISOString(), severity: 'high' }),
};
