import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * A revoke asked for while a grant is provisioning is recorded on the row (who, when, why) and
 * carried out once provisioning settles, also after a crash: the flag lives here, not in a
 * replica's memory. The partial index serves the sweeper's claim of active grants whose revoke
 * is still to be carried out (a replica died between activating and revoking); there are few.
 */
export class AddRevokeRequests1764250000000 implements MigrationInterface {
  name = 'AddRevokeRequests1764250000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE grants ADD COLUMN revoke_requested_at timestamptz, ADD COLUMN revoke_requested_by text, ADD COLUMN revoke_request_reason text`);
    await q.query(`CREATE INDEX "IDX_grants_revoke_requested" ON grants (revoke_requested_at) WHERE state = 'active' AND revoke_requested_at IS NOT NULL`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX "IDX_grants_revoke_requested"`);
    await q.query(`ALTER TABLE grants DROP COLUMN revoke_requested_at, DROP COLUMN revoke_requested_by, DROP COLUMN revoke_request_reason`);
  }
}
