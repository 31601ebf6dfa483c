import 'reflect-metadata';
import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { Client } from 'pg';
import { AuditLog, CheckpointKeyring, CheckpointSigner, hashEvent } from '@jit/audit';
import { AuditEvent, GENESIS_HASH, SystemClock } from '@jit/domain';
import { AuditLogUseCase } from '@jit/grants';
import { PostgresAuditChainStore, PostgresAuditCheckpointStore, PostgresGrantRepository, PostgresUnitOfWork } from '@jit/persistence';
import { archiveHistory } from '../apps/broker/src/cli/audit-archive';
import { intEnv } from './env';
import { medianMs, openScratchDatabase } from './scratch-database';

/**
 * `npm run bench:history`: what reads cost once history has piled up (issue 12 point 5). Seeds
 * BENCH_HISTORY_GRANTS grants (default 1,000,000; 2 % open, the rest ended) with SQL, and
 * BENCH_HISTORY_EVENTS audit events (default 1,000,000, one every 31 s over a year; AWS 80 % and Azure 20 %,
 * and GCP only in the last 1 %)
 * chained and hashed as the audit log does, with a signed checkpoint every 1,000. Then times, each
 * the median of 5 runs: /metrics' grant count (the old GROUP BY and the new one), audit queries
 * (cloud filter, time windows) before and after this change's indexes and seq bounds, verify from
 * the latest checkpoint and from genesis, and one archival. Prints figures; asserts nothing.
 */
const EVENTS = intEnv('BENCH_HISTORY_EVENTS', 1_000_000);
const GRANTS = intEnv('BENCH_HISTORY_GRANTS', 1_000_000);
const SERVER = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const CHECKPOINT_EVERY = 1000;
const STEP_MS = 31_000;
const START = Date.UTC(2025, 0, 1);

const line = (k: string, v: string) => console.log(`  ${k.padEnd(58)} ${v}`);
const ms = (x: number) => `${x < 10 ? x.toFixed(2) : x.toFixed(0)} ms`;


async function main(): Promise<void> {
  const scratch = await openScratchDatabase(SERVER, 'jit_bench_history');
  const { db } = scratch;
  const sql = new Client({ connectionString: scratch.url });
  await sql.connect();
  const out = mkdtempSync(join(tmpdir(), 'jit-bench-history-'));
  try {
    const ds = db.dataSource;
    const clock = new SystemClock();
    const signer = CheckpointSigner.fromPem(generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(), 'bench');
    const checkpoints = new PostgresAuditCheckpointStore(ds);
    console.log(`JIT broker history costs: ${GRANTS.toLocaleString('en-US')} grants, ${EVENTS.toLocaleString('en-US')} audit events on PostgreSQL; load average ${(await import('node:os')).loadavg().map((l) => l.toFixed(1)).join(' ')}`);

    let t = performance.now();
    await sql.query(
      `INSERT INTO grants (id, state, cloud, kind, principal_type, principal_id, target, requested_by, duration_seconds, created_at, starts_at,
         expires_at, ended_at, end_reason, artifact_name, overlap_key, updated_at, approval_deadline)
       SELECT gen_random_uuid(),
         CASE WHEN i % 100 = 0 THEN 'active' WHEN i % 100 = 1 THEN 'pending_approval' WHEN i % 4 = 0 THEN 'revoked' WHEN i % 4 = 1 THEN 'denied'
              WHEN i % 4 = 2 THEN 'failed' ELSE 'expired' END,
         (ARRAY['aws','azure','gcp'])[1 + i % 3], 'aws.iam-policy', 'role', 'p-' || (i % 5000), '{"actions":["s3:GetObject"]}', 'u-' || (i % 300), 3600,
         to_timestamp($1 / 1000.0 + i * 31), to_timestamp($1 / 1000.0 + i * 31), to_timestamp($1 / 1000.0 + i * 31 + 3600),
         CASE WHEN i % 100 > 1 THEN to_timestamp($1 / 1000.0 + i * 31 + 3600) END, NULL, 'jit-' || i, 'ok-' || i, now(),
         CASE WHEN i % 100 = 1 THEN now() + interval '1 day' END
       FROM generate_series(1, $2::int) i`,
      [START, GRANTS],
    );
    line('seed grants (SQL)', `${((performance.now() - t) / 1000).toFixed(1)} s`);

    t = performance.now();
    let prev = GENESIS_HASH;
    const BATCH = 1000;
    for (let from = 1; from <= EVENTS; from += BATCH) {
      const values: string[] = [];
      const params: unknown[] = [];
      let last: AuditEvent | null = null;
      for (let seq = from; seq < from + BATCH && seq <= EVENTS; seq++) {
        const r = seq % 100;
        const e = {
          seq, id: randomUUID(), occurredAt: new Date(START + seq * STEP_MS), type: 'grant.requested' as const, grantId: randomUUID(),
          // GCP comes in late: its events are the last 1 %, as for a cloud added during the year.
          cloud: seq > EVENTS * 0.99 ? ('gcp' as const) : r < 80 ? ('aws' as const) : ('azure' as const), principal: `p-${seq % 5000}`, actor: `u-${seq % 300}`,
          data: { kind: 'aws.iam-policy', durationSeconds: 900, justification: 'bench' }, prevHash: prev,
        };
        const hash = hashEvent(e);
        const b = params.length;
        params.push(e.seq, e.id, e.occurredAt, e.type, e.grantId, e.cloud, e.principal, e.actor, JSON.stringify(e.data), e.prevHash, hash);
        values.push(`(${Array.from({ length: 11 }, (_, i) => `$${b + i + 1}`).join(',')})`);
        prev = hash;
        last = { ...e, hash };
      }
      await sql.query(`INSERT INTO audit_events (seq, id, occurred_at, type, grant_id, cloud, principal, actor, data, prev_hash, hash) VALUES ${values.join(',')}`, params);
      // The last thousand are left unsigned, as a running broker's latest events are.
      if (last && last.seq % CHECKPOINT_EVERY === 0 && last.seq < EVENTS) await checkpoints.add(signer.sign(last.seq, last.hash, new Date(last.occurredAt.getTime() + 1000)));
      if (last) await sql.query(`UPDATE audit_chain_head SET seq = $1, hash = $2`, [last.seq, last.hash]);
    }
    await sql.query(`VACUUM ANALYZE grants`);
    await sql.query(`VACUUM ANALYZE audit_events`);
    line('seed audit events (hashed in node, multi-row INSERTs)', `${((performance.now() - t) / 1000).toFixed(1)} s`);

    console.log('\n/metrics: grants per state');
    const grants = new PostgresGrantRepository(ds, clock);
    line('before: GROUP BY state over every grant', ms(await medianMs(5, () => sql.query(`SELECT state, count(*) AS n FROM grants GROUP BY state`))));
    line('after: non-terminal states (IDX_grants_open_state)', ms(await medianMs(5, () => grants.countByState())));

    console.log('\naudit queries, first page of 100 (GET /v1/audit)');
    const chain = new PostgresAuditChainStore(ds);
    const at = (fraction: number) => new Date(START + Math.round(EVENTS * fraction) * STEP_MS);
    const cases: [string, Parameters<PostgresAuditChainStore['list']>[0], string, unknown[]][] = [
      ['cloud=gcp (the last 1 % of events)', { cloud: 'gcp' }, `cloud = $1`, ['gcp']],
      ['cloud=azure (20 % of events, spread)', { cloud: 'azure' }, `cloud = $1`, ['azure']],
      ['one day in the middle of the year', { from: at(0.5), to: new Date(at(0.5).getTime() + 86_400_000) }, `occurred_at >= $1 AND occurred_at < $2`, [at(0.5), new Date(at(0.5).getTime() + 86_400_000)]],
      ['from the middle of the year on', { from: at(0.5) }, `occurred_at >= $1`, [at(0.5)]],
      ['the last 10 days', { from: new Date(at(1).getTime() - 10 * 86_400_000) }, `occurred_at >= $1`, [new Date(at(1).getTime() - 10 * 86_400_000)]],
    ];
    for (const [label, filter, where, params] of cases) {
      // Before: the old query, with the new cloud index dropped inside a transaction that is rolled back.
      await sql.query('BEGIN');
      await sql.query(`DROP INDEX "IDX_audit_cloud_seq"`);
      const before = await medianMs(5, () => sql.query(`SELECT * FROM audit_events WHERE seq > 0 AND ${where} ORDER BY seq LIMIT 101`, params));
      await sql.query('ROLLBACK');
      const after = await medianMs(5, () => chain.list(filter, 100, null));
      line(label, `before ${ms(before)}, after ${ms(after)}`);
    }

    console.log('\nverify (GET /v1/audit/verify)');
    const auditLog = new AuditLog(new PostgresUnitOfWork(ds, clock, 'bench'), chain, clock);
    const useCase = new AuditLogUseCase(auditLog, { keyring: new CheckpointKeyring([signer.publicKeyPem]), publicKeyPem: signer.publicKeyPem, store: checkpoints, sinks: [] });
    const auditor = { subject: 'bench-auditor', roles: ['auditor' as const] };
    for (const full of [false, true]) {
      const t0 = performance.now();
      const r = await useCase.verify(auditor, { full });
      line(full ? 'full=true (from genesis)' : 'default (from the latest signed checkpoint)', `${((performance.now() - t0) / 1000).toFixed(2)} s, ok=${r.ok}, checked ${r.checked.toLocaleString('en-US')} events, walk ${r.walk.mode} after ${r.walk.afterSeq}`);
    }

    console.log('\narchival (npm run audit-archive), retention 90 days');
    const t1 = performance.now();
    const archived = await archiveHistory(ds, { out, publicKeysPem: [signer.publicKeyPem], retentionSeconds: 90 * 86_400, dryRun: false, now: new Date(at(1).getTime() + 3_600_000) });
    const archiveS = (performance.now() - t1) / 1000;
    line('archive: result', `ok=${archived.ok}, events ${archived.fromSeq}..${archived.throughSeq}, ${archived.grants.toLocaleString('en-US')} ended grants`);
    line('archive: time (write, verify, sync, remove)', `${archiveS.toFixed(1)} s, ${Math.round(archived.events / archiveS).toLocaleString('en-US')} events/s`);
    line('archive: of which writing and verifying the files', `${archived.seconds.write.toFixed(1)} s`);
    line('archive: of which removing the rows (grants, then events)', `${archived.seconds.remove.toFixed(1)} s`);
    const t2 = performance.now();
    const after = await useCase.verify(auditor, { full: true });
    line('verify full=true after archival', `${((performance.now() - t2) / 1000).toFixed(2)} s, ok=${after.ok}, checked ${after.checked.toLocaleString('en-US')}, from ${after.walk.from} ${after.walk.afterSeq}`);
    line('/metrics grant count after archival', ms(await medianMs(5, () => grants.countByState())));
  } finally {
    await sql.end();
    rmSync(out, { recursive: true, force: true });
    await scratch.drop();
  }
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
