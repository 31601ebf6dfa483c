import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Client, ClientConfig } from 'pg';
import { DataSource } from 'typeorm';
import { prepareDataDirectory, restrictDataDirectory } from './data-directory';
import { CreateGrantsAndAudit1764172800000 } from './migrations/1764172800000-CreateGrantsAndAudit';
import { CreateBrokerJobs1764180000000 } from './migrations/1764180000000-CreateBrokerJobs';
import { AddApprovalDecisions1764185000000 } from './migrations/1764185000000-AddApprovalDecisions';
import { CreateNotificationCursors1764190000000 } from './migrations/1764190000000-CreateNotificationCursors';
import { AddLeaseIndex1764195000000 } from './migrations/1764195000000-AddLeaseIndex';
import { CreateAuditCheckpoints1764200000000 } from './migrations/1764200000000-CreateAuditCheckpoints';
import { AddDecisionGroupsIndex1764203000000 } from './migrations/1764203000000-AddDecisionGroupsIndex';
import { AddOpenApprovalGroups1764206000000 } from './migrations/1764206000000-AddOpenApprovalGroups';
import { AddReconcileScopeIndexes1764210000000 } from './migrations/1764210000000-AddReconcileScopeIndexes';
import { CreateAuditStaging1764230000000 } from './migrations/1764230000000-CreateAuditStaging';
import { AddHistoryCostIndexes1764240000000 } from './migrations/1764240000000-AddHistoryCostIndexes';
import { AddAuditArchival1764241000000 } from './migrations/1764241000000-AddAuditArchival';
import { AddRevokeRequests1764250000000 } from './migrations/1764250000000-AddRevokeRequests';
import { CreateConsoleSessions1764350000000 } from './migrations/1764350000000-CreateConsoleSessions';
import { AddGrantStatsIndexes1764360000000 } from './migrations/1764360000000-AddGrantStatsIndexes';
import { CreateDiscovery1764420000000 } from './migrations/1764420000000-CreateDiscovery';
import { CreateAccessReviews1764430000000 } from './migrations/1764430000000-CreateAccessReviews';
import { AddReviewCampaignFiring1764440000000 } from './migrations/1764440000000-AddReviewCampaignFiring';

export const MIGRATIONS = [
  CreateGrantsAndAudit1764172800000,
  CreateBrokerJobs1764180000000,
  AddApprovalDecisions1764185000000,
  CreateNotificationCursors1764190000000,
  AddLeaseIndex1764195000000,
  CreateAuditCheckpoints1764200000000,
  AddDecisionGroupsIndex1764203000000,
  AddOpenApprovalGroups1764206000000,
  AddReconcileScopeIndexes1764210000000,
  CreateAuditStaging1764230000000,
  AddHistoryCostIndexes1764240000000,
  AddAuditArchival1764241000000,
  AddRevokeRequests1764250000000,
  CreateConsoleSessions1764350000000,
  AddGrantStatsIndexes1764360000000,
  CreateDiscovery1764420000000,
  CreateAccessReviews1764430000000,
  AddReviewCampaignFiring1764440000000,
];

/** Names the embedded database's socket file (`.s.PGSQL.<port>`, as libpq and node-postgres expect); no TCP port is opened. */
const SOCKET_PORT = 5432;

/** A running database connection, plus whatever must be stopped after it (the embedded server). */
export interface Database {
  dataSource: DataSource;
  /** `postgresql` or `embedded (PGlite in <dir>)`, for the startup banner. */
  description: string;
  close(): Promise<void>;
}

/**
 * How long making one connection to the database may take before it fails as "store
 * unavailable" (503): a database that does not answer at all (a partition, a stopped host)
 * must not hold every request until the client gives up. It bounds making a connection only,
 * never the wait for a pooled one: pg-pool applies its own `connectionTimeoutMillis` to queued
 * waiters too, so under a burst (or on the embedded database's single connection) a busy pool
 * would answer 503 although the database is fine.
 */
const CONNECT_TIMEOUT_MS = 5_000;

/** A node-postgres client whose connection attempt, and only that, is bounded. */
function boundedConnectClient(connectTimeoutMs: number): typeof Client {
  return class BoundedConnectClient extends Client {
    constructor(config?: ClientConfig) {
      super({ ...config, connectionTimeoutMillis: connectTimeoutMs });
    }
  };
}

/**
 * Run on every new connection to the embedded database, before the pool hands it out. PGlite is
 * one session behind every socket connection, so what a gone connection left in it stays: a
 * named statement it prepared (the overlap read's, the sweeper's claim) makes the next connection's Parse of that
 * name fail with 42P05 "already exists". The pool closes an idle connection after 10 s and
 * drops one on any error, so the new one forgets them all first, whatever ended the old one.
 */
async function forgetGoneConnections(client: Client): Promise<void> {
  await client.query('DEALLOCATE ALL');
}

/**
 * A TypeORM data source on `url` with at most `poolSize` connections. `sharedSession` is for the
 * embedded database, whose connections all share one session (see forgetGoneConnections).
 */
export function createDataSource(url: string, poolSize = 10, connectTimeoutMs = CONNECT_TIMEOUT_MS, sharedSession = false): DataSource {
  return new DataSource({
    type: 'postgres',
    url,
    migrations: MIGRATIONS,
    migrationsTableName: 'migrations',
    migrationsRun: false,
    synchronize: false,
    uuidExtension: 'pgcrypto',
    installExtensions: false,
    extra: {
      max: poolSize,
      Client: boundedConnectClient(connectTimeoutMs),
      ...(sharedSession ? { onConnect: forgetGoneConnections } : {}),
    },
  });
}

/** The session-level advisory lock replicas take to migrate one at a time ("jit-migr" in ASCII). */
const MIGRATION_LOCK = 0x6a69_742d_6d69_6772n;
const MIGRATION_LOCK_POLL_MS = 250;

/**
 * Applies pending migrations while holding an advisory lock, so replicas started together on
 * one server migrate one after another: the first applies them, the others then find none
 * pending (without it, both ran the first migration and one died on a duplicate table).
 * The lock is a session's, taken outside any transaction, so migrations that build indexes
 * CONCURRENTLY are not held up by it.
 */
async function migrateOneAtATime(dataSource: DataSource): Promise<void> {
  const holder = dataSource.createQueryRunner();
  await holder.connect();
  try {
    // Polled, not waited for inside a statement: a session blocked in pg_advisory_lock keeps a
    // snapshot open, and CREATE INDEX CONCURRENTLY in the first replica's migration would wait
    // for it while it waits for the lock (a deadlock PostgreSQL does not detect).
    for (;;) {
      const [{ locked }] = await holder.query('SELECT pg_try_advisory_lock($1) AS locked', [MIGRATION_LOCK.toString()]);
      if (locked) break;
      await sleep(MIGRATION_LOCK_POLL_MS);
    }
    try {
      await dataSource.runMigrations({ transaction: 'each' });
    } finally {
      await holder.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK.toString()]);
    }
  } finally {
    await holder.release();
  }
}

/**
 * Opens PostgreSQL at `url`, or, without one, the embedded PostgreSQL (PGlite served on a
 * loopback socket, toolchain.md) in `dataDir`; then applies pending migrations.
 */
export async function openDatabase(url: string | undefined, dataDir: string): Promise<Database> {
  if (url) {
    const dataSource = createDataSource(url);
    await dataSource.initialize();
    try {
      await migrateOneAtATime(dataSource);
    } catch (e) {
      await dataSource.destroy();
      throw e;
    }
    return { dataSource, description: 'postgresql', close: () => dataSource.destroy() };
  }
  prepareDataDirectory(dataDir);
  const { PGlite } = await import('@electric-sql/pglite');
  const { PGLiteSocketServer } = await import('@electric-sql/pglite-socket');
  const db = await PGlite.create(dataDir);
  restrictDataDirectory(dataDir);
  // A Unix socket in a folder of mode 0700, not a loopback port: PGlite asks for no password,
  // so a port would let every local user read and rewrite the database, audit log included.
  const socketDir = mkdtempSync(join(tmpdir(), 'jit-pglite-'));
  const server = new PGLiteSocketServer({ db, path: join(socketDir, `.s.PGSQL.${SOCKET_PORT}`), maxConnections: 4 });
  await server.start();
  const address = `${encodeURIComponent(socketDir)}:${SOCKET_PORT}`;
  // One connection: PGlite is a single session, and the socket server interleaves the
  // extended-protocol messages of concurrent connections ("portal does not exist").
  const dataSource = createDataSource(`postgres://postgres:postgres@${address}/postgres`, 1, CONNECT_TIMEOUT_MS, true);
  try {
    await dataSource.initialize();
    await dataSource.runMigrations({ transaction: 'each' });
  } catch (e) {
    await server.stop();
    await db.close();
    rmSync(socketDir, { recursive: true, force: true });
    throw e;
  }
  return {
    dataSource,
    description: `embedded PostgreSQL (PGlite in ${dataDir})`,
    async close() {
      await dataSource.destroy();
      await server.stop();
      await db.close();
      rmSync(socketDir, { recursive: true, force: true });
    },
  };
}
