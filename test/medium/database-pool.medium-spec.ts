import { createServer, Server, Socket } from 'node:net';
import { Client, Pool, PoolClient } from 'pg';
import { PostgresDriver } from 'typeorm/driver/postgres/PostgresDriver';
import { SystemClock } from '@jit/domain';
import { MIGRATIONS, PostgresGrantRepository, isStoreUnavailable, createDataSource, openDatabase } from '@jit/persistence';
import { openTestDatabase } from '../setup/test-database';

/**
 * The pool bounds making a connection (a database that does not answer is "unavailable", a
 * 503), never the wait for a pooled one: a burst on a busy pool, or on the embedded database's
 * single connection, must queue, not fail.
 */
describe('database pool timeouts', () => {
  it('should queue a query behind a connection held longer than the connect timeout, not fail it', async () => {
    const db = await openTestDatabase();
    const url = (db.dataSource.options as { url: string }).url;
    // One connection and a 300 ms connect bound: the second query waits about a second for the first.
    const pool = createDataSource(url, 1, 300);
    await pool.initialize();
    try {
      const holder = pool.createQueryRunner();
      await holder.connect();
      await holder.startTransaction();
      await holder.query('SELECT 1');
      const queued = pool.query('SELECT 42 AS answer');
      await new Promise((r) => setTimeout(r, 1000));
      await holder.commitTransaction();
      await holder.release();
      await expect(queued).resolves.toEqual([{ answer: 42 }]);
    } finally {
      await pool.destroy();
      await db.close();
    }
  });

  it('should fail, as store unavailable, a connection the server accepts but never answers', async () => {
    const sockets: Socket[] = [];
    const silent: Server = createServer((s) => sockets.push(s));
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    const port = (silent.address() as { port: number }).port;
    const pool = createDataSource(`postgres://postgres@127.0.0.1:${port}/none`, 1, 300);
    try {
      const error = await pool.initialize().then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toBeDefined();
      expect(isStoreUnavailable(error)).toBe(true);
    } finally {
      if (pool.isInitialized) await pool.destroy();
      sockets.forEach((s) => s.destroy());
      await new Promise((r) => silent.close(r));
    }
  });

  /**
   * Review finding 1: the overlap read is a named statement. On the embedded database every
   * connection shares PGlite's one session, so after the pool replaced its connection (idle for
   * 10 s, or dropped on an error) the next Parse of that name failed with 42P05 until restart.
   * On a server a named statement is the connection's own, and a new one prepares it afresh.
   */
  it('should keep answering the overlap read after the pool replaced its connection, closed or broken', async () => {
    const db = await openTestDatabase();
    try {
      const grants = new PostgresGrantRepository(db.dataSource, new SystemClock());
      const pool = (db.dataSource.driver as PostgresDriver).master as Pool;
      const replace = async (how: (c: PoolClient) => void) => {
        const client = await pool.connect();
        how(client);
      };
      await expect(grants.liveWithOverlapKey('k', '00000000-0000-0000-0000-000000000000')).resolves.toEqual([]);
      // Closed as the pool closes an idle connection.
      await replace((c) => c.release(true));
      await expect(grants.liveWithOverlapKey('k', '00000000-0000-0000-0000-000000000000')).resolves.toEqual([]);
      // Broken: the socket goes away under the client, which the pool then drops.
      await replace((c) => {
        (c as unknown as { connection: { stream: { destroy(): void } } }).connection.stream.destroy();
        c.release(new Error('connection lost'));
      });
      await expect(grants.liveWithOverlapKey('k', '00000000-0000-0000-0000-000000000000')).resolves.toEqual([]);
      expect(pool.totalCount).toBeLessThanOrEqual(db.url ? 10 : 1);
    } finally {
      await db.close();
    }
  });

  // Replicas started together on an empty server database: needs a server (TEST_DATABASE_URL, as in .ci/run's PostgreSQL pass).
  const serverUrl = process.env.TEST_DATABASE_URL;
  (serverUrl ? it : it.skip)('should let replicas opening an empty database together migrate it one after the other', async () => {
    const name = `jit_migrate_race_${process.pid}_${Date.now()}`;
    const admin = new Client({ connectionString: serverUrl });
    await admin.connect();
    await admin.query(`CREATE DATABASE ${name}`);
    const url = new URL(serverUrl!);
    url.pathname = `/${name}`;
    try {
      const opened = await Promise.all([1, 2, 3].map(() => openDatabase(url.toString(), '')));
      const applied = await opened[0].dataSource.query<{ name: string }[]>('SELECT name FROM migrations ORDER BY id');
      expect(applied.map((m) => m.name)).toEqual(MIGRATIONS.map((m) => m.name));
      await Promise.all(opened.map((db) => db.close()));
    } finally {
      await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await admin.end();
    }
  });
});
