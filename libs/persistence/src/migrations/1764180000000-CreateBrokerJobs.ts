import { MigrationInterface, QueryRunner } from 'typeorm';

/** Singleton jobs (reconciliation) that one replica at a time runs, claimed with a lease. */
export class CreateBrokerJobs1764180000000 implements MigrationInterface {
  name = 'CreateBrokerJobs1764180000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE TABLE broker_jobs (name text PRIMARY KEY, lease_owner text, lease_until timestamptz, last_run_at timestamptz)`);
    await q.query(`INSERT INTO broker_jobs (name) VALUES ('reconcile')`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE broker_jobs`);
  }
}
