import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import os from 'node:os';
import { performance } from 'node:perf_hooks';
import { DataSource } from 'typeorm';
import { AuditLog, AuditTrail, linkStagedEvents } from '@jit/audit';
import { Grant, SystemClock } from '@jit/domain';
import { PostgresAuditChainStore, PostgresUnitOfWork } from '@jit/persistence';
import { openScratchDatabase } from './scratch-database';

/**
 * `npm run bench:write-path`: the database side of a grant without HTTP, rules or clouds, so a
 * change to the write path can be weighed on a machine too noisy for `npm run bench` (issue 12
 * point 6). In a scratch database on BENCH_DATABASE_URL (default the local PostgreSQL; dropped
 * at the end), for WRITE_PATH_ROUNDS rounds (default 3) each:
 *
 * 1. WRITE_PATH_GRANTS grants (default 6,000) from WRITE_PATH_WRITERS concurrent writers (default
 *    64), each grant as the API writes it: the insert with `grant.requested` and `grant.approved`
 *    through the group commit (`AuditLog.write`), then the activation with `grant.provisioned`
 *    and `grant.activated`, then the chaining of all of them (`AuditLog.chained()`);
 * 2. WRITE_PATH_EVENTS staged events (default 40,000, shaped like a grant's) chained by rounds of
 *    2,000 (`PostgresAuditChainStore.chainStaged`), after a CHECKPOINT so the staging inserts' writes are not counted.
 *
 * It prints the rate, node's CPU per grant or event (`process.cpuUsage()`: this process does the
 * broker's part and nothing else), the CPU of this process's PostgreSQL backends (`/proc/<pid>/stat`,
 * client backends only, so autovacuum is not counted) and the group commit's statements. Prints
 * figures; asserts nothing.
 */
const SERVER_URL = process.env.BENCH_DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/test';
const ROUNDS = positive('WRITE_PATH_ROUNDS', 3);
const GRANTS = positive('WRITE_PATH_GRANTS', 6_000);
const WRITERS = positive('WRITE_PATH_WRITERS', 64);
const EVENTS = positive('WRITE_PATH_EVENTS', 40_000);
const CLK_TCK = 100;

function positive(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isSafeInteger(n) || n < 1) throw new Error(`${name} must be a positive integer, got ${JSON.stringify(raw)}`);
  return n;
}

/** CPU ms of the database's client backends, by pid. */
async function backendCpu(ds: DataSource): Promise<Map<number, number>> {
  const rows: { pid: number }[] = await ds.query(`SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND backend_type = 'client backend'`);
  const out = new Map<number, number>();
  for (const { pid } of rows) {
    try {
      const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /, '').split(' ');
      out.set(pid, ((Number(fields[11]) + Number(fields[12])) * 1000) / CLK_TCK);
    } catch {
      /* not on this host, or gone */
    }
  }
  return out;
}

async function measure(ds: DataSource, work: () => Promise<void>): Promise<{ wallMs: number; nodeMs: number; pgMs: number }> {
  const pg0 = await backendCpu(ds);
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  await work();
  const wallMs = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  const pg1 = await backendCpu(ds);
  let pgMs = 0;
  for (const [pid, ms] of pg1) pgMs += ms - (pg0.get(pid) ?? 0);
  return { wallMs, nodeMs: (cpu.user + cpu.system) / 1000, pgMs };
}

function grantOf(n: number, now: Date): Grant {
  const id = randomUUID();
  return {
    id, state: 'provisioning', cloud: 'aws', kind: 'aws.iam-policy',
    principal: { type: 'workload', id: `arn:aws:iam::123456789012:role/wp${n}` },
    target: { kind: 'aws.iam-policy', actions: ['s3:PutObject'], resources: ['arn:aws:s3:::artifacts/*'] },
    requestedBy: 'bench-pipeline', justification: 'release 1.4.2', ticket: 'CHG-1234', durationSeconds: 3600,
    createdAt: now, startsAt: now, expiresAt: new Date(now.getTime() + 3_600_000), endedAt: null, endReason: null,
    approvals: [{ approver: 'policy', decision: 'approved', at: now.toISOString() }],
    artifactName: `jit-${id}`, overlapKey: `aws:wp${n}`, providerRef: null,
    lastError: null, attempts: 0, nextAttemptAt: null, decision: null, approvalDeadline: null, revokeRequest: null,
  };
}

async function main(): Promise<void> {
  const scratch = await openScratchDatabase(SERVER_URL, 'jit_write_path');
  const ds = scratch.db.dataSource;
  const clock = new SystemClock();
  const unitOfWork = new PostgresUnitOfWork(ds, clock, 'bench-write-path');
  const chain = new PostgresAuditChainStore(ds);
  const audit = new AuditLog(unitOfWork, chain, clock);
  let made = 0;
  const oneGrant = async () => {
    const now = new Date();
    const g = grantOf(made++, now);
    await audit.write(
      { op: 'insert', grant: g, idempotency: { key: randomUUID(), requestHash: 'f'.repeat(64) }, leaseUntil: new Date(now.getTime() + 60_000) },
      [AuditTrail.requested(g, null), AuditTrail.approved(g, 'policy', null, true)],
    );
    const providerRef = { local: 'aws', artifact: g.artifactName };
    const active: Grant = { ...g, state: 'active', providerRef };
    await audit.write({ op: 'transition', id: g.id, from: 'provisioning', to: 'active', patch: { providerRef } }, [
      AuditTrail.provisioned(active, providerRef, false),
      AuditTrail.activated(active, now),
    ]);
  };
  try {
    console.log('JIT broker write path (no HTTP, rules or clouds)');
    console.log(`  node ${process.version}; load average at start ${os.loadavg().map((x) => x.toFixed(2)).join(' / ')}; database ${new URL(scratch.url).pathname.slice(1)}`);
    console.log(`\n1. grants through the group commit: ${GRANTS} per round, ${WRITERS} writers (insert, then activation; 2 events each)`);
    for (let round = 1; round <= ROUNDS; round++) {
      const before = unitOfWork.writeBatchStats();
      let left = GRANTS;
      const m = await measure(ds, async () => {
        await Promise.all(Array.from({ length: WRITERS }, async () => {
          while (left-- > 0) await oneGrant();
        }));
        await audit.chained();
      });
      const after = unitOfWork.writeBatchStats();
      const statements = after.statements - before.statements;
      console.log(
        `  round ${round}: ${((GRANTS / m.wallMs) * 1000).toFixed(0)} grants/s; per grant node ${((m.nodeMs / GRANTS) * 1000).toFixed(0)} µs, PostgreSQL ${((m.pgMs / GRANTS) * 1000).toFixed(0)} µs; ` +
          `${statements} write statements (${((after.writes - before.writes) / statements).toFixed(1)} writes each)`,
      );
    }
    console.log(`\n2. chaining ${EVENTS} staged events per round, rounds of 2,000`);
    for (let round = 1; round <= ROUNDS; round++) {
      await ds.query(
        `INSERT INTO audit_staged (event_id, occurred_at, type, grant_id, cloud, principal, actor, data)
         SELECT gen_random_uuid(), now(), 'grant.activated', gen_random_uuid(), 'aws', 'arn:aws:iam::123456789012:role/wp' || g, 'bench-pipeline',
           jsonb_build_object('target', jsonb_build_object('kind', 'aws.iam-policy', 'actions', jsonb_build_array('s3:PutObject'),
             'resources', jsonb_build_array('arn:aws:s3:::artifacts/*')), 'expiresAt', now()::text, 'reason', 'release ' || g,
             'providerRef', jsonb_build_object('local', 'aws', 'artifact', 'jit-' || g))
         FROM generate_series(1, $1::int) g`,
        [EVENTS],
      );
      await ds.query('CHECKPOINT');
      let chained = 0;
      const m = await measure(ds, async () => {
        for (let n = await chain.chainStaged(linkStagedEvents, 2_000); n > 0; n = await chain.chainStaged(linkStagedEvents, 2_000)) chained += n;
      });
      console.log(
        `  round ${round}: ${((chained / m.wallMs) * 1000).toFixed(0)} events/s; per event node ${((m.nodeMs / chained) * 1000).toFixed(1)} µs, PostgreSQL ${((m.pgMs / chained) * 1000).toFixed(1)} µs`,
      );
    }
    console.log(`\n  load average at end ${os.loadavg().map((x) => x.toFixed(2)).join(' / ')}`);
  } finally {
    await scratch.drop();
  }
}

main().then(
  () => process.exit(0),
  (e: unknown) => {
    console.error(e);
    process.exit(1);
  },
);
