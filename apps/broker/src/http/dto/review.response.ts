import { z } from 'zod';
import { CLOUDS, REVIEW_DECISIONS, REVIEW_ITEM_SOURCES, ReviewItem } from '@jit/domain';
import { BulkResult, CampaignView, ReviewDefinition } from '@jit/reviews';
import { instantOut, pageOf } from './wire.schemas';

/** Access reviews on the wire (docs/reviews.md). */

const countsResponse = z.object({ total: z.number().int(), decided: z.number().int(), pending: z.number().int() });

export const reviewCampaignResponse = z
  .object({
    id: z.uuid(),
    definition: z.string().describe('the definition it was started from'),
    description: z.string().nullable(),
    state: z.enum(['open', 'closed']),
    startedBy: z.string(),
    startedAt: instantOut,
    endsAt: instantOut.describe('reviewers decide before this; undecided items are escalated then, and get the default at the close'),
    closedAt: instantOut.nullable(),
    periodFrom: instantOut.describe('usage through the broker is counted from here to the start'),
    defaultDecision: z.enum(['keep', 'remove']),
    remindedAt: instantOut.nullable(),
    policyVersion: z.string().nullable().describe('SHA-256 of the rules file the eligibility items were read from'),
    counts: countsResponse,
    overdue: z.boolean().describe('open, past its end, with items undecided'),
  })
  .meta({ id: 'ReviewCampaign', description: 'an access review campaign' });

export const reviewCampaignPageResponse = pageOf(reviewCampaignResponse, 'ReviewCampaignPage', 'review campaigns, newest first');

export const reviewItemResponse = z
  .object({
    id: z.uuid(),
    campaignId: z.uuid(),
    source: z.enum(REVIEW_ITEM_SOURCES).describe('standing: an assignment discovery found in a cloud; eligibility: a requester entry of an access rule'),
    principal: z.string().describe('who: the cloud principal, or what the rule\'s requester entry names'),
    principalKind: z.string(),
    displayName: z.string().nullable(),
    cloud: z.enum(CLOUDS).nullable(),
    access: z.string().describe('what: the role or policy, or the rule\'s targets'),
    scope: z.string().describe('where'),
    since: instantOut.nullable().describe('since when, where the cloud records it'),
    lastUsedAt: instantOut.nullable().describe('last use in the cloud (standing) or last grant through the broker (eligibility)'),
    requested: z.number().int().describe('requests through the broker in the campaign\'s period'),
    granted: z.number().int().describe('of them, those that gave access'),
    findingId: z.string().nullable(),
    privileged: z.boolean().nullable(),
    reasons: z.array(z.string()).describe('why discovery judged it privileged'),
    rule: z.string().nullable(),
    requesterIndex: z.number().int().nullable(),
    detail: z.record(z.string(), z.unknown()).nullable().describe('eligibility: the requester entry, the rule\'s targets (indexes for keepTargets) and maxDuration (seconds)'),
    reviewerGroups: z.array(z.string()),
    decision: z.enum(REVIEW_DECISIONS).nullable(),
    defaulted: z.boolean().describe('the campaign\'s default, applied at its close'),
    justification: z.string().nullable(),
    narrowing: z.object({ maxDuration: z.string().optional(), keepTargets: z.array(z.number().int()).optional() }).nullable(),
    decidedBy: z.string().nullable(),
    decidedAt: instantOut.nullable(),
    applied: z.string().nullable().describe('removal:<id> (discovery removal), rules-patch, none (kept) or not-applied'),
    appliedAt: instantOut.nullable(),
    applyError: z.string().nullable(),
    escalatedAt: instantOut.nullable(),
  })
  .meta({ id: 'ReviewItem', description: 'one thing a reviewer decides' });

export const reviewItemPageResponse = pageOf(reviewItemResponse, 'ReviewItemPage', 'review items, by id');

export const reviewBulkResponse = z
  .object({
    results: z.array(
      z.object({
        itemId: z.string(),
        outcome: z.enum(['decided', 'refused']),
        item: reviewItemResponse.optional(),
        status: z.string().optional().describe('refused: the error code (not_found, forbidden, invalid_state, ...)'),
        detail: z.string().optional(),
      }),
    ),
  })
  .meta({ id: 'ReviewBulkDecision', description: 'each item decided or refused on its own' });

export const reviewDefinitionListResponse = z
  .object({
    items: z.array(
      z.object({
        name: z.string(),
        origin: z.enum(['file', 'api']),
        description: z.string().nullable(),
        schedule: z.string().nullable(),
        durationSeconds: z.number(),
        defaultDecision: z.enum(['keep', 'remove']),
        definition: z.record(z.string(), z.unknown()),
      }),
    ),
  })
  .meta({ id: 'ReviewDefinitionList', description: 'campaign definitions: JIT_REVIEWS_FILE and those made through the API' });

const iso = (d: Date | null) => (d ? d.toISOString() : null);

export function toCampaignResponse(c: CampaignView): z.infer<typeof reviewCampaignResponse> {
  return {
    id: c.id,
    definition: c.definition,
    description: c.description,
    state: c.state,
    startedBy: c.startedBy,
    startedAt: c.startedAt.toISOString(),
    endsAt: c.endsAt.toISOString(),
    closedAt: iso(c.closedAt),
    periodFrom: c.periodFrom.toISOString(),
    defaultDecision: c.defaultDecision,
    remindedAt: iso(c.remindedAt),
    policyVersion: c.policyVersion,
    counts: c.counts,
    overdue: c.overdue,
  };
}

export function toItemResponse(i: ReviewItem): z.infer<typeof reviewItemResponse> {
  return {
    id: i.id,
    campaignId: i.campaignId,
    source: i.source,
    principal: i.principal,
    principalKind: i.principalKind,
    displayName: i.displayName,
    cloud: i.cloud,
    access: i.access,
    scope: i.scope,
    since: iso(i.since),
    lastUsedAt: iso(i.lastUsedAt),
    requested: i.requested,
    granted: i.granted,
    findingId: i.findingId,
    privileged: i.privileged,
    reasons: i.reasons,
    rule: i.rule,
    requesterIndex: i.requesterIndex,
    detail: i.detail,
    reviewerGroups: i.reviewerGroups,
    decision: i.decision,
    defaulted: i.defaulted,
    justification: i.justification,
    narrowing: i.narrowing,
    decidedBy: i.decidedBy,
    decidedAt: iso(i.decidedAt),
    applied: i.applied,
    appliedAt: iso(i.appliedAt),
    applyError: i.applyError,
    escalatedAt: iso(i.escalatedAt),
  };
}

export function toBulkResponse(results: BulkResult[]): z.infer<typeof reviewBulkResponse> {
  return {
    results: results.map((r) => (r.outcome === 'decided' ? { itemId: r.itemId, outcome: r.outcome, item: toItemResponse(r.item) } : { itemId: r.itemId, outcome: r.outcome, status: r.status, detail: r.detail })),
  };
}

export function toDefinitionList(list: { definition: ReviewDefinition; origin: 'file' | 'api' }[]): z.infer<typeof reviewDefinitionListResponse> {
  return {
    items: list.map(({ definition: d, origin }) => ({
      name: d.name,
      origin,
      description: d.description ?? null,
      schedule: d.schedule ?? null,
      durationSeconds: d.duration,
      defaultDecision: d.defaultDecision,
      definition: d,
    })),
  };
}
