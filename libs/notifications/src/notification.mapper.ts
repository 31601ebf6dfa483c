import { AuditEvent } from '@jit/domain';
import { Notification, NotificationSeverity, NotificationType } from './notification';

/** Longest error text quoted in a summary: provider errors can be whole response bodies. */
export const SUMMARY_ERROR_CHARS = 200;

/** The notification an audit event calls for, or null when no human needs to hear about it. */
export function toNotification(event: AuditEvent): Notification | null {
  const notify = (type: NotificationType, severity: NotificationSeverity = 'info'): Notification => ({ type, severity, event });
  const data = event.data;
  switch (event.type) {
    case 'grant.requested':
      return field(data.approval, 'mode') === 'approvals' ? notify('approval.needed') : null;
    case 'grant.approved':
      return data.mode === 'approvals' && data.final === true ? notify('approval.decided') : null;
    case 'grant.denied':
      return notify('approval.decided');
    case 'grant.activated':
      return notify('grant.granted');
    case 'grant.revoke_failed':
      return notify('grant.revoke_failed', 'high');
    case 'policy.break_glass':
      return notify('break_glass.used', 'high');
    case 'review.reminder_sent':
      return notify('review.reminder');
    case 'review.item_escalated':
      return notify('review.escalated', 'high');
    default:
      return null;
  }
}

export interface JsonNotificationPayload {
  /** The audit event's id: the same on every attempt, for receivers to deduplicate. */
  id: string;
  type: NotificationType;
  severity: NotificationSeverity;
  occurredAt: string;
  grantId: string | null;
  cloud: string | null;
  principal: string | null;
  actor: string;
  summary: string;
  event: { seq: number; type: string; data: Record<string, unknown> };
  links: { grant?: string; review?: string };
}

export function jsonPayload(n: Notification, publicUrl?: string): JsonNotificationPayload {
  const e = n.event;
  const link = grantLink(e, publicUrl);
  const review = reviewLink(e, publicUrl);
  return {
    id: e.id,
    type: n.type,
    severity: n.severity,
    occurredAt: e.occurredAt.toISOString(),
    grantId: e.grantId,
    cloud: e.cloud,
    principal: e.principal,
    actor: e.actor,
    summary: summarize(n),
    event: { seq: e.seq, type: e.type, data: e.data },
    links: { ...(link && { grant: link }), ...(review && { review }) },
  };
}

/** One sentence for a human, built from named fields of the event. */
export function summarize(n: Notification): string {
  const e = n.event;
  const d = e.data;
  const grant = e.grantId ? `grant ${e.grantId}` : 'a grant';
  const who = e.principal ?? 'an unknown principal';
  switch (n.type) {
    case 'approval.needed': {
      const deadline = field(d.approval, 'deadline');
      return (
        `${e.actor} requested ${text(d.kind) ?? e.cloud ?? 'cloud'} access for ${who} (${grant}); ` +
        `it needs ${neededApprovals(d.approval)} under rule ${text(field(d.approval, 'rule')) ?? 'unknown'}` +
        `${typeof deadline === 'string' ? ` before ${deadline}` : ''}.`
      );
    }
    case 'approval.decided':
      if (e.type === 'grant.approved') {
        return `${e.actor} approved ${grant} for ${who} (${num(d.received)} of ${num(d.required)} approvals, rule ${text(d.rule) ?? 'unknown'}).`;
      }
      switch (d.reason) {
        case 'denied':
          return `${e.actor} denied ${grant} for ${who}.`;
        case 'timeout':
          return `${capitalize(grant)} for ${who} was denied: no decision before the approval deadline.`;
        case 'withdrawn':
          return `${e.actor} withdrew ${grant} for ${who}.`;
        default:
          return `${capitalize(grant)} for ${who} was denied (${text(d.reason) ?? 'no reason given'}).`;
      }
    case 'grant.granted':
      return `${who} now has ${e.cloud ?? 'cloud'} access (${grant})${typeof d.expiresAt === 'string' ? ` until ${d.expiresAt}` : ''}.`;
    case 'grant.revoke_failed': {
      const error = text(d.error);
      return (
        `Revoking ${grant} for ${who} failed after ${num(d.attempt)} attempts` +
        `${error ? `: ${error.length > SUMMARY_ERROR_CHARS ? `${error.slice(0, SUMMARY_ERROR_CHARS)}…` : error}` : ''}; the access may still be in place.`
      );
    }
    case 'break_glass.used':
      return `${e.actor} used break-glass access for ${who} (${grant}${e.cloud ? `, ${e.cloud}` : ''}), bypassing approvals.`;
    case 'review.reminder':
      return `Access review ${text(d.definition) ?? 'campaign'} ends ${text(d.endsAt) ?? 'soon'}: ${num(d.pending)} items still need a decision from ${groupList(d.reviewerGroups)}.`;
    case 'review.escalated':
      return `Access review item for ${who} (${text(d.access) ?? 'access'} on ${text(d.scope) ?? 'unknown scope'}) had no decision by ${text(d.endsAt) ?? 'the end'}: escalated to ${groupList(d.escalatedTo)}.`;
  }
}

/**
 * A review event's address under `JIT_PUBLIC_URL`: the item (escalation) or the campaign
 * (reminder), built here from their UUIDs, never taken from the event as text.
 */
export function reviewLink(e: AuditEvent, publicUrl: string | undefined): string | undefined {
  if (!publicUrl || !e.type.startsWith('review.')) return undefined;
  const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
  const base = `${publicUrl.replace(/\/+$/, '')}/v1/reviews`;
  if (typeof e.data.itemId === 'string' && uuid.test(e.data.itemId)) return `${base}/items/${e.data.itemId}`;
  if (typeof e.data.campaignId === 'string' && uuid.test(e.data.campaignId)) return `${base}/campaigns/${e.data.campaignId}`;
  return undefined;
}

function groupList(groups: unknown): string {
  return Array.isArray(groups) && groups.length ? groups.map(String).join(', ') : 'the reviewers';
}

/** The grant's address under `JIT_PUBLIC_URL`, when both are known. */
export function grantLink(e: AuditEvent, publicUrl: string | undefined): string | undefined {
  if (!publicUrl || !e.grantId) return undefined;
  return `${publicUrl.replace(/\/+$/, '')}/v1/grants/${encodeURIComponent(e.grantId)}`;
}

function field(value: unknown, key: string): unknown {
  return typeof value === 'object' && value !== null ? (value as Record<string, unknown>)[key] : undefined;
}

const text = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);
const num = (v: unknown): string => (typeof v === 'number' ? String(v) : '?');
const capitalize = (s: string): string => s.charAt(0).toUpperCase() + s.slice(1);

/** "2 approvals from sre, security", or per step: "1 approval from sre and 1 from security (different people)". */
function neededApprovals(approval: unknown): string {
  const fromGroups = (groups: unknown) => (Array.isArray(groups) && groups.length ? ` from ${groups.map(String).join(' or ')}` : '');
  const steps = field(approval, 'steps');
  if (Array.isArray(steps) && steps.length > 1) {
    const parts = steps.map((s, i) => {
      const n = Number(field(s, 'required') ?? 1);
      return `${n}${i === 0 ? ` approval${n === 1 ? '' : 's'}` : ''}${fromGroups(field(s, 'groups'))}`;
    });
    return `${parts.join(' and ')} (different people)`;
  }
  const required = Number(field(approval, 'required') ?? 1);
  return `${required} approval${required === 1 ? '' : 's'}${fromGroups(field(approval, 'groups'))}`;
}
