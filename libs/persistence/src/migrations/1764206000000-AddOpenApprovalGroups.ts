import { MigrationInterface, QueryRunner } from 'typeorm';
import { Grant, openApprovalGroups } from '@jit/domain';
import { GrantRow, toGrant } from '../mappers/grant-row.mapper';

/**
 * The groups that could still add an approval to a pending request (`openApprovalGroups`), kept
 * on the row so that `awaitingDecisionBy` is answered by the query (`?|` on this column, served by
 * a partial GIN index over pending rows) instead of a check made row by row after it. Filled here
 * for the requests pending now; the grant writes keep it from then on.
 */
export class AddOpenApprovalGroups1764206000000 implements MigrationInterface {
  name = 'AddOpenApprovalGroups1764206000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE grants ADD COLUMN open_approval_groups jsonb`);
    const pending: GrantRow[] = await q.query(`SELECT * FROM grants WHERE state = 'pending_approval'`);
    for (const row of pending) {
      const grant: Grant = toGrant(row);
      await q.query(`UPDATE grants SET open_approval_groups = $2 WHERE id = $1`, [grant.id, JSON.stringify(openApprovalGroups(grant))]);
    }
    await q.query(`CREATE INDEX "IDX_grants_open_approval_groups" ON grants USING gin (open_approval_groups) WHERE state = 'pending_approval'`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX "IDX_grants_open_approval_groups"`);
    await q.query(`ALTER TABLE grants DROP COLUMN open_approval_groups`);
  }
}
