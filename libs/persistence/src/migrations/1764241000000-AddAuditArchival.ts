import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Archival of sealed audit segments and ended grants (issue 12 point 5, docs/audit.md
 * "Archival"). `audit_archives` records each segment taken out of the database (events up to a
 * signed checkpoint, which stays in `audit_checkpoints` as the chain's new anchor). The
 * append-only trigger lets a DELETE through only for events at or before the seq that the
 * archiving transaction names in `jit.audit_archive_through` (`SET LOCAL`); updates, truncation
 * and any other delete are refused as before.
 */
export class AddAuditArchival1764241000000 implements MigrationInterface {
  name = 'AddAuditArchival1764241000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE audit_archives (
        through_seq bigint PRIMARY KEY,
        through_hash char(64) NOT NULL,
        from_seq bigint NOT NULL,
        events bigint NOT NULL,
        grants bigint NOT NULL,
        location text NOT NULL,
        archived_at timestamptz NOT NULL
      )`);
    await q.query(`
      CREATE OR REPLACE FUNCTION audit_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF TG_OP = 'DELETE' AND OLD.seq <= coalesce(nullif(current_setting('jit.audit_archive_through', true), '')::bigint, 0) THEN
          RETURN OLD;
        END IF;
        RAISE EXCEPTION 'audit_events is append-only';
      END $$`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE OR REPLACE FUNCTION audit_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        RAISE EXCEPTION 'audit_events is append-only';
      END $$`);
    await q.query(`DROP TABLE audit_archives`);
  }
}
