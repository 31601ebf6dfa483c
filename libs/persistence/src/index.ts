export * from './database';
export * from './repositories/postgres-grant.store';
