import 'reflect-metadata';
import { loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import { DataSource } from 'typeorm';
import { GrantStatsQuery } from '@jit/domain';
import { PostgresGrantStatsReader } from '@jit/persistence';
import { intEnv } from './env';
import { medianMs, openScratchDatabase } from './scratch-database';

/**
 * `npm run bench:stats`: what GET /v1/stats costs once history has piled up (issue 15 point 6,
 * "fast on 100,000 grants"). Seeds BENCH_STATS_GRANTS grants (default 100,000) spread over the
 * last year with SQL (the last 1 % open, the rest ended: expired with a revocation lag, revoked,
 * denied, timed out, withdrawn, failed; 0.3 % break-glass) and BENCH_STATS_EVENTS audit events
 * (default 500,000: five per grant, 1 % of them policy.denied), then times the stats read (the five
 * queries of PostgresGrantStatsReader, side by side as the endpoint runs them), median of
 * BENCH_STATS_RUNS (default 5), for the last 30 days, the last 366 days and one cloud, without and
 * with the indexes of AddGrantStatsIndexes, and prints each query's plan with the indexes.
 * Prints figures; asserts nothing. BENCH_DATABASE_URL: the server (a scratch database is created and dropped,
 * kept with BENCH_STATS_KEEP=1); BENCH_STATS_PLANS=1 prints the plans.
 */
const GRANTS = intEnv('BENCH_STATS_GRANTS', 100_000);
const EVENTS = intEnv('BENCH_STATS_EVENTS', 500_000);
const RUNS = intEnv('BENCH_STATS_RUNS', 5);
const SERVER = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const YEAR_S = 365 * 86_400;

/** The indexes AddGrantStatsIndexes adds, by name, to drop for the "without" figures. */
const STATS_INDEXES = ['IDX_grants_createdAt_stats', 'IDX_grants_expired_lag', 'IDX_grants_break_glass', 'IDX_grants_denied_endedAt', 'IDX_audit_policy_denied'];

const line = (k: string, v: string) => console.log(`  ${k.padEnd(52)} ${v}`);
const ms = (x: number) => `${x < 10 ? x.toFixed(1) : x.toFixed(0)} ms`;

async function seed(ds: DataSource): Promise<void> {
  // Row i is created (N - i) / N of a year ago: the newest last. The last 1 % are still open.
  await ds.query(
    `INSERT INTO grants (id, state, cloud, kind, principal_type, principal_id, target, requested_by, duration_seconds, created_at, starts_at,
       expires_at, ended_at, end_reason, artifact_name, overlap_key, updated_at, approval_deadline, decision)
     SELECT gen_random_uuid(), s.state, s.cloud, s.kind, 'workload', 'p-' || (i % 5000), '{}', 'u-' || (i % 300), 3600,
       s.created, s.created, s.created + interval '1 hour',
       CASE s.state WHEN 'expired' THEN s.created + interval '1 hour' + s.lag * interval '1 second'
                    WHEN 'revoked' THEN s.created + interval '20 minutes' WHEN 'denied' THEN s.created + interval '10 minutes'
                    WHEN 'failed' THEN s.created + interval '1 minute' END,
       CASE s.state WHEN 'denied' THEN (ARRAY['denied','timeout','withdrawn'])[1 + i % 3] WHEN 'active' THEN NULL WHEN 'pending_approval' THEN NULL ELSE s.state END,
       'jit-' || i, 'ok-' || i, now(),
       CASE WHEN s.state = 'pending_approval' THEN now() + interval '1 day' END,
       jsonb_build_object('rule', CASE WHEN i % 333 = 0 THEN 'break-glass' ELSE (ARRAY['ci-deploy','humans-storage','sre-oncall','data-readers','azure-admins','gcp-viewers'])[1 + i % 6] END,
         'mode', CASE WHEN i % 333 = 0 THEN 'break_glass' WHEN i % 2 = 0 THEN 'auto' ELSE 'approvals' END,
         'required', 0, 'groups', '[]'::jsonb, 'policyVersion', 'bench')
     FROM generate_series(1, $1::int) i,
     LATERAL (SELECT
       (ARRAY['aws','aws','aws','aws','aws','azure','azure','azure','gcp','gcp'])[1 + i % 10] AS cloud,
       now() - ($1::int - i) * ($2::float8 / $1::int) * interval '1 second' AS created,
       -- Revocation lag in seconds: mostly within a sweep or two, a tail, and a few long outages.
       CASE WHEN i % 997 = 0 THEN 1800 + i % 3600 ELSE power((i * 7919 % 1000) / 1000.0, 4) * 90 END AS lag,
       CASE WHEN i > $1::int * 0.99 THEN (CASE WHEN i % 10 < 6 THEN 'active' WHEN i % 10 = 6 THEN 'pending_approval' ELSE 'expired' END)
            WHEN i % 100 < 60 THEN 'expired' WHEN i % 100 < 80 THEN 'revoked' WHEN i % 100 < 90 THEN 'denied'
            WHEN i % 100 < 95 THEN 'failed' ELSE 'expired' END AS state) c,
     LATERAL (SELECT c.state, c.cloud, c.created, c.lag,
       CASE c.cloud WHEN 'aws' THEN (ARRAY['aws.iam-policy','aws.assume-role','aws.sts-credentials'])[1 + (i / 10) % 3]
                    WHEN 'azure' THEN (ARRAY['azure.resource-role','azure.directory-role','azure.group-membership','azure.app-role'])[1 + (i / 10) % 4]
                    ELSE 'gcp.iam-binding' END AS kind) s`,
    [GRANTS, YEAR_S],
  );
  // Events one after another over the year; every 100th a policy denial with its rule (null: no rule matched).
  await ds.query(
    `INSERT INTO audit_events (seq, id, occurred_at, type, grant_id, cloud, principal, actor, data, prev_hash, hash)
     SELECT i, gen_random_uuid(), now() - ($1::int - i) * ($2::float8 / $1::int) * interval '1 second',
       CASE WHEN i % 100 = 0 THEN 'policy.denied' ELSE (ARRAY['grant.requested','grant.approved','grant.provisioned','grant.activated','grant.expired'])[1 + i % 5] END,
       CASE WHEN i % 100 = 0 THEN NULL ELSE gen_random_uuid() END,
       (ARRAY['aws','aws','azure','gcp'])[1 + i % 4], 'p-' || (i % 5000), 'u-' || (i % 300),
       CASE WHEN i % 100 = 0 THEN jsonb_build_object('rule', (ARRAY[NULL, 'deny-list:iam-admin', 'ci-deploy', 'humans-storage'])[1 + (i / 100) % 4], 'code', 'bench')
            ELSE '{}'::jsonb END,
       repeat('0', 64), repeat('0', 64)
     FROM generate_series(1, $1::int) i`,
    [EVENTS, YEAR_S],
  );
  // As autovacuum leaves a table in steady state: statistics, and the visibility map index-only scans need.
  await ds.query('VACUUM ANALYZE grants');
  await ds.query('VACUUM ANALYZE audit_events');
}

async function main(): Promise<void> {
  const scratch = await openScratchDatabase(SERVER, 'jit_bench_stats');
  const ds = scratch.db.dataSource;
  try {
    console.log(
      `GET /v1/stats on PostgreSQL: ${GRANTS.toLocaleString('en-US')} grants over a year, ${EVENTS.toLocaleString('en-US')} audit events; ` +
        `median of ${RUNS}; load average ${loadavg().map((l) => l.toFixed(1)).join(' ')}`,
    );
    const t = performance.now();
    await seed(ds);
    line('seed (SQL)', `${((performance.now() - t) / 1000).toFixed(1)} s`);

    const reader = new PostgresGrantStatsReader(ds);
    const now = Date.now();
    const cases: [string, GrantStatsQuery][] = [
      ['last 30 days, all clouds', { from: new Date(now - 30 * 86_400_000), to: new Date(now) }],
      ['last 366 days, all clouds', { from: new Date(now - 366 * 86_400_000), to: new Date(now) }],
      ['last 366 days, cloud=gcp', { from: new Date(now - 366 * 86_400_000), to: new Date(now), cloud: 'gcp' }],
    ];
    const definitions: { indexdef: string }[] = await ds.query(`SELECT indexdef FROM pg_indexes WHERE indexname = ANY($1)`, [STATS_INDEXES]);
    const first = await reader.read(cases[1][1]);
    line('grants in the last 366 days (sum of perDay)', first.perDay.reduce((n, d) => n + d.count, 0).toLocaleString('en-US'));
    line('expired grants measured for the lag', `${first.revocationLag.count.toLocaleString('en-US')} (p50 ${first.revocationLag.p50Seconds?.toFixed(1)} s, p95 ${first.revocationLag.p95Seconds?.toFixed(1)} s)`);

    for (const d of STATS_INDEXES) await ds.query(`DROP INDEX IF EXISTS "${d}"`);
    console.log(`without the stats indexes (${STATS_INDEXES.length} dropped):`);
    for (const [name, q] of cases) line(name, ms(await medianMs(RUNS, () => reader.read(q))));

    for (const d of definitions) await ds.query(d.indexdef);
    await ds.query('VACUUM ANALYZE grants');
    await ds.query('VACUUM ANALYZE audit_events');
    console.log(`with them (${definitions.length} indexes):`);
    for (const [name, q] of cases) line(name, ms(await medianMs(RUNS, () => reader.read(q))));

    if (process.env.BENCH_STATS_PLANS === '1') {
      // Each query's plan, by running the reader against a data source whose query() explains instead.
      const explaining = {
        query: async (sql: string, params: unknown[]) => {
          const plan: { 'QUERY PLAN': string }[] = await ds.query(`EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY ON) ${sql}`, params);
          process.stdout.write(`\n${sql.replace(/\s+/g, ' ').slice(0, 110)}...\n${plan.map((p) => `    ${p['QUERY PLAN']}`).join('\n')}\n`);
          // Enough of a row for the reader to go on (it sorts denials by reason).
          return [{ count: 0, reason: '' }];
        },
      } as unknown as DataSource;
      await new PostgresGrantStatsReader(explaining).read(cases[1][1]).catch((e: unknown) => console.error(e));
    }
  } finally {
    if (process.env.BENCH_STATS_KEEP === '1') {
      console.log(`kept: ${scratch.url} (BENCH_STATS_KEEP=1; drop it when done)`);
      await scratch.db.close();
    } else {
      await scratch.drop();
    }
  }
}

main().then(() => process.exit(0), (e: unknown) => {
  console.error(e);
  process.exit(1);
});
