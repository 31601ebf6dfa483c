import { AuditEvent } from '@jit/domain';

/** The API's view of an audit event, with its place in the hash chain. */
export function toAuditResponse(e: AuditEvent) {
  return {
    seq: e.seq,
    id: e.id,
    occurredAt: e.occurredAt.toISOString(),
    type: e.type,
    grantId: e.grantId,
    cloud: e.cloud,
    principal: e.principal,
    actor: e.actor,
    data: e.data,
    prevHash: e.prevHash,
    hash: e.hash,
  };
}
