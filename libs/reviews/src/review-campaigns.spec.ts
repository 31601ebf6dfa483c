import {
  DiscoveryFinding,
  DiscoveryFindingFilter,
  DiscoveryFindingsReader,
  DomainError,
  ReviewCampaign,
  ReviewCampaignState,
  ReviewItem,
  ReviewItemFilter,
  ReviewStore,
  ReviewUsage,
  ReviewUsageReader,
  ReviewWrites,
  StagedAuditEvent,
  StandingRemoval,
  StandingRemovals,
  StoredReviewDefinition,
} from '@jit/domain';
import { Actor } from '@jit/grants';
import { parseAccessPolicy } from '@jit/policy';
import { ManualClock, targetKinds } from '@jit/testing';
import { MAX_CAMPAIGN_ITEMS, ReviewCampaigns, isSelfReview } from './review-campaigns';
import { ReviewDefinitionInput, parseReviewsText, reviewDefinitionSchema } from './review-definition';

/** The review store in memory, with the same guards as the SQL (decide once, close once); events staged in a list. */
class MemoryReviewStore extends ReviewStore {
  campaigns = new Map<string, ReviewCampaign>();
  items = new Map<string, ReviewItem>();
  definitions: StoredReviewDefinition[] = [];
  events: StagedAuditEvent[] = [];
  lease: { owner: string; until: Date } | null = null;

  async transaction<T>(work: (tx: ReviewWrites) => Promise<T>): Promise<T> {
    const staged: StagedAuditEvent[] = [];
    const result = await work({
      insertCampaign: async (c, items) => {
        // The unique (definition, scheduled_for) of the SQL.
        if (c.scheduledFor && [...this.campaigns.values()].some((x) => x.definition === c.definition && x.scheduledFor?.getTime() === c.scheduledFor!.getTime())) return false;
        this.campaigns.set(c.id, { ...c });
        for (const i of items) this.items.set(i.id, { ...i });
        return true;
      },
      decide: async (id, p) => {
        const item = this.items.get(id);
        if (!item || item.decision) return false;
        this.items.set(id, { ...item, ...p });
        return true;
      },
      markApplied: async (id, p) => void this.items.set(id, { ...this.items.get(id)!, ...p }),
      escalate: async (id, at, groups) => {
        const item = this.items.get(id)!;
        if (item.escalatedAt) return false;
        this.items.set(id, { ...item, escalatedAt: at, reviewerGroups: [...new Set([...item.reviewerGroups, ...groups])] });
        return true;
      },
      setReminded: async (id, at) => {
        const c = this.campaigns.get(id)!;
        if (c.remindedAt) return false;
        this.campaigns.set(id, { ...c, remindedAt: at });
        return true;
      },
      close: async (id, at) => {
        const c = this.campaigns.get(id)!;
        if (c.state === 'closed') return false;
        this.campaigns.set(id, { ...c, state: 'closed', closedAt: at });
        return true;
      },
      stage: async (events) => void staged.push(...events),
    });
    this.events.push(...staged);
    return result;
  }
  async getCampaign(id: string) {
    return this.campaigns.get(id) ?? null;
  }
  async listCampaigns(filter: { state?: ReviewCampaignState }) {
    return [...this.campaigns.values()].filter((c) => !filter.state || c.state === filter.state);
  }
  async counts(id: string) {
    const items = [...this.items.values()].filter((i) => i.campaignId === id);
    const decided = items.filter((i) => i.decision).length;
    return { total: items.length, decided, pending: items.length - decided };
  }
  async getItem(id: string) {
    return this.items.get(id) ?? null;
  }
  async listItems(campaignId: string, f: ReviewItemFilter, page: { after?: string; limit: number }) {
    return [...this.items.values()]
      .filter((i) => i.campaignId === campaignId)
      .filter((i) => f.decided === undefined || Boolean(i.decision) === f.decided)
      .filter((i) => !f.source || i.source === f.source)
      .filter((i) => !f.reviewerGroups || i.reviewerGroups.some((g) => f.reviewerGroups!.includes(g)))
      .sort((a, b) => a.id.localeCompare(b.id))
      .filter((i) => !page.after || i.id > page.after)
      .slice(0, page.limit);
  }
  async latestOf(definition: string) {
    return [...this.campaigns.values()].filter((c) => c.definition === definition).sort((a, b) => +b.startedAt - +a.startedAt)[0] ?? null;
  }
  async openCampaigns() {
    return [...this.campaigns.values()].filter((c) => c.state === 'open');
  }
  async unappliedItems(before: Date, limit: number) {
    return [...this.items.values()].filter((i) => i.decision && !i.applied && i.decidedAt! < before).slice(0, limit);
  }
  async overdueItems(now: Date) {
    return [...this.items.values()].filter((i) => !i.decision && this.campaigns.get(i.campaignId)!.state === 'open' && this.campaigns.get(i.campaignId)!.endsAt <= now).length;
  }
  async saveDefinition(d: StoredReviewDefinition) {
    if (this.definitions.some((x) => x.name === d.name)) return false;
    this.definitions.push(d);
    return true;
  }
  async listDefinitions() {
    return this.definitions;
  }
  async claimLease() {
    return true;
  }
  async releaseLease() {}
}

class MemoryFindings implements DiscoveryFindingsReader {
  constructor(readonly findings: DiscoveryFinding[]) {}
  async get(id: string) {
    return this.findings.find((f) => f.id === id) ?? null;
  }
  async list(filter: DiscoveryFindingFilter, page: { after?: string; limit: number }) {
    return this.findings
      .filter((f) => (!filter.status || f.status === filter.status) && (filter.privileged === undefined || f.privileged === filter.privileged))
      .filter((f) => !page.after || f.id > page.after)
      .slice(0, page.limit);
  }
}

class MemoryRemovals implements StandingRemovals {
  requests: { findingId: string; actor: string; origin: string }[] = [];
  async request(findingId: string, by: { actor: string; justification: string; origin: string }): Promise<StandingRemoval> {
    // As discovery: one finding and origin asked again gets the first removal.
    const earlier = this.requests.findIndex((r) => r.findingId === findingId && r.origin === by.origin);
    if (earlier >= 0) return (await this.get(`rm-${earlier + 1}`))!;
    this.requests.push({ findingId, actor: by.actor, origin: by.origin });
    const now = new Date();
    return { id: `rm-${this.requests.length}`, findingId, state: 'pending_approval', requestedBy: by.actor, justification: by.justification, origin: by.origin, createdAt: now, updatedAt: now, lastError: null };
  }
  async get(id: string) {
    const r = this.requests[Number(id.slice(3)) - 1];
    return r ? ({ id, findingId: r.findingId, state: 'applied', requestedBy: r.actor, justification: '', origin: r.origin, createdAt: new Date(), updatedAt: new Date(), lastError: null } as StandingRemoval) : null;
  }
}

/** Requests = the period's length in days, read slowly (so two campaigns built at once overlap). */
class UsageByPeriod extends ReviewUsageReader {
  async byPrincipal(_p: string, from: Date): Promise<ReviewUsage> {
    await new Promise((r) => setTimeout(r, 5));
    return { requested: Math.round((new Date('2027-01-01T09:00:00Z').getTime() - from.getTime()) / 86_400_000), granted: 0, lastGrantedAt: null };
  }
  async byRule(): Promise<ReviewUsage> {
    return { requested: 0, granted: 0, lastGrantedAt: null };
  }
}

class FixedUsage extends ReviewUsageReader {
  async byPrincipal(): Promise<ReviewUsage> {
    return { requested: 3, granted: 2, lastGrantedAt: new Date('2026-11-01T00:00:00Z') };
  }
  async byRule(rule: string): Promise<ReviewUsage> {
    return { requested: rule === 'devs' ? 5 : 0, granted: rule === 'devs' ? 4 : 0, lastGrantedAt: null };
  }
}

const RULES = `version: 1
groups:
  sre: [sam, sue]
  developers: [dana]
  security: [sec-1, sec-2]
rules:
  # Developers, with two SRE approvals.
  - name: devs
    requesters:
      - groups: [developers]
      - subjects: [erin]
    targets:
      - { kind: gcp.iam-binding, roles: ["roles/viewer"], resources: ["projects/p1"] }
      - { kind: aws.assume-role, roleArns: ["arn:aws:iam::123456789012:role/dev"] }
    maxDuration: PT8H
    approval: { approvals: 1, from: [sre] }
  - name: pipeline
    requesters:
      - subjects: [ci]
    targets:
      - { kind: aws.assume-role, roleArns: ["arn:aws:iam::123456789012:role/deploy"] }
    maxDuration: PT1H
    approval: auto
`;

/** RULES with a rule of one requester entry and two targets, which a reviewer may narrow. */
const RULES_WITH_OPS = `${RULES}  - name: ops
    requesters:
      - subjects: [olive]
    targets:
      - { kind: gcp.iam-binding, roles: ["roles/viewer"], resources: ["projects/p2"] }
      - { kind: aws.assume-role, roleArns: ["arn:aws:iam::123456789012:role/ops"] }
    maxDuration: PT8H
    approval: { approvals: 1, from: [sre] }
`;

function finding(id: string, principal: string, extra: Partial<DiscoveryFinding> = {}): DiscoveryFinding {
  return {
    id,
    cloud: 'aws',
    key: `k-${id}`,
    principal: { id: principal, kind: 'user', human: true, displayName: principal.split('/').pop() },
    scope: 'aws:123456789012',
    access: { type: 'aws.managed-policy', name: 'AdministratorAccess' },
    since: new Date('2025-01-01T00:00:00Z'),
    lastUsedAt: null,
    neverUsed: true,
    removable: true,
    locator: {},
    privileged: true,
    reasons: ['allows *:*'],
    status: 'open',
    firstSeenAt: new Date('2026-10-01T00:00:00Z'),
    lastSeenAt: new Date('2026-12-01T00:00:00Z'),
    resolvedAt: null,
    ...extra,
  };
}

const QUARTERLY: ReviewDefinitionInput = {
  name: 'quarterly',
  schedule: '0 9 1 1,4,7,10 *',
  duration: 'P14D',
  scope: { standing: { clouds: ['aws'] }, eligibility: { rules: ['*'] } },
  reviewers: { groups: ['security'], ruleApprovers: true },
  defaultDecision: 'remove',
  remindBefore: 'P3D',
  escalation: { groups: ['sre'] },
};

const actor = (subject: string, roles: Actor['roles'] = ['approver'], groups: string[] = []): Actor => ({ subject, roles, groups });
const admin = actor('root', ['admin']);
const auditor = actor('audra', ['auditor']);

function setup(definitions: ReviewDefinitionInput[] = [QUARTERLY], findings = [finding('f1', 'arn:aws:iam::123456789012:user/alice'), finding('f2', 'arn:aws:iam::123456789012:user/sec-1'), finding('f3', 'arn:aws:iam::123456789012:user/bob', { privileged: false })], rules = RULES) {
  const clock = new ManualClock(new Date('2027-01-01T09:00:00Z'));
  const store = new MemoryReviewStore();
  const removals = new MemoryRemovals();
  const policy = parseAccessPolicy(rules, 'rules.yaml', clock.now(), targetKinds);
  const policies = { current: policy };
  const options = {
    store,
    usage: new FixedUsage(),
    findings: new MemoryFindings(findings),
    removals,
    policies,
    clock,
    definitions: definitions.map((d) => reviewDefinitionSchema.parse(d)),
    publicUrl: 'https://jit.example.com',
  };
  const reviews = new ReviewCampaigns(options);
  /** Another replica's broker on the same database. */
  const replica = () => new ReviewCampaigns(options);
  return { clock, store, removals, reviews, policy, policies, replica };
}

async function refused(p: Promise<unknown>): Promise<DomainError> {
  const e = await p.then(
    () => null,
    (x: unknown) => x,
  );
  if (!(e instanceof DomainError)) throw new Error(`expected a DomainError, got ${String(e)}`);
  return e;
}

describe('ReviewCampaigns', () => {
  it('should build items from privileged open findings and from each requester entry of the rules in scope', async () => {
    const { reviews, store } = setup();
    const c = await reviews.start(admin, 'quarterly');
    expect(c.counts).toEqual({ total: 5, decided: 0, pending: 5 });
    const items = [...store.items.values()];
    const standing = items.filter((i) => i.source === 'standing');
    // f3 is not privileged: left out (privilegedOnly by default).
    expect(standing.map((i) => i.findingId).sort((a, b) => String(a).localeCompare(String(b)))).toEqual(['f1', 'f2']);
    expect(standing[0]).toMatchObject({ reviewerGroups: ['security'], requested: 3, granted: 2, access: 'AdministratorAccess', scope: 'aws:123456789012', privileged: true });
    const eligibility = items.filter((i) => i.source === 'eligibility').sort((a, b) => `${a.rule}${a.requesterIndex}`.localeCompare(`${b.rule}${b.requesterIndex}`));
    expect(eligibility.map((i) => [i.rule, i.requesterIndex, i.principal])).toEqual([
      ['devs', 0, 'groups developers'],
      ['devs', 1, 'subjects erin'],
      ['pipeline', 0, 'subjects ci'],
    ]);
    // The rule's approvers and the campaign's reviewers; an auto rule has only the campaign's.
    expect(eligibility[0].reviewerGroups.sort()).toEqual(['security', 'sre']);
    expect(eligibility[2].reviewerGroups).toEqual(['security']);
    expect(eligibility[0]).toMatchObject({ requested: 5, granted: 4, scope: 'projects/p1, arn:aws:iam::123456789012:role/dev' });
    expect(store.events.map((e) => e.type)).toEqual(['review.campaign_started']);
    expect(store.events[0].data).toMatchObject({ campaignId: c.id, definition: 'quarterly', items: 5, defaultDecision: 'remove' });
  });

  it('should let only admins start or define campaigns, and refuse an unknown definition or a bad one naming the field', async () => {
    const { reviews } = setup();
    expect((await refused(reviews.start(actor('sam', ['approver']), 'quarterly'))).code).toBe('forbidden');
    expect((await refused(reviews.start(admin, 'nope'))).code).toBe('not_found');
    const bad = await refused(reviews.define(admin, { ...QUARTERLY, name: 'other', schedule: 'every tuesday', defaultDecision: 'maybe' }));
    expect(bad.code).toBe('validation');
    expect(bad.issues.map((i) => i.field).sort()).toEqual(['defaultDecision', 'schedule']);
    expect((await refused(reviews.define(admin, QUARTERLY))).code).toBe('invalid_state');
    await reviews.define(admin, { ...QUARTERLY, name: 'api-made', schedule: undefined });
    expect((await reviews.start(admin, 'api-made')).definition).toBe('api-made');
  });

  it('should let a reviewer of the item decide, never the principal under review, and nobody twice', async () => {
    const { reviews, store } = setup();
    const c = await reviews.start(admin, 'quarterly');
    const items = [...store.items.values()];
    const alice = items.find((i) => i.findingId === 'f1')!;
    const sec1 = items.find((i) => i.findingId === 'f2')!;
    // sam (sre) reviews no standing item: to him it does not exist.
    expect((await refused(reviews.decide(actor('sam'), alice.id, { decision: 'keep', justification: 'ok' }))).code).toBe('not_found');
    // sec-1 reviews standing items but not their own assignment.
    const self = await refused(reviews.decide(actor('sec-1'), sec1.id, { decision: 'keep', justification: 'mine' }));
    expect(self.code).toBe('forbidden');
    expect(self.message).toMatch(/own access/);
    // A justification is required, naming the field.
    const noWhy = await refused(reviews.decide(actor('sec-1'), alice.id, { decision: 'keep', justification: ' ' }));
    expect(noWhy.issues).toEqual([{ field: 'justification', message: 'is required' }]);
    const kept = await reviews.decide(actor('sec-1'), alice.id, { decision: 'keep', justification: 'on call' });
    expect(kept).toMatchObject({ decision: 'keep', decidedBy: 'sec-1', applied: 'none' });
    expect((await refused(reviews.decide(actor('sec-2'), alice.id, { decision: 'remove', justification: 'x' }))).code).toBe('invalid_state');
    // A developer in sre would still not review the developers' eligibility.
    const devEntry = items.find((i) => i.rule === 'devs' && i.requesterIndex === 0)!;
    expect((await refused(reviews.decide(actor('dana', ['approver'], ['sre']), devEntry.id, { decision: 'keep', justification: 'x' }))).message).toMatch(/own access/);
    expect((await reviews.getCampaign(auditor, c.id)).counts.decided).toBe(1);
  });

  it('should request a standing removal through discovery with the review as origin, and audit the decision and what was applied', async () => {
    const { reviews, store, removals } = setup();
    const c = await reviews.start(admin, 'quarterly');
    const alice = [...store.items.values()].find((i) => i.findingId === 'f1')!;
    const done = await reviews.decide(actor('sec-2'), alice.id, { decision: 'remove', justification: 'left the team' });
    expect(done.applied).toBe('removal:rm-1');
    expect(removals.requests).toEqual([{ findingId: 'f1', actor: 'sec-2', origin: `review:${c.id}` }]);
    expect(store.events.map((e) => e.type)).toEqual(['review.campaign_started', 'review.item_decided', 'review.item_applied']);
    expect(store.events[1]).toMatchObject({ actor: 'sec-2', principal: 'arn:aws:iam::123456789012:user/alice', data: { decision: 'remove', justification: 'left the team', findingId: 'f1' } });
    const report = await reviews.report(auditor, c.id);
    expect(report.items.find((i) => i.id === alice.id)).toMatchObject({ removalState: 'applied', decidedBy: 'sec-2' });
    expect((await refused(reviews.report(actor('sec-2'), c.id))).code).toBe('forbidden');
  });

  it('should decide in bulk, each item on its own', async () => {
    const { reviews, store } = setup();
    const c = await reviews.start(admin, 'quarterly');
    const ids = [...store.items.values()].filter((i) => i.source === 'standing').map((i) => i.id);
    const results = await reviews.decideMany(actor('sec-1'), c.id, { itemIds: [...ids, '00000000-0000-4000-8000-000000000000'], decision: 'keep', justification: 'quarterly check' });
    expect(results.map((r) => r.outcome).sort()).toEqual(['decided', 'refused', 'refused']);
    expect(results.find((r) => r.itemId === '00000000-0000-4000-8000-000000000000')).toMatchObject({ status: 'not_found' });
    const bad = await refused(reviews.decideMany(actor('sec-1'), c.id, { itemIds: ['x'], decision: 'keep', justification: 'y' }));
    expect(bad.issues[0].field).toBe("itemIds[0]");
  });

  it('should check narrowing against the rule and produce a rules patch the rules checker accepts', async () => {
    const { reviews, store, policy } = setup(undefined, undefined, RULES_WITH_OPS);
    const c = await reviews.start(admin, 'quarterly');
    const items = [...store.items.values()];
    const devGroup = items.find((i) => i.rule === 'devs' && i.requesterIndex === 0)!;
    const erin = items.find((i) => i.rule === 'devs' && i.requesterIndex === 1)!;
    const ci = items.find((i) => i.rule === 'pipeline')!;
    const olive = items.find((i) => i.rule === 'ops')!;
    const standing = items.find((i) => i.findingId === 'f1')!;
    expect((await refused(reviews.decide(actor('sec-1'), standing.id, { decision: 'narrow', justification: 'x', narrowing: { maxDuration: 'PT1H' } }))).issues[0].field).toBe('decision');
    expect((await refused(reviews.decide(actor('sam'), olive.id, { decision: 'narrow', justification: 'x', narrowing: { maxDuration: 'PT9H' } }))).issues[0].field).toBe('narrowing.maxDuration');
    expect((await refused(reviews.decide(actor('sam'), olive.id, { decision: 'narrow', justification: 'x', narrowing: { keepTargets: [0, 1] } }))).issues[0].field).toBe('narrowing.keepTargets');
    // devs has two requester entries sharing its targets and duration: narrowing one would narrow both.
    const shared = await refused(reviews.decide(actor('sam'), devGroup.id, { decision: 'narrow', justification: 'x', narrowing: { maxDuration: 'PT4H' } }));
    expect(shared.code).toBe('validation');
    expect(shared.issues).toEqual([{ field: 'decision', message: expect.stringMatching(/rule devs has 2/) }]);
    await reviews.decide(actor('sam'), olive.id, { decision: 'narrow', justification: 'GCP only, shorter', narrowing: { maxDuration: 'PT4H', keepTargets: [0] } });
    await reviews.decide(actor('sam'), erin.id, { decision: 'remove', justification: 'moved to sales' });
    await reviews.decide(actor('sec-1'), ci.id, { decision: 'remove', justification: 'pipeline retired' });
    const patch = await reviews.rulesPatch(auditor, c.id);
    expect(patch.skipped).toEqual([]);
    expect(patch.applied.sort()).toEqual([olive.id, erin.id, ci.id].sort());
    expect(patch.patch).toMatch(/^--- a\/rules\.yaml/m);
    expect(patch.patch).toMatch(/^-\s+- subjects: \[erin\]/m);
    expect(patch.patch).toMatch(/^-\s+maxDuration: PT8H\n\+\s+maxDuration: PT4H/m);
    expect(patch.patch).toMatch(/^-\s+- name: pipeline/m);
    // Comments stay; the result loads under the same checker.
    expect(patch.text).toContain('# Developers, with two SRE approvals.');
    const patched = parseAccessPolicy(patch.text, 'rules.yaml', new Date(), targetKinds);
    expect(patched.file.rules.map((r) => r.name)).toEqual(['devs', 'ops']);
    expect(patched.file.rules[0]).toMatchObject({ maxDuration: 28800, requesters: [{ groups: ['developers'] }], targets: [{ kind: 'gcp.iam-binding' }, { kind: 'aws.assume-role' }] });
    expect(patched.file.rules[1]).toMatchObject({ maxDuration: 14400, requesters: [{ subjects: ['olive'] }], targets: [{ kind: 'gcp.iam-binding' }] });
    expect(policy.file.rules).toHaveLength(3);
  });

  it('should skip a narrowing whose rule had its targets reordered, rather than drop the target now at the decided index', async () => {
    const { reviews, store, policies } = setup(undefined, undefined, RULES_WITH_OPS);
    const c = await reviews.start(admin, 'quarterly');
    const olive = [...store.items.values()].find((i) => i.rule === 'ops')!;
    // Keep target 0 (GCP viewer), drop target 1 (the AWS role).
    await reviews.decide(actor('sam'), olive.id, { decision: 'narrow', justification: 'GCP only', narrowing: { keepTargets: [0] } });
    // Meanwhile the targets were swapped: index 0 is now the AWS role.
    const [gcp, aws] = [RULES_WITH_OPS.indexOf('      - { kind: gcp.iam-binding, roles: ["roles/viewer"], resources: ["projects/p2"] }'), RULES_WITH_OPS.indexOf('      - { kind: aws.assume-role, roleArns: ["arn:aws:iam::123456789012:role/ops"] }')];
    expect(gcp > 0 && aws > gcp).toBe(true);
    const lineAt = (at: number) => RULES_WITH_OPS.slice(at, RULES_WITH_OPS.indexOf('\n', at) + 1);
    const swapped = RULES_WITH_OPS.slice(0, gcp) + lineAt(aws) + lineAt(gcp) + RULES_WITH_OPS.slice(aws + lineAt(aws).length);
    policies.current = parseAccessPolicy(swapped, 'rules.yaml', new Date(), targetKinds);
    const patch = await reviews.rulesPatch(auditor, c.id);
    expect(patch.applied).toEqual([]);
    expect(patch.skipped).toEqual([{ itemId: olive.id, reason: "rule ops's targets changed since the campaign started" }]);
    expect(patch.patch).toBe('');
  });

  it('should skip a removal whose entry shares its line with another entry, rather than remove both', async () => {
    const flow = `version: 1
groups:
  security: [sec-1, sec-2]
rules:
  - { name: team, requesters: [{ subjects: [bob] }, { subjects: [carol] }], targets: [{ kind: aws.assume-role, roleArns: ["arn:aws:iam::123456789012:role/dev"] }], maxDuration: PT1H, approval: auto }
  - name: other
    requesters:
      - subjects: [dave]
    targets:
      - { kind: aws.assume-role, roleArns: ["arn:aws:iam::123456789012:role/x"] }
    maxDuration: PT1H
    approval: auto
`;
    const { reviews, store } = setup(undefined, [], flow);
    const c = await reviews.start(admin, 'quarterly');
    const items = [...store.items.values()];
    const bob = items.find((i) => i.rule === 'team' && i.requesterIndex === 0)!;
    const dave = items.find((i) => i.rule === 'other')!;
    await reviews.decide(actor('sec-1'), bob.id, { decision: 'remove', justification: 'left' });
    await reviews.decide(actor('sec-1'), dave.id, { decision: 'remove', justification: 'left' });
    const patch = await reviews.rulesPatch(auditor, c.id);
    // The rule on one line cannot lose bob alone: skipped, carol keeps her access; dave's rule goes.
    expect(patch.skipped).toEqual([{ itemId: bob.id, reason: expect.stringMatching(/^rule team cannot be patched line by line \(rule team would differ from the decisions\)/) }]);
    expect(patch.applied).toEqual([dave.id]);
    const patched = parseAccessPolicy(patch.text, 'rules.yaml', new Date(), targetKinds);
    expect(patched.file.rules.map((r) => [r.name, r.requesters])).toEqual([['team', [{ subjects: ['bob'] }, { subjects: ['carol'] }]]]);
  });

  it('should remind before the end, escalate at the end, then close applying the default to what nobody decided', async () => {
    const { reviews, store, clock, removals } = setup();
    const c = await reviews.start(admin, 'quarterly');
    const alice = [...store.items.values()].find((i) => i.findingId === 'f1')!;
    await reviews.decide(actor('sec-1'), alice.id, { decision: 'keep', justification: 'needed' });
    const since = new Date(clock.now());
    clock.at = new Date(c.endsAt.getTime() - 2 * 86_400_000);
    expect(await reviews.tick(since)).toEqual({ started: 0, reminded: 1, escalated: 0, closed: 0, reapplied: 0, failed: 0 });
    const reminder = store.events.find((e) => e.type === 'review.reminder_sent')!;
    expect(reminder.data).toMatchObject({ pending: 4, link: `https://jit.example.com/v1/reviews/campaigns/${c.id}` });
    expect((reminder.data.items as unknown[]).length).toBe(4);
    expect(await reviews.tick(since)).toMatchObject({ reminded: 0 });
    clock.at = new Date(c.endsAt.getTime() + 1000);
    expect(await reviews.gauges()).toEqual({ open: 1, overdue: 4 });
    expect(await reviews.tick(since)).toMatchObject({ escalated: 4, closed: 0 });
    const escalated = store.events.filter((e) => e.type === 'review.item_escalated');
    expect(escalated).toHaveLength(4);
    expect(escalated[0].data.link).toMatch(/^https:\/\/jit\.example\.com\/v1\/reviews\/items\//);
    // Escalated: sre members may now decide a standing item.
    const sec1 = [...store.items.values()].find((i) => i.findingId === 'f2')!;
    await reviews.decide(actor('sam'), sec1.id, { decision: 'keep', justification: 'escalated: still needed' });
    clock.at = new Date(c.endsAt.getTime() + 4 * 86_400_000);
    expect(await reviews.tick(since)).toMatchObject({ closed: 1 });
    const closed = store.campaigns.get(c.id)!;
    expect(closed.state).toBe('closed');
    const defaulted = [...store.items.values()].filter((i) => i.defaulted);
    expect(defaulted).toHaveLength(3);
    expect(defaulted.every((i) => i.decision === 'remove' && i.decidedBy === 'system:default' && i.applied === 'rules-patch')).toBe(true);
    expect(removals.requests).toHaveLength(0);
    expect(store.events.at(-1)).toMatchObject({ type: 'review.campaign_closed', data: { items: 5, decided: 2, defaulted: 3 } });
    expect((await refused(reviews.decide(actor('sec-1'), alice.id, { decision: 'remove', justification: 'late' }))).code).toBe('invalid_state');
    expect(await reviews.gauges()).toEqual({ open: 0, overdue: 0 });
  });

  it('should start a scheduled campaign once per firing of its cron', async () => {
    const { reviews, store, clock } = setup();
    const since = new Date('2026-12-31T00:00:00Z');
    clock.at = new Date('2026-12-31T12:00:00Z');
    expect((await reviews.tick(since)).started).toBe(0);
    clock.at = new Date('2027-01-01T09:00:01Z');
    expect((await reviews.tick(since)).started).toBe(1);
    expect((await reviews.tick(since)).started).toBe(0);
    expect([...store.campaigns.values()][0]).toMatchObject({ definition: 'quarterly', startedBy: 'system:scheduler' });
    clock.at = new Date('2027-04-01T09:00:00Z');
    expect((await reviews.tick(since)).started).toBe(1);
  });
});

describe('ReviewCampaigns after a stop between a decision and its application', () => {
  it('should apply on a later tick a decision that was stored but not applied, once', async () => {
    const { reviews, store, clock, removals } = setup();
    const c = await reviews.start(admin, 'quarterly');
    const alice = [...store.items.values()].find((i) => i.findingId === 'f1')!;
    // The decision is stored, then the broker stops before applying it.
    const decided = { ...alice, decision: 'remove' as const, justification: 'left', decidedBy: 'sec-1', decidedAt: clock.now() };
    await store.transaction((tx) => tx.decide(alice.id, decided));
    const since = new Date(clock.now());
    expect(await reviews.tick(since)).toMatchObject({ reapplied: 0 });
    clock.at = new Date(clock.now().getTime() + 10 * 60_000);
    expect(await reviews.tick(since)).toMatchObject({ reapplied: 1 });
    expect(store.items.get(alice.id)).toMatchObject({ applied: 'removal:rm-1', decidedBy: 'sec-1' });
    expect(removals.requests).toEqual([{ findingId: 'f1', actor: 'sec-1', origin: `review:${c.id}` }]);
    expect(await reviews.tick(since)).toMatchObject({ reapplied: 0 });
    // Asked again (its first request stored, its application not), discovery answers the same removal.
    store.items.set(alice.id, { ...store.items.get(alice.id)!, applied: null });
    expect(await reviews.tick(since)).toMatchObject({ reapplied: 1 });
    expect(store.items.get(alice.id)!.applied).toBe('removal:rm-1');
    expect(removals.requests).toHaveLength(1);
  });
});

describe('ReviewCampaigns building a campaign', () => {
  it('should count the 20,000-item cap over standing and eligibility items together', async () => {
    const many = Array.from({ length: MAX_CAMPAIGN_ITEMS - 1 }, (_, k) => finding(`f${String(k).padStart(6, '0')}`, `arn:aws:iam::123456789012:user/u${k}`));
    const { reviews, store } = setup(undefined, many);
    const e = await refused(reviews.start(admin, 'quarterly'));
    expect(e.code).toBe('limit_exceeded');
    expect(e.issues[0].field).toBe('scope');
    expect(store.campaigns.size).toBe(0);
  });

  it('should read usage for the period of each campaign, even when two start at once', async () => {
    const { reviews, store } = setup([
      { ...QUARTERLY, name: 'short', usagePeriod: 'P30D', scope: { standing: { clouds: ['aws'] } } },
      { ...QUARTERLY, name: 'long', usagePeriod: 'P365D', scope: { standing: { clouds: ['aws'] } } },
    ]);
    const byPeriod = new UsageByPeriod();
    (reviews as unknown as { o: { usage: ReviewUsageReader } }).o.usage = byPeriod;
    await Promise.all([reviews.start(admin, 'short'), reviews.start(admin, 'long')]);
    for (const c of store.campaigns.values()) {
      const days = Math.round((c.startedAt.getTime() - c.periodFrom.getTime()) / 86_400_000);
      const items = [...store.items.values()].filter((i) => i.campaignId === c.id);
      expect(items.length).toBeGreaterThan(0);
      expect(items.every((i) => i.requested === days)).toBe(true);
    }
  });
});

describe('ReviewCampaigns tick with one failing definition', () => {
  it('should count and report the failure and still start the others and send reminders', async () => {
    const { reviews, store, clock } = setup([
      { ...QUARTERLY, name: 'broken', scope: { standing: { clouds: ['aws'] } } },
      { ...QUARTERLY, name: 'fine', scope: { eligibility: { rules: ['*'] } } },
    ]);
    const errors: string[] = [];
    (reviews as unknown as { o: { onTickError: (what: string) => void } }).o.onTickError = (what) => errors.push(what);
    // The findings reader fails: only the definition with a standing scope reads it.
    (reviews as unknown as { o: { findings: DiscoveryFindingsReader } }).o.findings = { get: async () => null, list: async () => Promise.reject(new Error('findings unavailable')) };
    const since = new Date('2026-12-31T00:00:00Z');
    clock.at = new Date('2027-01-01T09:00:01Z');
    expect(await reviews.tick(since)).toMatchObject({ started: 1, failed: 1 });
    expect(errors).toEqual(['definition broken']);
    expect(reviews.tickFailures).toBe(1);
    expect([...store.campaigns.values()].map((c) => c.definition)).toEqual(['fine']);
  });
});

describe('ReviewCampaigns define', () => {
  it('should answer two defines of one name at once with one definition and a 409 naming the field', async () => {
    const { reviews, store } = setup();
    const body = { ...QUARTERLY, name: 'twice', schedule: undefined };
    const results = await Promise.allSettled([reviews.define(admin, body), reviews.define(admin, body)]);
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    const failed = results.find((r) => r.status === 'rejected')!.reason as DomainError;
    expect(failed).toBeInstanceOf(DomainError);
    expect(failed.code).toBe('invalid_state');
    expect(failed.issues).toEqual([{ field: 'name', message: 'is taken' }]);
    expect(store.definitions.map((d) => d.name)).toEqual(['twice']);
  });
});

describe('ReviewCampaigns on two replicas at once', () => {
  it('should start one campaign per firing, and send each reminder and escalation once', async () => {
    const { reviews, replica, store, clock } = setup();
    const other = replica();
    const since = new Date('2026-12-31T00:00:00Z');
    clock.at = new Date('2027-01-01T09:00:01Z');
    const [a, b] = await Promise.all([reviews.tick(since), other.tick(since)]);
    expect(a.started + b.started).toBe(1);
    expect(store.campaigns.size).toBe(1);
    const [c] = store.campaigns.values();
    expect(c.scheduledFor).toEqual(new Date('2027-01-01T09:00:00Z'));
    expect(store.events.filter((e) => e.type === 'review.campaign_started')).toHaveLength(1);
    clock.at = new Date(c.endsAt.getTime() - 86_400_000);
    const [r1, r2] = await Promise.all([reviews.tick(since), other.tick(since)]);
    expect(r1.reminded + r2.reminded).toBe(1);
    expect(store.events.filter((e) => e.type === 'review.reminder_sent')).toHaveLength(1);
    clock.at = new Date(c.endsAt.getTime() + 1000);
    const [e1, e2] = await Promise.all([reviews.tick(since), other.tick(since)]);
    expect(e1.escalated + e2.escalated).toBe(5);
    expect(store.events.filter((e) => e.type === 'review.item_escalated')).toHaveLength(5);
  });
});

describe('isSelfReview', () => {
  const standing = { source: 'standing' as const, principalSubjects: ['user:alice@corp.example', 'Alice'], principalGroups: [] };
  it('should match the principal by its cloud id, its member name, or an OIDC subject or e-mail claim', () => {
    expect(isSelfReview({ subject: 'user:alice@corp.example', roles: [] }, standing, new Set())).toBe(true);
    expect(isSelfReview({ subject: 'corp:alice@corp.example', issuer: 'corp', roles: [] }, standing, new Set())).toBe(true);
    expect(isSelfReview({ subject: 'corp:123', issuer: 'corp', roles: [], claims: { email: 'ALICE@corp.example' } }, standing, new Set())).toBe(true);
    expect(isSelfReview({ subject: 'bob', roles: [] }, standing, new Set())).toBe(false);
    expect(isSelfReview({ subject: 'alice', roles: [] }, { source: 'standing', principalSubjects: ['arn:aws:iam::1:user/ops/alice'], principalGroups: [] }, new Set())).toBe(true);
  });
  it('should match an eligibility entry by subject pattern or by group', () => {
    const entry = { source: 'eligibility' as const, principalSubjects: ['ci-*'], principalGroups: ['developers'] };
    expect(isSelfReview({ subject: 'ci-7', roles: [] }, entry, new Set())).toBe(true);
    expect(isSelfReview({ subject: 'dana', roles: [] }, entry, new Set(['developers']))).toBe(true);
    expect(isSelfReview({ subject: 'sam', roles: [] }, entry, new Set(['sre']))).toBe(false);
  });
});

describe('isSelfReview through a group or claims', () => {
  it('should refuse a member of the group that is the standing principal, by its id, member name or display name', () => {
    const gcpGroup = { source: 'standing' as const, principalKind: 'group', principalSubjects: ['group:admins@corp.example', 'Admins'], principalGroups: [] };
    expect(isSelfReview({ subject: 'sam', roles: [] }, gcpGroup, new Set(['admins@corp.example']))).toBe(true);
    expect(isSelfReview({ subject: 'sam', roles: [] }, gcpGroup, new Set(['group:admins@corp.example']))).toBe(true);
    expect(isSelfReview({ subject: 'sam', roles: [] }, gcpGroup, new Set(['ADMINS']))).toBe(true);
    expect(isSelfReview({ subject: 'sam', roles: [] }, gcpGroup, new Set(['sre']))).toBe(false);
    const azureGroup = { source: 'standing' as const, principalKind: 'group', principalSubjects: ['4b1e7f0c-1111-4222-8333-444455556666', 'Platform Admins'], principalGroups: [] };
    expect(isSelfReview({ subject: 'corp:x', issuer: 'corp', roles: [] }, azureGroup, new Set(['4b1e7f0c-1111-4222-8333-444455556666']))).toBe(true);
    // A user principal is not matched by the reviewer's groups.
    expect(isSelfReview({ subject: 'sam', roles: [] }, { ...gcpGroup, principalKind: 'user' }, new Set(['admins@corp.example']))).toBe(false);
  });

  it('should refuse a workload whose token the requester entry admits by issuer and claims', () => {
    const entry = { issuer: 'github', claims: { repository: ['corp/deploy-*'], ref: 'refs/heads/main' } };
    const item = { source: 'eligibility' as const, principalKind: 'workload', principalSubjects: [], principalGroups: [], detail: { entry } };
    const mine = { subject: 'github:repo:corp/deploy-api:ref:refs/heads/main', issuer: 'github', roles: [] as Actor['roles'], claims: { repository: 'corp/deploy-api', ref: 'refs/heads/main' } };
    expect(isSelfReview(mine, item, new Set())).toBe(true);
    expect(isSelfReview({ ...mine, claims: { repository: 'corp/other', ref: 'refs/heads/main' } }, item, new Set())).toBe(false);
    expect(isSelfReview({ ...mine, issuer: 'gitlab' }, item, new Set())).toBe(false);
  });

  it('should refuse the decision when the reviewer is in the group under review', async () => {
    const group = finding('g1', 'group:sre@corp.example', { principal: { id: 'group:sre@corp.example', kind: 'group', human: true, displayName: 'SRE' } });
    const { reviews, store } = setup(undefined, [group]);
    await reviews.start(admin, 'quarterly');
    const item = [...store.items.values()].find((i) => i.findingId === 'g1')!;
    const self = await refused(reviews.decide(actor('sec-1', ['approver'], ['sre@corp.example']), item.id, { decision: 'keep', justification: 'ours' }));
    expect(self.code).toBe('forbidden');
    expect((await reviews.decide(actor('sec-2'), item.id, { decision: 'keep', justification: 'on call' })).decision).toBe('keep');
  });
});

describe('reviews file', () => {
  it('should name the line and field of a bad definition', () => {
    expect(() => parseReviewsText('version: 1\ncampaigns:\n  - name: q\n    duration: P1D\n    remindBefore: P2D\n    scope: { standing: {} }\n', 'reviews.yaml')).toThrow(
      /remindBefore: must be shorter than duration.*reviewers\.groups: standing assignments need reviewer groups/,
    );
    expect(parseReviewsText('version: 1\ncampaigns: []\n', 'r.yaml')).toEqual([]);
  });
});
