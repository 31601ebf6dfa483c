import { randomBytes } from 'node:crypto';
import { cpSync } from 'node:fs';
import { join } from 'node:path';
import { Client } from 'pg';
import { ensurePgliteTemplate } from './test-database';

/** The database of a broker an e2e spec spawns (`spawnBroker`), and how to give it back. */
export interface SpawnedBrokerDatabase {
  /** The broker's environment for it: JIT_DATA_DIR, and on PostgreSQL DATABASE_URL (with `password` in its userinfo when given). */
  env(password?: string): Record<string, string>;
  /** Drops the PostgreSQL database (nothing on PGlite: the data lives in the spec's folder). */
  drop(): Promise<void>;
}

async function onServer(sql: string): Promise<void> {
  const admin = new Client({ connectionString: process.env.TEST_DATABASE_URL });
  await admin.connect();
  try {
    await admin.query(sql);
  } finally {
    await admin.end();
  }
}

/**
 * With TEST_DATABASE_URL, a new empty PostgreSQL database `<prefix>_<random>` on that server (the
 * broker migrates it at start); otherwise a copy of the migrated PGlite template in `<dir>/data`.
 */
export async function createSpawnedBrokerDatabase(dir: string, prefix: string): Promise<SpawnedBrokerDatabase> {
  const dataDir = join(dir, 'data');
  const server = process.env.TEST_DATABASE_URL;
  if (!server) {
    cpSync(await ensurePgliteTemplate(), dataDir, { recursive: true });
    return { env: () => ({ JIT_DATA_DIR: dataDir }), drop: async () => undefined };
  }
  const name = `${prefix}_${randomBytes(6).toString('hex')}`;
  await onServer(`CREATE DATABASE ${name}`);
  return {
    env: (password?: string) => ({
      JIT_DATA_DIR: dataDir,
      DATABASE_URL: Object.assign(new URL(server), { pathname: `/${name}` }, password ? { password } : {}).toString(),
    }),
    drop: () => onServer(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`),
  };
}
