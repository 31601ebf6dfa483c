import { CloudName } from '../cloud';
import { Grant, GrantState } from '../grant';
import { GrantSubject } from './cloud-access.provider.port';

export interface GrantFilter {
  cloud?: CloudName;
  state?: GrantState;
  principal?: string;
  requester?: string;
  from?: Date;
  to?: Date;
  /**
   * Requests this approver could decide now: pending, before their deadline, with a step that one
   * of `groups` could still fill (`openApprovalGroups`), not requested by `subject`, and not yet
   * approved by them.
   */
  awaitingDecisionBy?: { subject: string; groups: string[] };
  /**
   * Only what this reader may see: grants requested by `subject`, or decided by a rule whose
   * approvers include one of `groups` (with no groups: only the reader's own requests).
   */
  visibleTo?: { subject: string; groups: string[] };
}

export interface Page<T> {
  items: T[];
  /** Opaque; absent on the last page. */
  nextCursor: string | null;
}

/** Fields a transition may change, besides the state. */
export type GrantPatch = Partial<
  Pick<
    Grant,
    | 'startsAt'
    | 'expiresAt'
    | 'endedAt'
    | 'endReason'
    | 'providerRef'
    | 'lastError'
    | 'attempts'
    | 'nextAttemptAt'
    | 'approvals'
    | 'approvalDeadline'
    | 'revokeRequest'
  >
> & {
  /** Keep (or take) the row for this replica until the given time; null releases it. */
  leaseUntil?: Date | null;
};

/**
 * Grant writes inside one unit of work (see `UnitOfWork`): the row changes commit or roll back
 * with whatever else the transaction writes, the grant's audit events above all.
 */
export interface GrantWrites {
  /**
   * Stores a new grant; `leaseUntil` keeps the sweeper away while the caller provisions. A
   * second grant with the requester's Idempotency-Key fails with `idempotency_conflict`.
   */
  insert(grant: Grant, idempotency: { key: string; requestHash: string } | null, leaseUntil: Date | null): Promise<Grant>;

  /**
   * Changes a grant's state if it is still in `from` (and, with `expect`, still holds exactly
   * `approvalCount` approvals) and no other replica holds its lease; returns null when it is not
   * (another replica, request or approver got there first). With `underLease`, the change writes
   * only fields no lease holder writes (the revoke request): it is stored even while another
   * replica holds the row, and leaves that lease as it is (`patch.leaseUntil` is ignored).
   */
  transition(
    id: string,
    from: GrantState,
    to: GrantState,
    patch: GrantPatch,
    expect?: { approvalCount: number },
    options?: { underLease?: boolean },
  ): Promise<Grant | null>;
}

/** Reading grants. Writes go through a unit of work (`UnitOfWork`, `GrantWrites`). */
export abstract class GrantRepository {
  abstract findById(id: string): Promise<Grant | null>;
  /** The grants among `ids` that exist, in no particular order (one query, for reconciliation's lookups). */
  abstract findByIds(ids: readonly string[]): Promise<Grant[]>;
  abstract findByIdempotencyKey(requester: string, key: string): Promise<{ grant: Grant; requestHash: string } | null>;
  /** Grants newest first, keyset-paged; every condition of `filter` is answered by the query, so pages are full. */
  abstract list(filter: GrantFilter, limit: number, cursor: string | null): Promise<Page<Grant>>;
  /** Live grants (provisioning, active, revoking, revoke_failed) sharing an overlap key, except `exceptId`. */
  abstract liveWithOverlapKey(overlapKey: string, exceptId: string): Promise<Grant[]>;
  /** Grants per non-terminal state; ended grants (`TERMINAL_STATES`) are not counted: their number only grows. */
  abstract countByState(): Promise<Record<string, number>>;
  /**
   * Each distinct principal and target of `cloud`'s grants that may still have an artifact: not
   * ended (`pending_approval` included: cheap, and never wrong to look), or ended, or expiring,
   * at or after `since`. Reconciliation's scope (`ReconcileScope`).
   */
  abstract subjectsOf(cloud: CloudName, since: Date): Promise<GrantSubject[]>;
}
