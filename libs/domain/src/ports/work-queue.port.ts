import { CloudName } from '../cloud';
import { Grant } from '../grant';

/**
 * The sweeper's work: grants claimed with a lease so one replica at a time works on each, the
 * next moment work falls due, and singleton jobs (reconciliation) leased the same way.
 */
export abstract class WorkQueue {
  /**
   * Claims due work for `owner` with `FOR UPDATE SKIP LOCKED` and a lease: active grants past
   * `expiresAt`, revocations whose retry is due, provisioning rows whose lease lapsed, and
   * pending requests past their approval deadline. With `cloud`, only that cloud's grants (the
   * sweeper claims per cloud, so one cloud's backlog cannot fill every slot).
   */
  abstract claimDue(owner: string, leaseMs: number, limit: number, cloud?: CloudName): Promise<Grant[]>;

  /**
   * claimDue for several clouds in one claim: up to `limits.get(cloud)` of each cloud's due work,
   * each cloud's most urgent first, disjoint from every other replica's claims. A cloud whose
   * limit is 0 is not read.
   */
  abstract claimDueByCloud(owner: string, leaseMs: number, limits: ReadonlyMap<CloudName, number>): Promise<Grant[]>;

  /** Releases every claim (grants and jobs) this replica holds: called at start, when no work of its can be in flight. */
  abstract releaseOwnLeases(): Promise<number>;

  /**
   * Releases this replica's claims on the grants `ids` (work on them stopped, say because the
   * database went away mid-way), so any replica, this one included, may claim them at once
   * instead of when the lease lapses. Rows another replica holds are left alone. Returns how
   * many were released.
   */
  abstract releaseClaims(ids: readonly string[]): Promise<number>;

  /**
   * The next moment after `after`, within `horizonMs` of it, that claimDue will have work: an
   * expiry, a revocation retry, an approval deadline, or a lease lapsing. The sweeper passes the
   * time it claimed at, so work that fell due between its claim and this query is not missed.
   */
  abstract nextDueAt(after: Date, horizonMs: number): Promise<Date | null>;

  /** Takes a singleton job for this replica until the lease ends; false if another replica holds it. */
  abstract claimJob(name: string, leaseMs: number): Promise<boolean>;
}
