import { CloudName } from '../cloud';
import { StagedAuditEvent } from './audit-chain.store.port';

/**
 * Access reviews (issue 17, docs/reviews.md): campaigns over standing assignments (discovery's
 * findings) and the eligibility the access rules grant, the items a reviewer decides, and what the
 * broker applied. `libs/reviews` decides; `libs/persistence` stores through `ReviewStore`.
 */

export const REVIEW_DECISIONS = ['keep', 'remove', 'narrow'] as const;
export type ReviewDecision = (typeof REVIEW_DECISIONS)[number];

export const REVIEW_ITEM_SOURCES = ['standing', 'eligibility'] as const;
/** `standing`: a discovery finding (a standing assignment in a cloud). `eligibility`: one requester entry of a rule. */
export type ReviewItemSource = (typeof REVIEW_ITEM_SOURCES)[number];

export type ReviewCampaignState = 'open' | 'closed';

/** What narrowing an eligibility rule keeps: a shorter maximum and/or some of its targets. */
export interface ReviewNarrowing {
  /** ISO 8601 duration, shorter than the rule's. */
  maxDuration?: string;
  /** Indexes (0-based) of the rule's targets that stay; the others are removed. */
  keepTargets?: number[];
}

/** What the reviewer sees of one item: who, what, where, since when, last use, and the finding. */
export interface ReviewItemSubject {
  /** The principal under review (a cloud id) or, for eligibility, what the requester entry names. */
  principal: string;
  /** Subjects a reviewer must not be (no self-review): the principal itself, the entry's subjects. */
  principalSubjects: string[];
  /** Groups whose members must not review it (an eligibility entry by group). */
  principalGroups: string[];
  principalKind: string;
  displayName: string | null;
  cloud: CloudName | null;
  /** The access: a role or policy name, or the rule's targets in words. */
  access: string;
  /** Where: a scope, or the rule's scopes. */
  scope: string;
  since: Date | null;
  lastUsedAt: Date | null;
  /** Discovery finding (standing items). */
  findingId: string | null;
  privileged: boolean | null;
  reasons: string[];
  /** Rule name and requester entry index (eligibility items). */
  rule: string | null;
  requesterIndex: number | null;
  /** Broker usage in the campaign's period: requests made and grants given. */
  requested: number;
  granted: number;
  /** What else the reviewer and the broker need: the rule's requester entry, targets and maximum (eligibility). */
  detail: Record<string, unknown> | null;
}

export interface ReviewItem extends ReviewItemSubject {
  id: string;
  campaignId: string;
  source: ReviewItemSource;
  /** Groups whose members may decide (the rule's approvers, the campaign's reviewers; the escalation group once escalated). */
  reviewerGroups: string[];
  decision: ReviewDecision | null;
  /** Whether the decision is the campaign's default, applied when it closed undecided. */
  defaulted: boolean;
  justification: string | null;
  narrowing: ReviewNarrowing | null;
  decidedBy: string | null;
  decidedAt: Date | null;
  /** What the broker did: `removal:<id>` (standing), `rules-patch` (eligibility), `none` (keep). */
  applied: string | null;
  appliedAt: Date | null;
  applyError: string | null;
  escalatedAt: Date | null;
}

export interface ReviewCampaign {
  id: string;
  /** The definition it was started from. */
  definition: string;
  description: string | null;
  state: ReviewCampaignState;
  startedBy: string;
  startedAt: Date;
  endsAt: Date;
  closedAt: Date | null;
  /** Start of the period over which usage is counted. */
  periodFrom: Date;
  defaultDecision: 'keep' | 'remove';
  /** The definition as it was when the campaign started (scope, reviewers, reminders, escalation). */
  spec: Record<string, unknown>;
  remindedAt: Date | null;
  /** The rules file's version (SHA-256) the eligibility items were read from. */
  policyVersion: string | null;
  /** The cron firing the scheduler started it for (one campaign per definition and firing); null when started by hand. */
  scheduledFor?: Date | null;
}

export interface ReviewCampaignCounts {
  total: number;
  decided: number;
  pending: number;
}

/** A campaign definition stored by the API (those of `JIT_REVIEWS_FILE` are read from the file). */
export interface StoredReviewDefinition {
  name: string;
  spec: Record<string, unknown>;
  createdBy: string;
  createdAt: Date;
}

export interface ReviewItemFilter {
  decided?: boolean;
  source?: ReviewItemSource;
  /** Only items these groups may decide. */
  reviewerGroups?: string[];
}

/** Review rows inside one transaction, with the audit events that commit with them. */
export interface ReviewWrites {
  /** Inserts the campaign and its items; false (nothing inserted) when a campaign of its definition was already started for its `scheduledFor` firing. */
  insertCampaign(campaign: ReviewCampaign, items: ReviewItem[]): Promise<boolean>;
  /** Stores the decision on an undecided item; false when it was already decided (another reviewer got there first). */
  decide(itemId: string, patch: Pick<ReviewItem, 'decision' | 'defaulted' | 'justification' | 'narrowing' | 'decidedBy' | 'decidedAt'>): Promise<boolean>;
  markApplied(itemId: string, patch: Pick<ReviewItem, 'applied' | 'appliedAt' | 'applyError'>): Promise<void>;
  /** Escalates an item not yet escalated; false when it already was (its event is not sent twice). */
  escalate(itemId: string, at: Date, addGroups: string[]): Promise<boolean>;
  /** Marks the campaign reminded; false when it already was. */
  setReminded(campaignId: string, at: Date): Promise<boolean>;
  /** Closes an open campaign; false when it was already closed. */
  close(campaignId: string, at: Date): Promise<boolean>;
  stage(events: readonly StagedAuditEvent[]): Promise<void>;
}

export abstract class ReviewStore {
  /** Runs `work` in one transaction; the staged events commit with the review rows or not at all. */
  abstract transaction<T>(work: (tx: ReviewWrites) => Promise<T>): Promise<T>;
  abstract getCampaign(id: string): Promise<ReviewCampaign | null>;
  abstract listCampaigns(filter: { state?: ReviewCampaignState; definition?: string }, page: { after?: string; limit: number }): Promise<ReviewCampaign[]>;
  abstract counts(campaignId: string): Promise<ReviewCampaignCounts>;
  abstract getItem(id: string): Promise<ReviewItem | null>;
  /** Items of a campaign in a stable order (`id`), from `after`. */
  abstract listItems(campaignId: string, filter: ReviewItemFilter, page: { after?: string; limit: number }): Promise<ReviewItem[]>;
  /** The latest campaign started from a definition (the scheduler starts one per due time). */
  abstract latestOf(definition: string): Promise<ReviewCampaign | null>;
  /** Open campaigns whose end is before `at` (to close), or all open ones. */
  abstract openCampaigns(): Promise<ReviewCampaign[]>;
  /** Decided items nothing was applied for, decided before `decidedBefore` (a broker stopped between storing and applying), oldest first. */
  abstract unappliedItems(decidedBefore: Date, limit: number): Promise<ReviewItem[]>;
  /** Undecided items of open campaigns past their end: the `jit_review_items_overdue` gauge. */
  abstract overdueItems(now: Date): Promise<number>;
  /** Stores a definition made through the API; false when the name is taken (two defines at once: one wins). */
  abstract saveDefinition(definition: StoredReviewDefinition): Promise<boolean>;
  abstract listDefinitions(): Promise<StoredReviewDefinition[]>;
  /** Takes or renews the scheduler's lease for `owner`; false while another owner holds it. */
  abstract claimLease(name: string, owner: string, until: Date, now: Date): Promise<boolean>;
  abstract releaseLease(name: string, owner: string): Promise<void>;
}

/** How many times the broker was asked for, and granted, access in a period: the "used through the broker" figure of an item. */
export interface ReviewUsage {
  requested: number;
  granted: number;
  lastGrantedAt: Date | null;
}

export abstract class ReviewUsageReader {
  /** Grants requested for `principalId` (a cloud principal id) since `from`. */
  abstract byPrincipal(principalId: string, from: Date): Promise<ReviewUsage>;
  /** Grants decided by rule `rule` since `from`, requested by one of `subjects` or (when given) anyone (`subjects` empty). */
  abstract byRule(rule: string, subjects: string[], from: Date): Promise<ReviewUsage>;
}
