import { z } from 'zod';
import { AUDIT_EVENT_TYPES, AuditEvent, CLOUDS } from '@jit/domain';
import { instantOut, pageOf } from './wire.schemas';

const sha256Hex = z.string().regex(/^[0-9a-f]{64}$/);

/** The API's view of an audit event, with its place in the hash chain (also one line of the jsonl export). */
export const auditEventResponse = z
  .object({
    seq: z.number().int().min(1),
    id: z.uuid(),
    occurredAt: instantOut,
    type: z.enum(AUDIT_EVENT_TYPES),
    grantId: z.uuid().nullable(),
    cloud: z.enum(CLOUDS).nullable(),
    principal: z.string().nullable(),
    actor: z.string(),
    data: z.record(z.string(), z.unknown()),
    prevHash: sha256Hex.describe('hash of the event before (64 zeros before the first)'),
    hash: sha256Hex,
  })
  .meta({ id: 'AuditEvent', description: 'one event of the hash-chained audit log (docs/audit.md)' });

export type AuditEventResponse = z.infer<typeof auditEventResponse>;

export const auditPageResponse = pageOf(auditEventResponse, 'AuditPage', 'audit events in seq order');

export function toAuditResponse(e: AuditEvent): AuditEventResponse {
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
