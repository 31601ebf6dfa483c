/**
 * What reading grants costs each kind of reader (issue 10 point 4): the first three pages of
 * GET /v1/grants (50 rows each) through PostgresGrantRepository.list, over BENCH_VISIBILITY_GRANTS
 * rows, for an admin (no filter), a requester, an approver whose groups' rules decided 1% of the
 * grants, one whose decided 0.01%, and one whose groups decided none (the whole table is read).
 *
 *   TEST_DATABASE_URL=postgres://postgres@127.0.0.1:5432/test node -r @swc-node/register bench/grant-visibility.bench.ts
 */
import { GrantFilter, SystemClock } from '@jit/domain';
import { PostgresGrantRepository } from '@jit/persistence';
import { openTestDatabase } from '../test/setup/test-database';
import { intEnv } from './env';

const GRANTS = intEnv('BENCH_VISIBILITY_GRANTS', 200_000);
const RUNS = 15;

async function main(): Promise<void> {
  const db = await openTestDatabase();
  try {
    const decision = (rule: string, groups: string[]) => JSON.stringify({ rule, mode: groups.length ? 'approvals' : 'auto', required: groups.length ? 1 : 0, groups, policyVersion: 'v' });
    await db.dataSource.query(
      `INSERT INTO grants (id, state, cloud, kind, principal_type, principal_id, target, requested_by, duration_seconds, created_at,
                           expires_at, approvals, artifact_name, overlap_key, attempts, updated_at, decision)
       SELECT gen_random_uuid(), 'expired', 'aws', 'aws.iam-policy', 'workload', 'arn:aws:iam::123456789012:role/r-' || i,
              '{"kind":"aws.iam-policy","actions":["s3:GetObject"],"resources":["*"]}'::jsonb, 'req-' || (i % 1000), 3600,
              now() - make_interval(secs => i), now() - make_interval(secs => i) + interval '1 hour', '[]', 'a-' || i, 'o-' || i, 0, now(),
              CASE WHEN i % 100 = 0 THEN $2::jsonb WHEN i % 10000 = 1 THEN $3::jsonb ELSE $4::jsonb END
       FROM generate_series(1, $1::int) i`,
      [GRANTS, decision('sre-rule', ['sre']), decision('rare-rule', ['rare']), decision('auto', [])],
    );
    await db.dataSource.query('ANALYZE grants');
    const store = new PostgresGrantRepository(db.dataSource, new SystemClock());
    const readers: [string, GrantFilter][] = [
      ['admin (all)', {}],
      ['requester (own: 0.1%)', { visibleTo: { subject: 'req-7', groups: [] } }],
      ['approver, groups decided 1%', { visibleTo: { subject: 'dave', groups: ['sre'] } }],
      ['approver, groups decided 0.01%', { visibleTo: { subject: 'dave', groups: ['rare'] } }],
      ['approver, groups decided none', { visibleTo: { subject: 'dave', groups: ['nobody'] } }],
    ];
    console.log(`${GRANTS} grants; first 3 pages of 50, median of ${RUNS} runs`);
    for (const [who, filter] of readers) {
      const times: number[] = [];
      let rows = 0;
      for (let r = 0; r < RUNS; r++) {
        const t0 = process.hrtime.bigint();
        let cursor: string | null = null;
        rows = 0;
        for (let p = 0; p < 3; p++) {
          const page = await store.list(filter, 50, cursor);
          rows += page.items.length;
          cursor = page.nextCursor;
          if (!cursor) break;
        }
        times.push(Number(process.hrtime.bigint() - t0) / 1e6);
      }
      times.sort((a, b) => a - b);
      console.log(`${who.padEnd(34)} ${String(rows).padStart(4)} rows  ${times[Math.floor(RUNS / 2)].toFixed(1).padStart(8)} ms`);
    }
  } finally {
    await db.close();
  }
}

void main();
