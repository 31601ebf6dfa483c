import { existsSync } from 'node:fs';
import { Client } from 'pg';
import { MIGRATIONS } from '@jit/persistence';
import { ensurePgliteTemplate, ensurePostgresTemplate, migrationsKey, openTestDatabase } from '../setup/test-database';

/**
 * The test databases come from a template migrated once per set of migrations: each file's
 * database has every migration applied, is its own, and a change to the migrations names
 * another template, so a stale one is never used.
 */
describe('test databases from a migrated template', () => {
  it('should key the template by the migrations: a new, renamed, reordered or edited migration gives another key', () => {
    const key = migrationsKey();
    expect(migrationsKey([...MIGRATIONS])).toBe(key);
    class AddSomething1799999999999 {
      async up(): Promise<void> {}
    }
    expect(migrationsKey([...MIGRATIONS, AddSomething1799999999999])).not.toBe(key);
    expect(migrationsKey([...MIGRATIONS].reverse())).not.toBe(key);
    const renamed = [...MIGRATIONS.slice(0, -1), class AddOpenApprovalGroups1764206000001 extends MIGRATIONS[MIGRATIONS.length - 1] {}];
    expect(migrationsKey(renamed)).not.toBe(key);
    const last = MIGRATIONS[MIGRATIONS.length - 1];
    const edited = class AddOpenApprovalGroups1764206000000 extends last {
      override async up(): Promise<void> {}
    };
    expect(migrationsKey([...MIGRATIONS.slice(0, -1), edited])).not.toBe(key);
  });

  it('should hand each test file its own database with every migration applied, the template untouched', async () => {
    const [a, b] = [await openTestDatabase(), await openTestDatabase()];
    try {
      for (const db of [a, b]) {
        const applied = await db.dataSource.query<{ name: string }[]>('SELECT name FROM migrations ORDER BY id');
        expect(applied.map((m) => m.name)).toEqual(MIGRATIONS.map((m) => m.name));
      }
      await a.dataSource.query(`INSERT INTO notification_cursors (webhook, last_seq, updated_at) VALUES ('only-in-a', 1, now())`);
      expect(await b.dataSource.query(`SELECT * FROM notification_cursors WHERE webhook = 'only-in-a'`)).toEqual([]);
    } finally {
      await a.close();
      await b.close();
    }
    const c = await openTestDatabase();
    try {
      expect(await c.dataSource.query(`SELECT * FROM notification_cursors WHERE webhook = 'only-in-a'`)).toEqual([]);
    } finally {
      await c.close();
    }
  });

  it('should name the template after the migrations key', async () => {
    const serverUrl = process.env.TEST_DATABASE_URL;
    if (serverUrl) {
      const template = await ensurePostgresTemplate(serverUrl);
      expect(template).toBe(`jit_template_${migrationsKey()}`);
      const admin = new Client({ connectionString: serverUrl });
      await admin.connect();
      try {
        expect((await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [template])).rowCount).toBe(1);
      } finally {
        await admin.end();
      }
    } else {
      const template = await ensurePgliteTemplate();
      expect(template).toMatch(new RegExp(`jit-test-template-${migrationsKey()}$`));
      expect(existsSync(`${template}/PG_VERSION`)).toBe(true);
    }
  });
});
