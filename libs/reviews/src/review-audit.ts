import { AuditEventInput, ReviewCampaign, ReviewCampaignCounts, ReviewItem } from '@jit/domain';

const aboutItem = (type: AuditEventInput['type'], item: ReviewItem, actor: string, data: Record<string, unknown>): AuditEventInput => ({
  type,
  grantId: null,
  cloud: item.cloud,
  principal: item.principal,
  actor,
  data: { campaignId: item.campaignId, itemId: item.id, source: item.source, access: item.access, scope: item.scope, ...data },
});

/** One builder per review event, so every event of a type carries the same fields (docs/reviews.md). */
export const ReviewAudit = {
  started: (c: ReviewCampaign, items: number) => ({
    type: 'review.campaign_started' as const,
    grantId: null,
    cloud: null,
    principal: null,
    actor: c.startedBy,
    data: {
      campaignId: c.id,
      definition: c.definition,
      endsAt: c.endsAt.toISOString(),
      periodFrom: c.periodFrom.toISOString(),
      defaultDecision: c.defaultDecision,
      items,
      policyVersion: c.policyVersion,
      scope: c.spec.scope ?? null,
      reviewers: c.spec.reviewers ?? null,
    },
  }),
  decided: (item: ReviewItem) =>
    aboutItem('review.item_decided', item, item.decidedBy ?? 'system:review', {
      decision: item.decision,
      defaulted: item.defaulted,
      justification: item.justification,
      narrowing: item.narrowing,
      findingId: item.findingId,
      rule: item.rule,
    }),
  applied: (item: ReviewItem) =>
    aboutItem('review.item_applied', item, 'system:review', {
      decision: item.decision,
      applied: item.applied,
      outcome: item.applyError ? 'failed' : 'done',
      error: item.applyError,
      findingId: item.findingId,
      rule: item.rule,
    }),
  escalated: (item: ReviewItem, groups: string[], link: string | null, endsAt: Date) =>
    aboutItem('review.item_escalated', item, 'system:review', { escalatedTo: groups, reviewerGroups: item.reviewerGroups, link, endsAt: endsAt.toISOString() }),
  reminder: (c: ReviewCampaign, pending: number, reviewerGroups: string[], link: string | null, items: { id: string; link: string | null }[]) => ({
    type: 'review.reminder_sent' as const,
    grantId: null,
    cloud: null,
    principal: null,
    actor: 'system:review',
    data: { campaignId: c.id, definition: c.definition, endsAt: c.endsAt.toISOString(), pending, reviewerGroups, link, items },
  }),
  closed: (c: ReviewCampaign, counts: ReviewCampaignCounts, defaulted: number) => ({
    type: 'review.campaign_closed' as const,
    grantId: null,
    cloud: null,
    principal: null,
    actor: 'system:review',
    data: { campaignId: c.id, definition: c.definition, items: counts.total, decided: counts.decided - defaulted, defaulted, defaultDecision: c.defaultDecision },
  }),
};
