import { z } from 'zod';

/** Shapes that several responses share, as they appear on the wire. */

/** An instant as the broker writes it: `Date.toISOString()`, always UTC. */
export const instantOut = z.iso.datetime();

export const principalResponse = z
  .object({ type: z.enum(['user', 'group', 'workload']), id: z.string() })
  .meta({ id: 'Principal', description: 'who receives the access, as the cloud addresses them' });

export const targetResponse = z
  .looseObject({ kind: z.string().describe('the target kind, e.g. aws.iam-policy; the other fields are those of its kind (see GrantRequest)') })
  .meta({ id: 'Target', description: 'what the access is to, as requested' });

/** A keyset page: pass `nextCursor` as `cursor` for the next page; null on the last. */
export function pageOf<T extends z.ZodType>(item: T, id: string, what: string) {
  return z
    .object({ items: z.array(item), nextCursor: z.string().nullable().describe('the cursor of the next page; null when this is the last') })
    .meta({ id, description: `a page of ${what}` });
}
