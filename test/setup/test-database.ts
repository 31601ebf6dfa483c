import { createHash, randomBytes } from 'node:crypto';
import { cpSync, existsSync, mkdtempSync, renameSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { Database, MIGRATIONS, openDatabase } from '@jit/persistence';

/**
 * What a migrated template is keyed by: every migration's name and the text of its up(), in
 * order. Adding, renaming, reordering or editing a migration gives a new key, hence a new
 * template; an old one is never reused.
 */
export function migrationsKey(migrations: readonly (abstract new () => unknown)[] = MIGRATIONS): string {
  const hash = createHash('sha256');
  for (const m of migrations) hash.update(`${m.name}\n${String((m.prototype as { up: unknown }).up)}\n`);
  return hash.digest('hex').slice(0, 16);
}

/** Advisory-lock namespace for building templates (the second key is taken from the migrations' hash). */
const TEMPLATE_LOCK_NAMESPACE = 0x6a17;

/**
 * The template database for the current migrations on the server at `serverUrl`, built once
 * (by whichever test file gets the advisory lock first; the others wait, then find it) by
 * running the production migrations into a scratch database and renaming it, so a half-built
 * template never carries the final name.
 */
export async function ensurePostgresTemplate(serverUrl: string, admin?: Client): Promise<string> {
  const key = migrationsKey();
  const template = `jit_template_${key}`;
  const session = admin ?? new Client({ connectionString: serverUrl });
  if (!admin) await session.connect();
  const lock = [TEMPLATE_LOCK_NAMESPACE, parseInt(key.slice(0, 7), 16)];
  try {
    // Checked first without the lock: once built, a template is never changed or dropped here.
    if ((await session.query('SELECT 1 FROM pg_database WHERE datname = $1', [template])).rowCount) return template;
    await session.query('SELECT pg_advisory_lock($1, $2)', lock);
    try {
      if ((await session.query('SELECT 1 FROM pg_database WHERE datname = $1', [template])).rowCount === 0) {
        const scratch = `${template}_build_${randomBytes(4).toString('hex')}`;
        await session.query(`CREATE DATABASE ${scratch}`);
        const url = new URL(serverUrl);
        url.pathname = `/${scratch}`;
        try {
          const db = await openDatabase(url.toString(), '');
          await db.close();
          await session.query(`ALTER DATABASE ${scratch} RENAME TO ${template}`);
        } catch (e) {
          await session.query(`DROP DATABASE IF EXISTS ${scratch} WITH (FORCE)`);
          throw e;
        }
      }
    } finally {
      await session.query('SELECT pg_advisory_unlock($1, $2)', lock);
    }
  } finally {
    if (!admin) await session.end();
  }
  return template;
}

/**
 * The embedded database's data directory with the current migrations applied, built once per
 * migrations key under the system's temporary folder: migrated in a scratch folder, then renamed
 * into place (two test files building at once both succeed; one rename wins, the same content).
 */
export async function ensurePgliteTemplate(): Promise<string> {
  const template = join(tmpdir(), `jit-test-template-${migrationsKey()}`);
  if (existsSync(join(template, 'PG_VERSION'))) return template;
  const scratch = mkdtempSync(join(tmpdir(), 'jit-test-template-build-'));
  const db = await openDatabase(undefined, scratch);
  await db.close();
  try {
    renameSync(scratch, template);
  } catch (e) {
    // Another test file put its copy in place first.
    if (!existsSync(join(template, 'PG_VERSION'))) throw e;
    rmSync(scratch, { recursive: true, force: true });
  }
  return template;
}

/**
 * A fresh, migrated database for one test file: on the PostgreSQL server named by
 * TEST_DATABASE_URL when set, a new database created from the migrated template (dropped
 * afterwards); otherwise the embedded PGlite in a temporary folder holding a copy of the
 * migrated template's data directory. Either way it is opened with the production
 * `openDatabase`, which finds no migration pending, exactly as the broker opens it.
 */
export async function openTestDatabase(): Promise<Database & { url: string | undefined }> {
  const serverUrl = process.env.TEST_DATABASE_URL;
  if (serverUrl) {
    const name = `jit_test_${randomBytes(6).toString('hex')}`;
    const admin = new Client({ connectionString: serverUrl });
    await admin.connect();
    try {
      await admin.query(`CREATE DATABASE ${name} TEMPLATE ${await ensurePostgresTemplate(serverUrl, admin)}`);
    } finally {
      await admin.end();
    }
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
  const template = await ensurePgliteTemplate();
  const parent = mkdtempSync(join(tmpdir(), 'jit-test-db-'));
  const dir = join(parent, 'data');
  cpSync(template, dir, { recursive: true });
  const db = await openDatabase(undefined, dir);
  return {
    ...db,
    url: undefined,
    async close() {
      await db.close();
      rmSync(parent, { recursive: true, force: true });
    },
  };
}
