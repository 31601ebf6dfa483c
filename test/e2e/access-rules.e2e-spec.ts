import { createServer, IncomingMessage, Server } from 'node:http';
import { AddressInfo } from 'node:net';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { verifyWebhookSignature } from '@jit/notifications';
import { LocalOidcIssuer, startLocalOidcIssuer } from '@jit/testing';
import { pollUntil } from '../setup/poll-until.util';
import { TestBroker, awsPolicyGrant, startTestBroker } from '../setup/test-broker';

const WEBHOOK_SECRET = 'whsec-access-rules-e2e-0123456789';
const CI_ROLE = 'arn:aws:iam::123456789012:role/ci-deployer';

function rulesFile(issuer: string, humansMax = 'PT4H'): string {
  return `
version: 1
approvalTimeout: PT1H
groups:
  sre: []
  developers: []
  "ci:sre": []
issuers:
  - name: ci
    issuer: ${issuer}
    audience: jit-broker
    groupsClaim: groups
    roles: [requester, approver]
breakGlass:
  subjects: [emergency]
  maxDuration: PT1H
denyList:
  - name: iam-admin
    reason: IAM administration is never granted just in time
    targets:
      - kind: aws.iam-policy
        actions: ["iam:*"]
        resources: ["*"]
rules:
  - name: ci-deploy
    requesters:
      - issuer: ci
        claims: { repository: acme/app, repository_id: "892746103", repository_owner_id: "41898282", ref: refs/heads/main }
    targets:
      - kind: aws.iam-policy
        actions: ["s3:PutObject"]
        resources: ["arn:aws:s3:::artifacts/*"]
        principals: ["arn:aws:iam::123456789012:role/ci-*"]
    maxDuration: PT30M
    approval: auto
  - name: humans-storage
    requesters:
      - groups: [developers]
    targets:
      - kind: gcp.iam-binding
        roles: ["roles/storage.*"]
        resources: ["projects/acme-prod"]
    maxDuration: ${humansMax}
    justification: { required: true }
    ticket: { required: true, pattern: "^CHG-[0-9]+$", description: "a change ticket CHG-<number>" }
    approval: { approvals: 2, from: [sre, "ci:sre"] }
  - name: humans-quick-timeout
    requesters:
      - subjects: [bob]
    targets:
      - kind: gcp.iam-binding
        roles: ["roles/viewer.*", "roles/logging.viewer"]
        resources: ["projects/acme-prod"]
    maxDuration: PT1H
    approval: { approvals: 1, from: [sre], timeout: PT2S }
`;
}

interface Received {
  body: string;
  headers: IncomingMessage['headers'];
  path: string;
}

describe('access rules, OIDC pipelines, approvals, notifications and break-glass over HTTP', () => {
  let t: TestBroker;
  let oidc: LocalOidcIssuer;
  let receiver: Server;
  const received: Received[] = [];
  let policyPath: string;

  beforeAll(async () => {
    oidc = await startLocalOidcIssuer();
    receiver = createServer((req, res) => {
      let body = '';
      req.on('data', (c) => (body += c));
      req.on('end', () => {
        received.push({ body, headers: req.headers, path: req.url ?? '' });
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
    const dir = mkdtempSync(join(tmpdir(), 'jit-rules-'));
    policyPath = join(dir, 'rules.yaml');
    writeFileSync(policyPath, rulesFile(oidc.issuer));
    const notificationsPath = join(dir, 'notifications.yaml');
    writeFileSync(
      notificationsPath,
      `webhooks:\n  - name: approvers\n    url: http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook\n    format: json\n    secretEnv: JIT_E2E_WEBHOOK_SECRET\n` +
        // A channel for the pipeline-identity approvers only: requests whose rule asks ci:sre.
        `  - name: ci-sre-approvals\n    url: http://127.0.0.1:${(receiver.address() as AddressInfo).port}/ci-sre\n    events: [approval.needed]\n    approverGroups: ["ci:sre"]\n`,
    );
    process.env.JIT_E2E_WEBHOOK_SECRET = WEBHOOK_SECRET;
    t = await startTestBroker({
      JIT_POLICY_FILE: policyPath,
      JIT_NOTIFICATIONS_FILE: notificationsPath,
      JIT_PUBLIC_URL: 'https://jit.example.com',
      JIT_POLICY_RELOAD_INTERVAL: 'PT1H',
    });
  });

  afterAll(async () => {
    await t?.close();
    await oidc?.close();
    await new Promise((r) => receiver?.close(r));
  });

  const pipelineToken = (claims: Record<string, unknown> = {}, opts = {}) =>
    oidc.sign(
      { sub: 'repo:acme/app:ref:refs/heads/main', repository: 'acme/app', repository_id: '892746103', repository_owner_id: '41898282', ref: 'refs/heads/main', ...claims },
      opts,
    );
  const bearer = (token: string) => ({ Authorization: `Bearer ${token}` });
  const humanRequest = (over: Record<string, unknown> = {}) => ({
    cloud: 'gcp',
    principal: { type: 'user', id: 'user:alice@acme.com' },
    target: { kind: 'gcp.iam-binding', resource: 'projects/acme-prod', role: 'roles/storage.objectAdmin' },
    duration: 'PT1H',
    justification: 'restore a deleted object',
    ticket: 'CHG-42',
    ...over,
  });
  const auditOf = async (grantId: string) =>
    (await t.http.get(`/v1/audit?grantId=${grantId}`).set(t.as('auditor')).expect(200)).body.items as { type: string; actor: string; data: Record<string, unknown> }[];
  const notificationsFor = (grantId: string) =>
    received
      .filter((r) => r.path === '/hook')
      .map((r) => ({ ...r, json: JSON.parse(r.body) as { type: string; grantId: string; severity: string } }))
      .filter((n) => n.json.grantId === grantId);

  describe('pipelines with OIDC tokens', () => {
    it('should grant at once when the token claims match an automatic rule', async () => {
      const res = await t.http.post('/v1/grants').set(bearer(await pipelineToken())).send(awsPolicyGrant({ duration: 'PT10M' })).expect(201);
      expect(res.body).toMatchObject({
        state: 'active',
        requestedBy: 'ci:repo:acme/app:ref:refs/heads/main',
        decision: { rule: 'ci-deploy', mode: 'auto', approvalsRequired: 0 },
      });
      const events = await auditOf(res.body.id);
      expect(events.map((e) => e.type)).toEqual(['grant.requested', 'grant.approved', 'grant.provisioned', 'grant.activated']);
      expect(events[1]).toMatchObject({ actor: 'policy', data: { rule: 'ci-deploy', final: true } });
    });

    it('should deny a token from another branch with a 403 naming the decision, and audit it', async () => {
      const token = await pipelineToken({ sub: 'repo:acme/app:ref:refs/heads/feature', ref: 'refs/heads/feature' });
      const res = await t.http.post('/v1/grants').set(bearer(token)).send(awsPolicyGrant()).expect(403);
      expect(res.body).toMatchObject({
        type: 'urn:jit-broker:problem:policy_denied',
        decision: { effect: 'deny', rule: null, code: 'no_matching_rule' },
      });
      expect(res.body.detail).toContain('no access rule lets ci:repo:acme/app:ref:refs/heads/feature');
      const denied = await t.http.get('/v1/audit?type=policy.denied').set(t.as('auditor')).expect(200);
      expect(denied.body.items).toContainEqual(
        expect.objectContaining({
          actor: 'ci:repo:acme/app:ref:refs/heads/feature',
          principal: CI_ROLE,
          data: expect.objectContaining({ code: 'no_matching_rule', issuer: 'ci', kind: 'aws.iam-policy' }),
        }),
      );
      const grants = await t.http.get('/v1/grants?requester=' + encodeURIComponent('ci:repo:acme/app:ref:refs/heads/feature')).set(t.as('admin')).expect(200);
      expect(grants.body.items).toEqual([]);
    });

    it('should deny a token from another repository that took over the name acme/app, or from the repository under a new owner', async () => {
      // Same name and sub, another repository id: a deleted or renamed repository's name, reused.
      const reused = await t.http.post('/v1/grants').set(bearer(await pipelineToken({ repository_id: '903311457' }))).send(awsPolicyGrant({ duration: 'PT10M' })).expect(403);
      expect(reused.body.decision).toMatchObject({ rule: null, code: 'no_matching_rule' });
      const transferred = await t.http.post('/v1/grants').set(bearer(await pipelineToken({ repository_owner_id: '77000001' }))).send(awsPolicyGrant({ duration: 'PT10M' })).expect(403);
      expect(transferred.body.decision).toMatchObject({ rule: null, code: 'no_matching_rule' });
    });

    it('should name the rule and the failed condition when only the duration is too long', async () => {
      const res = await t.http.post('/v1/grants').set(bearer(await pipelineToken())).send(awsPolicyGrant({ duration: 'PT1H' })).expect(403);
      expect(res.body).toMatchObject({ decision: { rule: 'ci-deploy', code: 'rule_conditions' }, errors: [{ field: 'duration' }] });
    });

    it('should check the deny-list before any rule', async () => {
      const res = await t.http
        .post('/v1/grants')
        .set(bearer(await pipelineToken()))
        .send(awsPolicyGrant({ target: { kind: 'aws.iam-policy', actions: ['iam:PassRole'], resources: ['*'] } }))
        .expect(403);
      expect(res.body.decision).toMatchObject({ rule: 'deny-list:iam-admin', code: 'deny_list', reason: 'IAM administration is never granted just in time' });
    });

    it.each([
      ['tampered', async () => {
        const [h, p, s] = (await pipelineToken()).split('.');
        const claims = JSON.parse(Buffer.from(p, 'base64url').toString());
        return [h, Buffer.from(JSON.stringify({ ...claims, repository: 'acme/app', ref: 'refs/heads/main', sub: 'repo:acme/other' })).toString('base64url'), s].join('.');
      }, 'signature is invalid'],
      ['forged with another key', () => pipelineToken({}, { signWith: 'foreign' }), 'signature is invalid'],
      ['expired', () => pipelineToken({}, { expiresInSeconds: -600 }), 'expired'],
      ['for another audience', () => pipelineToken({}, { audience: 'someone-else' }), 'audience does not match'],
      ['from an untrusted issuer', () => pipelineToken({}, { issuer: 'https://evil.example.com' }), 'is not trusted'],
    ])('should reject a token %s with 401 and the reason', async (_what, make, reason) => {
      const res = await t.http.post('/v1/grants').set(bearer(await make())).send(awsPolicyGrant()).expect(401);
      expect(res.body.type).toBe('urn:jit-broker:problem:unauthenticated');
      expect(res.body.detail).toContain(reason);
      expect(res.headers['www-authenticate']).toContain('Bearer');
    });
  });

  describe('approvals', () => {
    it('should keep a human request pending until two distinct approvers other than the requester approve', async () => {
      const created = await t.http.post('/v1/grants').set(t.as('frank')).send(humanRequest()).expect(202);
      expect(created.body).toMatchObject({
        state: 'pending_approval',
        expiresAt: null,
        decision: { rule: 'humans-storage', mode: 'approvals', approvalsRequired: 2, approverGroups: ['sre', 'ci:sre'] },
      });
      const id = created.body.id as string;
      expect(Date.parse(created.body.approvalDeadline) - Date.parse(created.body.createdAt)).toBe(3_600_000);

      const self = await t.http.post(`/v1/grants/${id}/approve`).set(t.as('frank')).send({}).expect(403);
      expect(self.body.detail).toContain('never approve or deny their own request');
      await t.http.post(`/v1/grants/${id}/approve`).set(t.as('alice')).send({}).expect(403);
      await t.http.post(`/v1/grants/${id}/approve`).set(t.as('auditor')).send({}).expect(403);

      const first = await t.http.post(`/v1/grants/${id}/approve`).set(t.as('approver')).send({ comment: 'looks right' }).expect(200);
      expect(first.body).toMatchObject({ state: 'pending_approval', approvals: [{ approver: 'dave-approver', decision: 'approved', comment: 'looks right' }] });
      const twice = await t.http.post(`/v1/grants/${id}/approve`).set(t.as('approver')).send({}).expect(409);
      expect(twice.body.detail).toContain('distinct approvers');

      const approvedAt = Date.now();
      const second = await t.http.post(`/v1/grants/${id}/approve`).set(t.as('approver2')).send({}).expect(200);
      expect(second.body.state).toBe('active');
      // The clock starts at the final approval, not at the request.
      const expiresAt = Date.parse(second.body.expiresAt);
      expect(expiresAt).toBeGreaterThanOrEqual(approvedAt + 3_600_000 - 1000);
      expect(expiresAt - Date.parse(second.body.startsAt)).toBeLessThanOrEqual(3_600_000);
      expect(t.clouds.gcp.holds({ artifactName: second.body.providerRef.artifact }, new Date())).toBe(true);

      const events = await auditOf(id);
      expect(events.map((e) => `${e.type}:${e.actor}`)).toEqual([
        'grant.requested:frank',
        'grant.approved:dave-approver',
        'grant.approved:erin-approver',
        'grant.provisioned:broker',
        'grant.activated:broker',
      ]);
      expect(events[1].data).toMatchObject({ received: 1, required: 2, final: false });
      expect(events[2].data).toMatchObject({ received: 2, required: 2, final: true });

      const notes = await pollUntil(async () => {
        const n = notificationsFor(id);
        return n.length >= 3 ? n : undefined;
      }, 10_000);
      expect(notes.map((n) => n.json.type)).toEqual(['approval.needed', 'approval.decided', 'grant.granted']);
      for (const n of notes) {
        expect(verifyWebhookSignature(WEBHOOK_SECRET, n.headers['x-jit-signature'] as string, n.body, Math.floor(Date.now() / 1000))).toBe(true);
        expect(verifyWebhookSignature('not-the-secret-0123456789', n.headers['x-jit-signature'] as string, n.body, Math.floor(Date.now() / 1000))).toBe(false);
      }
    });

    it('should list for each approver exactly the requests they could decide now (awaiting=me)', async () => {
      const awaiting = async (who: 'approver' | 'approver2' | 'frank' | 'admin') =>
        ((await t.http.get('/v1/grants?awaiting=me&limit=500').set(t.as(who)).expect(200)).body.items as { id: string; state: string }[]).map((g) => g.id);
      const byFrank = (await t.http.post('/v1/grants').set(t.as('frank')).send(humanRequest()).expect(202)).body.id as string;
      const byAlice = (await t.http.post('/v1/grants').set(t.as('alice')).send(humanRequest()).expect(202)).body.id as string;

      // Both SRE approvers see both; frank (an SRE approver too) never sees his own request.
      expect(await awaiting('approver')).toEqual(expect.arrayContaining([byFrank, byAlice]));
      expect(await awaiting('frank')).toContain(byAlice);
      expect(await awaiting('frank')).not.toContain(byFrank);
      // admin is in no approver group of the rule.
      expect(await awaiting('admin')).not.toContain(byAlice);

      // Once dave approved, it leaves his list but stays on erin's; once decided, it leaves every list.
      await t.http.post(`/v1/grants/${byAlice}/approve`).set(t.as('approver')).send({}).expect(200);
      expect(await awaiting('approver')).not.toContain(byAlice);
      expect(await awaiting('approver2')).toContain(byAlice);
      await t.http.post(`/v1/grants/${byAlice}/deny`).set(t.as('approver2')).send({ comment: 'not this week' }).expect(200);
      expect(await awaiting('approver2')).not.toContain(byAlice);
      expect(await awaiting('frank')).not.toContain(byAlice);

      // Requesters and auditors cannot ask; anything but "me" is a 400 naming the parameter.
      await t.http.get('/v1/grants?awaiting=me').set(t.as('alice')).expect(403);
      await t.http.get('/v1/grants?awaiting=me').set(t.as('auditor')).expect(403);
      const bad = await t.http.get('/v1/grants?awaiting=dave-approver').set(t.as('approver')).expect(400);
      expect(bad.body.errors).toEqual([expect.objectContaining({ field: 'awaiting' })]);
      await t.http.post(`/v1/grants/${byFrank}/revoke`).set(t.as('frank')).send({}).expect(200);
    });

    it('should take OIDC approvers from the issuer-prefixed groups claim, never as a group of the rules file', async () => {
      const human = (groups: string[]) => oidc.sign({ sub: 'human-7', groups });
      const storage = (await t.http.post('/v1/grants').set(t.as('alice')).send(humanRequest()).expect(202)).body;
      // Outside the rule's groups the grant looks absent, as when reading it.
      await t.http.post(`/v1/grants/${storage.id}/approve`).set(bearer(await human(['other']))).send({}).expect(404);
      const ok = await t.http.post(`/v1/grants/${storage.id}/approve`).set(bearer(await human(['sre']))).send({}).expect(200);
      expect(ok.body.approvals).toEqual([expect.objectContaining({ approver: 'ci:human-7', decision: 'approved' })]);

      // humans-quick-timeout names only the file's group sre: a claim "sre" from the issuer is ci:sre, not sre.
      const quick = (
        await t.http
          .post('/v1/grants')
          .set(t.as('bob'))
          .send(humanRequest({ principal: { type: 'user', id: 'user:bob@acme.com' }, target: { kind: 'gcp.iam-binding', resource: 'projects/acme-prod', role: 'roles/logging.viewer' } }))
          .expect(202)
      ).body;
      const refused = await t.http.post(`/v1/grants/${quick.id}/approve`).set(bearer(await human(['sre']))).send({}).expect(404);
      expect(refused.body.detail).not.toContain('sre');
      // An admin, who reads every grant, is told which groups the rule asks.
      const admin = await t.http.post(`/v1/grants/${quick.id}/approve`).set(t.as('admin')).send({}).expect(403);
      expect(admin.body.detail).toContain('must belong to one of the groups sre');
    });

    it('should let the requester withdraw a pending request, and tell the approvers', async () => {
      const { body } = await t.http.post('/v1/grants').set(t.as('alice')).send(humanRequest()).expect(202);
      // Another requester does not even see it.
      await t.http.post(`/v1/grants/${body.id}/revoke`).set(t.as('bob')).send({ reason: 'not mine' }).expect(404);
      const withdrawn = await t.http.post(`/v1/grants/${body.id}/revoke`).set(t.as('alice')).send({ reason: 'no longer needed' }).expect(200);
      expect(withdrawn.body).toMatchObject({ state: 'denied', endReason: 'withdrawn' });
      const notes = await pollUntil(async () => {
        const n = notificationsFor(body.id);
        return n.length >= 2 ? n : undefined;
      }, 10_000);
      expect(notes.map((n) => n.json.type)).toEqual(['approval.needed', 'approval.decided']);
    });

    it('should let one approver deny with a comment, which the requester reads', async () => {
      const { body } = await t.http.post('/v1/grants').set(t.as('alice')).send(humanRequest()).expect(202);
      const noComment = await t.http.post(`/v1/grants/${body.id}/deny`).set(t.as('approver')).send({}).expect(400);
      expect(noComment.body.errors).toEqual([{ field: 'comment', message: expect.any(String) }]);
      await t.http.post(`/v1/grants/${body.id}/deny`).set(t.as('approver')).send({ comment: 'use the read-only role' }).expect(200);
      const seen = await t.http.get(`/v1/grants/${body.id}`).set(t.as('alice')).expect(200);
      expect(seen.body).toMatchObject({
        state: 'denied',
        endReason: 'denied',
        approvals: [{ approver: 'dave-approver', decision: 'denied', comment: 'use the read-only role' }],
      });
      await t.http.post(`/v1/grants/${body.id}/approve`).set(t.as('approver2')).send({}).expect(409);
      expect(t.clouds.gcp.calls.filter((c) => c.grantId === body.id)).toEqual([]);
    });

    it('should deny a request nobody decided in time, with reason timeout', async () => {
      const { body } = await t.http
        .post('/v1/grants')
        .set(t.as('bob'))
        .send(humanRequest({ principal: { type: 'user', id: 'user:bob@acme.com' }, target: { kind: 'gcp.iam-binding', resource: 'projects/acme-prod', role: 'roles/logging.viewer' } }))
        .expect(202);
      const denied = await pollUntil(async () => {
        const g = (await t.http.get(`/v1/grants/${body.id}`).set(t.as('bob')).expect(200)).body;
        return g.state === 'denied' ? g : undefined;
      }, 15_000, 200);
      expect(denied.endReason).toBe('timeout');
      expect((await auditOf(body.id)).at(-1)).toMatchObject({ type: 'grant.denied', actor: 'broker', data: { reason: 'timeout' } });
      await t.http.post(`/v1/grants/${body.id}/approve`).set(t.as('approver')).send({}).expect(409);
    });

    it('should count both of two approvals that arrive at the same moment, and provision once', async () => {
      for (let round = 0; round < 5; round++) {
        const { body } = await t.http.post('/v1/grants').set(t.as('alice')).send(humanRequest()).expect(202);
        const [a, b] = await Promise.all([
          t.http.post(`/v1/grants/${body.id}/approve`).set(t.as('approver')).send({}),
          t.http.post(`/v1/grants/${body.id}/approve`).set(t.as('approver2')).send({}),
        ]);
        expect([a.status, b.status]).toEqual([200, 200]);
        const g = (await t.http.get(`/v1/grants/${body.id}`).set(t.as('alice')).expect(200)).body;
        expect(g.state).toBe('active');
        expect(g.approvals.map((x: { approver: string }) => x.approver).sort()).toEqual(['dave-approver', 'erin-approver']);
        const types = (await auditOf(body.id)).map((e) => e.type);
        expect(types.filter((x) => x === 'grant.approved')).toHaveLength(2);
        expect(types.filter((x) => x === 'grant.provisioned')).toHaveLength(1);
        expect(t.clouds.gcp.calls.filter((c) => c.grantId === body.id && c.op === 'grant')).toHaveLength(1);
      }
    });

    it('should reject malformed and unknown grant ids on approve and deny', async () => {
      const bad = await t.http.post('/v1/grants/not-a-uuid/approve').set(t.as('approver')).send({}).expect(400);
      expect(bad.body.errors).toEqual([{ field: 'id', message: expect.any(String) }]);
      await t.http.post('/v1/grants/00000000-0000-4000-8000-000000000000/deny').set(t.as('approver')).send({ comment: 'x' }).expect(404);
      await t.http.post('/v1/grants/00000000-0000-4000-8000-000000000000/approve').set(t.as('approver')).send({ extra: 1 }).expect(400);
    });
  });

  describe('break-glass', () => {
    it('should grant a break-glass account at once, audit it at high severity and notify', async () => {
      const res = await t.http.post('/v1/grants').set(t.as('emergency')).send(humanRequest({ ticket: undefined, duration: 'PT30M' })).expect(201);
      expect(res.body).toMatchObject({ state: 'active', decision: { rule: 'break-glass', mode: 'break_glass' } });
      const events = await auditOf(res.body.id);
      expect(events.map((e) => e.type)).toEqual(['grant.requested', 'grant.approved', 'policy.break_glass', 'grant.provisioned', 'grant.activated']);
      expect(events[2].data).toMatchObject({ severity: 'high' });
      const note = await pollUntil(async () => notificationsFor(res.body.id).find((n) => n.json.type === 'break_glass.used'), 10_000);
      expect(note.json.severity).toBe('high');
    });

    it('should still hold break-glass to the deny-list and its own limits', async () => {
      await t.http.post('/v1/grants').set(t.as('emergency')).send(awsPolicyGrant({ target: { kind: 'aws.iam-policy', actions: ['*'], resources: ['*'] } })).expect(403);
      const long = await t.http.post('/v1/grants').set(t.as('emergency')).send(humanRequest({ duration: 'PT2H' })).expect(403);
      expect(long.body.decision).toMatchObject({ rule: 'break-glass', code: 'rule_conditions' });
    });
  });

  describe('the rules API', () => {
    it('should show the rules in force to admins and auditors only', async () => {
      const res = await t.http.get('/v1/policy').set(t.as('auditor')).expect(200);
      expect(res.body).toMatchObject({ source: policyPath, lastReloadError: null });
      expect(res.body.rules.map((r: { name: string }) => r.name)).toEqual(['ci-deploy', 'humans-storage', 'humans-quick-timeout']);
      expect(res.body.rules[1].ticket.pattern).toBe('^CHG-[0-9]+$');
      await t.http.get('/v1/policy').set(t.as('admin')).expect(200);
      // Approvers too, static or OIDC (this issuer gives every token it signs the approver role).
      await t.http.get('/v1/policy').set(t.as('approver')).expect(403);
      await t.http.get('/v1/policy').set(bearer(await oidc.sign({ sub: 'human-7', groups: ['sre'] }))).expect(403);
      await t.http.get('/v1/policy').set(t.as('alice')).expect(403);
      await t.http.post('/v1/policy/reload').set(t.as('auditor')).expect(403);
    });

    it('should answer a dry run with the decision a request would get, storing, auditing and granting nothing', async () => {
      const counts = async () => ({
        grants: (await t.http.get('/v1/grants?limit=500').set(t.as('admin')).expect(200)).body.items.length,
        audit: (await t.http.get('/v1/audit?format=jsonl').set(t.as('auditor')).expect(200)).text.trim().split('\n').length,
        cloudCalls: t.clouds.aws.calls.length + t.clouds.gcp.calls.length,
      });
      const before = await counts();
      const ci = await t.http.post('/v1/policy/evaluate').set(bearer(await pipelineToken())).send(awsPolicyGrant({ duration: 'PT10M' })).expect(200);
      expect(ci.body).toMatchObject({ effect: 'allow', rule: 'ci-deploy', mode: 'auto', request: { duration: 'PT10M', target: { kind: 'aws.iam-policy' } } });
      // The limits a form shows before sending: the broker's bounds, and the longest grant the deciding rule allows.
      expect(ci.body).toMatchObject({ durationBounds: { min: expect.stringMatching(/^PT\d+[SM]$/), max: expect.stringMatching(/^P/) }, maxDuration: 'PT30M' });
      expect(ci.body.durationBounds.max).not.toBe('PT30M');
      const human = await t.http.post('/v1/policy/evaluate').set(t.as('alice')).send(humanRequest()).expect(200);
      expect(human.body).toMatchObject({ effect: 'allow', rule: 'humans-storage', mode: 'approvals', approvalsRequired: 2, approverGroups: ['sre', 'ci:sre'], approvalTimeout: 'PT1H' });
      const denied = await t.http
        .post('/v1/policy/evaluate')
        .set(t.as('alice'))
        .send(awsPolicyGrant({ target: { kind: 'aws.iam-policy', actions: ['iam:PassRole'], resources: ['*'] } }))
        .expect(200);
      expect(denied.body).toMatchObject({ effect: 'deny', rule: 'deny-list:iam-admin', code: 'deny_list' });
      // No rule of the file decided: the broker's own maximum is the limit.
      expect(denied.body.maxDuration).toBe(denied.body.durationBounds.max);
      const noTicket = await t.http.post('/v1/policy/evaluate').set(t.as('alice')).send(humanRequest({ ticket: undefined })).expect(200);
      expect(noTicket.body).toMatchObject({ effect: 'deny', rule: 'humans-storage', code: 'rule_conditions', errors: [expect.objectContaining({ field: 'ticket' })] });
      expect(await counts()).toEqual(before);
      // Not audited, but counted apart from real decisions.
      const metrics = (await t.http.get('/metrics').set(t.as('auditor')).expect(200)).text;
      expect(metrics).toMatch(/jit_policy_dry_runs_total\{effect="allow",mode="approvals"\} [1-9]/);
      expect(metrics).toMatch(/jit_policy_dry_runs_total\{effect="deny",mode="deny_list"\} [1-9]/);

      // The same validation as a request; only those who may request may ask.
      const bad = await t.http.post('/v1/policy/evaluate').set(t.as('alice')).send(humanRequest({ duration: 'soon' })).expect(400);
      expect(bad.body.errors).toEqual([expect.objectContaining({ field: 'duration' })]);
      await t.http.post('/v1/policy/evaluate').set(t.as('auditor')).send(humanRequest()).expect(403);
      await t.http.post('/v1/policy/evaluate').send(humanRequest()).expect(401);
    });

    it('should route approval requests to the channel of the groups their rule asks, and nothing else there', async () => {
      const ciSre = () => received.filter((r) => r.path === '/ci-sre').map((r) => JSON.parse(r.body) as { type: string; event: { data: { approval: { rule: string } } } });
      const notes = await pollUntil(async () => (ciSre().length > 0 ? ciSre() : undefined), 10_000);
      expect(new Set(notes.map((n) => n.type))).toEqual(new Set(['approval.needed']));
      // humans-storage asks sre and ci:sre; bob's humans-quick-timeout asks sre only, so never reached this channel.
      expect(new Set(notes.map((n) => n.event.data.approval.rule))).toEqual(new Set(['humans-storage']));
      const toApprovers = received.filter((r) => r.path === '/hook').map((r) => JSON.parse(r.body) as { event: { data: { approval?: { rule: string } } } });
      expect(toApprovers.some((n) => n.event.data.approval?.rule === 'humans-quick-timeout')).toBe(true);
    });

    it('should count decisions, break-glass uses and notifications in /metrics', async () => {
      const text = (await t.http.get('/metrics').set(t.as('auditor')).expect(200)).text;
      expect(text).toMatch(/jit_policy_decisions_total\{effect="allow",mode="auto"\} [1-9]/);
      expect(text).toMatch(/jit_policy_decisions_total\{effect="deny",mode="no_matching_rule"\} [1-9]/);
      expect(text).toMatch(/jit_policy_decisions_total\{effect="deny",mode="deny_list"\} [1-9]/);
      expect(text).toMatch(/jit_break_glass_uses_total [1-9]/);
      expect(text).toMatch(/jit_notifications_total\{webhook="approvers",outcome="delivered"\} [1-9]/);
    });

    it('should keep the rules in force when a reload finds an invalid file, and take a valid one', async () => {
      const before = (await t.http.get('/v1/policy').set(t.as('admin')).expect(200)).body.version;
      writeFileSync(policyPath, rulesFile(oidc.issuer).replace('maxDuration: PT30M', 'maxDuration: thirty minutes'));
      const rejected = await t.http.post('/v1/policy/reload').set(t.as('admin')).expect(400);
      expect(rejected.body.errors).toEqual([expect.objectContaining({ field: expect.stringMatching(/^line \d+: rules\.0\.maxDuration$/) })]);
      const after = (await t.http.get('/v1/policy').set(t.as('admin')).expect(200)).body;
      expect(after.version).toBe(before);
      expect(after.lastReloadError.issues[0].field).toBe('rules.0.maxDuration');
      await t.http.post('/v1/grants').set(bearer(await pipelineToken())).send(awsPolicyGrant({ duration: 'PT10M' })).expect(201);

      writeFileSync(policyPath, rulesFile(oidc.issuer, 'PT2H'));
      const loaded = await t.http.post('/v1/policy/reload').set(t.as('admin')).expect(200);
      expect(loaded.body).toMatchObject({ status: 'loaded', lastReloadError: null });
      expect(loaded.body.version).not.toBe(before);
      const tooLong = await t.http.post('/v1/grants').set(t.as('alice')).send(humanRequest({ duration: 'PT3H' })).expect(403);
      expect(tooLong.body.decision).toMatchObject({ rule: 'humans-storage', code: 'rule_conditions' });
      const audit = await t.http.get('/v1/audit?type=policy.loaded').set(t.as('auditor')).expect(200);
      expect(audit.body.items.at(-1).data).toMatchObject({ version: loaded.body.version, previousVersion: before, trigger: 'api' });
      expect(audit.body.items.at(-1).data.text).toContain('humans-storage');
    });
    it('should check the deny-list again at the final approval, so a target denied while waiting is never granted', async () => {
      const { body } = await t.http.post('/v1/grants').set(t.as('alice')).send(humanRequest()).expect(202);
      await t.http.post(`/v1/grants/${body.id}/approve`).set(t.as('approver')).send({}).expect(200);
      writeFileSync(
        policyPath,
        rulesFile(oidc.issuer, 'PT2H').replace(
          'denyList:\n',
          'denyList:\n  - name: storage-admin-frozen\n    reason: storage admin is frozen during the audit\n    targets:\n      - { kind: gcp.iam-binding, roles: ["roles/storage.objectAdmin"], resources: ["*"] }\n',
        ),
      );
      await t.http.post('/v1/policy/reload').set(t.as('admin')).expect(200);
      const res = await t.http.post(`/v1/grants/${body.id}/approve`).set(t.as('approver2')).send({}).expect(403);
      expect(res.body.decision).toMatchObject({ rule: 'deny-list:storage-admin-frozen', code: 'deny_list' });
      const g = (await t.http.get(`/v1/grants/${body.id}`).set(t.as('alice')).expect(200)).body;
      expect(g).toMatchObject({ state: 'denied', endReason: 'denied' });
      expect(t.clouds.gcp.calls.filter((c) => c.grantId === body.id)).toEqual([]);
      expect((await auditOf(body.id)).at(-1)).toMatchObject({ type: 'grant.denied', actor: 'policy' });
    });
  });
});
