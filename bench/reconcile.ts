import 'reflect-metadata';
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { AuditLog } from '@jit/audit';
import { SystemClock, Target } from '@jit/domain';
import { CloudProviderRegistry, RECONCILE_RETRY, ReconcileOrphansUseCase } from '@jit/grants';
import { BrokerMetrics } from '@jit/observability';
import { PostgresAuditChainStore, PostgresGrantRepository, PostgresUnitOfWork } from '@jit/persistence';
import { AwsIamStsProvider } from '@jit/provider-aws';
import { AwsSimulator } from '@jit/sim-aws';
import { grantRow } from '@jit/testing';
import { ReconcileMetricsHooks } from '../apps/broker/src/reconcile-metrics.hooks';
import { intEnv } from './env';
import { medianMs, openScratchDatabase } from './scratch-database';

/**
 * `node -r @swc-node/register bench/reconcile.ts`: what a reconciliation pass costs (issue 12
 * point 4, issue 11 point 6f). On PostgreSQL (BENCH_DATABASE_URL, default the local server):
 * (1) the scope query (`subjectsOf`) over BENCH_RECONCILE_GRANTS grants (default 1,000,000, 2 %
 * open, the rest ended over a year) with and without its partial indexes, and one batch lookup
 * of 500 artifacts against 500 single lookups; (2) passes of the real AWS adapter on the AWS
 * simulator over BENCH_RECONCILE_PRINCIPALS roles (default 200), each with a live grant and an
 * orphan, with no faults and with 30 % and 80 % of calls throttled (seeded), retry counts as in
 * production but millisecond waits, so the figures are outcomes, not wall time under faults.
 * Prints figures; asserts nothing.
 */
const GRANTS = intEnv('BENCH_RECONCILE_GRANTS', 1_000_000);
const PRINCIPALS = intEnv('BENCH_RECONCILE_PRINCIPALS', 200);
const SERVER = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const START = Date.now() - 365 * 86_400_000;
const STEP_S = (365 * 86_400) / GRANTS;

const line = (k: string, v: string) => console.log(`  ${k.padEnd(60)} ${v}`);
const n = (x: number) => Math.round(x).toLocaleString('en-US');
const ms = (x: number) => `${x.toFixed(1)} ms`;


async function main(): Promise<void> {
  const scratch = await openScratchDatabase(SERVER, 'jit_bench_reconcile');
  const { db } = scratch;
  const sim = await AwsSimulator.start({ port: 0 });
  try {
    const clock = new SystemClock();
    const grants = new PostgresGrantRepository(db.dataSource, clock);
    const unitOfWork = new PostgresUnitOfWork(db.dataSource, clock, 'bench');
    const audit = new AuditLog(unitOfWork, new PostgresAuditChainStore(db.dataSource), clock);
    const sql = db.dataSource;

    console.log(`JIT broker reconciliation benchmark: ${n(GRANTS)} grants on PostgreSQL, ${n(PRINCIPALS)} AWS roles on the simulator`);
    let t = performance.now();
    // 2 % open (1 % active, 1 % pending), the rest ended one hour after creation, one every STEP_S seconds over the past year.
    await sql.query(
      `INSERT INTO grants (id, state, cloud, kind, principal_type, principal_id, target, requested_by, duration_seconds, created_at, starts_at,
         expires_at, ended_at, artifact_name, overlap_key, updated_at, approval_deadline)
       SELECT gen_random_uuid(),
         CASE WHEN i % 100 = 0 THEN 'active' WHEN i % 100 = 1 THEN 'pending_approval' WHEN i % 4 = 0 THEN 'revoked' ELSE 'expired' END,
         'aws', 'aws.assume-role', 'workload', 'arn:aws:iam::123456789012:role/p-' || (i % 5000),
         jsonb_build_object('kind', 'aws.assume-role', 'roleArn', 'arn:aws:iam::123456789012:role/t-' || (i % 50)), 'u-' || (i % 300), 3600,
         to_timestamp($1 / 1000.0 + i * $3::float8), to_timestamp($1 / 1000.0 + i * $3::float8), to_timestamp($1 / 1000.0 + i * $3::float8 + 3600),
         CASE WHEN i % 100 > 1 THEN to_timestamp($1 / 1000.0 + i * $3::float8 + 3600) END, 'jit-' || i, 'ok-' || i, now(),
         CASE WHEN i % 100 = 1 THEN now() + interval '1 day' END
       FROM generate_series(1, $2::int) i`,
      [START, GRANTS, STEP_S],
    );
    await sql.query('ANALYZE grants');
    line('seed grants (SQL)', `${((performance.now() - t) / 1000).toFixed(1)} s`);

    const since = new Date(Date.now() - 20 * 60_000);
    const subjects = await grants.subjectsOf('aws', since);
    line('scope: distinct subjects (look-back 20 min)', n(subjects.length));
    line('scope: subjectsOf, partial indexes (median of 5)', ms(await medianMs(5, () => grants.subjectsOf('aws', since))));
    await sql.query(`DROP INDEX "IDX_grants_cloud_open"`);
    await sql.query(`DROP INDEX "IDX_grants_cloud_ended"`);
    line('scope: subjectsOf, without them (median of 5)', ms(await medianMs(5, () => grants.subjectsOf('aws', since))));

    const ids: string[] = (await sql.query(`SELECT id FROM grants ORDER BY random() LIMIT 500`)).map((r: { id: string }) => r.id);
    line('lookup: 500 artifacts, one findByIds (median of 5)', ms(await medianMs(5, () => grants.findByIds(ids))));
    line('lookup: 500 artifacts, 500 findById (median of 5)', ms(await medianMs(5, async () => {
      for (const id of ids) await grants.findById(id);
    })));

    // A fresh database table for the cloud passes: only the rows the passes need.
    await sql.query('TRUNCATE grants');
    const provider = new AwsIamStsProvider({
      region: 'us-east-1',
      iamEndpoint: sim.endpoint,
      stsEndpoint: sim.endpoint,
      credentials: { accessKeyId: 'AKIAJITBROKERBENCH00', secretAccessKey: 'bench' },
      retry: { maxAttempts: 5, baseDelayMs: 1, maxDelayMs: 4 },
    });
    const retry = { ...RECONCILE_RETRY, backoff: { baseMs: 1, capMs: 4, jitter: 'equal' as const } };
    const target = (): Target => ({ kind: 'aws.iam-policy', actions: ['s3:GetObject'], resources: [`arn:aws:s3:::bench/${randomUUID()}/*`] });
    for (const [fault, rate] of [['none', 0], ['30 % throttled', 0.3], ['80 % throttled', 0.8]] as const) {
      await sql.query('TRUNCATE grants');
      sim.inject({ rate: { throttle: 0 } });
      const roles = Array.from({ length: PRINCIPALS }, (_, i) => sim.createRole(`bench-${fault.replace(/\W/g, '')}-${i}`));
      for (const role of roles) {
        for (const state of ['active', 'expired'] as const) {
          const t0 = target();
          const row = grantRow(provider, { state, principal: { type: 'workload', id: role }, target: t0, expiresAt: new Date(Date.now() + 3_600_000), durationSeconds: 3600, providerRef: null });
          await unitOfWork.run((tx) => tx.grants.insert({ ...row, endedAt: state === 'expired' ? new Date() : null }, null, null));
          await provider.grant({ grantId: row.id, principal: row.principal, target: t0, startsAt: new Date(), expiresAt: row.expiresAt, requestedBy: 'bench', justification: null, artifactName: row.artifactName }, { overlapping: [] });
        }
      }
      const metrics = new BrokerMetrics();
      const reconcile = new ReconcileOrphansUseCase(grants, audit, new CloudProviderRegistry([provider]), { retry, hooks: new ReconcileMetricsHooks(metrics) });
      sim.clearRequests();
      sim.inject({ rate: { throttle: rate, seed: 12 } });
      t = performance.now();
      const report = await reconcile.execute();
      const s = (performance.now() - t) / 1000;
      sim.inject({ rate: { throttle: 0 } });
      const errors = (await metrics.reconcileErrors.get()).values.map((v) => `${v.labels.stage}/${v.labels.outcome}=${v.value}`).join(' ');
      line(`pass, ${fault}: orphans found / removed / left`, `${report.found} / ${report.removed} / ${report.failed} of ${PRINCIPALS}`);
      line(`pass, ${fault}: parts skipped, calls, time`, `${report.unlisted.length}, ${n(sim.requests().length)} calls, ${s.toFixed(1)} s`);
      line(`pass, ${fault}: jit_reconcile_errors_total`, errors || '(none)');
      const next = await reconcile.execute();
      line(`next pass, no faults: orphans found / removed`, `${next.found} / ${next.removed}`);
    }
  } finally {
    await sim.close();
    await scratch.drop();
  }
}

main().catch((e: unknown) => {
  console.error(e);
  process.exitCode = 1;
});
