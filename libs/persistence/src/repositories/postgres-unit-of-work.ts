import { DataSource } from 'typeorm';
import { Clock, Transaction, UnitOfWork } from '@jit/domain';
import { PostgresAuditChainWrites } from './postgres-audit-chain.store';
import { PostgresGrantWrites } from './postgres-grant.repository';

/** One PostgreSQL transaction for the grant and audit chain writes; `onEnd` callbacks run after COMMIT or ROLLBACK. */
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
    const ended: (() => void)[] = [];
    try {
      return await this.db.transaction((m) =>
        work({
          grants: new PostgresGrantWrites(m, this.clock, this.owner),
          auditChain: new PostgresAuditChainWrites(m),
          onEnd: (fn) => ended.push(fn),
        }),
      );
    } finally {
      for (const fn of ended) fn();
    }
  }
}
