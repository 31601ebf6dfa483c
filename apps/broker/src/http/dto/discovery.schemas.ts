import { z } from 'zod';
import { CLOUDS, FINDING_STATUSES, STANDING_PRINCIPAL_KINDS } from '@jit/domain';

const bool = z.enum(['true', 'false'], { error: 'must be true or false' }).transform((v) => v === 'true');

/** GET /v1/discovery/findings. `principalType`: human or workload (what the cloud says), or the cloud's own kind. */
export const findingsQuery = z.strictObject({
  cloud: z.enum(CLOUDS).optional(),
  privileged: bool.optional(),
  unusedFor: z.coerce.number({ error: 'must be a number of days' }).int('must be a whole number of days').min(0).max(36_500).optional(),
  principalType: z.enum(['human', 'workload', ...STANDING_PRINCIPAL_KINDS]).optional(),
  status: z.enum(FINDING_STATUSES).optional(),
  scope: z.string().min(1).max(1024).optional(),
  access: z.string().min(1).max(1024).optional(),
  limit: z.coerce.number().int().min(1).max(500).default(100),
  cursor: z.uuid({ error: 'must be nextCursor of the previous page' }).optional(),
  format: z.enum(['json', 'jsonl', 'csv']).default('json'),
});

export const removalBody = z.preprocess((b) => b ?? {}, z.strictObject({ justification: z.string().trim().min(1).max(1024) }));

export const restoreBody = z
  .strictObject({ justification: z.string().trim().min(1).max(1024).optional() })
  .optional()
  .transform((b) => ({ justification: b?.justification ?? null }));
