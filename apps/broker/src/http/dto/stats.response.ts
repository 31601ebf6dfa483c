import { z } from 'zod';
import { CLOUDS, DENIAL_REASONS, GRANT_STATES } from '@jit/domain';
import { GrantStatsResult } from '@jit/grants';
import { instantOut } from './wire.schemas';

const day = z.string().regex(/^\d{4}-\d{2}-\d{2}$/).describe('a UTC calendar day, YYYY-MM-DD');
const count = z.number().int().min(0);
const seconds = z.number().nullable();

/** The body of GET /v1/stats: aggregates for the console's charts, over one range. */
export const grantStatsResponse = z
  .object({
    from: instantOut,
    to: instantOut,
    cloud: z.enum(CLOUDS).nullable().describe('the one cloud counted; null for all'),
    perDay: z
      .array(z.object({ day, cloud: z.enum(CLOUDS), kind: z.string(), count }))
      .describe('grants requested per UTC day (createdAt in the range), by cloud and kind; days without any are left out'),
    openNow: z
      .array(z.object({ cloud: z.enum(CLOUDS), state: z.enum(GRANT_STATES), count }))
      .describe('grants not yet ended, now (whatever the range), by cloud and state'),
    revocationLag: z
      .object({
        count,
        p50Seconds: seconds,
        p95Seconds: seconds,
        maxSeconds: seconds,
        buckets: z.array(
          z.object({
            upToSeconds: z.number().nullable().describe('upper bound, inclusive; above the one before; null: above the last bound'),
            count,
          }),
        ),
      })
      .describe('grants that ended by expiry with expiresAt in the range: seconds from expiresAt to the grant.expired event'),
    breakGlass: z
      .object({
        total: count,
        perDay: z.array(z.object({ day, cloud: z.enum(CLOUDS), count })),
        latest: z
          .array(z.object({ grantId: z.uuid(), requestedBy: z.string(), cloud: z.enum(CLOUDS), kind: z.string(), createdAt: instantOut }))
          .describe('the latest break-glass grants in the range, newest first (at most 10)'),
      })
      .describe('grants a break-glass account requested in the range'),
    denials: z
      .array(z.object({ rule: z.string().nullable().describe('the rule or deny-list entry that decided; null: no rule matched'), reason: z.enum(DENIAL_REASONS), count }))
      .describe(
        'requests refused in the range, most first: policy (refused by the access rules, policy.denied events), denied (a pending request denied), timeout (its approval deadline passed), withdrawn (by its requester)',
      ),
  })
  .meta({ id: 'GrantStats', description: 'aggregates over grants and the audit log for charts' });

export type GrantStatsResponse = z.infer<typeof grantStatsResponse>;

export function toGrantStatsResponse(s: GrantStatsResult): GrantStatsResponse {
  return {
    from: s.from.toISOString(),
    to: s.to.toISOString(),
    cloud: s.cloud,
    perDay: s.perDay,
    openNow: s.openNow,
    revocationLag: s.revocationLag,
    breakGlass: { ...s.breakGlass, latest: s.breakGlass.latest.map((b) => ({ ...b, createdAt: b.createdAt.toISOString() })) },
    denials: s.denials,
  };
}
