import { createServer, get, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Pool } from 'pg';
import type { PostgresDriver } from 'typeorm/driver/postgres/PostgresDriver';
import type { AuditEvent } from '@jit/domain';
import { PostgresAuditChainStore } from '@jit/persistence';
import { sendAuditExport, type AuditExportFormat } from '../../apps/broker/src/http/audit-export';
import { openTestDatabase } from '../setup/test-database';
import { pollUntil } from '../setup/poll-until.util';

const EVENTS = 20_000;
const PAGE = 200;

/**
 * Issue 12 point 7: the audit export against the real store and database, read by a real HTTP
 * client that goes away after the first bytes. The export must stop asking for pages (far fewer
 * than the 100 the log holds) and leave no connection checked out of the pool and no query running.
 */
describe('audit export when the client goes away', () => {
  let db: Awaited<ReturnType<typeof openTestDatabase>>;
  let server: Server;
  let url: string;
  let format: AuditExportFormat;
  let pulled = 0;
  let closed = false;
  let finished: Promise<void> | undefined;

  beforeAll(async () => {
    db = await openTestDatabase();
    await db.dataSource.query(
      `INSERT INTO audit_events (seq, id, occurred_at, type, grant_id, cloud, principal, actor, data, prev_hash, hash)
       SELECT g, gen_random_uuid(), timestamptz '2026-01-01' + g * interval '1 second', 'grant.requested', gen_random_uuid(),
              'aws', 'user:dev' || (g % 50) || '@example.com', 'ci:acme', jsonb_build_object('reason', 'incident INC-' || g),
              md5((g - 1)::text) || md5((g - 1)::text), md5(g::text) || md5(g::text)
       FROM generate_series(1, ${EVENTS}) AS g`,
    );
    const store = new PostgresAuditChainStore(db.dataSource);
    server = createServer((req, res) => {
      async function* counted(): AsyncGenerator<AuditEvent[]> {
        try {
          for await (const page of store.stream({}, PAGE)) {
            pulled += 1;
            yield page;
          }
        } finally {
          closed = true;
        }
      }
      finished = sendAuditExport(counted(), format, res);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
    await db.close();
  });

  it.each(['jsonl', 'csv'] as const)('should stop reading pages and release the connection (%s)', async (f) => {
    format = f;
    pulled = 0;
    closed = false;
    const pool = (db.dataSource.driver as PostgresDriver).master as Pool;

    await new Promise<void>((resolve, reject) => {
      const req = get(url, (res) => {
        res.once('data', () => {
          req.destroy();
          resolve();
        });
      });
      req.on('error', (e: NodeJS.ErrnoException) => (e.code === 'ECONNRESET' ? undefined : reject(e)));
    });
    await finished;

    await pollUntil(async () => (closed ? true : undefined), 30_000);
    expect(pulled).toBeLessThan(EVENTS / PAGE);
    // Every connection the export used is back in the pool, and none is running a query.
    await pollUntil(async () => (pool.totalCount === pool.idleCount ? true : undefined), 30_000);
    const active = await db.dataSource.query(
      `SELECT count(*)::int AS n FROM pg_stat_activity WHERE state = 'active' AND query LIKE '%FROM audit_events%' AND pid <> pg_backend_pid()`,
    );
    expect(active).toEqual([{ n: 0 }]);
  });
});
