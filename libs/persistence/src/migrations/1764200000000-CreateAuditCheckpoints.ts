import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Signed checkpoints of the audit chain. The signature, made with a key outside the database, is
 * what makes them worth keeping; `published` records which sinks outside the database have a copy.
 */
export class CreateAuditCheckpoints1764200000000 implements MigrationInterface {
  name = 'CreateAuditCheckpoints1764200000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE audit_checkpoints (
        seq bigint PRIMARY KEY,
        hash char(64) NOT NULL,
        signed_at timestamptz NOT NULL,
        key_id char(64) NOT NULL,
        signature text NOT NULL,
        published jsonb NOT NULL DEFAULT '{}'::jsonb
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE audit_checkpoints`);
  }
}
