import { AuditEvent, AuditEventInput } from '../audit-event';
import { CloudName } from '../cloud';
import { Grant, GrantState } from '../grant';

export interface GrantFilter {
  cloud?: CloudName;
  state?: GrantState;
  principal?: string;
  requester?: string;
  from?: Date;
  to?: Date;
  /**
   * Requests this approver could decide now: pending, before their deadline, asking approval from
   * one of `groups`, not requested by `subject`, and not yet approved by them.
   */
  awaitingDecisionBy?: { subject: string; groups: string[] };
  /**
   * Only what this reader may see: grants requested by `subject`, or decided by a rule whose
   * approvers include one of `groups` (with no groups: only the reader's own requests).
   */
  visibleTo?: { subject: string; groups: string[] };
}

export interface AuditFilter {
  grantId?: string;
  cloud?: CloudName;
  principal?: string;
  actor?: string;
  type?: string;
  from?: Date;
  to?: Date;
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
  >
> & {
  /** Keep (or take) the row for this replica until the given time; null releases it. */
  leaseUntil?: Date | null;
};

/**
 * Grants and their audit events. Every state change goes through `insert` or `transition`,
 * which commit the row and its audit events in one transaction.
 */
export abstract class GrantStore {
  /** Stores a new grant with its first events; `lease` keeps the sweeper away while the caller provisions. */
  abstract insert(
    grant: Grant,
    idempotency: { key: string; requestHash: string } | null,
    events: AuditEventInput[],
    leaseUntil: Date | null,
  ): Promise<Grant>;

  /**
   * Changes a grant's state if it is still in `from` (and, with `expect`, still holds exactly
   * `approvalCount` approvals); returns null when it is not (another replica, request or
   * approver got there first).
   */
  abstract transition(
    id: string,
    from: GrantState,
    to: GrantState,
    patch: GrantPatch,
    events: (g: Grant) => AuditEventInput[],
    expect?: { approvalCount: number },
  ): Promise<Grant | null>;

  abstract findById(id: string): Promise<Grant | null>;
  abstract findByIdempotencyKey(requester: string, key: string): Promise<{ grant: Grant; requestHash: string } | null>;
  /**
   * Grants newest first, keyset-paged. `keep`, a check SQL cannot make, drops rows while the page
   * is filled from further rows; a page may still come back short (with `nextCursor`) after
   * LIST_SCAN_LIMIT rows were read, so that one request never scans without bound.
   */
  abstract list(filter: GrantFilter, limit: number, cursor: string | null, keep?: (g: Grant) => boolean): Promise<Page<Grant>>;
  /** Live grants (provisioning, active, revoking, revoke_failed) sharing an overlap key, except `exceptId`. */
  abstract liveWithOverlapKey(overlapKey: string, exceptId: string): Promise<Grant[]>;

  /**
   * Claims due work for this replica with `FOR UPDATE SKIP LOCKED` and a lease: active grants
   * past `expiresAt`, revocations whose retry is due, and provisioning rows whose lease lapsed.
   */
  abstract claimDue(owner: string, leaseMs: number, limit: number): Promise<Grant[]>;
  /** Releases every claim this replica holds: called at start, when no work of its can be in flight. */
  abstract releaseOwnLeases(): Promise<number>;
  /** The highest audit `seq` stored, whether or not the chain head covers it. */
  abstract maxAuditSeq(): Promise<number>;
  /**
   * The next moment after `after`, within `horizonMs` of it, that claimDue will have work: an
   * expiry, a revocation retry, an approval deadline, or a lease lapsing. The sweeper passes the
   * time it claimed at, so work that fell due between its claim and this query is not missed.
   */
  abstract nextDueAt(after: Date, horizonMs: number): Promise<Date | null>;
  abstract countByState(): Promise<Record<string, number>>;

  abstract listAudit(filter: AuditFilter, limit: number, cursor: string | null): Promise<Page<AuditEvent>>;
  /** Every event in `seq` order, in pages, for export and verification. */
  abstract streamAudit(filter: AuditFilter, pageSize: number): AsyncIterable<AuditEvent[]>;
  abstract auditHead(): Promise<{ seq: number; hash: string }>;
  /** Takes a singleton job for this replica until the lease ends; false if another replica holds it. */
  abstract claimJob(name: string, leaseMs: number): Promise<boolean>;
  /** Records an event not tied to a state change (reconciliation, policy decisions). */
  abstract appendAudit(events: AuditEventInput[]): Promise<void>;
}
