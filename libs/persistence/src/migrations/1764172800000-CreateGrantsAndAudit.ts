import { MigrationInterface, QueryRunner } from 'typeorm';

export class CreateGrantsAndAudit1764172800000 implements MigrationInterface {
  name = 'CreateGrantsAndAudit1764172800000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE grants (
        id uuid PRIMARY KEY,
        state text NOT NULL CHECK (state IN ('pending_approval','provisioning','active','revoking','expired','revoked','denied','failed','revoke_failed')),
        cloud text NOT NULL CHECK (cloud IN ('aws','azure','gcp')),
        kind text NOT NULL,
        principal_type text NOT NULL,
        principal_id text NOT NULL,
        target jsonb NOT NULL,
        requested_by text NOT NULL,
        justification text,
        ticket text,
        duration_seconds numeric NOT NULL CHECK (duration_seconds > 0),
        created_at timestamptz NOT NULL,
        starts_at timestamptz,
        expires_at timestamptz NOT NULL,
        ended_at timestamptz,
        end_reason text,
        approvals jsonb NOT NULL DEFAULT '[]',
        artifact_name text NOT NULL,
        overlap_key text NOT NULL,
        provider_ref jsonb,
        last_error text,
        attempts integer NOT NULL DEFAULT 0,
        next_attempt_at timestamptz,
        lease_owner text,
        lease_until timestamptz,
        idempotency_key text,
        request_hash text,
        updated_at timestamptz NOT NULL
      )`);
    await q.query(`CREATE UNIQUE INDEX "UQ_grants_requester_idempotency" ON grants (requested_by, idempotency_key) WHERE idempotency_key IS NOT NULL`);
    await q.query(`CREATE INDEX "IDX_grants_due" ON grants (expires_at) WHERE state = 'active'`);
    await q.query(`CREATE INDEX "IDX_grants_retry" ON grants (next_attempt_at) WHERE state IN ('revoking','revoke_failed')`);
    await q.query(`CREATE INDEX "IDX_grants_provisioning" ON grants (lease_until) WHERE state = 'provisioning'`);
    await q.query(`CREATE INDEX "IDX_grants_createdAt_id" ON grants (created_at DESC, id DESC)`);
    await q.query(`CREATE INDEX "IDX_grants_requester_createdAt" ON grants (requested_by, created_at DESC, id DESC)`);
    await q.query(`CREATE INDEX "IDX_grants_principal_createdAt" ON grants (principal_id, created_at DESC, id DESC)`);
    await q.query(`CREATE INDEX "IDX_grants_overlap_live" ON grants (overlap_key) WHERE state IN ('provisioning','active','revoking','revoke_failed')`);

    await q.query(`
      CREATE TABLE audit_events (
        seq bigint PRIMARY KEY,
        id uuid NOT NULL UNIQUE,
        occurred_at timestamptz NOT NULL,
        type text NOT NULL,
        grant_id uuid,
        cloud text,
        principal text,
        actor text NOT NULL,
        data jsonb NOT NULL,
        prev_hash char(64) NOT NULL,
        hash char(64) NOT NULL
      )`);
    await q.query(`CREATE INDEX "IDX_audit_grant_seq" ON audit_events (grant_id, seq)`);
    await q.query(`CREATE INDEX "IDX_audit_occurredAt" ON audit_events (occurred_at, seq)`);
    await q.query(`CREATE INDEX "IDX_audit_type_seq" ON audit_events (type, seq)`);
    await q.query(`CREATE INDEX "IDX_audit_actor_seq" ON audit_events (actor, seq)`);
    await q.query(`CREATE INDEX "IDX_audit_principal_seq" ON audit_events (principal, seq)`);
    await q.query(`
      CREATE TABLE audit_chain_head (
        id smallint PRIMARY KEY CHECK (id = 1),
        seq bigint NOT NULL,
        hash char(64) NOT NULL
      )`);
    await q.query(`INSERT INTO audit_chain_head (id, seq, hash) VALUES (1, 0, repeat('0', 64))`);
    // The log is append-only for the application: updates and deletes are refused by the database.
    await q.query(`
      CREATE FUNCTION audit_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        RAISE EXCEPTION 'audit_events is append-only';
      END $$`);
    await q.query(`CREATE TRIGGER audit_events_no_change BEFORE UPDATE OR DELETE ON audit_events FOR EACH ROW EXECUTE FUNCTION audit_events_append_only()`);
    await q.query(`CREATE TRIGGER audit_events_no_truncate BEFORE TRUNCATE ON audit_events FOR EACH STATEMENT EXECUTE FUNCTION audit_events_append_only()`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE audit_chain_head`);
    await q.query(`DROP TABLE audit_events`);
    await q.query(`DROP FUNCTION audit_events_append_only`);
    await q.query(`DROP TABLE grants`);
  }
}
