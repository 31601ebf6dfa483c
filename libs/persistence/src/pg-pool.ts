import { Pool } from 'pg';
import { DataSource } from 'typeorm';
import { PostgresDriver } from 'typeorm/driver/postgres/PostgresDriver';

/**
 * node-postgres' pool under a TypeORM data source, for statements sent by name (`{ name, text,
 * values }`): parsed and planned once per connection, which TypeORM's `query` cannot do.
 */
export function pgPool(db: DataSource): Pool {
  return (db.driver as PostgresDriver).master as Pool;
}
