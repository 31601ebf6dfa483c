export * from './database';
export * from './repositories/postgres-grant.store';
export * from './repositories/postgres-notification-cursor.store';
export * from './repositories/postgres-audit-checkpoint.store';
