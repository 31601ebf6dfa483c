import { AuditEvent } from '../audit-event';
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
}

/** The chain's last link: `seq` 0 and the genesis hash before the first event. */
export interface AuditHead {
  seq: number;
  hash: string;
}

/**
 * The audit chain's rows inside one unit of work. The audit log (libs/audit) computes every
 * hash; these only lock, read and write what it decided.
 */
export interface AuditChainWrites {
  /** Reads the head and locks it until the transaction ends, so appends are ordered across replicas. */
  lockHead(): Promise<AuditHead>;
  /** Stores events that follow the locked head, in `seq` order, and moves the head to the last of them. */
  append(events: readonly AuditEvent[]): Promise<void>;
}

/** Reading the hash-chained audit log. Appends go through the audit log, in a unit of work. */
export abstract class AuditChainStore {
  abstract list(filter: AuditFilter, limit: number, cursor: string | null): Promise<Page<AuditEvent>>;
  /** Every event in `seq` order, in pages, for export and verification. */
  abstract stream(filter: AuditFilter, pageSize: number): AsyncIterable<AuditEvent[]>;
  abstract head(): Promise<AuditHead>;
  /** The highest `seq` stored, whether or not the chain head covers it. */
  abstract maxSeq(): Promise<number>;
}
