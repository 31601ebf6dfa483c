import { AuditEvent, AuditEventType } from '@jit/domain';

export const NOTIFICATION_TYPES = ['approval.needed', 'approval.decided', 'grant.granted', 'grant.revoke_failed', 'break_glass.used', 'review.reminder', 'review.escalated'] as const;
export type NotificationType = (typeof NOTIFICATION_TYPES)[number];

export type NotificationSeverity = 'info' | 'high';

/** An audit event a human should hear about, and how urgently. */
export interface Notification {
  type: NotificationType;
  severity: NotificationSeverity;
  event: AuditEvent;
}

/** The audit event types each notification type is made from. */
export const NOTIFICATION_SOURCES: Record<NotificationType, readonly AuditEventType[]> = {
  'approval.needed': ['grant.requested'],
  'approval.decided': ['grant.approved', 'grant.denied'],
  'grant.granted': ['grant.activated'],
  'grant.revoke_failed': ['grant.revoke_failed'],
  'break_glass.used': ['policy.break_glass'],
  // Access reviews (docs/reviews.md): reviewers reminded before a campaign ends; an undecided item escalated at its end.
  'review.reminder': ['review.reminder_sent'],
  'review.escalated': ['review.item_escalated'],
};

/** Notification types whose events name groups, so a webhook can route them by `approverGroups`. */
export const GROUP_ROUTED_TYPES: readonly NotificationType[] = ['approval.needed', 'review.reminder', 'review.escalated'];

/** The audit event types worth reading for a webhook that wants `types`. */
export function auditTypesFor(types: readonly NotificationType[]): AuditEventType[] {
  return [...new Set(types.flatMap((t) => NOTIFICATION_SOURCES[t]))];
}
