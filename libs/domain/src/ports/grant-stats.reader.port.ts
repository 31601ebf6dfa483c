import { CloudName } from '../cloud';
import { GrantState } from '../grant';

/** What the aggregates are over: grants requested (or ended, or denied) in `[from, to)`, of one cloud or all. */
export interface GrantStatsQuery {
  from: Date;
  to: Date;
  cloud?: CloudName;
}

/**
 * Upper bounds (seconds, inclusive) of the revocation-lag histogram's buckets; a last bucket
 * takes everything above. From "within the sweep interval" to "the sweeper was down for an hour".
 */
export const REVOCATION_LAG_BUCKETS = [1, 5, 15, 60, 300, 900, 3600] as const;

/** Why a request ended without access: refused by the rules at request time, or a pending request that was denied, timed out or withdrawn. */
export const DENIAL_REASONS = ['policy', 'denied', 'timeout', 'withdrawn'] as const;
export type DenialReason = (typeof DENIAL_REASONS)[number];

export interface GrantStats {
  /** Grants requested per UTC day (`YYYY-MM-DD`), by cloud and kind; days without any are left out. */
  perDay: { day: string; cloud: CloudName; kind: string; count: number }[];
  /** Grants not yet ended, now (whatever the range), by cloud and state. */
  openNow: { cloud: CloudName; state: GrantState; count: number }[];
  /**
   * Grants that ended by expiry with `expiresAt` in the range: seconds from `expiresAt` to the
   * recorded end (the `grant.expired` event), as a histogram over `REVOCATION_LAG_BUCKETS` and a
   * last bucket above (`upToSeconds` null), with the median, 95th percentile and maximum.
   */
  revocationLag: {
    count: number;
    p50Seconds: number | null;
    p95Seconds: number | null;
    maxSeconds: number | null;
    buckets: { upToSeconds: number | null; count: number }[];
  };
  /** Break-glass grants requested in the range: per UTC day and cloud, and the latest few. */
  breakGlass: {
    total: number;
    perDay: { day: string; cloud: CloudName; count: number }[];
    latest: { grantId: string; requestedBy: string; cloud: CloudName; kind: string; createdAt: Date }[];
  };
  /**
   * Requests refused in the range, by the rule that decided (null: no rule matched) and reason:
   * `policy` from the `policy.denied` audit events (no grant is stored), the others from grants
   * that ended `denied` (by an approver or at approval, at the approval deadline, or withdrawn).
   */
  denials: { rule: string | null; reason: DenialReason; count: number }[];
}

/** Aggregates over the grants and the audit log, computed by the database (never by loading rows). */
export abstract class GrantStatsReader {
  /** How many break-glass uses `GrantStats.breakGlass.latest` lists at most. */
  static readonly LATEST_BREAK_GLASS = 10;

  /** Reads only; cost grows with the rows in the range, not with the whole history (indexes on each range). */
  abstract read(query: GrantStatsQuery): Promise<GrantStats>;
}
