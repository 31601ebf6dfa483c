import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import {
  AuditEventInput,
  Clock,
  DiscoveryFinding,
  DiscoveryFindingsReader,
  DomainError,
  FieldIssue,
  REVIEW_DECISIONS,
  ReviewCampaign,
  ReviewCampaignCounts,
  ReviewItem,
  ReviewItemFilter,
  ReviewStore,
  ReviewUsage,
  ReviewUsageReader,
  ReviewWrites,
  StagedAuditEvent,
  StandingRemovals,
  globCovers,
  parseIsoDurationSeconds,
  toWellFormedDeep,
  zodIssues,
} from '@jit/domain';
import { Actor, hasRole, requireRole } from '@jit/grants';
import { AccessPolicy, AccessRule, requesterMatches } from '@jit/policy';
import { ReviewAudit } from './review-audit';
import { ReviewDefinition, dueScheduled, reviewDefinitionSchema } from './review-definition';
import { RulesPatch, buildRulesPatch, describeTarget } from './rules-patch';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** Findings read per page when a campaign is built. */
const FINDINGS_PAGE = 500;
/** The most items one campaign takes: a larger scope is refused naming the scope, rather than half-built. */
export const MAX_CAMPAIGN_ITEMS = 20_000;
/** A decision with nothing applied this long after it was made is applied again by the scheduler (the apply in flight has long finished). */
const REAPPLY_AFTER_MS = 5 * 60_000;
/** Items listed in a reminder (each with its link); the rest are counted. */
const REMINDER_ITEMS = 50;
/** How long an escalated campaign stays open after its end before the default is applied. */
export const ESCALATION_GRACE_MS = 3 * 86_400_000;

export const decisionBody = z.strictObject({
  decision: z.enum(REVIEW_DECISIONS),
  justification: z.string().trim().min(1, 'is required').max(2000),
  narrowing: z
    .strictObject({
      maxDuration: z.string().max(64).optional(),
      keepTargets: z.array(z.number().int().min(0).max(1000)).min(1).max(1000).optional(),
    })
    .refine((n) => n.maxDuration !== undefined || n.keepTargets !== undefined, 'name maxDuration, keepTargets or both')
    .optional(),
});
export type DecisionBody = z.output<typeof decisionBody>;

export const bulkDecisionBody = decisionBody.extend({
  itemIds: z.array(z.string().regex(UUID, 'must be item ids (UUID)')).min(1).max(1000),
});

export interface ReviewsOptions {
  store: ReviewStore;
  usage: ReviewUsageReader;
  /** Discovery's findings and removals; null while discovery is not wired (standing scopes then have no items). */
  findings: DiscoveryFindingsReader | null;
  removals: StandingRemovals | null;
  policies: { readonly current: AccessPolicy };
  clock: Clock;
  /** The definitions of `JIT_REVIEWS_FILE`. */
  definitions: readonly ReviewDefinition[];
  /** JIT_PUBLIC_URL: the base of the links in reminders and escalations. */
  publicUrl?: string;
  /** Called after events were committed (the broker asks for a chaining round and wakes the webhooks). */
  onRecorded?: () => void;
  /** A definition's or campaign's scheduled work failed (the broker logs it; the rest of the tick goes on). */
  onTickError?: (what: string, error: unknown) => void;
}

export interface CampaignView extends ReviewCampaign {
  counts: ReviewCampaignCounts;
  overdue: boolean;
}

export interface ReportRow extends ReviewItem {
  /** The removal's state now (standing items removed through discovery), or null. */
  removalState: string | null;
}

export interface CampaignReport {
  campaign: CampaignView;
  items: ReportRow[];
  generatedAt: Date;
  generatedBy: string;
}

/** A usage figure read once per key while one campaign is built. */
type CachedUsage = (key: string, read: () => Promise<ReviewUsage>) => Promise<ReviewUsage>;

export type BulkResult = { itemId: string; outcome: 'decided'; item: ReviewItem } | { itemId: string; outcome: 'refused'; status: string; detail: string };

/**
 * Access reviews (docs/reviews.md): campaigns started from a definition, by the scheduler or an
 * admin; the items they hold; reviewers' decisions (one or in bulk) and what the broker applies;
 * reminders, escalation and the default at the end; the report and the rules-file patch.
 */
export class ReviewCampaigns {
  /** Scheduled work that failed since the broker started: `jit_review_tick_failures_total`. */
  tickFailures = 0;

  constructor(private readonly o: ReviewsOptions) {}

  /** Runs one definition's or campaign's part of a tick: a failure is counted and reported, and the others go on. */
  private async guarded(what: string, work: () => Promise<void>): Promise<boolean> {
    try {
      await work();
      return true;
    } catch (e) {
      this.tickFailures++;
      this.o.onTickError?.(what, e);
      return false;
    }
  }

  // ---- definitions -------------------------------------------------------------------------

  async definitions(actor: Actor): Promise<{ definition: ReviewDefinition; origin: 'file' | 'api' }[]> {
    requireRole(actor, 'admin', 'auditor', 'approver');
    const stored = await this.o.store.listDefinitions();
    return [
      ...this.o.definitions.map((d) => ({ definition: d, origin: 'file' as const })),
      ...stored.flatMap((s) => {
        const parsed = reviewDefinitionSchema.safeParse(s.spec);
        return parsed.success ? [{ definition: parsed.data, origin: 'api' as const }] : [];
      }),
    ];
  }

  /** Stores a definition made through the API (admin). A name the file or an earlier call took is a 409. */
  async define(actor: Actor, body: unknown): Promise<ReviewDefinition> {
    requireRole(actor, 'admin');
    const parsed = reviewDefinitionSchema.safeParse(body);
    if (!parsed.success) throw DomainError.validation(zodIssues(parsed.error));
    const d = parsed.data;
    const taken = () => new DomainError('invalid_state', `a campaign definition named ${d.name} exists`, [{ field: 'name', message: 'is taken' }]);
    if (await this.findDefinition(d.name)) throw taken();
    // A define of the same name that got there first (two at once) is the same 409, not a 500.
    if (!(await this.o.store.saveDefinition({ name: d.name, spec: body as Record<string, unknown>, createdBy: actor.subject, createdAt: this.o.clock.now() }))) throw taken();
    return d;
  }

  private async findDefinition(name: string): Promise<ReviewDefinition | null> {
    const fromFile = this.o.definitions.find((d) => d.name === name);
    if (fromFile) return fromFile;
    const stored = (await this.o.store.listDefinitions()).find((s) => s.name === name);
    if (!stored) return null;
    const parsed = reviewDefinitionSchema.safeParse(stored.spec);
    return parsed.success ? parsed.data : null;
  }

  private async allDefinitions(): Promise<ReviewDefinition[]> {
    const stored = await this.o.store.listDefinitions();
    const parsed = stored.flatMap((s) => {
      const p = reviewDefinitionSchema.safeParse(s.spec);
      return p.success && !this.o.definitions.some((d) => d.name === p.data.name) ? [p.data] : [];
    });
    return [...this.o.definitions, ...parsed];
  }

  // ---- starting a campaign -----------------------------------------------------------------

  /** Starts a campaign now from a definition (admin), or from the scheduler (`actor` null). */
  async start(actor: Actor | null, definitionName: string): Promise<CampaignView> {
    if (actor) requireRole(actor, 'admin');
    const definition = await this.findDefinition(definitionName);
    if (!definition) throw new DomainError('not_found', `no campaign definition ${definitionName}`, [{ field: 'definition', message: 'no such definition' }]);
    return (await this.startFrom(definition, actor?.subject ?? 'system:scheduler', null))!;
  }

  /** Builds and inserts a campaign; null when `scheduledFor` names a firing another replica (or tick) already started. */
  private async startFrom(definition: ReviewDefinition, startedBy: string, scheduledFor: Date | null): Promise<CampaignView | null> {
    const now = this.o.clock.now();
    const policy = this.o.policies.current;
    const campaign: ReviewCampaign = {
      id: randomUUID(),
      definition: definition.name,
      description: definition.description ?? null,
      state: 'open',
      startedBy,
      startedAt: now,
      endsAt: new Date(now.getTime() + definition.duration * 1000),
      closedAt: null,
      periodFrom: new Date(now.getTime() - definition.usagePeriod * 1000),
      defaultDecision: definition.defaultDecision,
      spec: definition,
      remindedAt: null,
      policyVersion: definition.scope.eligibility ? policy.version : null,
      scheduledFor,
    };
    // Usage figures while this campaign is built (its own period): a principal with many
    // assignments, or a rule with many entries, is counted once; two starts at once share nothing.
    const cache = new Map<string, Promise<ReviewUsage>>();
    const usage = (key: string, read: () => Promise<ReviewUsage>) => {
      let hit = cache.get(key);
      if (!hit) cache.set(key, (hit = read()));
      return hit;
    };
    const standing = await this.standingItems(definition, campaign, usage);
    // The cap is on the campaign's items in all, standing and eligibility together.
    const items = [...standing, ...(await this.eligibilityItems(definition, campaign, policy, usage, standing.length))];
    const inserted = await this.o.store.transaction(async (tx) => {
      const ok = await tx.insertCampaign(campaign, items);
      if (ok) await this.stage(tx, [ReviewAudit.started(campaign, items.length)]);
      return ok;
    });
    if (!inserted) return null;
    this.o.onRecorded?.();
    return this.view(campaign);
  }

  private async standingItems(d: ReviewDefinition, c: ReviewCampaign, usage: CachedUsage): Promise<ReviewItem[]> {
    const scope = d.scope.standing;
    if (!scope || !this.o.findings) return [];
    const items: ReviewItem[] = [];
    let after: string | undefined;
    for (;;) {
      const page = await this.o.findings.list(
        {
          status: 'open',
          ...(scope.privilegedOnly ? { privileged: true } : {}),
          ...(scope.clouds?.length === 1 ? { cloud: scope.clouds[0] } : {}),
          ...(scope.principalKinds?.length === 1 ? { principalKind: scope.principalKinds[0] } : {}),
          ...(scope.human !== undefined ? { human: scope.human } : {}),
        },
        { after, limit: FINDINGS_PAGE },
      );
      for (const f of page) {
        if (!standingInScope(d, f)) continue;
        if (items.length >= MAX_CAMPAIGN_ITEMS) throw tooMany();
        items.push(await this.standingItem(d, c, f, usage));
      }
      if (page.length < FINDINGS_PAGE) break;
      after = page[page.length - 1].id;
    }
    return items;
  }

  private async standingItem(d: ReviewDefinition, c: ReviewCampaign, f: DiscoveryFinding, cachedUsage: CachedUsage): Promise<ReviewItem> {
    const usage = await cachedUsage(`p:${f.principal.id}`, () => this.o.usage.byPrincipal(f.principal.id, c.periodFrom));
    return {
      ...blankItem(c, 'standing'),
      principal: f.principal.id,
      principalSubjects: [f.principal.id, ...(f.principal.displayName ? [f.principal.displayName] : [])],
      principalGroups: [],
      principalKind: f.principal.kind,
      displayName: f.principal.displayName ?? null,
      cloud: f.cloud,
      access: f.access.name,
      scope: f.scope,
      since: f.since,
      lastUsedAt: f.lastUsedAt,
      findingId: f.id,
      privileged: f.privileged,
      reasons: f.reasons,
      requested: usage.requested,
      granted: usage.granted,
      detail: { accessType: f.access.type, neverUsed: f.neverUsed ?? null, removable: f.removable, usage: f.usage ?? null, firstSeenAt: f.firstSeenAt.toISOString() },
      reviewerGroups: [...(d.reviewers.groups ?? [])],
    };
  }

  private async eligibilityItems(d: ReviewDefinition, c: ReviewCampaign, policy: AccessPolicy, cachedUsage: CachedUsage, already: number): Promise<ReviewItem[]> {
    const scope = d.scope.eligibility;
    if (!scope) return [];
    const items: ReviewItem[] = [];
    for (const rule of policy.file.rules) {
      if (!ruleInScope(scope, rule)) continue;
      const approvers = rule.approval === 'auto' ? [] : 'allOf' in rule.approval ? rule.approval.allOf.flatMap((s) => s.from) : rule.approval.from;
      const reviewers = [...new Set([...(d.reviewers.groups ?? []), ...(d.reviewers.ruleApprovers ? approvers : [])])];
      for (const [index, entry] of rule.requesters.entries()) {
        if (already + items.length >= MAX_CAMPAIGN_ITEMS) throw tooMany();
        // Usage by the entry's subjects when they are exact names; by the whole rule otherwise.
        const exact = entry.subjects?.every((s) => !/[*?]/.test(s)) && !entry.groups && !entry.issuer ? [...(entry.subjects ?? [])] : [];
        const usage = await cachedUsage(`r:${rule.name}:${exact.join(',')}`, () => this.o.usage.byRule(rule.name, exact, c.periodFrom));
        const entryJson = { ...entry } as Record<string, unknown>;
        items.push({
          ...blankItem(c, 'eligibility'),
          principal: describeEntry(entry),
          principalSubjects: [...(entry.subjects ?? [])],
          principalGroups: [...(entry.groups ?? [])],
          principalKind: entry.groups ? 'group' : entry.issuer ? 'workload' : 'subject',
          displayName: null,
          cloud: singleCloud(rule),
          access: rule.targets.map((t) => describeTarget(t as Record<string, unknown>)).join('; '),
          scope: [...new Set(rule.targets.flatMap((t) => scopesOf(t as Record<string, unknown>)))].join(', '),
          since: null,
          lastUsedAt: usage.lastGrantedAt,
          findingId: null,
          privileged: null,
          reasons: [],
          rule: rule.name,
          requesterIndex: index,
          requested: usage.requested,
          granted: usage.granted,
          detail: { entry: entryJson, targets: rule.targets.map((t) => describeTarget(t as Record<string, unknown>)), maxDuration: rule.maxDuration, approval: approvers },
          reviewerGroups: reviewers,
        });
      }
    }
    return items;
  }

  // ---- reading -----------------------------------------------------------------------------

  async listCampaigns(actor: Actor, filter: { state?: 'open' | 'closed'; definition?: string }, page: { after?: string; limit: number }): Promise<CampaignView[]> {
    requireRole(actor, 'admin', 'auditor', 'approver');
    const rows = await this.o.store.listCampaigns(filter, page);
    return Promise.all(rows.map((c) => this.view(c)));
  }

  async getCampaign(actor: Actor, id: string): Promise<CampaignView> {
    requireRole(actor, 'admin', 'auditor', 'approver');
    return this.view(await this.campaign(id));
  }

  /** Items of a campaign: admins and auditors read them all; a reviewer those their groups may decide. */
  async listItems(actor: Actor, campaignId: string, filter: Omit<ReviewItemFilter, 'reviewerGroups'>, page: { after?: string; limit: number }): Promise<ReviewItem[]> {
    requireRole(actor, 'admin', 'auditor', 'approver');
    await this.campaign(campaignId);
    const all = hasRole(actor, 'admin', 'auditor');
    return this.o.store.listItems(campaignId, all ? filter : { ...filter, reviewerGroups: [...this.o.policies.current.groupsOf(actor)] }, page);
  }

  async getItem(actor: Actor, id: string): Promise<ReviewItem> {
    requireRole(actor, 'admin', 'auditor', 'approver');
    const item = await this.item(id);
    if (!hasRole(actor, 'admin', 'auditor') && !this.inReviewerGroups(actor, item)) throw noSuchItem(id);
    return item;
  }

  // ---- deciding ----------------------------------------------------------------------------

  async decide(actor: Actor, itemId: string, body: unknown): Promise<ReviewItem> {
    requireRole(actor, 'approver', 'admin');
    const command = parse(decisionBody, body);
    const item = await this.item(itemId);
    const campaign = await this.campaign(item.campaignId);
    return this.decideOne(actor, campaign, item, command);
  }

  /** The same decision on many items of one campaign; each is decided or refused on its own (no item's refusal stops the others). */
  async decideMany(actor: Actor, campaignId: string, body: unknown): Promise<BulkResult[]> {
    requireRole(actor, 'approver', 'admin');
    const { itemIds, ...command } = parse(bulkDecisionBody, body);
    const campaign = await this.campaign(campaignId);
    const results: BulkResult[] = [];
    for (const id of [...new Set(itemIds.map((i) => i.toLowerCase()))]) {
      try {
        const item = await this.o.store.getItem(id);
        if (!item || item.campaignId !== campaign.id) throw noSuchItem(id);
        results.push({ itemId: id, outcome: 'decided', item: await this.decideOne(actor, campaign, item, command) });
      } catch (e) {
        if (!(e instanceof DomainError)) throw e;
        results.push({ itemId: id, outcome: 'refused', status: e.code, detail: e.message });
      }
    }
    return results;
  }

  private async decideOne(actor: Actor, campaign: ReviewCampaign, item: ReviewItem, command: DecisionBody): Promise<ReviewItem> {
    this.assertMayDecide(actor, item);
    if (campaign.state !== 'open') throw new DomainError('invalid_state', `campaign ${campaign.id} is closed`, [{ field: 'id', message: 'the campaign is closed' }]);
    if (item.decision) {
      throw new DomainError('invalid_state', `item ${item.id} was decided (${item.decision}) by ${item.decidedBy}`, [{ field: 'id', message: 'already decided' }]);
    }
    checkDecision(item, command, item.rule ? this.o.policies.current.file.rules.find((r) => r.name === item.rule)?.requesters.length : undefined);
    const decided: ReviewItem = {
      ...item,
      decision: command.decision,
      defaulted: false,
      justification: command.justification,
      narrowing: command.narrowing ?? null,
      decidedBy: actor.subject,
      decidedAt: this.o.clock.now(),
    };
    await this.storeDecision(decided);
    return this.apply(campaign, decided);
  }

  private async storeDecision(decided: ReviewItem): Promise<void> {
    const stored = await this.o.store.transaction(async (tx) => {
      const ok = await tx.decide(decided.id, decided);
      if (ok) await this.stage(tx, [ReviewAudit.decided(decided)]);
      return ok;
    });
    if (!stored) throw new DomainError('invalid_state', `item ${decided.id} was decided by someone else meanwhile`, [{ field: 'id', message: 'already decided' }]);
    this.o.onRecorded?.();
  }

  /**
   * What the broker does with a decision: a standing assignment to remove goes to discovery's
   * removal (its approvals, audit and restore; origin `review:<campaign>`); an eligibility entry
   * to remove or narrow goes into the campaign's rules patch; keep changes nothing.
   */
  private async apply(campaign: ReviewCampaign, item: ReviewItem): Promise<ReviewItem> {
    let applied: string;
    let applyError: string | null = null;
    if (item.decision === 'keep') applied = 'none';
    else if (item.source === 'eligibility') applied = 'rules-patch';
    else if (!this.o.removals || !item.findingId) {
      applied = 'not-applied';
      applyError = 'discovery removals are not available in this broker';
    } else {
      try {
        const removal = await this.o.removals.request(item.findingId, {
          actor: item.decidedBy ?? 'system:review',
          justification: `access review ${campaign.definition} (${campaign.id}): ${item.justification ?? ''}`.slice(0, 2000),
          origin: `review:${campaign.id}`,
        });
        applied = `removal:${removal.id}`;
      } catch (e) {
        applied = 'not-applied';
        applyError = (e instanceof Error ? e.message : String(e)).slice(0, 1000);
      }
    }
    const done: ReviewItem = { ...item, applied, appliedAt: this.o.clock.now(), applyError };
    await this.o.store.transaction(async (tx) => {
      await tx.markApplied(item.id, done);
      await this.stage(tx, [ReviewAudit.applied(done)]);
    });
    this.o.onRecorded?.();
    return done;
  }

  private inReviewerGroups(actor: Actor, item: ReviewItem): boolean {
    const groups = this.o.policies.current.groupsOf(actor);
    return item.reviewerGroups.some((g) => groups.has(g));
  }

  /** A reviewer is in one of the item's reviewer groups (an admin too when it names none), and is never the principal under review. */
  assertMayDecide(actor: Actor, item: ReviewItem): void {
    const member = this.inReviewerGroups(actor, item) || (item.reviewerGroups.length === 0 && hasRole(actor, 'admin'));
    if (!member) {
      if (!hasRole(actor, 'admin', 'auditor')) throw noSuchItem(item.id);
      throw new DomainError('forbidden', `reviewers of this item are the groups ${item.reviewerGroups.join(', ') || '(none: admins)'}`, [{ field: 'id', message: 'not a reviewer of this item' }], {
        itemId: item.id,
      });
    }
    if (isSelfReview(actor, item, this.o.policies.current.groupsOf(actor))) {
      throw new DomainError('forbidden', 'nobody reviews their own access', [{ field: 'id', message: 'is your own access' }], { itemId: item.id });
    }
  }

  // ---- the schedule: starts, reminders, escalation, defaults ---------------------------------

  /**
   * One pass of the scheduler (normally one replica at a time, under the database lease): starts the
   * campaigns whose schedule fired since their last start (or since `since` for a definition
   * never started), reminds reviewers `remindBefore` the end, escalates undecided items at the end,
   * and closes campaigns, applying the default to what nobody decided.
   */
  async tick(since: Date): Promise<{ started: number; reminded: number; escalated: number; closed: number; reapplied: number; failed: number }> {
    // Safe with more than one replica at once: each firing starts one campaign (unique in the
    // store), and a reminder, an escalation or a close is sent by whoever changed the row.
    // One definition or campaign that fails (a bad scope, a store error) is counted and reported
    // and the others go on: no single one holds back all review work.
    const now = this.o.clock.now();
    const out = { started: 0, reminded: 0, escalated: 0, closed: 0, reapplied: 0, failed: 0 };
    const guard = async (what: string, work: () => Promise<void>) => {
      if (!(await this.guarded(what, work))) out.failed++;
    };
    for (const d of await this.allDefinitions()) {
      if (!d.schedule) continue;
      await guard(`definition ${d.name}`, async () => {
        const latest = await this.o.store.latestOf(d.name);
        // After its last campaign (a firing missed while no replica ran is caught up, once), else after `since`.
        const from = latest ? latest.startedAt : since;
        const firing = dueScheduled(d, from, now);
        // One campaign per firing: a replica that finds it taken (the unique firing) starts nothing.
        if (firing && (await this.startFrom(d, 'system:scheduler', firing))) out.started++;
      });
    }
    // Decisions stored but never applied (the broker stopped in between): applied now, idempotently
    // (discovery answers a second request of one finding and origin with the first removal).
    for (const item of await this.o.store.unappliedItems(new Date(now.getTime() - REAPPLY_AFTER_MS), 1000)) {
      await guard(`item ${item.id}`, async () => {
        const c = await this.o.store.getCampaign(item.campaignId);
        if (c) await this.apply(c, item);
        out.reapplied++;
      });
    }
    for (const c of await this.o.store.openCampaigns()) {
      await guard(`campaign ${c.id}`, async () => {
        // The definition as parsed when the campaign started (seconds, defaults filled in).
        const spec = c.spec as Partial<ReviewDefinition>;
        const remindBefore = typeof spec.remindBefore === 'number' ? spec.remindBefore * 1000 : 0;
        const escalation = spec.escalation;
        if (!c.remindedAt && now.getTime() >= c.endsAt.getTime() - remindBefore && now < c.endsAt) {
          if (await this.remind(c)) out.reminded++;
        }
        if (now >= c.endsAt && escalation) out.escalated += await this.escalate(c, escalation.groups);
        const closeAt = c.endsAt.getTime() + (escalation ? ESCALATION_GRACE_MS : 0);
        if (now.getTime() >= closeAt) {
          await this.close(c);
          out.closed++;
        }
      });
    }
    return out;
  }

  private async pending(c: ReviewCampaign): Promise<ReviewItem[]> {
    const out: ReviewItem[] = [];
    let after: string | undefined;
    for (;;) {
      const page = await this.o.store.listItems(c.id, { decided: false }, { after, limit: 1000 });
      out.push(...page);
      if (page.length < 1000) return out;
      after = page[page.length - 1].id;
    }
  }

  private async remind(c: ReviewCampaign): Promise<boolean> {
    const pending = await this.pending(c);
    const groups = [...new Set(pending.flatMap((i) => i.reviewerGroups))];
    const sent = await this.o.store.transaction(async (tx) => {
      // Another replica's tick that reminded first: nothing to send twice.
      if (!(await tx.setReminded(c.id, this.o.clock.now()))) return false;
      if (pending.length) {
        const items = pending.slice(0, REMINDER_ITEMS).map((i) => ({ id: i.id, link: this.link(`items/${i.id}`) }));
        await this.stage(tx, [ReviewAudit.reminder(c, pending.length, groups, this.link(`campaigns/${c.id}`), items)]);
      }
      return true;
    });
    if (sent) this.o.onRecorded?.();
    return sent;
  }

  private async escalate(c: ReviewCampaign, groups: string[]): Promise<number> {
    const todo = (await this.pending(c)).filter((i) => !i.escalatedAt);
    let escalatedNow = 0;
    for (const item of todo) {
      const escalated = { ...item, reviewerGroups: [...new Set([...item.reviewerGroups, ...groups])] };
      const changed = await this.o.store.transaction(async (tx) => {
        // Escalated meanwhile (another replica's tick): its event was sent there.
        if (!(await tx.escalate(item.id, this.o.clock.now(), groups))) return false;
        await this.stage(tx, [ReviewAudit.escalated(escalated, groups, this.link(`items/${item.id}`), c.endsAt)]);
        return true;
      });
      if (changed) escalatedNow++;
    }
    if (escalatedNow) this.o.onRecorded?.();
    return escalatedNow;
  }

  /** Applies the default to every undecided item, then closes the campaign with its counts. */
  async close(c: ReviewCampaign): Promise<void> {
    let defaulted = 0;
    for (const item of await this.pending(c)) {
      const decided: ReviewItem = {
        ...item,
        decision: c.defaultDecision,
        defaulted: true,
        justification: `no decision before the campaign ended: its default (${c.defaultDecision}) applies`,
        narrowing: null,
        decidedBy: 'system:default',
        decidedAt: this.o.clock.now(),
      };
      try {
        await this.storeDecision(decided);
      } catch (e) {
        if (e instanceof DomainError && e.code === 'invalid_state') continue;
        throw e;
      }
      defaulted++;
      await this.apply(c, decided);
    }
    const counts = await this.o.store.counts(c.id);
    const closed = await this.o.store.transaction(async (tx) => {
      const ok = await tx.close(c.id, this.o.clock.now());
      if (ok) await this.stage(tx, [ReviewAudit.closed(c, counts, defaulted)]);
      return ok;
    });
    if (closed) this.o.onRecorded?.();
  }

  /** `jit_review_campaigns_open` and `jit_review_items_overdue`. */
  async gauges(): Promise<{ open: number; overdue: number }> {
    const now = this.o.clock.now();
    return { open: (await this.o.store.openCampaigns()).length, overdue: await this.o.store.overdueItems(now) };
  }

  // ---- evidence ----------------------------------------------------------------------------

  /** Who reviewed what, when, the decision and what was applied (admins and auditors). */
  async report(actor: Actor, campaignId: string): Promise<CampaignReport> {
    requireRole(actor, 'admin', 'auditor');
    const campaign = await this.view(await this.campaign(campaignId));
    const rows: ReportRow[] = [];
    let after: string | undefined;
    for (;;) {
      const page = await this.o.store.listItems(campaignId, {}, { after, limit: 1000 });
      for (const item of page) {
        const removalId = item.applied?.startsWith('removal:') ? item.applied.slice('removal:'.length) : null;
        const removal = removalId && this.o.removals ? await this.o.removals.get(removalId) : null;
        rows.push({ ...item, removalState: removal?.state ?? null });
      }
      if (page.length < 1000) break;
      after = page[page.length - 1].id;
    }
    return { campaign, items: rows, generatedAt: this.o.clock.now(), generatedBy: actor.subject };
  }

  /** The rules-file change the campaign's eligibility decisions call for, against the rules in force (admins and auditors). */
  async rulesPatch(actor: Actor, campaignId: string): Promise<RulesPatch> {
    requireRole(actor, 'admin', 'auditor');
    await this.campaign(campaignId);
    const items: ReviewItem[] = [];
    let after: string | undefined;
    for (;;) {
      const page = await this.o.store.listItems(campaignId, { decided: true, source: 'eligibility' }, { after, limit: 1000 });
      items.push(...page);
      if (page.length < 1000) break;
      after = page[page.length - 1].id;
    }
    return buildRulesPatch(this.o.policies.current, items);
  }

  // ---- helpers -----------------------------------------------------------------------------

  private async campaign(id: string): Promise<ReviewCampaign> {
    if (!UUID.test(id)) throw DomainError.validation([{ field: 'id', message: 'must be a campaign id (UUID)' }]);
    const c = await this.o.store.getCampaign(id.toLowerCase());
    if (!c) throw new DomainError('not_found', `no campaign ${id}`, [{ field: 'id', message: 'no such campaign' }]);
    return c;
  }

  private async item(id: string): Promise<ReviewItem> {
    if (!UUID.test(id)) throw DomainError.validation([{ field: 'id', message: 'must be an item id (UUID)' }]);
    const item = await this.o.store.getItem(id.toLowerCase());
    if (!item) throw noSuchItem(id);
    return item;
  }

  private async view(c: ReviewCampaign): Promise<CampaignView> {
    const counts = await this.o.store.counts(c.id);
    return { ...c, counts, overdue: c.state === 'open' && this.o.clock.now() >= c.endsAt && counts.pending > 0 };
  }

  private link(path: string): string | null {
    return this.o.publicUrl ? `${this.o.publicUrl.replace(/\/+$/, '')}/v1/reviews/${path}` : null;
  }

  private async stage(tx: ReviewWrites, inputs: AuditEventInput[]): Promise<void> {
    const occurredAt = this.o.clock.now();
    const staged: StagedAuditEvent[] = inputs.map((input) => ({ ...toWellFormedDeep(input), id: randomUUID(), occurredAt }));
    await tx.stage(staged);
  }
}

function parse<S extends z.ZodType>(schema: S, body: unknown): z.output<S> {
  const parsed = schema.safeParse(body ?? {});
  if (!parsed.success) throw DomainError.validation(zodIssues(parsed.error));
  return parsed.data;
}

function noSuchItem(id: string): DomainError {
  return new DomainError('not_found', `no review item ${id}`, [{ field: 'id', message: 'no such item' }]);
}

function tooMany(): DomainError {
  return new DomainError('limit_exceeded', `the campaign's scope holds more than ${MAX_CAMPAIGN_ITEMS} items: narrow it`, [{ field: 'scope', message: `more than ${MAX_CAMPAIGN_ITEMS} items` }]);
}

function blankItem(c: ReviewCampaign, source: ReviewItem['source']): Omit<ReviewItem, keyof import('@jit/domain').ReviewItemSubject | 'reviewerGroups'> & Pick<ReviewItem, 'rule' | 'requesterIndex'> {
  return {
    id: randomUUID(),
    campaignId: c.id,
    source,
    decision: null,
    defaulted: false,
    justification: null,
    narrowing: null,
    decidedBy: null,
    decidedAt: null,
    applied: null,
    appliedAt: null,
    applyError: null,
    escalatedAt: null,
    rule: null,
    requesterIndex: null,
  };
}

function checkDecision(item: ReviewItem, command: DecisionBody, ruleEntries: number | undefined): void {
  const issues: FieldIssue[] = [];
  if (command.decision === 'narrow') {
    if (item.source !== 'eligibility') issues.push({ field: 'decision', message: 'narrow applies to eligibility items; a standing assignment is kept or removed' });
    // A rule's duration and targets are shared by all its requester entries: narrowing one would narrow the others.
    else if (ruleEntries !== undefined && ruleEntries > 1) {
      issues.push({ field: 'decision', message: `narrow applies to a rule with one requester entry; rule ${item.rule} has ${ruleEntries}: remove this entry, or split the rule first` });
    }
    else if (!command.narrowing) issues.push({ field: 'narrowing', message: 'is required to narrow: maxDuration, keepTargets or both' });
    else {
      const max = typeof item.detail?.maxDuration === 'number' ? item.detail.maxDuration : Infinity;
      const targets = Array.isArray(item.detail?.targets) ? item.detail.targets.length : 0;
      if (command.narrowing.maxDuration !== undefined) {
        const s = parseIsoDurationSeconds(command.narrowing.maxDuration);
        if (s === undefined || s <= 0) issues.push({ field: 'narrowing.maxDuration', message: 'must be a positive ISO-8601 duration such as PT1H' });
        else if (s >= max) issues.push({ field: 'narrowing.maxDuration', message: `must be shorter than the rule's maximum (${max} s)` });
      }
      const keep = command.narrowing.keepTargets;
      if (keep) {
        if (keep.some((k) => k >= targets)) issues.push({ field: 'narrowing.keepTargets', message: `are indexes of the rule's ${targets} targets (0-${targets - 1})` });
        else if (new Set(keep).size >= targets) issues.push({ field: 'narrowing.keepTargets', message: 'keeps every target: leave one out, or keep the item' });
      }
    }
  } else if (command.narrowing) issues.push({ field: 'narrowing', message: `goes with decision narrow, not ${command.decision}` });
  if (issues.length) throw DomainError.validation(issues);
}

function standingInScope(d: ReviewDefinition, f: DiscoveryFinding): boolean {
  const s = d.scope.standing;
  if (!s) return false;
  if (s.clouds && !s.clouds.includes(f.cloud)) return false;
  if (s.principalKinds && !s.principalKinds.includes(f.principal.kind)) return false;
  if (s.human !== undefined && f.principal.human !== s.human) return false;
  if (s.privilegedOnly && !f.privileged) return false;
  if (s.scopes && !s.scopes.some((g) => globCovers(g, f.scope, true))) return false;
  if (s.access && !s.access.some((g) => globCovers(g, f.access.name, true))) return false;
  return true;
}

function ruleInScope(s: NonNullable<ReviewDefinition['scope']['eligibility']>, rule: AccessRule): boolean {
  if (s.rules && !s.rules.some((g) => globCovers(g, rule.name))) return false;
  const kinds = rule.targets.map((t) => t.kind);
  if (s.kinds && !kinds.some((k) => s.kinds!.some((g) => globCovers(g, k)))) return false;
  if (s.clouds && !kinds.some((k) => s.clouds!.some((c) => k.startsWith(`${c}.`)))) return false;
  return true;
}

function singleCloud(rule: AccessRule): ReviewItem['cloud'] {
  const clouds = new Set(rule.targets.map((t) => t.kind.split('.')[0]));
  const [only] = clouds;
  return clouds.size === 1 && (only === 'aws' || only === 'azure' || only === 'gcp') ? only : null;
}

function describeEntry(entry: AccessRule['requesters'][number]): string {
  const parts: string[] = [];
  if (entry.subjects) parts.push(`subjects ${entry.subjects.join(', ')}`);
  if (entry.groups) parts.push(`groups ${entry.groups.join(', ')}`);
  if (entry.issuer) parts.push(`issuer ${entry.issuer}`);
  if (entry.claims) parts.push(`claims ${Object.entries(entry.claims).map(([k, v]) => `${k}=${Array.isArray(v) ? v.join('|') : v}`).join(', ')}`);
  return parts.join('; ');
}

const SCOPE_FIELDS = ['resources', 'scopes', 'directoryScopes', 'roleArns', 'groupIds', 'accounts', 'accountIds', 'resourceServicePrincipalIds'];
function scopesOf(t: Record<string, unknown>): string[] {
  return SCOPE_FIELDS.flatMap((f) => (Array.isArray(t[f]) ? (t[f] as unknown[]).map(String) : []));
}

/**
 * Whether `actor` would be reviewing their own access: their subject (also without the issuer's
 * prefix), e-mail or object id is the principal (or one of its names), or, for a group principal,
 * they are in that group (by its id, member name or display name); for a requester entry, the
 * rules' own matching admits them (subjects, groups, issuer and claims), or they match the entry's
 * subjects or belong to a group it names.
 */
export function isSelfReview(
  actor: Actor,
  item: Pick<ReviewItem, 'principalSubjects' | 'principalGroups' | 'source'> & Partial<Pick<ReviewItem, 'principalKind' | 'detail'>>,
  groups: ReadonlySet<string>,
): boolean {
  const names = new Set<string>([actor.subject]);
  if (actor.issuer && actor.subject.startsWith(`${actor.issuer}:`)) names.add(actor.subject.slice(actor.issuer.length + 1));
  for (const claim of ['email', 'preferred_username', 'upn', 'oid', 'sub']) {
    const v = actor.claims?.[claim];
    if (typeof v === 'string' && v) names.add(v);
  }
  const lower = [...names].map((n) => n.toLowerCase());
  if (item.source === 'eligibility') {
    if (item.principalSubjects.some((p) => [...names].some((n) => globCovers(p, n)))) return true;
    const entry = requesterEntry.safeParse(item.detail?.entry);
    if (entry.success && requesterMatches(entry.data, actor, groups)) return true;
    return item.principalGroups.some((g) => groups.has(g));
  }
  const forms = item.principalSubjects.flatMap(principalForms).map((f) => f.toLowerCase());
  if (forms.some((f) => lower.includes(f))) return true;
  if (item.principalKind === 'group') {
    const mine = [...groups].map((g) => g.toLowerCase());
    if (forms.some((f) => mine.includes(f))) return true;
  }
  return item.principalGroups.some((g) => groups.has(g));
}

/** A requester entry as the campaign recorded it (`detail.entry`), for the rules' own matching. */
const requesterEntry = z.object({
  subjects: z.array(z.string()).optional(),
  groups: z.array(z.string()).optional(),
  issuer: z.string().optional(),
  claims: z.record(z.string(), z.union([z.string(), z.array(z.string())])).optional(),
});

/** A cloud principal's names: `user:alice@x` → alice@x; an IAM ARN `...:user/path/alice` → alice. */
function principalForms(id: string): string[] {
  const forms = [id];
  const member = /^(?:user|serviceAccount|group):(.+)$/.exec(id);
  if (member) forms.push(member[1]);
  const arn = /^arn:aws[\w-]*:iam::\d+:(?:user|role)\/(?:.*\/)?([^/]+)$/.exec(id);
  if (arn) forms.push(arn[1]);
  return forms;
}
