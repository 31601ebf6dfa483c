/**
 * Persistence: PostgreSQL (or the embedded PGlite) through TypeORM. Opens the database and
 * runs the migrations; implements the grant store (grants, claims and leases, jobs, and the
 * hash-chained audit log in the same transactions), the audit checkpoint store and the
 * notification cursor store. Imports domain, config, observability (docs/architecture.md;
 * the audit and notifications imports go with issue 11 point 2).
 */
export * from './database';
export * from './repositories/postgres-grant.store';
export * from './repositories/postgres-notification-cursor.store';
export * from './repositories/postgres-audit-checkpoint.store';
