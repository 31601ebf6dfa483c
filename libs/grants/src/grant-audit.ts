import { AuditTrail } from '@jit/audit';
import { AuditEventInput, Grant, GrantEvent } from '@jit/domain';

/**
 * The grant's events written down through the audit trail's one method per event type,
 * against `g`: the row as stored by the change (inside its transaction), or the new grant.
 */
export function auditRecords(events: readonly GrantEvent[], g: Grant): AuditEventInput[] {
  return events.map((e) => {
    switch (e.type) {
      case 'requested':
        return AuditTrail.requested(g, e.idempotencyKey, e.requester);
      case 'approved':
        return AuditTrail.approved(g, e.actor, e.comment, e.final);
      case 'denied':
        return AuditTrail.denied(g, e.actor, e.reason, e.comment);
      case 'break_glass':
        return AuditTrail.breakGlass(g);
      case 'provisioned':
        return AuditTrail.provisioned(g, e.providerRef, e.recovered);
      case 'activated':
        return AuditTrail.activated(g, e.startsAt);
      case 'revoke_requested':
        return AuditTrail.revokeRequested(g, e.actor, e.reason);
      case 'revoke_deferred':
        return AuditTrail.revokeDeferred(g, e.actor, e.reason);
      case 'revoke_carried_out':
        return AuditTrail.revokeCarriedOut(g, e.request);
      case 'ended':
        return AuditTrail.ended(g, e.endReason, { ...e.data });
      case 'force_closed':
        return AuditTrail.forceClosed(g, e.actor, e.reason);
      case 'failed':
        return AuditTrail.failed(g, e.error);
      case 'revoke_retried':
        return AuditTrail.revokeRetried(g, e.attempt, e.error, e.nextAttemptAt);
      case 'revoke_failed':
        return AuditTrail.revokeFailed(g, e.attempt, e.error, e.nextAttemptAt);
    }
  });
}
