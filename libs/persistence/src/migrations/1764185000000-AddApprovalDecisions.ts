import { MigrationInterface, QueryRunner } from 'typeorm';

/** Access rules: how each request was decided, and when a pending one times out. */
export class AddApprovalDecisions1764185000000 implements MigrationInterface {
  name = 'AddApprovalDecisions1764185000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE grants ADD COLUMN decision jsonb, ADD COLUMN approval_deadline timestamptz`);
    await q.query(`ALTER TABLE grants ADD CONSTRAINT "CHK_grants_pending_deadline" CHECK (state <> 'pending_approval' OR approval_deadline IS NOT NULL)`);
    await q.query(`CREATE INDEX "IDX_grants_approval_deadline" ON grants (approval_deadline) WHERE state = 'pending_approval'`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX "IDX_grants_approval_deadline"`);
    await q.query(`ALTER TABLE grants DROP CONSTRAINT "CHK_grants_pending_deadline"`);
    await q.query(`ALTER TABLE grants DROP COLUMN approval_deadline, DROP COLUMN decision`);
  }
}
