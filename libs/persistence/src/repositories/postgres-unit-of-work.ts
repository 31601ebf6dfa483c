import { DataSource } from 'typeorm';
import { Clock, Grant, GrantWrite, StagedAuditEvent, Transaction, UnitOfWork } from '@jit/domain';
import { PostgresAuditChainWrites } from './postgres-audit-chain.store';
import { PostgresGrantWriteBatch, WriteBatchOptions, WriteBatchStats } from './postgres-grant-write-batch';

export { BATCH_SIZE_BUCKETS, type WriteBatchOptions, type WriteBatchStats } from './postgres-grant-write-batch';
import { PostgresGrantWrites, reopensApprovals } from './postgres-grant.repository';

/** One PostgreSQL transaction for the grant and audit chain writes; `afterCommit` work is awaited after COMMIT, outside the transaction. */
export class PostgresUnitOfWork extends UnitOfWork {
  private readonly batch: PostgresGrantWriteBatch;

  constructor(
    private readonly db: DataSource,
    private readonly clock: Clock,
    /** This replica's lease owner id, written with the grant leases it takes. */
    private readonly owner: string,
    batch: WriteBatchOptions = {},
  ) {
    super();
    this.batch = new PostgresGrantWriteBatch(db, clock, owner, batch);
  }

  /** The group commit's statements and sizes so far (/metrics, commits per grant in the bench). */
  writeBatchStats(): WriteBatchStats {
    return this.batch.stats();
  }

  async run<T>(work: (tx: Transaction) => Promise<T>): Promise<T> {
    const committed: (() => Promise<void>)[] = [];
    const result = await this.db.transaction((m) =>
      work({
        grants: new PostgresGrantWrites(m, this.clock, this.owner),
        auditChain: new PostgresAuditChainWrites(m),
        afterCommit: (fn) => committed.push(fn),
      }),
    );
    // The connection is back in the pool: the chainer may need it (PGlite has one).
    for (const fn of committed) await fn();
    return result;
  }

  /**
   * The grant write and the INSERT of its events as one statement (a data-modifying WITH), which
   * PostgreSQL runs atomically in a transaction of its own: one round trip where BEGIN, two
   * writes and COMMIT took four. Writes that arrive while others are in flight share the next
   * statement (`PostgresGrantWriteBatch`). The events are taken only when the write stored its row.
   */
  override write(write: GrantWrite, events: readonly StagedAuditEvent[]): Promise<Grant | null> {
    // Recomputing the open approval steps reads the stored row: a transaction of its own.
    if (write.op === 'transition' && reopensApprovals(write)) return super.write(write, events);
    return this.batch.write(write, events);
  }
}
