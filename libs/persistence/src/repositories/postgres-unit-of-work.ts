import { DataSource } from 'typeorm';
import { Clock, Transaction, UnitOfWork } from '@jit/domain';
import { PostgresAuditChainWrites } from './postgres-audit-chain.store';
import { PostgresGrantWrites } from './postgres-grant.repository';

/** One PostgreSQL transaction for the grant and audit chain writes; `afterCommit` work is awaited after COMMIT, outside the transaction. */
export class PostgresUnitOfWork extends UnitOfWork {
  constructor(
    private readonly db: DataSource,
    private readonly clock: Clock,
    /** This replica's lease owner id, written with the grant leases it takes. */
    private readonly owner: string,
  ) {
    super();
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
}
