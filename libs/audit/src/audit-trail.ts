import { AuditEventInput, AuditEventType, EndReason, Grant } from '@jit/domain';

function about(grant: Grant, type: AuditEventType, actor: string, data: Record<string, unknown> = {}): AuditEventInput {
  return { type, grantId: grant.id, cloud: grant.cloud, principal: grant.principal.id, actor, data };
}

/** One method per event type, so every event of a type carries the same fields. */
export const AuditTrail = {
  requested: (g: Grant, idempotencyKey: string | null) =>
    about(g, 'grant.requested', g.requestedBy, {
      kind: g.kind,
      principalType: g.principal.type,
      target: g.target,
      durationSeconds: g.durationSeconds,
      expiresAt: g.expiresAt.toISOString(),
      justification: g.justification,
      ticket: g.ticket,
      idempotencyKey,
    }),
  approved: (g: Grant, approver: string, rule: string, comment?: string) =>
    about(g, 'grant.approved', approver, { rule, comment: comment ?? null }),
  denied: (g: Grant, actor: string, reason: string) => about(g, 'grant.denied', actor, { reason }),
  provisioned: (g: Grant, providerRef: Record<string, unknown>, recovered: boolean) =>
    about(g, 'grant.provisioned', 'broker', { providerRef, artifactName: g.artifactName, recovered }),
  activated: (g: Grant, startsAt: Date) =>
    about(g, 'grant.activated', 'broker', { startsAt: startsAt.toISOString(), expiresAt: g.expiresAt.toISOString() }),
  revokeRequested: (g: Grant, actor: string, reason: string | null) => about(g, 'grant.revoke_requested', actor, { reason }),
  ended: (g: Grant, endReason: Extract<EndReason, 'expired' | 'revoked'>, data: Record<string, unknown>) =>
    about(g, endReason === 'expired' ? 'grant.expired' : 'grant.revoked', 'broker', data),
  forceClosed: (g: Grant, actor: string, reason: string | null) =>
    about(g, 'grant.revoked', actor, { forced: true, reason, lastError: g.lastError }),
  failed: (g: Grant, error: string) => about(g, 'grant.failed', 'broker', { error }),
  revokeRetried: (g: Grant, attempt: number, error: string, nextAttemptAt: Date) =>
    about(g, 'grant.revoke_retried', 'broker', { attempt, error, nextAttemptAt: nextAttemptAt.toISOString() }),
  revokeFailed: (g: Grant, attempt: number, error: string, nextAttemptAt: Date) =>
    about(g, 'grant.revoke_failed', 'broker', { attempt, error, nextAttemptAt: nextAttemptAt.toISOString(), severity: 'high' }),
};
