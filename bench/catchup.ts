import { ChildProcess, fork } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Pool } from 'pg';
import { freePort } from '../test/setup/free-port';

/**
 * Phase 4's cost and multi-process measurements (`npm run bench`): node CPU and statements per
 * expiry, the CPU of the brokers' PostgreSQL backends, and a catch-up run by 1..n broker
 * processes on one database (bench/catchup-broker.child.ts).
 */

/** Clock ticks per second of /proc/<pid>/stat (USER_HZ, 100 on Linux). */
const CLK_TCK = 100;

/** The bench's own sessions are named so, and left out of the brokers' database CPU. */
export const BENCH_APPLICATION = 'jit-bench-driver';

/** CPU ms of each backend on `db` but the bench's own (utime + stime from /proc), by pid; empty where /proc is not this host's. */
export async function backendCpu(pool: Pool, db: string): Promise<Map<number, number>> {
  const { rows } = await pool.query(`SELECT pid FROM pg_stat_activity WHERE datname = $1 AND application_name <> $2`, [db, BENCH_APPLICATION]);
  const out = new Map<number, number>();
  for (const { pid } of rows as { pid: number }[]) {
    const ms = processCpuMs(pid);
    if (!Number.isNaN(ms)) out.set(pid, ms);
  }
  return out;
}

/** CPU ms (utime + stime from /proc/<pid>/stat) of a process of this host so far; NaN if it is not one (gone, or another host's). */
export function processCpuMs(pid: number): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /, '').split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLK_TCK;
  } catch {
    return NaN;
  }
}

/** CPU ms the backends spent between two backendCpu samples (a backend that started in between counts from zero). */
export function backendCpuDelta(before: Map<number, number>, after: Map<number, number>): number {
  let sum = 0;
  for (const [pid, ms] of after) sum += ms - (before.get(pid) ?? 0);
  return sum;
}

/** Statements by first word (SELECT, WITH, UPDATE, ...) as a short line, most first. */
export function formatCounts(counts: Record<string, number>, per: number): string {
  const total = Object.values(counts).reduce((a, b) => a + b, 0);
  const parts = Object.entries(counts)
    .sort((a, b) => b[1] - a[1])
    .map(([verb, n]) => `${verb} ${(n / per).toFixed(3)}`);
  return `${(total / per).toFixed(3)} (${parts.join(', ')})`;
}

interface ChildReport {
  cpuMs: number;
  counts: Record<string, number>;
  revoked: string[];
}

interface CatchUpChild {
  child: ChildProcess;
  url: string;
  ask<T>(op: string, answer: string): Promise<T>;
  output(): string;
}

async function forkChild(env: Record<string, string>): Promise<CatchUpChild> {
  const port = await freePort();
  const child = fork(join(__dirname, 'catchup-broker.child.ts'), [], {
    execArgv: ['--experimental-vm-modules', '-r', '@swc-node/register'],
    env: { ...process.env, NODE_ENV: 'test', HOST: '127.0.0.1', PORT: String(port), ...env },
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
  });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const next = (op: string) =>
    new Promise<Record<string, unknown>>((resolve, reject) => {
      const onMessage = (m: Record<string, unknown>) => {
        if (m.op !== op) return;
        child.off('message', onMessage);
        child.off('exit', onExit);
        resolve(m);
      };
      const onExit = () => reject(new Error(`catch-up broker exited:\n${out}`));
      child.on('message', onMessage);
      child.once('exit', onExit);
    });
  const ready = await next('ready');
  return {
    child,
    url: ready.url as string,
    output: () => out,
    async ask<T>(op: string, answer: string) {
      const reply = next(answer);
      child.send({ op });
      return (await reply) as T;
    },
  };
}

export interface CatchUpReplicasOptions {
  dbUrl: string;
  dbName: string;
  /** The bench's pool (application_name BENCH_APPLICATION). */
  pool: Pool;
  replicas: number;
  /** The broker environment of replica `i` (database, tokens, rules, replica id). */
  env(i: number): Record<string, string>;
  /** Stores `count` active grants that are not yet due; returns their ids. */
  preload(): Promise<{ ids: string[]; preloadMs: number }>;
  /** Resolves once a broker has chained every audit event committed so far (bench/audit-chained.ts). */
  chained(url: string): Promise<void>;
  /** GET /v1/audit/verify of a broker. */
  verify(url: string): Promise<{ ok: boolean; checked: number }>;
  /** How long to wait for the last expiry. */
  timeoutMs?: number;
}

/**
 * A catch-up run by `replicas` broker processes at once: the grants are stored not yet due while
 * the brokers start, then made due at one instant a little ahead (expires_at = T), so every
 * replica's sweeper wakes at T on its own timer (its poll arms it: T is within two sweep
 * intervals) and none has a head start from booting first. The figure is expiries/s from T to
 * the last `ended_at`; each replica reports its CPU, its statements and the grants it revoked.
 */
export async function catchUpReplicas(o: CatchUpReplicasOptions) {
  const children = await Promise.all(Array.from({ length: o.replicas }, (_, i) => forkChild(o.env(i))));
  try {
    const { ids, preloadMs } = await o.preload();
    // Past the next poll of every replica (JIT_SWEEP_INTERVAL 5 s by default), within the horizon (2 intervals) it looks ahead.
    const leadMs = 6_000;
    const { rows: t } = await o.pool.query(
      `UPDATE grants SET expires_at = now() + make_interval(secs => $2::float8 / 1000) WHERE id = ANY($1::uuid[]) RETURNING expires_at`,
      [ids, leadMs],
    );
    const dueAt = new Date(t[0].expires_at).getTime();
    await new Promise((r) => setTimeout(r, Math.max(0, dueAt - Date.now() - 300)));
    await Promise.all(children.map((c) => c.ask('mark', 'marked')));
    const pg0 = await backendCpu(o.pool, o.dbName);
    const deadline = Date.now() + (o.timeoutMs ?? 300_000);
    let ended = 0;
    while (Date.now() < deadline) {
      const { rows } = await o.pool.query(`SELECT count(*)::int AS n FROM grants WHERE id = ANY($1::uuid[]) AND state = 'expired'`, [ids]);
      ended = rows[0].n;
      if (ended >= ids.length) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    const pgCpuMs = backendCpuDelta(pg0, await backendCpu(o.pool, o.dbName));
    const reports = await Promise.all(children.map((c) => c.ask<ChildReport>('report', 'report')));
    const { rows } = await o.pool.query(`SELECT min(ended_at) AS first, max(ended_at) AS last FROM grants WHERE id = ANY($1::uuid[])`, [ids]);
    // A state change answers before its events are chained (docs/audit.md): the last round's would otherwise be missed.
    await o.chained(children[0].url);
    const { rows: audit } = await o.pool.query(
      `SELECT count(DISTINCT grant_id)::int AS n, count(*)::int AS events FROM audit_events WHERE type = 'grant.expired' AND grant_id = ANY($1::uuid[])`,
      [ids],
    );
    const counts: Record<string, number> = {};
    for (const r of reports) for (const [k, n] of Object.entries(r.counts)) counts[k] = (counts[k] ?? 0) + n;
    const revokes = reports.reduce((a, r) => a + r.revoked.length, 0);
    const seen = new Map<string, number>();
    for (const r of reports) for (const id of new Set(r.revoked)) seen.set(id, (seen.get(id) ?? 0) + 1);
    return {
      preloadMs,
      ended,
      elapsedMs: new Date(rows[0].last).getTime() - dueAt,
      cpuMs: reports.reduce((a, r) => a + r.cpuMs, 0),
      pgCpuMs,
      counts,
      perReplica: reports.map((r) => r.revoked.length),
      revokes,
      /** Grants revoked by more than one replica: two replicas fought over a row. */
      doubled: [...seen.values()].filter((n) => n > 1).length,
      expiredAudited: audit[0].n as number,
      expiredEvents: audit[0].events as number,
      verify: await o.verify(children[0].url),
    };
  } finally {
    await Promise.all(
      children.map(async (c) => {
        if (c.child.exitCode !== null || c.child.signalCode !== null) return;
        const exited = once(c.child, 'exit');
        c.child.send({ op: 'exit' });
        await exited;
      }),
    );
  }
}
