import { createHash } from 'node:crypto';
import canonicalize from 'canonicalize';
import { AuditEvent } from '@jit/domain';

/**
 * SHA-256 over the previous hash and the RFC 8785 canonical JSON of every field, so any change
 * to a stored event, or to the order of events, changes every hash after it.
 */
export function hashEvent(e: Omit<AuditEvent, 'hash'>): string {
  const body = canonicalize({
    seq: e.seq,
    id: e.id,
    occurredAt: e.occurredAt.toISOString(),
    type: e.type,
    grantId: e.grantId,
    cloud: e.cloud,
    principal: e.principal,
    actor: e.actor,
    data: e.data,
  });
  return createHash('sha256').update(e.prevHash).update('\n').update(body!).digest('hex');
}
