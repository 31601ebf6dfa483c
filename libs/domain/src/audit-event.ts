import { CloudName } from './cloud';

export const AUDIT_EVENT_TYPES = [
  'grant.requested',
  'grant.approved',
  'grant.denied',
  'grant.provisioned',
  'grant.activated',
  'grant.revoke_requested',
  'grant.expired',
  'grant.revoked',
  'grant.failed',
  'grant.revoke_failed',
  'grant.revoke_retried',
  'policy.denied',
  'policy.break_glass',
  'policy.loaded',
  'reconcile.orphan_found',
  'reconcile.orphan_removed',
  // Discovery of standing access (docs/discovery.md): scans, and removals of a standing assignment,
  // which go through approvals like a grant and can be restored.
  'discovery.scan_completed',
  'discovery.removal_requested',
  'discovery.removal_approved',
  'discovery.removal_denied',
  'discovery.removal_applied',
  'discovery.removal_failed',
  'discovery.restored',
  // Access reviews (docs/reviews.md): campaigns, decisions, reminders, escalations, what was applied.
  'review.campaign_started',
  'review.item_decided',
  'review.reminder_sent',
  'review.item_escalated',
  'review.item_applied',
  'review.campaign_closed',
] as const;
export type AuditEventType = (typeof AUDIT_EVENT_TYPES)[number];

/** An event before it is chained: what the caller decides. */
export interface AuditEventInput {
  type: AuditEventType;
  grantId: string | null;
  cloud: CloudName | null;
  principal: string | null;
  actor: string;
  data: Record<string, unknown>;
}

/** An event as stored: numbered, timed and chained to its predecessor. */
export interface AuditEvent extends AuditEventInput {
  seq: number;
  id: string;
  occurredAt: Date;
  prevHash: string;
  hash: string;
}

/** The hash before the first event. */
export const GENESIS_HASH = '0'.repeat(64);

/**
 * A signed statement that the audit log's event `seq` has hash `hash`. The key lives outside the
 * database, so whoever can write the database cannot re-chain a rewritten tail past a checkpoint.
 */
export interface AuditCheckpoint {
  seq: number;
  hash: string;
  signedAt: Date;
  /** SHA-256 of the signing key's SubjectPublicKeyInfo (DER), hex. */
  keyId: string;
  /** Ed25519 signature (base64url) over the checkpoint's canonical statement. */
  signature: string;
}
