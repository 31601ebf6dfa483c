import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Leased rows (claims in flight, provisioning retries and rechecks, a dead replica's claims)
 * are few; this index lets the sweeper find the next lease to lapse without scanning grants.
 */
export class AddLeaseIndex1764195000000 implements MigrationInterface {
  name = 'AddLeaseIndex1764195000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE INDEX "IDX_grants_leased" ON grants (lease_until) WHERE lease_until IS NOT NULL`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX "IDX_grants_leased"`);
  }
}
