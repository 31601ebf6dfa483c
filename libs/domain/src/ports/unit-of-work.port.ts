import { AuditChainWrites } from './audit-chain.store.port';
import { GrantWrites } from './grant.repository.port';

/** What one transaction may write; valid only inside the `UnitOfWork.run` that handed it out. */
export interface Transaction {
  readonly grants: GrantWrites;
  readonly auditChain: AuditChainWrites;
  /** Runs `fn` once the transaction has ended, committed or rolled back (releases in-process turns). */
  onEnd(fn: () => void): void;
}

/**
 * One database transaction shared by the repositories, so a grant's state change and its
 * audit events commit together or not at all.
 */
export abstract class UnitOfWork {
  /** Runs `work` in a transaction: commits when it resolves, rolls back and rethrows when it throws. */
  abstract run<T>(work: (tx: Transaction) => Promise<T>): Promise<T>;
}
