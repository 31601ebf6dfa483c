import { AuditEvent, CloudName } from '@jit/domain';

/** An audit_events row as the driver returns it (seq is a bigint, hence a string). */
export interface AuditRow {
  seq: string;
  id: string;
  occurred_at: Date;
  type: string;
  grant_id: string | null;
  cloud: string | null;
  principal: string | null;
  actor: string;
  data: Record<string, unknown>;
  prev_hash: string;
  hash: string;
}

export function toAuditEvent(r: AuditRow): AuditEvent {
  return {
    seq: Number(r.seq),
    id: r.id,
    occurredAt: r.occurred_at,
    type: r.type as AuditEvent['type'],
    grantId: r.grant_id,
    cloud: r.cloud as CloudName | null,
    principal: r.principal,
    actor: r.actor,
    data: r.data,
    prevHash: r.prev_hash,
    hash: r.hash,
  };
}
