import { AuditEvent, AuditEventInput } from '../audit-event';
import { CloudName } from '../cloud';
import { Page } from './grant.repository.port';

export interface AuditFilter {
  grantId?: string;
  cloud?: CloudName;
  principal?: string;
  actor?: string;
  type?: string;
  from?: Date;
  to?: Date;
  /** Only events after this `seq` (verify from a checkpoint, archival); not an API filter. */
  afterSeq?: number;
}

/** The chain's last link: `seq` 0 and the genesis hash before the first event. */
export interface AuditHead {
  seq: number;
  hash: string;
}

/**
 * An event written with its state change but not yet chained: it has its id and time, and
 * gets its `seq` and hashes when the audit log chains it, moments after the commit.
 */
export interface StagedAuditEvent extends AuditEventInput {
  id: string;
  occurredAt: Date;
}

/**
 * The audit chain's rows inside one unit of work: the transaction stages its events, which
 * commit (or roll back) with the state change; no shared row is locked (docs/audit.md, "How the
 * chain is written").
 */
export interface AuditChainWrites {
  /** Stores events to be chained, in this order, after everything staged by transactions that committed before. */
  stage(events: readonly StagedAuditEvent[]): Promise<void>;
}

/**
 * Numbers and hashes staged events onto the head: given the head and the staged events in
 * order, returns them as chained events (the audit log hashes; the store only stores).
 */
export type LinkStagedEvents = (head: AuditHead, staged: readonly StagedAuditEvent[]) => AuditEvent[];

/** Reading the hash-chained audit log. Appends go through the audit log, in a unit of work. */
export abstract class AuditChainStore {
  abstract list(filter: AuditFilter, limit: number, cursor: string | null): Promise<Page<AuditEvent>>;
  /** Every event in `seq` order, in pages, for export and verification. */
  abstract stream(filter: AuditFilter, pageSize: number): AsyncIterable<AuditEvent[]>;
  abstract head(): Promise<AuditHead>;
  /** The highest `seq` stored, whether or not the chain head covers it. */
  abstract maxSeq(): Promise<number>;
  /**
   * Chains up to `limit` of the oldest staged events in one transaction, one chainer at a time
   * across replicas (the head's row lock): takes them out of staging, stores `link(head, staged)`
   * and moves the head to its last event. Returns how many it chained (0: none was staged).
   */
  abstract chainStaged(link: LinkStagedEvents, limit: number): Promise<number>;
  /** How many committed events wait to be chained (normally none, or a few for milliseconds). */
  abstract stagedCount(): Promise<number>;
}
