import { AuditChainWrites } from './audit-chain.store.port';
import { GrantWrites } from './grant.repository.port';

/** What one transaction may write; valid only inside the `UnitOfWork.run` that handed it out. */
export interface Transaction {
  readonly grants: GrantWrites;
  readonly auditChain: AuditChainWrites;
  /**
   * Runs `fn` after the transaction has committed (not after a rollback); `UnitOfWork.run`
   * awaits it before it returns, so its caller sees what `fn` waited for (the events chained).
   */
  afterCommit(fn: () => Promise<void>): void;
}

/**
 * One database transaction shared by the repositories, so a grant's state change and its
 * audit events commit together or not at all.
 */
export abstract class UnitOfWork {
  /** Runs `work` in a transaction: commits when it resolves, rolls back and rethrows when it throws. */
  abstract run<T>(work: (tx: Transaction) => Promise<T>): Promise<T>;
}
