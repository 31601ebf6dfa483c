import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Access reviews: the cron firing a scheduled campaign was started for, unique per definition, so
 * two replicas (or a tick that outlived its lease) that both see a firing due start one campaign:
 * the second insert finds the firing taken and does nothing (docs/reviews.md).
 */
export class AddReviewCampaignFiring1764440000000 implements MigrationInterface {
  name = 'AddReviewCampaignFiring1764440000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE review_campaigns ADD COLUMN scheduled_for timestamptz`);
    await q.query(`CREATE UNIQUE INDEX "UQ_review_campaigns_firing" ON review_campaigns (definition, scheduled_for) WHERE scheduled_for IS NOT NULL`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX "UQ_review_campaigns_firing"`);
    await q.query(`ALTER TABLE review_campaigns DROP COLUMN scheduled_for`);
  }
}
