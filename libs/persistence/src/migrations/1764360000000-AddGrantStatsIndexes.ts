import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The ranges GET /v1/stats reads (PostgresGrantStatsReader), so its cost follows the rows in the
 * range, not the whole history (issue 15 point 6; figures in docs/console.md, `npm run bench:stats`):
 * - `IDX_grants_createdAt_stats`: grants per day by cloud and kind, an index-only scan of the range;
 * - `IDX_grants_expired_lag`: the revocation lag of grants that expired in the range (expiresAt, end);
 * - `IDX_grants_break_glass`: the few break-glass grants, by when they were requested;
 * - `IDX_grants_denied_endedAt`: requests denied, timed out or withdrawn in the range;
 * - `IDX_audit_policy_denied`: the policy.denied events in the range (requests refused by the rules).
 * Partial where a small part of the table is read. Built `CONCURRENTLY` (outside a transaction),
 * so a broker upgrading a large database keeps writing; a build that failed half-way leaves an
 * invalid index, dropped first.
 */
export class AddGrantStatsIndexes1764360000000 implements MigrationInterface {
  name = 'AddGrantStatsIndexes1764360000000';
  transaction = false;

  // Written out (not looped over a list): the test template is keyed by the text of up().
  async up(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX CONCURRENTLY IF EXISTS "IDX_grants_createdAt_stats"`);
    await q.query(`CREATE INDEX CONCURRENTLY "IDX_grants_createdAt_stats" ON grants (created_at) INCLUDE (cloud, kind)`);
    await q.query(`DROP INDEX CONCURRENTLY IF EXISTS "IDX_grants_expired_lag"`);
    await q.query(`CREATE INDEX CONCURRENTLY "IDX_grants_expired_lag" ON grants (expires_at) INCLUDE (ended_at, cloud) WHERE state = 'expired'`);
    await q.query(`DROP INDEX CONCURRENTLY IF EXISTS "IDX_grants_break_glass"`);
    await q.query(`CREATE INDEX CONCURRENTLY "IDX_grants_break_glass" ON grants (created_at) WHERE (decision->>'mode') = 'break_glass'`);
    await q.query(`DROP INDEX CONCURRENTLY IF EXISTS "IDX_grants_denied_endedAt"`);
    await q.query(`CREATE INDEX CONCURRENTLY "IDX_grants_denied_endedAt" ON grants (ended_at) WHERE state = 'denied'`);
    await q.query(`DROP INDEX CONCURRENTLY IF EXISTS "IDX_audit_policy_denied"`);
    await q.query(`CREATE INDEX CONCURRENTLY "IDX_audit_policy_denied" ON audit_events (occurred_at) WHERE type = 'policy.denied'`);
  }

  async down(q: QueryRunner): Promise<void> {
    for (const name of ['IDX_audit_policy_denied', 'IDX_grants_denied_endedAt', 'IDX_grants_break_glass', 'IDX_grants_expired_lag', 'IDX_grants_createdAt_stats']) {
      await q.query(`DROP INDEX CONCURRENTLY IF EXISTS "${name}"`);
    }
  }
}
