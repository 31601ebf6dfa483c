import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Discovery of standing access (docs/discovery.md): scans and their parts, each with the cursor
 * of its next page so a scan resumes after a crash; the lease one replica scans under; findings,
 * one row per standing assignment (cloud, key) across scans, with their history; removals with
 * their approvals and the assignment as listed, which restoring it needs. At most one scan runs,
 * and a finding has at most one removal pending, approved or applied.
 */
export class CreateDiscovery1764420000000 implements MigrationInterface {
  name = 'CreateDiscovery1764420000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE TABLE discovery_scans (
      id uuid PRIMARY KEY,
      state text NOT NULL CHECK (state IN ('running', 'completed', 'failed')),
      trigger text NOT NULL CHECK (trigger IN ('manual', 'schedule')),
      requested_by text NOT NULL,
      created_at timestamptz NOT NULL,
      finished_at timestamptz,
      clouds jsonb NOT NULL DEFAULT '[]'
    )`);
    await q.query(`CREATE UNIQUE INDEX "UQ_discovery_scans_running" ON discovery_scans ((true)) WHERE state = 'running'`);
    await q.query(`CREATE INDEX "IDX_discovery_scans_created" ON discovery_scans (created_at)`);
    await q.query(`CREATE TABLE discovery_scan_parts (
      scan_id uuid NOT NULL REFERENCES discovery_scans (id) ON DELETE CASCADE,
      cloud text NOT NULL,
      part text NOT NULL,
      cursor text,
      state text NOT NULL CHECK (state IN ('pending', 'done', 'failed')),
      pages integer NOT NULL DEFAULT 0,
      assignments integer NOT NULL DEFAULT 0,
      errors integer NOT NULL DEFAULT 0,
      last_error text,
      position integer NOT NULL,
      updated_at timestamptz NOT NULL,
      PRIMARY KEY (scan_id, cloud, part)
    )`);
    await q.query(`CREATE TABLE discovery_leases (
      name text PRIMARY KEY,
      owner text NOT NULL,
      lease_until timestamptz NOT NULL
    )`);
    await q.query(`CREATE TABLE discovery_findings (
      id uuid PRIMARY KEY,
      cloud text NOT NULL,
      key text NOT NULL,
      part text NOT NULL,
      principal_id text NOT NULL,
      principal_kind text NOT NULL,
      human boolean,
      scope text NOT NULL,
      access_type text NOT NULL,
      access_name text NOT NULL,
      privileged boolean NOT NULL,
      reasons jsonb NOT NULL,
      status text NOT NULL CHECK (status IN ('open', 'resolved', 'removed')),
      first_seen_at timestamptz NOT NULL,
      last_seen_at timestamptz NOT NULL,
      resolved_at timestamptz,
      last_scan_id uuid,
      last_used_at timestamptz,
      never_used boolean NOT NULL DEFAULT false,
      assignment jsonb NOT NULL,
      UNIQUE (cloud, key)
    )`);
    await q.query(`CREATE INDEX "IDX_discovery_findings_part" ON discovery_findings (cloud, part, status)`);
    await q.query(`CREATE INDEX "IDX_discovery_findings_status" ON discovery_findings (status, privileged, cloud)`);
    await q.query(`CREATE TABLE discovery_finding_history (
      id bigserial PRIMARY KEY,
      finding_id uuid NOT NULL REFERENCES discovery_findings (id) ON DELETE CASCADE,
      at timestamptz NOT NULL,
      change text NOT NULL,
      scan_id uuid,
      detail jsonb NOT NULL DEFAULT '{}'
    )`);
    await q.query(`CREATE INDEX "IDX_discovery_finding_history" ON discovery_finding_history (finding_id, id)`);
    await q.query(`CREATE TABLE discovery_removals (
      id uuid PRIMARY KEY,
      finding_id uuid NOT NULL REFERENCES discovery_findings (id),
      state text NOT NULL CHECK (state IN ('pending_approval', 'approved', 'applied', 'failed', 'denied', 'restored')),
      requested_by text NOT NULL,
      justification text NOT NULL,
      origin text NOT NULL,
      created_at timestamptz NOT NULL,
      updated_at timestamptz NOT NULL,
      last_error text,
      approvals jsonb NOT NULL DEFAULT '[]',
      required integer NOT NULL,
      assignment jsonb NOT NULL,
      decided_by text,
      applied_at timestamptz,
      restored_at timestamptz
    )`);
    await q.query(
      `CREATE UNIQUE INDEX "UQ_discovery_removals_live" ON discovery_removals (finding_id) WHERE state IN ('pending_approval', 'approved', 'applied')`,
    );
    await q.query(`CREATE INDEX "IDX_discovery_removals_finding" ON discovery_removals (finding_id, created_at)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE discovery_removals`);
    await q.query(`DROP TABLE discovery_finding_history`);
    await q.query(`DROP TABLE discovery_findings`);
    await q.query(`DROP TABLE discovery_leases`);
    await q.query(`DROP TABLE discovery_scan_parts`);
    await q.query(`DROP TABLE discovery_scans`);
  }
}
