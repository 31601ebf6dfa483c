import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { Client } from 'pg';
import { Database, openDatabase } from '@jit/persistence';

/** A database created on `server` for one benchmark run, migrated as the broker does, dropped by `drop()`. */
export interface ScratchDatabase {
  db: Database;
  url: string;
  /** Closes the broker's pool and drops the database (connections still open are cut). */
  drop(): Promise<void>;
}

export async function openScratchDatabase(server: string, prefix: string): Promise<ScratchDatabase> {
  const name = `${prefix}_${randomBytes(4).toString('hex')}`;
  const admin = new Client({ connectionString: server });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  const url = new URL(server);
  url.pathname = `/${name}`;
  const db = await openDatabase(url.toString(), '');
  return {
    db,
    url: url.toString(),
    async drop() {
      await db.close();
      await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await admin.end();
    },
  };
}

/** The median wall time of `runs` calls of `fn`, in milliseconds. */
export async function medianMs(runs: number, fn: () => Promise<unknown>): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t = performance.now();
    await fn();
    times.push(performance.now() - t);
  }
  return times.sort((a, b) => a - b)[Math.floor(runs / 2)];
}

/** Whether BENCH_ANALYZE (on unless set to 0) asks for `analyzeAfterLoad`; any other value than 0 or 1 stops the run. */
export function benchAnalyze(env: NodeJS.ProcessEnv = process.env): boolean {
  const value = env.BENCH_ANALYZE?.trim() ?? '';
  if (value !== '' && value !== '0' && value !== '1') throw new Error(`BENCH_ANALYZE must be 0 or 1, got ${JSON.stringify(env.BENCH_ANALYZE)}`);
  return value !== '0';
}

/**
 * With BENCH_ANALYZE on (the default), `ANALYZE` the tables a bulk preload or a warm-up has just
 * filled, as autovacuum does within its naptime (a minute) and an operator does after a bulk load.
 * Without it the broker plans its statements on the statistics of a nearly empty database: a run
 * on a 10,000-grant preload read every open grant for each overlap read (a bitmap scan of
 * IDX_grants_cloud_open instead of IDX_grants_overlap_live) and PostgreSQL spent 0.72 ms of CPU per
 * expiry instead of 0.21 (docs/benchmarks.md). Returns whether it ran.
 */
export async function analyzeAfterLoad(db: { query(sql: string): Promise<unknown> }, env: NodeJS.ProcessEnv = process.env): Promise<boolean> {
  if (!benchAnalyze(env)) return false;
  await db.query('ANALYZE grants, audit_events, audit_staged');
  return true;
}
