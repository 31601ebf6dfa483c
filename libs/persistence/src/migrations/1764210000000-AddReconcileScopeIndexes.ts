import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Reconciliation's scope (`GrantRepository.subjectsOf`) reads each cloud's grants that are not
 * ended, and those ended within a look-back: one partial index for each branch, so a pass reads
 * the few open and recent rows, not the whole history. The state lists are the domain's
 * (`TERMINAL_STATES` and the rest); `GREATEST` skips a null `ended_at`.
 */
export class AddReconcileScopeIndexes1764210000000 implements MigrationInterface {
  name = 'AddReconcileScopeIndexes1764210000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(
      `CREATE INDEX "IDX_grants_cloud_open" ON grants (cloud) WHERE state IN ('pending_approval','provisioning','active','revoking','revoke_failed')`,
    );
    await q.query(
      `CREATE INDEX "IDX_grants_cloud_ended" ON grants (cloud, (GREATEST(ended_at, expires_at))) WHERE state IN ('expired','revoked','denied','failed')`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX "IDX_grants_cloud_ended"`);
    await q.query(`DROP INDEX "IDX_grants_cloud_open"`);
  }
}
