import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Access reviews (docs/reviews.md): campaign definitions made through the API, campaigns, their
 * items (what the reviewer sees, the decision, what was applied) and the scheduler's lease, so
 * one replica at a time starts, reminds, escalates and closes.
 */
export class CreateAccessReviews1764430000000 implements MigrationInterface {
  name = 'CreateAccessReviews1764430000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE TABLE review_definitions (
      name text PRIMARY KEY,
      spec jsonb NOT NULL,
      created_by text NOT NULL,
      created_at timestamptz NOT NULL
    )`);
    await q.query(`CREATE TABLE review_campaigns (
      id uuid PRIMARY KEY,
      definition text NOT NULL,
      description text,
      state text NOT NULL CHECK (state IN ('open', 'closed')),
      started_by text NOT NULL,
      started_at timestamptz NOT NULL,
      ends_at timestamptz NOT NULL,
      closed_at timestamptz,
      period_from timestamptz NOT NULL,
      default_decision text NOT NULL CHECK (default_decision IN ('keep', 'remove')),
      spec jsonb NOT NULL,
      reminded_at timestamptz,
      policy_version text,
      CHECK ((state = 'closed') = (closed_at IS NOT NULL))
    )`);
    await q.query(`CREATE INDEX "IDX_review_campaigns_definition_started" ON review_campaigns (definition, started_at DESC)`);
    await q.query(`CREATE INDEX "IDX_review_campaigns_open" ON review_campaigns (ends_at) WHERE state = 'open'`);
    await q.query(`CREATE TABLE review_items (
      id uuid PRIMARY KEY,
      campaign_id uuid NOT NULL REFERENCES review_campaigns (id),
      source text NOT NULL CHECK (source IN ('standing', 'eligibility')),
      principal text NOT NULL,
      principal_subjects jsonb NOT NULL,
      principal_groups jsonb NOT NULL,
      principal_kind text NOT NULL,
      display_name text,
      cloud text,
      access text NOT NULL,
      scope text NOT NULL,
      since timestamptz,
      last_used_at timestamptz,
      finding_id text,
      privileged boolean,
      reasons jsonb NOT NULL,
      rule text,
      requester_index integer,
      requested integer NOT NULL,
      granted integer NOT NULL,
      detail jsonb,
      reviewer_groups jsonb NOT NULL,
      decision text CHECK (decision IN ('keep', 'remove', 'narrow')),
      defaulted boolean NOT NULL DEFAULT false,
      justification text,
      narrowing jsonb,
      decided_by text,
      decided_at timestamptz,
      applied text,
      applied_at timestamptz,
      apply_error text,
      escalated_at timestamptz,
      CHECK ((decision IS NULL) = (decided_at IS NULL))
    )`);
    await q.query(`CREATE INDEX "IDX_review_items_campaign_id" ON review_items (campaign_id, id)`);
    await q.query(`CREATE INDEX "IDX_review_items_pending" ON review_items (campaign_id, id) WHERE decision IS NULL`);
    await q.query(`CREATE INDEX "IDX_review_items_reviewer_groups" ON review_items USING gin (reviewer_groups)`);
    await q.query(`CREATE TABLE review_leases (
      name text PRIMARY KEY,
      owner text NOT NULL,
      lease_until timestamptz NOT NULL
    )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE review_leases`);
    await q.query(`DROP TABLE review_items`);
    await q.query(`DROP TABLE review_campaigns`);
    await q.query(`DROP TABLE review_definitions`);
  }
}
