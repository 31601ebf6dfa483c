import { once } from 'node:events';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DiscoveryFinding, DiscoveryFindingFilter, DiscoveryFindingsReader, StandingRemoval, StandingRemovals } from '@jit/domain';
import { parseAccessPolicy } from '@jit/policy';
import { ManualClock, targetKinds } from '@jit/testing';
import { pollUntil } from '../setup/poll-until.util';
import { runJitCli } from '../setup/jit-cli.process';
import { TOKENS, TestBroker, startTestBroker } from '../setup/test-broker';

/**
 * Access reviews through the HTTP API (docs/reviews.md), the check: a quarterly campaign
 * started by an admin, items for standing assignments and rules, two reviewers deciding (never
 * their own access), a removal handed to discovery and visible in the audit log, a reminder and an
 * escalation delivered to a webhook with a link, the overdue gauge, the default at the close, the
 * rules patch checked by the rules loader, and the report as CSV and printable HTML.
 */

const RULES = `version: 1
groups:
  sre: [dave-approver, erin-approver]
  developers: [alice]
rules:
  - name: developers
    requesters:
      - groups: [developers]
      - subjects: [bob]
    targets:
      - { kind: gcp.iam-binding, roles: ["roles/viewer"], resources: ["projects/p1"] }
      - { kind: aws.assume-role, roleArns: ["arn:aws:iam::123456789012:role/dev"] }
    maxDuration: PT8H
    approval: { approvals: 1, from: [sre] }
`;

const REVIEWS = `version: 1
campaigns:
  - name: quarterly
    description: "Quarterly review of standing admin access and who may request what"
    schedule: "0 9 1 1,4,7,10 *"
    duration: P14D
    scope:
      standing: { clouds: [aws] }
      eligibility: { rules: ["*"] }
    reviewers: { groups: [sre] }
    defaultDecision: remove
    remindBefore: P3D
    escalation: { groups: [security-leads] }
`;

function finding(id: string, principal: string, displayName: string): DiscoveryFinding {
  return {
    id,
    cloud: 'aws',
    key: `aws:${id}`,
    principal: { id: principal, kind: 'user', human: true, displayName },
    scope: 'aws:123456789012',
    access: { type: 'aws.managed-policy', name: 'AdministratorAccess', id: 'arn:aws:iam::aws:policy/AdministratorAccess' },
    since: new Date('2025-03-01T00:00:00Z'),
    lastUsedAt: null,
    neverUsed: true,
    removable: true,
    locator: {},
    privileged: true,
    reasons: ['allows every action on every resource'],
    status: 'open',
    firstSeenAt: new Date('2026-12-01T00:00:00Z'),
    lastSeenAt: new Date('2026-12-31T00:00:00Z'),
    resolvedAt: null,
  };
}

/** Discovery's two ports as reviews use them, in memory, until the broker wires discovery's own. */
class Discovery implements DiscoveryFindingsReader {
  findings = [finding('f-alice', 'arn:aws:iam::123456789012:user/alice', 'alice'), finding('f-erin', 'arn:aws:iam::123456789012:user/erin-approver', 'erin-approver')];
  removals: StandingRemoval[] = [];
  async get(id: string) {
    return this.findings.find((f) => f.id === id) ?? null;
  }
  async list(filter: DiscoveryFindingFilter, page: { after?: string; limit: number }) {
    return this.findings.filter((f) => (!filter.cloud || f.cloud === filter.cloud) && (!page.after || f.id > page.after)).slice(0, page.limit);
  }
  /** Removals as discovery records them (its approvals are discovery's own e2e's business). */
  readonly removalPort: StandingRemovals = {
    request: async (findingId, by) => this.request(findingId, by),
    get: async (id) => this.removals.find((r) => r.id === id) ?? null,
  };
  async request(findingId: string, by: { actor: string; justification: string; origin: string }) {
    const r: StandingRemoval = { id: `rm-${this.removals.length + 1}`, findingId, state: 'pending_approval', requestedBy: by.actor, justification: by.justification, origin: by.origin, createdAt: new Date(), updatedAt: new Date(), lastError: null };
    this.removals.push(r);
    return r;
  }
}

describe('access reviews (e2e)', () => {
  let t: TestBroker;
  let dir: string;
  let hook: Server;
  const received: { type: string; links: Record<string, string>; summary: string }[] = [];
  const clock = new ManualClock(new Date('2027-01-01T08:00:00Z'));
  const discovery = new Discovery();

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'jit-reviews-'));
    hook = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        received.push(JSON.parse(Buffer.concat(chunks).toString('utf8')) as (typeof received)[number]);
        res.writeHead(200).end();
      });
    });
    hook.listen(0, '127.0.0.1');
    await once(hook, 'listening');
    writeFileSync(join(dir, 'rules.yaml'), RULES);
    writeFileSync(join(dir, 'reviews.yaml'), REVIEWS);
    writeFileSync(
      join(dir, 'notifications.yaml'),
      `webhooks:\n  - name: review-leads\n    url: http://127.0.0.1:${(hook.address() as { port: number }).port}/hook\n    events: [review.reminder, review.escalated]\n`,
    );
    t = await startTestBroker(
      {
        JIT_POLICY_FILE: join(dir, 'rules.yaml'),
        JIT_REVIEWS_FILE: join(dir, 'reviews.yaml'),
        JIT_NOTIFICATIONS_FILE: join(dir, 'notifications.yaml'),
        JIT_PUBLIC_URL: 'https://jit.example.com',
      },
      { clock, reviewPorts: { findings: discovery, removals: discovery.removalPort } },
    );
  });
  afterAll(async () => {
    await t?.close();
    hook?.close();
  });

  it('should run a quarterly campaign from its start to the report', async () => {
    // The definition from JIT_REVIEWS_FILE; only admins start one.
    const defs = await t.http.get('/v1/reviews/definitions').set(t.as('auditor')).expect(200);
    expect(defs.body.items).toEqual([expect.objectContaining({ name: 'quarterly', origin: 'file', schedule: '0 9 1 1,4,7,10 *', defaultDecision: 'remove' })]);
    await t.http.post('/v1/reviews/campaigns/quarterly/start').set(t.as('approver')).expect(403);
    await t.http.post('/v1/reviews/campaigns/nope/start').set(t.as('admin')).expect(404);

    // The schedule starts it at its first firing (1 January, 09:00 UTC).
    clock.at = new Date('2027-01-01T09:00:05Z');
    await t.broker.reviewScheduler!.runOnce();
    const list = await t.http.get('/v1/reviews/campaigns').set(t.as('approver')).expect(200);
    expect(list.body.items).toHaveLength(1);
    const campaign = list.body.items[0];
    expect(campaign).toMatchObject({ definition: 'quarterly', state: 'open', startedBy: 'system:scheduler', counts: { total: 4, decided: 0, pending: 4 }, overdue: false });

    const items = (await t.http.get(`/v1/reviews/campaigns/${campaign.id}/items`).set(t.as('approver')).expect(200)).body.items as Record<string, any>[];
    const alice = items.find((i) => i.findingId === 'f-alice')!;
    const erin = items.find((i) => i.findingId === 'f-erin')!;
    const devGroup = items.find((i) => i.rule === 'developers' && i.requesterIndex === 0)!;
    const bob = items.find((i) => i.rule === 'developers' && i.requesterIndex === 1)!;
    expect(alice).toMatchObject({ source: 'standing', principal: 'arn:aws:iam::123456789012:user/alice', access: 'AdministratorAccess', scope: 'aws:123456789012', since: '2025-03-01T00:00:00.000Z', privileged: true, requested: 0, granted: 0 });
    expect(devGroup).toMatchObject({ source: 'eligibility', principal: 'groups developers', scope: 'projects/p1, arn:aws:iam::123456789012:role/dev' });
    // A requester is no reviewer.
    await t.http.get(`/v1/reviews/campaigns/${campaign.id}/items`).set(t.as('alice')).expect(403);

    // Two reviewers decide; nobody reviews their own access; bad input names the field.
    const own = await t.http.post(`/v1/reviews/items/${erin.id}/decision`).set(t.as('approver2')).send({ decision: 'keep', justification: 'mine' }).expect(403);
    expect(own.body.detail).toMatch(/own access/);
    const bad = await t.http.post(`/v1/reviews/items/${alice.id}/decision`).set(t.as('approver')).send({ decision: 'maybe' }).expect(400);
    expect(bad.body.errors.map((e: { field: string }) => e.field).sort()).toEqual(['decision', 'justification']);
    const removed = await t.http.post(`/v1/reviews/items/${alice.id}/decision`).set(t.as('approver')).send({ decision: 'remove', justification: 'left the platform team' }).expect(200);
    expect(removed.body).toMatchObject({ decision: 'remove', decidedBy: 'dave-approver', applied: 'removal:rm-1' });
    expect(discovery.removals[0]).toMatchObject({ findingId: 'f-alice', requestedBy: 'dave-approver', origin: `review:${campaign.id}` });
    await t.http.post(`/v1/reviews/items/${alice.id}/decision`).set(t.as('approver2')).send({ decision: 'keep', justification: 'x' }).expect(409);
    // The rule's duration and targets are shared with bob's entry: narrowing the group's alone is refused, naming the field.
    const shared = await t.http
      .post(`/v1/reviews/items/${devGroup.id}/decision`)
      .set(t.as('approver2'))
      .send({ decision: 'narrow', justification: 'GCP only, half a day', narrowing: { maxDuration: 'PT4H', keepTargets: [0] } })
      .expect(400);
    expect(shared.body.errors).toEqual([{ field: 'decision', message: expect.stringMatching(/rule developers has 2/) }]);
    await t.http.post(`/v1/reviews/items/${devGroup.id}/decision`).set(t.as('approver2')).send({ decision: 'keep', justification: 'the team needs it' }).expect(200);

    // The removal is in the audit log with the decision.
    const audit = await t.http.get('/v1/audit').query({ type: 'review.item_decided' }).set(t.as('auditor')).expect(200);
    expect(audit.body.items.map((e: { actor: string; data: { decision: string } }) => [e.actor, e.data.decision]).sort()).toEqual([
      ['dave-approver', 'remove'],
      ['erin-approver', 'keep'],
    ]);
    const applied = await t.http.get('/v1/audit').query({ type: 'review.item_applied' }).set(t.as('auditor')).expect(200);
    expect(applied.body.items.find((e: { data: { applied: string } }) => e.data.applied === 'removal:rm-1')).toBeDefined();

    // A reminder three days before the end, to the webhook, with the campaign's link.
    clock.at = new Date(new Date(campaign.endsAt).getTime() - 2 * 86_400_000);
    await t.broker.reviewScheduler!.runOnce();
    await pollUntil(async () => received.find((r) => r.type === 'review.reminder'), 10_000);
    expect(received.find((r) => r.type === 'review.reminder')!.links.review).toBe(`https://jit.example.com/v1/reviews/campaigns/${campaign.id}`);

    // At the end the two undecided items are escalated (webhook with the item's link), and /metrics shows them overdue.
    clock.at = new Date(new Date(campaign.endsAt).getTime() + 60_000);
    await t.broker.reviewScheduler!.runOnce();
    await pollUntil(async () => (received.filter((r) => r.type === 'review.escalated').length === 2 ? true : undefined), 10_000);
    const links = received.filter((r) => r.type === 'review.escalated').map((r) => r.links.review).sort();
    expect(links).toEqual([`https://jit.example.com/v1/reviews/items/${bob.id}`, `https://jit.example.com/v1/reviews/items/${erin.id}`].sort());
    const metrics = await t.http.get('/metrics').set(t.as('admin')).expect(200);
    expect(metrics.text).toMatch(/^jit_review_items_overdue 2$/m);
    expect(metrics.text).toMatch(/^jit_review_campaigns_open 1$/m);
    expect((await t.http.get(`/v1/reviews/campaigns/${campaign.id}`).set(t.as('auditor')).expect(200)).body.overdue).toBe(true);

    // Three days later the campaign closes: the default (remove) for what nobody decided.
    clock.at = new Date(new Date(campaign.endsAt).getTime() + 3 * 86_400_000 + 60_000);
    await t.broker.reviewScheduler!.runOnce();
    const closed = (await t.http.get(`/v1/reviews/campaigns/${campaign.id}`).set(t.as('auditor')).expect(200)).body;
    expect(closed).toMatchObject({ state: 'closed', counts: { total: 4, decided: 4, pending: 0 }, overdue: false });
    expect(discovery.removals.map((r) => [r.findingId, r.requestedBy])).toEqual([
      ['f-alice', 'dave-approver'],
      ['f-erin', 'system:default'],
    ]);
    const closedEvent = await t.http.get('/v1/audit').query({ type: 'review.campaign_closed' }).set(t.as('auditor')).expect(200);
    expect(closedEvent.body.items[0].data).toMatchObject({ campaignId: campaign.id, items: 4, decided: 2, defaulted: 2 });
    await t.http.post(`/v1/reviews/items/${bob.id}/decision`).set(t.as('approver')).send({ decision: 'keep', justification: 'late' }).expect(409);

    // The rules patch: bob removed (the default), the rest as it was; the rules checker loads it.
    const patch = await t.http.get(`/v1/reviews/campaigns/${campaign.id}/rules-patch`).set(t.as('auditor')).expect(200);
    expect(patch.headers['content-type']).toMatch(/^text\/x-diff/);
    expect(patch.text).toMatch(/^-\s+- subjects: \[bob\]$/m);
    expect(patch.text).not.toMatch(/^[-+]\s+maxDuration/m);
    const patched = applyUnifiedDiff(RULES, patch.text);
    const policy = parseAccessPolicy(patched, 'rules.yaml', new Date(), targetKinds);
    expect(policy.file.rules[0]).toMatchObject({ maxDuration: 28800, requesters: [{ groups: ['developers'] }] });
    expect(policy.file.rules[0].targets).toHaveLength(2);

    // The report, for auditors only: CSV and printable HTML.
    await t.http.get(`/v1/reviews/campaigns/${campaign.id}/report`).set(t.as('approver')).expect(403);
    const csv = await t.http.get(`/v1/reviews/campaigns/${campaign.id}/report`).query({ format: 'csv' }).set(t.as('auditor')).expect(200);
    expect(csv.headers['content-type']).toMatch(/^text\/csv/);
    const lines = csv.text.trim().split('\n');
    expect(lines[0]).toMatch(/^itemId,source,cloud,principal,/);
    expect(lines).toHaveLength(5);
    expect(csv.text).toContain('left the platform team');
    const html = await t.http.get(`/v1/reviews/campaigns/${campaign.id}/report`).set(t.as('auditor')).expect(200);
    expect(html.headers['content-type']).toMatch(/^text\/html/);
    expect(html.headers['content-security-policy']).toMatch(/default-src 'none'/);
    expect(html.text).toContain('@media print');
    expect(html.text).toContain('Access review: quarterly');
    expect(html.text).toContain('system:default');
  });

  it('should work through the jit CLI: start, list, items, decide in bulk, report and patch', async () => {
    const env = (who: keyof typeof TOKENS) => ({ JIT_URL: t.broker.url!, JIT_TOKEN: TOKENS[who] });
    const run = async (who: keyof typeof TOKENS, ...args: string[]) => {
      const r = await runJitCli(args, env(who)).exited;
      if (r.code !== 0) throw new Error(`jit ${args.join(' ')} exited ${String(r.code)}: ${r.stderr}`);
      return r.stdout;
    };
    const started = JSON.parse(await run('admin', '--json', 'reviews', 'start', 'quarterly')) as { id: string; counts: { total: number } };
    expect(started.counts.total).toBe(4);
    expect(await run('auditor', 'reviews', 'ls', '--state', 'open')).toMatch(new RegExp(`^${started.id}\\s+quarterly\\s+open`, 'm'));
    const items = JSON.parse(await run('approver', '--json', 'reviews', 'items', started.id, '--pending', '--source', 'eligibility')) as { items: { id: string }[] };
    expect(items.items).toHaveLength(2);
    const table = await run('approver', 'reviews', 'decide', ...items.items.map((i) => i.id), '--campaign', started.id, '--keep', '--justification', 'still needed');
    expect(table.match(/decided/g)).toHaveLength(2);
    const csv = await run('auditor', 'reviews', 'report', started.id, '--format', 'csv');
    expect(csv.split('\n')[0]).toMatch(/^itemId,source,/);
    expect(csv.match(/still needed/g)).toHaveLength(2);
    const patched = await runJitCli(['reviews', 'patch', started.id], env('auditor')).exited;
    expect(patched).toMatchObject({ code: 0, stdout: '' });
    // The headers the diff cannot carry are on stderr: the rules version it applies to.
    expect(patched.stderr).toMatch(/^rules version: [0-9a-f]{64}$/m);
    const refused = await runJitCli(['reviews', 'decide', items.items[0].id, '--keep', '--remove', '--justification', 'x'], env('approver')).exited;
    expect(refused.code).toBe(2);
  });

  it('should answer bad input with a 400 naming the field, and nobody unauthenticated', async () => {
    await t.http.get('/v1/reviews/campaigns').expect(401);
    const def = await t.http.post('/v1/reviews/campaigns').set(t.as('admin')).send({ name: 'Bad Name', duration: 'P1M', scope: { standing: { clouds: ['oracle'] } } }).expect(400);
    expect(def.body.errors.map((e: { field: string }) => e.field).sort()).toEqual(['duration', 'name', 'scope.standing.clouds[0]']);
    await t.http.post('/v1/reviews/campaigns').set(t.as('approver')).send({}).expect(403);
    expect((await t.http.get('/v1/reviews/campaigns/not-a-uuid').set(t.as('auditor')).expect(400)).body.errors[0].field).toBe('id');
    await t.http.get('/v1/reviews/campaigns/0b7f0f5e-0000-4000-8000-000000000000').set(t.as('auditor')).expect(404);
    const list = await t.http.get('/v1/reviews/campaigns').query({ state: 'done', limit: '0' }).set(t.as('auditor')).expect(400);
    expect(list.body.errors.map((e: { field: string }) => e.field).sort()).toEqual(['limit', 'state']);
    const [c] = (await t.http.get('/v1/reviews/campaigns').set(t.as('auditor')).expect(200)).body.items;
    expect((await t.http.get(`/v1/reviews/campaigns/${c.id}/items`).query({ decided: 'maybe' }).set(t.as('auditor')).expect(400)).body.errors[0].field).toBe('decided');
    expect((await t.http.get(`/v1/reviews/campaigns/${c.id}/report`).query({ format: 'pdf' }).set(t.as('auditor')).expect(400)).body.errors[0].field).toBe('format');
    const [item] = (await t.http.get(`/v1/reviews/campaigns/${c.id}/items`).set(t.as('auditor')).expect(200)).body.items;
    await t.http.post(`/v1/reviews/items/${item.id}/decision`).set(t.as('approver')).send([1, 2]).expect(400);
    const bulk = await t.http.post(`/v1/reviews/campaigns/${c.id}/decisions`).set(t.as('approver')).send({ itemIds: [], decision: 'keep', justification: 'x' }).expect(400);
    expect(bulk.body.errors[0].field).toBe('itemIds');
  });
});

/** Applies a unified diff (as `patch -p1` would) to `text`; enough for the diffs the broker writes. */
function applyUnifiedDiff(text: string, diff: string): string {
  const src = text.split('\n');
  const out: string[] = [];
  let at = 0;
  const lines = diff.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const m = /^@@ -(\d+)(?:,\d+)? \+\d+(?:,\d+)? @@/.exec(lines[i]);
    if (!m) continue;
    const start = Number(m[1]) - 1;
    while (at < start) out.push(src[at++]);
    for (i++; i < lines.length && !lines[i].startsWith('@@'); i++) {
      const l = lines[i];
      if (l.startsWith(' ')) out.push(src[at++]);
      else if (l.startsWith('-')) at++;
      else if (l.startsWith('+')) out.push(l.slice(1));
    }
    i--;
  }
  while (at < src.length) out.push(src[at++]);
  return out.join('\n');
}
