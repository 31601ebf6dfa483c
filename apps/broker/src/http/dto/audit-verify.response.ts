import { z } from 'zod';
import { checkpointToJson } from '@jit/audit';
import { AuditCheckpoint } from '@jit/domain';
import { VerifyResult } from '@jit/grants';
import { instantOut } from './wire.schemas';

const sha256Hex = z.string().regex(/^[0-9a-f]{64}$/);

const chainBreak = z
  .object({
    seq: z.number().int(),
    id: z.string().nullable(),
    kind: z.enum(['missing', 'out_of_order', 'link', 'altered', 'anchor', 'checkpoint', 'tail', 'inserted']),
    reason: z.string(),
    intactAfter: z.number().int().min(0).describe('events after this break that verify cleanly before the next break or the end'),
    continuesCleanly: z.boolean(),
  })
  .meta({ id: 'ChainBreak', description: 'one break in the audit chain' });

/** The result of GET /v1/audit/verify (docs/audit.md). */
export const auditVerifyResponse = z
  .object({
    ok: z.boolean(),
    checked: z.number().int().min(0).describe('events walked'),
    intact: z.number().int().min(0).describe('of those, events that verified cleanly'),
    anchors: z.number().int().min(0).describe('anchors given (all matched when ok)'),
    head: z.object({ seq: z.number().int().min(0), hash: sha256Hex }),
    walk: z.object({
      mode: z.enum(['incremental', 'full']),
      afterSeq: z.number().int().min(0),
      from: z.enum(['genesis', 'checkpoint', 'archive']),
      checkpoint: z.object({ seq: z.number().int(), hash: sha256Hex, signedAt: z.string() }).nullable(),
      archivedThrough: z.number().int().min(0),
      note: z.string(),
    }),
    checkpoints: z.object({
      signed: z.boolean(),
      total: z.number().int().min(0),
      valid: z.number().int().min(0),
      latestSeq: z.number().int().nullable(),
      uncovered: z.number().int().min(0),
      sources: z.array(z.object({ name: z.string(), checkpoints: z.number().int().min(0), unreadable: z.number().int().min(0) })),
    }),
    brokenCount: z.number().int().min(0),
    breaks: z.array(chainBreak).describe('the first maxBreaks breaks, in seq order'),
    truncated: z.boolean(),
    firstBroken: chainBreak.nullable(),
    staged: z
      .number()
      .int()
      .min(0)
      .describe('events committed but not yet chained when the walk ran (0 normally), so not covered by it; they are verified once chained'),
  })
  .meta({ id: 'AuditVerification', description: 'what a walk of the audit chain found' });

export function toVerifyResponse(r: VerifyResult): z.infer<typeof auditVerifyResponse> {
  return r;
}

const checkpoint = z
  .object({
    seq: z.number().int().min(1),
    hash: sha256Hex,
    signedAt: instantOut,
    keyId: sha256Hex.describe('SHA-256 of the signing key\'s SubjectPublicKeyInfo (DER)'),
    signature: z.string().describe('Ed25519 signature, base64url'),
  })
  .meta({ id: 'AuditCheckpoint', description: 'a signed statement that event seq has hash hash' });

export const checkpointPageResponse = z
  .object({
    signed: z.boolean().describe('false when the broker runs without a signing key'),
    publicKey: z.string().nullable().describe('SPKI PEM of the current signing key; null when unsigned'),
    keyIds: z.array(z.string()),
    items: z.array(checkpoint),
    nextAfter: z.number().int().nullable().describe('pass as after for the next page; null on the last'),
  })
  .meta({ id: 'AuditCheckpointPage', description: 'signed checkpoints in seq order, with the key that verifies them' });

export function toCheckpointPage(
  page: { items: AuditCheckpoint[]; publicKey: string | null; keyIds: string[]; signed: boolean },
  limit: number,
): z.infer<typeof checkpointPageResponse> {
  const items = page.items.slice(0, limit);
  return {
    signed: page.signed,
    publicKey: page.publicKey,
    keyIds: page.keyIds,
    items: items.map(checkpointToJson),
    nextAfter: page.items.length > limit ? items[items.length - 1].seq : null,
  };
}
