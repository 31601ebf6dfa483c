import { z } from 'zod';
import { AUDIT_EVENT_TYPES, CLOUDS, DomainError, GRANT_STATES, zodIssues } from '@jit/domain';

const instant = z.iso.datetime({ offset: true, message: 'must be an RFC 3339 date-time' }).transform((s) => new Date(s));
const limit = (max: number, fallback: number) => z.coerce.number().int().min(1).max(max).default(fallback);
const cursor = z.string().min(1).max(512).optional();

export const listGrantsQuery = z.strictObject({
  cloud: z.enum(CLOUDS).optional(),
  state: z.enum(GRANT_STATES).optional(),
  principal: z.string().min(1).max(1024).optional(),
  requester: z.string().min(1).max(256).optional(),
  from: instant.optional(),
  to: instant.optional(),
  /** `me`: only requests the caller (an approver) could decide now. */
  awaiting: z.literal('me', { error: 'the only value is "me"' }).optional(),
  limit: limit(500, 50),
  cursor,
});

export const auditQuery = z.strictObject({
  grantId: z.uuid().optional(),
  cloud: z.enum(CLOUDS).optional(),
  principal: z.string().min(1).max(1024).optional(),
  actor: z.string().min(1).max(256).optional(),
  type: z.enum(AUDIT_EVENT_TYPES).optional(),
  from: instant.optional(),
  to: instant.optional(),
  limit: limit(1000, 100),
  cursor,
  format: z.enum(['json', 'jsonl', 'csv']).default('json'),
});

/** `anchor=<seq>:<sha-256 hex>`, repeatable: heads recorded from earlier verifies. */
const anchor = z
  .string()
  .regex(/^[1-9]\d{0,15}:[0-9a-fA-F]{64}$/, 'must be <seq>:<hash>, a head from an earlier verify')
  .transform((v) => ({ seq: Number(v.slice(0, v.indexOf(':'))), hash: v.slice(v.indexOf(':') + 1).toLowerCase() }));

export const verifyQuery = z.strictObject({
  anchor: z
    .union([anchor, z.array(anchor).max(100)])
    .optional()
    .transform((a) => (a === undefined ? [] : Array.isArray(a) ? a : [a])),
  /** Breaks listed in detail; all are counted. */
  maxBreaks: limit(1000, 100),
  /** `true`: walk every stored event, not only those after the latest valid signed checkpoint. */
  full: z
    .enum(['true', 'false'], { error: 'must be true or false' })
    .default('false')
    .transform((v) => v === 'true'),
});

/** GET /v1/stats: the use case fills in a missing range and checks its width. */
export const statsQuery = z.strictObject({
  from: instant.optional(),
  to: instant.optional(),
  cloud: z.enum(CLOUDS).optional(),
});

export const checkpointsQuery = z.strictObject({
  /** Checkpoints after this event `seq` (the last one of the previous page). */
  after: z.coerce.number().int().min(0).max(Number.MAX_SAFE_INTEGER).default(0),
  limit: limit(1000, 100),
});

export const revokeBody = z
  .strictObject({
    reason: z.string().trim().min(1).max(1024).optional(),
    force: z.boolean().default(false),
  })
  .optional()
  .transform((b) => b ?? { force: false });

/** Body of approve: an optional comment. */
export const decisionBody = z
  .strictObject({ comment: z.string().trim().min(1).max(1024).optional() })
  .optional()
  .transform((b) => ({ comment: b?.comment ?? null }));

/**
 * Body of deny: the comment is required (the requester reads why), so the document says so and
 * the 400 names `comment`, also for a request without a body (read as `{}`). The domain still
 * refuses a denial without one.
 */
export const denyBody = z.preprocess((b) => b ?? {}, z.strictObject({ comment: z.string().trim().min(1).max(1024) }));

/** Parses with a schema; failures become 400 problems that name each field. */
export function parseWith<T extends z.ZodType>(schema: T, value: unknown, prefix = ''): z.output<T> {
  const result = schema.safeParse(value);
  if (!result.success) {
    throw DomainError.validation(zodIssues(result.error).map((i) => ({ ...i, field: prefix && i.field !== '(body)' ? `${prefix}.${i.field}` : i.field })));
  }
  return result.data;
}
