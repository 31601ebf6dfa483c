import { CloudName } from '../cloud';
import { StagedAuditEvent } from './audit-chain.store.port';
import {
  DiscoveryFinding,
  DiscoveryFindingFilter,
  StandingAssignment,
  StandingRemoval,
  StandingRemovalState,
} from './standing-access.port';

/**
 * What discovery stores (docs/discovery.md): scans with a cursor per part, so a scan resumes after
 * a crash; findings tracked by key across scans with their history; removals with their approvals.
 * `libs/persistence` implements it on PostgreSQL and PGlite.
 */

export const DISCOVERY_SCAN_STATES = ['running', 'completed', 'failed'] as const;
export type DiscoveryScanState = (typeof DISCOVERY_SCAN_STATES)[number];

/** One part of a cloud's inventory in one scan: where it is, what it read, what went wrong. */
export interface DiscoveryScanPart {
  cloud: CloudName;
  part: string;
  /** Where the next page starts; null before the first page and once done. */
  cursor: string | null;
  state: 'pending' | 'done' | 'failed';
  pages: number;
  assignments: number;
  /** Pages that failed (after retries); a failed part stops, the scan goes on with the others. */
  errors: number;
  lastError: string | null;
  updatedAt: Date;
}

export interface DiscoveryScan {
  id: string;
  state: DiscoveryScanState;
  /** `manual` (the API) or `schedule` (JIT_DISCOVERY_SCHEDULE). */
  trigger: 'manual' | 'schedule';
  requestedBy: string;
  createdAt: Date;
  finishedAt: Date | null;
  /** The clouds whose parts are listed, and those whose parts could not be listed (with why). */
  clouds: { cloud: CloudName; listed: boolean; error: string | null }[];
  parts: DiscoveryScanPart[];
}

/** A standing assignment with the judgement of the privilege criteria. */
export interface JudgedAssignment {
  assignment: StandingAssignment;
  privileged: boolean;
  reasons: string[];
}

/** A finding's history: when it was seen, resolved, removed or restored. */
export interface DiscoveryFindingEvent {
  findingId: string;
  at: Date;
  /** `opened`, `changed` (privileged or reasons changed), `resolved`, `reopened`, `removed`, `restored`. */
  change: string;
  scanId: string | null;
  detail: Record<string, unknown>;
}

/** Per cloud, the numbers the summary and /metrics show (open findings only). */
export interface DiscoverySummaryRow {
  cloud: CloudName;
  open: number;
  privileged: number;
  /** Privileged and unused for at least the summary's days (or never used). */
  privilegedUnused: number;
  /** Privileged, by who holds them: people, workloads, and those the cloud cannot tell (AWS roles, groups). */
  privilegedHumans: number;
  privilegedWorkloads: number;
  privilegedUnknown: number;
  /** Eligibility (`ELIGIBLE_ACCESS_TYPES`) to privileged access: not held, so not in the counts above. */
  eligiblePrivileged: number;
}

/** One approval of a removal. */
export interface RemovalApproval {
  by: string;
  at: Date;
  comment: string | null;
}

/** A removal as stored: the port's view plus its approvals, and the assignment as it was when asked. */
export interface StoredRemoval extends StandingRemoval {
  approvals: RemovalApproval[];
  /** Approvals needed (JIT_DISCOVERY_REMOVAL_APPROVALS when asked). */
  required: number;
  /** The assignment as listed, all that `restore` needs. */
  assignment: StandingAssignment;
  decidedBy: string | null;
  appliedAt: Date | null;
  restoredAt: Date | null;
}

export abstract class DiscoveryStore {
  /** A new scan, or null when one is still running (only one at a time). */
  abstract createScan(scan: { id: string; trigger: 'manual' | 'schedule'; requestedBy: string; now: Date }): Promise<DiscoveryScan | null>;
  abstract getScan(id: string): Promise<DiscoveryScan | null>;
  /** The running scan, if any (the oldest). */
  abstract runningScan(): Promise<DiscoveryScan | null>;
  /** The last scan created (any state). */
  abstract latestScan(): Promise<DiscoveryScan | null>;
  /**
   * Takes (or renews) the named lease for `owner` until now + `ms`; false when another owner holds
   * it unexpired. One replica scans at a time.
   */
  abstract claimLease(name: string, owner: string, ms: number, now: Date): Promise<boolean>;
  abstract releaseLease(name: string, owner: string): Promise<void>;
  /** Records a cloud's parts (those already recorded are kept with their cursors), or why they could not be listed. */
  abstract setParts(scanId: string, cloud: CloudName, outcome: { parts: string[] } | { error: string }, now: Date): Promise<void>;
  /**
   * One page of a part, in one transaction: the findings upserted by key (history written), the
   * part's cursor moved to `cursor` (null: the part is done, and the open findings of that part not
   * seen in this scan are resolved).
   */
  abstract savePage(scanId: string, cloud: CloudName, part: string, judged: JudgedAssignment[], cursor: string | null, now: Date): Promise<void>;
  /** A page that could not be read after retries: the part is failed (its findings are left as they are). */
  abstract failPart(scanId: string, cloud: CloudName, part: string, error: string, now: Date): Promise<void>;
  abstract finishScan(scanId: string, state: 'completed' | 'failed', now: Date, events: readonly StagedAuditEvent[]): Promise<DiscoveryScan | null>;

  abstract getFinding(id: string): Promise<DiscoveryFinding | null>;
  /** Findings in `id` order after `after`; `unusedForDays` counts from `now`. */
  abstract listFindings(filter: DiscoveryFindingFilter, page: { after?: string; limit: number }, now: Date): Promise<DiscoveryFinding[]>;
  abstract findingHistory(id: string): Promise<DiscoveryFindingEvent[]>;
  abstract summary(unusedForDays: number, now: Date): Promise<DiscoverySummaryRow[]>;

  /** A new removal with its event, or null when the finding already has one pending, approved or applied. */
  abstract insertRemoval(removal: StoredRemoval, events: readonly StagedAuditEvent[]): Promise<StoredRemoval | null>;
  abstract getRemoval(id: string): Promise<StoredRemoval | null>;
  abstract removalsOf(findingId: string): Promise<StoredRemoval[]>;
  /**
   * Moves a removal from `from` to `to` with its events, in one transaction, if it is still in
   * `from` (and, with `approvalCount`, still has that many approvals): null otherwise. `applied`
   * marks the finding removed, `restored` reopens it.
   */
  abstract transitionRemoval(
    id: string,
    from: StandingRemovalState,
    to: StandingRemovalState,
    patch: Partial<Pick<StoredRemoval, 'approvals' | 'decidedBy' | 'lastError' | 'appliedAt' | 'restoredAt'>> & { now: Date; approvalCount?: number },
    events: readonly StagedAuditEvent[],
  ): Promise<StoredRemoval | null>;
}
