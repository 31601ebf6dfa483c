import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Events staged by the transaction of the state change they record, chained moments later by one
 * chainer at a time (docs/audit.md, "How the chain is written"). The chainer takes every staged
 * row committed before its statement and deletes them in the transaction that chains them; `id`
 * orders them, and `tx` (the staging transaction) keeps one transaction's events together, since
 * concurrent multi-row INSERTs interleave their sequence values. Rows are never updated.
 */
export class CreateAuditStaging1764230000000 implements MigrationInterface {
  name = 'CreateAuditStaging1764230000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE audit_staged (
        id bigserial PRIMARY KEY,
        tx xid8 NOT NULL DEFAULT pg_current_xact_id(),
        event_id uuid NOT NULL UNIQUE,
        occurred_at timestamptz NOT NULL,
        type text NOT NULL,
        grant_id uuid,
        cloud text,
        principal text,
        actor text NOT NULL,
        data jsonb NOT NULL
      )`);
    await q.query(`
      CREATE FUNCTION audit_staged_no_update() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        RAISE EXCEPTION 'audit_staged rows are not updated: they are chained or stay';
      END $$`);
    await q.query(`CREATE TRIGGER audit_staged_no_change BEFORE UPDATE ON audit_staged FOR EACH ROW EXECUTE FUNCTION audit_staged_no_update()`);
    await q.query(`CREATE TRIGGER audit_staged_no_truncate BEFORE TRUNCATE ON audit_staged FOR EACH STATEMENT EXECUTE FUNCTION audit_staged_no_update()`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE audit_staged`);
    await q.query(`DROP FUNCTION audit_staged_no_update`);
  }
}
