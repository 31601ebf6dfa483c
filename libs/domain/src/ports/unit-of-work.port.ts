import { Grant, GrantState } from '../grant';
import { AuditChainWrites, StagedAuditEvent } from './audit-chain.store.port';
import { GrantPatch, GrantWrites } from './grant.repository.port';

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

/** One grant write, as `GrantWrites.insert` or `GrantWrites.transition` takes it. */
export type GrantWrite =
  | { op: 'insert'; grant: Grant; idempotency: { key: string; requestHash: string } | null; leaseUntil: Date | null }
  | {
      op: 'transition';
      id: string;
      from: GrantState;
      to: GrantState;
      patch: GrantPatch;
      expect?: { approvalCount: number };
      options?: { underLease?: boolean };
    };

/**
 * One database transaction shared by the repositories, so a grant's state change and its
 * audit events commit together or not at all.
 */
export abstract class UnitOfWork {
  /** Runs `work` in a transaction: commits when it resolves, rolls back and rethrows when it throws. */
  abstract run<T>(work: (tx: Transaction) => Promise<T>): Promise<T>;

  /**
   * One grant write and the events it stages, committed together; the events are staged only if
   * the write stored a row (a transition whose guard fails stages nothing and resolves null).
   * The events cannot depend on the row the write returns: a store may make it one statement
   * (PostgreSQL: one round trip instead of BEGIN, two writes and COMMIT). No `afterCommit`.
   */
  async write(write: GrantWrite, events: readonly StagedAuditEvent[]): Promise<Grant | null> {
    return this.run(async (tx) => {
      const row =
        write.op === 'insert'
          ? await tx.grants.insert(write.grant, write.idempotency, write.leaseUntil)
          : await tx.grants.transition(write.id, write.from, write.to, write.patch, write.expect, write.options);
      if (row && events.length) await tx.auditChain.stage(events);
      return row;
    });
  }
}
