/**
 * Persistence: PostgreSQL (or the embedded PGlite) through TypeORM. Opens the database and
 * runs the migrations; implements the grant repository, the work queue (claims, leases,
 * jobs), the audit chain's rows and the unit of work that puts a grant change and its audit
 * events in one transaction, or in one statement that concurrent writes share (group commit,
 * postgres-grant-write-batch.ts; the audit log in libs/audit hashes), the audit checkpoint
 * store, the notification cursor store, and the archive store (`PostgresArchiveStore`,
 * postgres-archive.store.ts: the ended grants and the audit events up to a signed checkpoint
 * that archival reads and removes), and the console's aggregates (`PostgresGrantStatsReader`). Imports domain; may also import config and observability
 * (docs/architecture.md).
 */
export * from './database';
export * from './store-unavailable';
export * from './repositories/postgres-grant.repository';
export * from './repositories/postgres-work-queue';
export * from './repositories/postgres-audit-chain.store';
export * from './repositories/postgres-unit-of-work';
export * from './repositories/postgres-notification-cursor.store';
export * from './repositories/postgres-audit-checkpoint.store';
export * from './repositories/postgres-archive.store';
export * from './repositories/postgres-grant-stats.reader';
export * from './repositories/postgres-discovery.store';
export * from './repositories/postgres-review.store';
