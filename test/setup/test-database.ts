import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { Database, openDatabase } from '@jit/persistence';

/**
 * A fresh, migrated database for one test file: a new database on the PostgreSQL server named
 * by TEST_DATABASE_URL when set (dropped afterwards), otherwise the embedded PGlite in a
 * temporary folder, exactly as the broker opens it without DATABASE_URL.
 */
export async function openTestDatabase(): Promise<Database & { url: string | undefined }> {
  const serverUrl = process.env.TEST_DATABASE_URL;
  if (serverUrl) {
    const name = `jit_test_${randomBytes(6).toString('hex')}`;
    const admin = new Client({ connectionString: serverUrl });
    await admin.connect();
    await admin.query(`CREATE DATABASE ${name}`);
    await admin.end();
    const url = new URL(serverUrl);
    url.pathname = `/${name}`;
    const db = await openDatabase(url.toString(), '');
    return {
      ...db,
      url: url.toString(),
      async close() {
        await db.close();
        const c = new Client({ connectionString: serverUrl });
        await c.connect();
        await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
        await c.end();
      },
    };
  }
  const dir = mkdtempSync(join(tmpdir(), 'jit-test-db-'));
  const db = await openDatabase(undefined, dir);
  return {
    ...db,
    url: undefined,
    async close() {
      await db.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
