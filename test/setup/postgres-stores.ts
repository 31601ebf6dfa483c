import { DataSource } from 'typeorm';
import { AuditLog } from '@jit/audit';
import { AuditEventInput, Clock, Grant, GrantPatch, GrantState, SystemClock } from '@jit/domain';
import { PostgresAuditChainStore, PostgresGrantRepository, PostgresUnitOfWork, PostgresWorkQueue } from '@jit/persistence';

/**
 * The grant repository, work queue and audit log over one database, wired as start-broker wires
 * them for replica `owner`, with `insert` and `transition` writing a row and its events in one
 * unit of work as GrantTransitions does (for tests that seed rows or race writers directly).
 */
export function postgresStores(dataSource: DataSource, clock: Clock, owner: string) {
  const unitOfWork = new PostgresUnitOfWork(dataSource, clock, owner);
  const grants = new PostgresGrantRepository(dataSource, clock);
  const queue = new PostgresWorkQueue(dataSource, clock, owner);
  const audit = new AuditLog(unitOfWork, new PostgresAuditChainStore(dataSource), clock);
  return {
    unitOfWork,
    grants,
    queue,
    audit,
    insert: (grant: Grant, idempotency: { key: string; requestHash: string } | null, events: AuditEventInput[], leaseUntil: Date | null) =>
      unitOfWork.run(async (tx) => {
        const row = await tx.grants.insert(grant, idempotency, leaseUntil);
        await audit.append(tx, events);
        return row;
      }),
    transition: (id: string, from: GrantState, to: GrantState, patch: GrantPatch, events: (g: Grant) => AuditEventInput[], expect?: { approvalCount: number }) =>
      unitOfWork.run(async (tx) => {
        const row = await tx.grants.transition(id, from, to, patch, expect);
        if (row) await audit.append(tx, events(row));
        return row;
      }),
  };
}

export type PostgresStores = ReturnType<typeof postgresStores>;

/**
 * Resolves once every audit event committed so far is chained. State changes answer before their
 * events are chained (docs/audit.md), so a test that reads `audit_events` directly waits for this
 * first, as the audit API does. Any replica's chainer takes every committed staged event.
 */
export function auditChained(dataSource: DataSource): Promise<void> {
  const clock = new SystemClock();
  return new AuditLog(new PostgresUnitOfWork(dataSource, clock, 'test-reader'), new PostgresAuditChainStore(dataSource), clock).chained();
}
