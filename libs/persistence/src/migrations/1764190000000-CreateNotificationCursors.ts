import { MigrationInterface, QueryRunner } from 'typeorm';

/** Each webhook's position in the audit log (the outbox) and the replica that delivers it. */
export class CreateNotificationCursors1764190000000 implements MigrationInterface {
  name = 'CreateNotificationCursors1764190000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE notification_cursors (
        webhook text PRIMARY KEY,
        last_seq bigint NOT NULL,
        lease_owner text,
        lease_until timestamptz,
        delivered bigint NOT NULL DEFAULT 0,
        failed bigint NOT NULL DEFAULT 0,
        updated_at timestamptz NOT NULL
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE notification_cursors`);
  }
}
