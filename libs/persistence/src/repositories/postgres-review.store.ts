import { DataSource, EntityManager } from 'typeorm';
import {
  CloudName,
  ReviewCampaign,
  ReviewCampaignCounts,
  ReviewCampaignState,
  ReviewItem,
  ReviewItemFilter,
  ReviewStore,
  ReviewUsage,
  ReviewUsageReader,
  ReviewWrites,
  StagedAuditEvent,
  StoredReviewDefinition,
} from '@jit/domain';
import { stageAuditEvents } from './postgres-audit-chainer';

interface CampaignRow {
  id: string;
  definition: string;
  description: string | null;
  state: ReviewCampaignState;
  started_by: string;
  started_at: Date;
  ends_at: Date;
  closed_at: Date | null;
  period_from: Date;
  default_decision: 'keep' | 'remove';
  spec: Record<string, unknown>;
  reminded_at: Date | null;
  policy_version: string | null;
  scheduled_for?: Date | string | null;
}

interface ItemRow {
  id: string;
  campaign_id: string;
  source: ReviewItem['source'];
  principal: string;
  principal_subjects: string[];
  principal_groups: string[];
  principal_kind: string;
  display_name: string | null;
  cloud: CloudName | null;
  access: string;
  scope: string;
  since: Date | null;
  last_used_at: Date | null;
  finding_id: string | null;
  privileged: boolean | null;
  reasons: string[];
  rule: string | null;
  requester_index: number | null;
  requested: number;
  granted: number;
  detail: Record<string, unknown> | null;
  reviewer_groups: string[];
  decision: ReviewItem['decision'];
  defaulted: boolean;
  justification: string | null;
  narrowing: ReviewItem['narrowing'];
  decided_by: string | null;
  decided_at: Date | null;
  applied: string | null;
  applied_at: Date | null;
  apply_error: string | null;
  escalated_at: Date | null;
}

/** Rows an UPDATE changed: TypeORM answers an UPDATE on PostgreSQL with `[rows, count]`. */
function updated(result: unknown): number {
  if (Array.isArray(result) && result.length === 2 && Array.isArray(result[0]) && typeof result[1] === 'number') return result[1];
  return Array.isArray(result) ? result.length : 0;
}

const date = (v: Date | string | null): Date | null => (v === null ? null : new Date(v));

function toCampaign(r: CampaignRow): ReviewCampaign {
  return {
    id: r.id,
    definition: r.definition,
    description: r.description,
    state: r.state,
    startedBy: r.started_by,
    startedAt: new Date(r.started_at),
    endsAt: new Date(r.ends_at),
    closedAt: date(r.closed_at),
    periodFrom: new Date(r.period_from),
    defaultDecision: r.default_decision,
    spec: r.spec,
    remindedAt: date(r.reminded_at),
    policyVersion: r.policy_version,
    scheduledFor: date(r.scheduled_for ?? null),
  };
}

function toItem(r: ItemRow): ReviewItem {
  return {
    id: r.id,
    campaignId: r.campaign_id,
    source: r.source,
    principal: r.principal,
    principalSubjects: r.principal_subjects,
    principalGroups: r.principal_groups,
    principalKind: r.principal_kind,
    displayName: r.display_name,
    cloud: r.cloud,
    access: r.access,
    scope: r.scope,
    since: date(r.since),
    lastUsedAt: date(r.last_used_at),
    findingId: r.finding_id,
    privileged: r.privileged,
    reasons: r.reasons,
    rule: r.rule,
    requesterIndex: r.requester_index,
    requested: Number(r.requested),
    granted: Number(r.granted),
    detail: r.detail,
    reviewerGroups: r.reviewer_groups,
    decision: r.decision,
    defaulted: r.defaulted,
    justification: r.justification,
    narrowing: r.narrowing,
    decidedBy: r.decided_by,
    decidedAt: date(r.decided_at),
    applied: r.applied,
    appliedAt: date(r.applied_at),
    applyError: r.apply_error,
    escalatedAt: date(r.escalated_at),
  };
}

const ITEM_COLUMNS = [
  'id', 'campaign_id', 'source', 'principal', 'principal_subjects', 'principal_groups', 'principal_kind', 'display_name', 'cloud', 'access',
  'scope', 'since', 'last_used_at', 'finding_id', 'privileged', 'reasons', 'rule', 'requester_index', 'requested', 'granted', 'detail', 'reviewer_groups',
] as const;
/** Items inserted per statement: 22 parameters each, under PostgreSQL's 65,535. */
const ITEMS_PER_INSERT = 500;

function itemValues(i: ReviewItem): unknown[] {
  return [
    i.id, i.campaignId, i.source, i.principal, JSON.stringify(i.principalSubjects), JSON.stringify(i.principalGroups), i.principalKind, i.displayName, i.cloud,
    i.access, i.scope, i.since, i.lastUsedAt, i.findingId, i.privileged, JSON.stringify(i.reasons), i.rule, i.requesterIndex, i.requested, i.granted,
    i.detail === null ? null : JSON.stringify(i.detail), JSON.stringify(i.reviewerGroups),
  ];
}

class PostgresReviewWrites implements ReviewWrites {
  constructor(private readonly m: EntityManager) {}

  async insertCampaign(c: ReviewCampaign, items: ReviewItem[]): Promise<boolean> {
    const inserted: unknown[] = await this.m.query(
      `INSERT INTO review_campaigns (id, definition, description, state, started_by, started_at, ends_at, closed_at, period_from, default_decision, spec, reminded_at, policy_version, scheduled_for)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)
       ON CONFLICT (definition, scheduled_for) WHERE scheduled_for IS NOT NULL DO NOTHING
       RETURNING id`,
      [c.id, c.definition, c.description, c.state, c.startedBy, c.startedAt, c.endsAt, c.closedAt, c.periodFrom, c.defaultDecision, JSON.stringify(c.spec), c.remindedAt, c.policyVersion, c.scheduledFor ?? null],
    );
    if (inserted.length !== 1) return false;
    for (let at = 0; at < items.length; at += ITEMS_PER_INSERT) {
      const chunk = items.slice(at, at + ITEMS_PER_INSERT);
      const n = ITEM_COLUMNS.length;
      const rows = chunk.map((_, r) => `(${ITEM_COLUMNS.map((_c, k) => `$${r * n + k + 1}`).join(', ')})`).join(', ');
      await this.m.query(`INSERT INTO review_items (${ITEM_COLUMNS.join(', ')}) VALUES ${rows}`, chunk.flatMap(itemValues));
    }
    return true;
  }

  async decide(itemId: string, p: Pick<ReviewItem, 'decision' | 'defaulted' | 'justification' | 'narrowing' | 'decidedBy' | 'decidedAt'>): Promise<boolean> {
    const result: unknown = await this.m.query(
      `UPDATE review_items SET decision = $2, defaulted = $3, justification = $4, narrowing = $5, decided_by = $6, decided_at = $7
       WHERE id = $1 AND decision IS NULL RETURNING id`,
      [itemId, p.decision, p.defaulted, p.justification, p.narrowing === null ? null : JSON.stringify(p.narrowing), p.decidedBy, p.decidedAt],
    );
    return updated(result) === 1;
  }

  async markApplied(itemId: string, p: Pick<ReviewItem, 'applied' | 'appliedAt' | 'applyError'>): Promise<void> {
    await this.m.query(`UPDATE review_items SET applied = $2, applied_at = $3, apply_error = $4 WHERE id = $1`, [itemId, p.applied, p.appliedAt, p.applyError]);
  }

  async escalate(itemId: string, at: Date, addGroups: string[]): Promise<boolean> {
    const result: unknown = await this.m.query(
      `UPDATE review_items SET escalated_at = $2,
         reviewer_groups = (SELECT coalesce(jsonb_agg(DISTINCT g), '[]'::jsonb) FROM (SELECT jsonb_array_elements_text(reviewer_groups) AS g UNION SELECT unnest($3::text[])) AS x)
       WHERE id = $1 AND escalated_at IS NULL RETURNING id`,
      [itemId, at, addGroups],
    );
    return updated(result) === 1;
  }

  async setReminded(campaignId: string, at: Date): Promise<boolean> {
    const result: unknown = await this.m.query(`UPDATE review_campaigns SET reminded_at = $2 WHERE id = $1 AND reminded_at IS NULL RETURNING id`, [campaignId, at]);
    return updated(result) === 1;
  }

  async close(campaignId: string, at: Date): Promise<boolean> {
    const result: unknown = await this.m.query(`UPDATE review_campaigns SET state = 'closed', closed_at = $2 WHERE id = $1 AND state = 'open' RETURNING id`, [campaignId, at]);
    return updated(result) === 1;
  }

  stage(events: readonly StagedAuditEvent[]): Promise<void> {
    return stageAuditEvents(this.m, events);
  }
}

/** Access reviews on PostgreSQL (or the embedded PGlite): campaigns, items, definitions, the scheduler's lease. */
export class PostgresReviewStore extends ReviewStore {
  constructor(private readonly db: DataSource) {
    super();
  }

  transaction<T>(work: (tx: ReviewWrites) => Promise<T>): Promise<T> {
    return this.db.transaction((m) => work(new PostgresReviewWrites(m)));
  }

  async getCampaign(id: string): Promise<ReviewCampaign | null> {
    const rows: CampaignRow[] = await this.db.query(`SELECT * FROM review_campaigns WHERE id = $1`, [id]);
    return rows[0] ? toCampaign(rows[0]) : null;
  }

  async listCampaigns(filter: { state?: ReviewCampaignState; definition?: string }, page: { after?: string; limit: number }): Promise<ReviewCampaign[]> {
    const where: string[] = [];
    const args: unknown[] = [];
    if (filter.state) where.push(`state = $${args.push(filter.state)}`);
    if (filter.definition) where.push(`definition = $${args.push(filter.definition)}`);
    // Newest first; `after` is the id of the last campaign of the previous page.
    if (page.after) where.push(`(started_at, id) < (SELECT started_at, id FROM review_campaigns WHERE id = $${args.push(page.after)})`);
    const rows: CampaignRow[] = await this.db.query(
      `SELECT * FROM review_campaigns ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY started_at DESC, id DESC LIMIT $${args.push(page.limit)}`,
      args,
    );
    return rows.map(toCampaign);
  }

  async counts(campaignId: string): Promise<ReviewCampaignCounts> {
    const [row]: { total: number; decided: number }[] = await this.db.query(
      `SELECT count(*)::int AS total, count(decision)::int AS decided FROM review_items WHERE campaign_id = $1`,
      [campaignId],
    );
    return { total: row.total, decided: row.decided, pending: row.total - row.decided };
  }

  async getItem(id: string): Promise<ReviewItem | null> {
    const rows: ItemRow[] = await this.db.query(`SELECT * FROM review_items WHERE id = $1`, [id]);
    return rows[0] ? toItem(rows[0]) : null;
  }

  async listItems(campaignId: string, filter: ReviewItemFilter, page: { after?: string; limit: number }): Promise<ReviewItem[]> {
    const args: unknown[] = [campaignId];
    const where = ['campaign_id = $1'];
    if (filter.decided !== undefined) where.push(filter.decided ? 'decision IS NOT NULL' : 'decision IS NULL');
    if (filter.source) where.push(`source = $${args.push(filter.source)}`);
    if (filter.reviewerGroups) where.push(`reviewer_groups ?| $${args.push(filter.reviewerGroups)}::text[]`);
    if (page.after) where.push(`id > $${args.push(page.after)}`);
    const rows: ItemRow[] = await this.db.query(`SELECT * FROM review_items WHERE ${where.join(' AND ')} ORDER BY id LIMIT $${args.push(page.limit)}`, args);
    return rows.map(toItem);
  }

  async latestOf(definition: string): Promise<ReviewCampaign | null> {
    const rows: CampaignRow[] = await this.db.query(`SELECT * FROM review_campaigns WHERE definition = $1 ORDER BY started_at DESC LIMIT 1`, [definition]);
    return rows[0] ? toCampaign(rows[0]) : null;
  }

  async openCampaigns(): Promise<ReviewCampaign[]> {
    const rows: CampaignRow[] = await this.db.query(`SELECT * FROM review_campaigns WHERE state = 'open' ORDER BY ends_at, id`);
    return rows.map(toCampaign);
  }

  async unappliedItems(decidedBefore: Date, limit: number): Promise<ReviewItem[]> {
    const rows: ItemRow[] = await this.db.query(
      `SELECT * FROM review_items WHERE decision IS NOT NULL AND applied IS NULL AND decided_at < $1 ORDER BY decided_at, id LIMIT $2`,
      [decidedBefore, limit],
    );
    return rows.map(toItem);
  }

  async overdueItems(now: Date): Promise<number> {
    const [row]: { n: number }[] = await this.db.query(
      `SELECT count(*)::int AS n FROM review_items i JOIN review_campaigns c ON c.id = i.campaign_id
       WHERE c.state = 'open' AND c.ends_at <= $1 AND i.decision IS NULL`,
      [now],
    );
    return row.n;
  }

  async saveDefinition(d: StoredReviewDefinition): Promise<boolean> {
    const rows: unknown[] = await this.db.query(
      `INSERT INTO review_definitions (name, spec, created_by, created_at) VALUES ($1, $2, $3, $4) ON CONFLICT (name) DO NOTHING RETURNING name`,
      [d.name, JSON.stringify(d.spec), d.createdBy, d.createdAt],
    );
    return rows.length === 1;
  }

  async listDefinitions(): Promise<StoredReviewDefinition[]> {
    const rows: { name: string; spec: Record<string, unknown>; created_by: string; created_at: Date }[] = await this.db.query(`SELECT * FROM review_definitions ORDER BY name`);
    return rows.map((r) => ({ name: r.name, spec: r.spec, createdBy: r.created_by, createdAt: new Date(r.created_at) }));
  }

  async claimLease(name: string, owner: string, until: Date, now: Date): Promise<boolean> {
    const rows: unknown[] = await this.db.query(
      `INSERT INTO review_leases AS l (name, owner, lease_until) VALUES ($1, $2, $3)
       ON CONFLICT (name) DO UPDATE SET owner = EXCLUDED.owner, lease_until = EXCLUDED.lease_until
       WHERE l.lease_until < $4 OR l.owner = $2
       RETURNING name`,
      [name, owner, until, now],
    );
    return rows.length === 1;
  }

  async releaseLease(name: string, owner: string): Promise<void> {
    await this.db.query(`DELETE FROM review_leases WHERE name = $1 AND owner = $2`, [name, owner]);
  }
}

/**
 * Usage through the broker, from the grants table: requests for a principal (or under a rule)
 * made since `from`, of them those that gave access (`starts_at` set), and the last start.
 */
export class PostgresReviewUsageReader extends ReviewUsageReader {
  constructor(private readonly db: DataSource) {
    super();
  }

  async byPrincipal(principalId: string, from: Date): Promise<ReviewUsage> {
    return this.usage(`principal_id = $1 AND created_at >= $2`, [principalId, from]);
  }

  async byRule(rule: string, subjects: string[], from: Date): Promise<ReviewUsage> {
    if (subjects.length) return this.usage(`decision->>'rule' = $1 AND created_at >= $2 AND requested_by = ANY($3::text[])`, [rule, from, subjects]);
    return this.usage(`decision->>'rule' = $1 AND created_at >= $2`, [rule, from]);
  }

  private async usage(where: string, args: unknown[]): Promise<ReviewUsage> {
    const [row]: { requested: number; granted: number; last: Date | null }[] = await this.db.query(
      `SELECT count(*)::int AS requested, count(starts_at)::int AS granted, max(starts_at) AS last FROM grants WHERE ${where}`,
      args,
    );
    return { requested: row.requested, granted: row.granted, lastGrantedAt: date(row.last) };
  }
}
