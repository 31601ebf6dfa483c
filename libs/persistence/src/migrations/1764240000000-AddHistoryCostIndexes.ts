import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Reads whose cost grew with history (issue 12 point 5):
 * - `IDX_grants_open_state`: `/metrics` counts grants per state from the non-terminal rows only,
 *   an index-only scan of the open grants instead of a `GROUP BY` over every grant ever stored;
 * - `IDX_audit_cloud_seq`: `GET /v1/audit?cloud=` walked the primary key filtering on `cloud`.
 * Built `CONCURRENTLY` (outside a transaction), so a broker upgrading a large database keeps
 * writing while they build; a build that failed half-way leaves an invalid index, dropped first.
 */
export class AddHistoryCostIndexes1764240000000 implements MigrationInterface {
  name = 'AddHistoryCostIndexes1764240000000';
  transaction = false;

  async up(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX CONCURRENTLY IF EXISTS "IDX_grants_open_state"`);
    await q.query(
      `CREATE INDEX CONCURRENTLY "IDX_grants_open_state" ON grants (state)
       WHERE state IN ('pending_approval','provisioning','active','revoking','revoke_failed')`,
    );
    await q.query(`DROP INDEX CONCURRENTLY IF EXISTS "IDX_audit_cloud_seq"`);
    await q.query(`CREATE INDEX CONCURRENTLY "IDX_audit_cloud_seq" ON audit_events (cloud, seq)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX CONCURRENTLY IF EXISTS "IDX_audit_cloud_seq"`);
    await q.query(`DROP INDEX CONCURRENTLY IF EXISTS "IDX_grants_open_state"`);
  }
}
