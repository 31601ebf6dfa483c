import { GrantRequest } from '@jit/domain';
import { targetKinds } from '@jit/testing';
import { YamlFileError } from '@jit/config';
import { AccessPolicyHolder, parseAccessPolicy } from './access-policy.loader';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const RULES = `
version: 1
approvalTimeout: PT2H
groups:
  sre: [carol, dave]
  security: [erin]
  developers: [alice, bob]
issuers:
  - name: github
    issuer: https://token.actions.githubusercontent.com
    audience: jit-broker
breakGlass:
  subjects: [emergency]
  maxDuration: PT1H
denyList:
  - name: broker-own-roles
    reason: the broker's own roles are never granted
    targets:
      - kind: aws.iam-policy
        actions: ["iam:*", "sts:*"]
        resources: ["*"]
      - kind: azure.resource-role
        roleDefinitionIds: ["18d7d88d-d35e-4fb5-a5c3-7773c20a72d9"]
        scopes: ["/"]
rules:
  - name: ci-artifacts
    requesters:
      - issuer: github
        claims:
          repository: acme/app
          ref: refs/heads/main
    targets:
      - kind: aws.iam-policy
        actions: ["s3:PutObject", "s3:Get*"]
        resources: ["arn:aws:s3:::artifacts/*"]
        principals: ["arn:aws:iam::123456789012:role/ci-*"]
    maxDuration: PT30M
    approval: auto
  - name: humans-prod
    requesters:
      - groups: [developers]
    targets:
      - kind: gcp.iam-binding
        roles: ["roles/storage.*"]
        resources: ["projects/acme-prod"]
      - kind: azure.resource-role
        roleDefinitionIds: ["*"]
        scopes: ["/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/app"]
    maxDuration: PT4H
    justification: { required: true }
    ticket: { required: true, pattern: "^CHG-[0-9]+$", description: "a change ticket CHG-<number>" }
    approval: { approvals: 2, from: [sre, security] }
`;

const policy = parseAccessPolicy(RULES, 'rules.yaml', new Date('2026-11-26T00:00:00Z'), targetKinds);

const s3 = (actions: string[], resources = ['arn:aws:s3:::artifacts/build.zip'], role = 'ci-deployer'): GrantRequest => ({
  cloud: 'aws',
  principal: { type: 'workload', id: `arn:aws:iam::123456789012:role/${role}` },
  target: { kind: 'aws.iam-policy', actions, resources },
  durationSeconds: 900,
  justification: null,
  ticket: null,
});
const gcp = (over: Partial<GrantRequest> = {}): GrantRequest => ({
  cloud: 'gcp',
  principal: { type: 'user', id: 'user:alice@acme.com' },
  target: { kind: 'gcp.iam-binding', resource: 'projects/acme-prod', role: 'roles/storage.objectAdmin' },
  durationSeconds: 3600,
  justification: 'incident 42',
  ticket: 'CHG-42',
  ...over,
});
const pipeline = (claims: Record<string, unknown>) => ({ subject: 'github:repo:acme/app:ref:refs/heads/main', issuer: 'github', claims });
const mainBranch = { repository: 'acme/app', ref: 'refs/heads/main' };

describe('AccessPolicy', () => {
  describe('evaluate', () => {
    it('should allow a pipeline whose claims match an automatic rule', () => {
      expect(policy.evaluate(pipeline(mainBranch), s3(['s3:PutObject']))).toMatchObject({
        effect: 'allow',
        rule: 'ci-artifacts',
        approval: { mode: 'auto' },
        policyVersion: policy.version,
      });
    });

    it('should deny a pipeline from another branch, saying no rule matched', () => {
      const d = policy.evaluate(pipeline({ ...mainBranch, ref: 'refs/heads/feature' }), s3(['s3:PutObject']));
      expect(d).toMatchObject({ effect: 'deny', rule: null, code: 'no_matching_rule' });
    });

    it('should not let claims from a token of another issuer count', () => {
      const d = policy.evaluate({ ...pipeline(mainBranch), issuer: 'gitlab' }, s3(['s3:PutObject']));
      expect(d.effect).toBe('deny');
    });

    it('should deny actions or resources outside the rule, and principals it does not name', () => {
      expect(policy.evaluate(pipeline(mainBranch), s3(['s3:DeleteObject'])).effect).toBe('deny');
      expect(policy.evaluate(pipeline(mainBranch), s3(['s3:*'])).effect).toBe('deny');
      expect(policy.evaluate(pipeline(mainBranch), s3(['s3:GetObject'], ['arn:aws:s3:::artifacts-other/x'])).effect).toBe('deny');
      expect(policy.evaluate(pipeline(mainBranch), s3(['s3:GetObject'], ['arn:aws:s3:::artifacts/x'], 'admin')).effect).toBe('deny');
      expect(policy.evaluate(pipeline(mainBranch), s3(['s3:Get*', 's3:putobject'])).effect).toBe('allow');
    });

    it('should match IAM principals by role name, so a path cannot smuggle another role past a rule', () => {
      expect(policy.evaluate(pipeline(mainBranch), s3(['s3:PutObject'], undefined, 'ci-x/prod-admin')).effect).toBe('deny');
      expect(policy.evaluate(pipeline(mainBranch), s3(['s3:PutObject'], undefined, 'CI-Deployer')).effect).toBe('allow');
    });

    it('should catch a denied IAM role whatever path or case the request writes', () => {
      const withDeny = parseAccessPolicy(
        RULES.replace('denyList:\n', 'denyList:\n  - name: broker-role\n    targets:\n      - { kind: aws.assume-role, roleArns: ["arn:aws:iam::123456789012:role/jit-broker"] }\n'),
        'rules.yaml',
        new Date(),
        targetKinds,
      );
      const assume = (roleArn: string): GrantRequest => ({
        cloud: 'aws',
        principal: { type: 'workload', id: 'arn:aws:iam::123456789012:role/ci-deployer' },
        target: { kind: 'aws.assume-role', roleArn },
        durationSeconds: 600,
        justification: 'x',
        ticket: null,
      });
      for (const arn of ['arn:aws:iam::123456789012:role/jit-broker', 'arn:aws:iam::123456789012:role/x/y/JIT-Broker']) {
        expect(withDeny.denyListHit(assume(arn).principal, assume(arn).target)?.name).toBe('broker-role');
      }
      expect(withDeny.denyListHit(assume('').principal, assume('arn:aws:iam::123456789012:role/deploy').target)).toBeNull();
    });

    it('should name the rule and the failed condition when only the duration is too long', () => {
      const d = policy.evaluate(pipeline(mainBranch), { ...s3(['s3:PutObject']), durationSeconds: 3600 });
      expect(d).toMatchObject({ effect: 'deny', rule: 'ci-artifacts', code: 'rule_conditions', violations: [{ field: 'duration' }] });
      expect(d.effect === 'deny' && d.reason).toContain('PT30M');
    });

    it('should check the deny-list before any rule, catching wildcards that reach a denied action', () => {
      const d = policy.evaluate(pipeline(mainBranch), s3(['iam:PassRole'], ['*']));
      expect(d).toMatchObject({ effect: 'deny', rule: 'deny-list:broker-own-roles', code: 'deny_list' });
      expect(policy.evaluate({ subject: 'emergency' }, { ...s3(['*']), justification: 'outage' })).toMatchObject({
        effect: 'deny',
        code: 'deny_list',
      });
    });

    it('should deny an Azure role on the deny-list at any scope above or below the listed one', () => {
      const azure = (scope: string): GrantRequest => ({
        cloud: 'azure',
        principal: { type: 'user', id: '00000000-0000-0000-0000-0000000000aa' },
        target: {
          kind: 'azure.resource-role',
          scope,
          roleDefinitionId: '/subscriptions/00000000-0000-0000-0000-000000000001/providers/Microsoft.Authorization/roleDefinitions/18D7D88D-D35E-4FB5-A5C3-7773C20A72D9',
        },
        durationSeconds: 600,
        justification: 'x',
        ticket: 'CHG-1',
      });
      expect(policy.evaluate({ subject: 'alice' }, azure('/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/app')).effect).toBe('deny');
    });

    it('should require approvals from the named groups for humans, with the rule timeout', () => {
      expect(policy.evaluate({ subject: 'alice' }, gcp())).toMatchObject({
        effect: 'allow',
        rule: 'humans-prod',
        approval: { mode: 'approvals', required: 2, groups: ['sre', 'security'], timeoutSeconds: 7200 },
      });
    });

    it('should take group membership from the token as well as from the file', () => {
      expect(policy.evaluate({ subject: 'zed', groups: ['developers'] }, gcp()).effect).toBe('allow');
      expect(policy.evaluate({ subject: 'zed' }, gcp()).effect).toBe('deny');
    });

    it('should enforce the ticket pattern and a required justification', () => {
      const d = policy.evaluate({ subject: 'alice' }, gcp({ ticket: 'JIRA-1', justification: null }));
      expect(d).toMatchObject({
        effect: 'deny',
        rule: 'humans-prod',
        violations: [
          { field: 'justification', message: 'is required' },
          { field: 'ticket', message: 'must match a change ticket CHG-<number>' },
        ],
      });
    });

    it('should cover Azure scopes below the rule scope and not beside or above it', () => {
      const rg = '/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/app';
      const req = (scope: string): GrantRequest => ({
        cloud: 'azure',
        principal: { type: 'user', id: '00000000-0000-0000-0000-0000000000aa' },
        target: { kind: 'azure.resource-role', scope, roleDefinitionId: 'acdd72a7-3385-48ef-bd42-f606fba81ae7' },
        durationSeconds: 600,
        justification: 'x',
        ticket: 'CHG-1',
      });
      expect(policy.evaluate({ subject: 'alice' }, req(`${rg}/providers/Microsoft.Storage/storageAccounts/s1`)).effect).toBe('allow');
      expect(policy.evaluate({ subject: 'alice' }, req(rg.toUpperCase())).effect).toBe('allow');
      expect(policy.evaluate({ subject: 'alice' }, req(`${rg}2`)).effect).toBe('deny');
      expect(policy.evaluate({ subject: 'alice' }, req('/subscriptions/00000000-0000-0000-0000-000000000001')).effect).toBe('deny');
    });

    it('should let break-glass accounts skip rules and approvals within their own bounds', () => {
      expect(policy.evaluate({ subject: 'emergency' }, gcp({ justification: 'sev1' }))).toMatchObject({
        effect: 'allow',
        rule: 'break-glass',
        approval: { mode: 'break_glass' },
      });
      expect(policy.evaluate({ subject: 'emergency' }, gcp({ justification: null, durationSeconds: 7200 }))).toMatchObject({
        effect: 'deny',
        rule: 'break-glass',
        violations: [{ field: 'duration' }, { field: 'justification' }],
      });
    });
  });

  describe('parseAccessPolicy', () => {
    const issuesOf = (text: string) => {
      try {
        parseAccessPolicy(text, 'rules.yaml', new Date(), targetKinds);
      } catch (e) {
        if (e instanceof YamlFileError) return e.issues;
        throw e;
      }
      throw new Error('expected the file to be rejected');
    };

    it('should name the line and field of a bad rule', () => {
      const text = RULES.replace('maxDuration: PT4H', 'maxDuration: four hours');
      const line = text.split('\n').findIndex((l) => l.includes('four hours')) + 1;
      expect(issuesOf(text)).toEqual([expect.objectContaining({ line, field: 'rules.1.maxDuration' })]);
    });

    it('should reject missing target fields and bad patterns', () => {
      const text = `version: 1
groups: { sre: [carol] }
rules:
  - name: a
    requesters: [{ subjects: [bob] }]
    targets: [{ kind: gcp.iam-binding, roles: ["*"] }]
    maxDuration: PT1H
    ticket: { pattern: "([" }
    approval: auto
`;
      expect(issuesOf(text).map((i) => `${i.line}:${i.field}`)).toEqual(['6:rules.0.targets.0.resources', '8:rules.0.ticket.pattern']);
    });

    it('should reject undeclared approver groups, unknown issuers and duplicate rules', () => {
      const text = `version: 1
groups: { sre: [carol] }
rules:
  - name: a
    requesters: [{ issuer: gitlab, claims: { project_path: x } }]
    targets: [{ kind: aws.assume-role, roleArns: ["*"] }]
    maxDuration: PT1H
    approval: { approvals: 1, from: [sre-team] }
  - name: a
    requesters: [{ subjects: [bob] }]
    targets: [{ kind: aws.assume-role, roleArns: ["*"] }]
    maxDuration: PT1H
    approval: auto
`;
      expect(issuesOf(text).map((i) => `${i.line}:${i.field}`).sort()).toEqual(
        ['5:rules.0.requesters.0.issuer', '8:rules.0.approval.from.0', '9:rules.1.name'].sort(),
      );
    });

    it('should refuse IAM ARN patterns with a path, issuers that hand out admin, and an issuer without claims', () => {
      const text = `version: 1
issuers:
  - { name: github, issuer: https://token.actions.githubusercontent.com, audience: jit-broker, roles: [requester, admin] }
rules:
  - name: a
    requesters: [{ issuer: github }]
    targets: [{ kind: aws.assume-role, roleArns: ["arn:aws:iam::123456789012:role/service-role/deploy"] }]
    maxDuration: PT1H
    approval: auto
`;
      expect(issuesOf(text).map((i) => `${i.line}:${i.field}`)).toEqual(['6:rules.0.requesters.0.claims', '7:rules.0.targets.0.roleArns', '3:issuers.0.roles.1']);
      const roles = text.replace('[{ issuer: github }]', '[{ issuer: github, claims: { repository: acme/app } }]').replace('service-role/', '');
      expect(issuesOf(roles).map((i) => `${i.line}:${i.field}`)).toEqual(['3:issuers.0.roles.1']);
    });

    it('should refuse GCP projects written by number, in rules and in the deny-list, since requests are judged under the id', () => {
      const text = `version: 1
denyList:
  - name: home
    targets: [{ kind: gcp.iam-binding, roles: ["*"], resources: ["projects/415104041262"] }]
rules:
  - name: a
    requesters: [{ subjects: [bob] }]
    targets: [{ kind: gcp.iam-binding, roles: ["*"], resources: ["projects/acme-*", "projects/4*", "folders/12", "organizations/*"] }]
    maxDuration: PT1H
    approval: auto
`;
      const issues = issuesOf(text);
      expect(issues.map((i) => `${i.line}:${i.field}`)).toEqual(['4:denyList.0.targets.0.resources', '8:rules.0.targets.0.resources']);
      expect(issues[0].message).toMatch(/by id/);
      expect(() => parseAccessPolicy(text.replace('projects/415104041262', 'projects/acme-home').replace('"projects/4*", ', ''), 'rules.yaml', new Date(), targetKinds)).not.toThrow();
    });

    it('should refuse principalTypes on AWS kinds, whose ARNs cannot say who uses them', () => {
      const text = `version: 1
rules:
  - name: a
    requesters: [{ subjects: [bob] }]
    targets:
      - { kind: aws.assume-role, roleArns: ["*"], principalTypes: [workload] }
      - { kind: gcp.iam-binding, roles: ["*"], resources: ["projects/acme-x"], principalTypes: [workload] }
    maxDuration: PT1H
    approval: auto
`;
      const issues = issuesOf(text);
      expect(issues.map((i) => `${i.line}:${i.field}`)).toEqual(['6:rules.0.targets.0.principalTypes']);
      expect(issues[0].message).toMatch(/restrict principals by ARN pattern/);
    });

    it('should take approval steps, sum and unite them, and name an undeclared group in a step', () => {
      const text = `version: 1
groups: { sre: [dave], security: [erin] }
rules:
  - name: two-teams
    requesters: [{ subjects: [bob] }]
    targets: [{ kind: aws.assume-role, roleArns: ["*"] }]
    maxDuration: PT1H
    approval:
      allOf:
        - { approvals: 2, from: [sre] }
        - { approvals: 1, from: [security, audit] }
`;
      expect(issuesOf(text).map((i) => `${i.line}:${i.field}`)).toEqual(['11:rules.0.approval.allOf.1.from.1']);
      const ok = parseAccessPolicy(text.replace(', audit]', ']'), 'rules.yaml', new Date(), targetKinds);
      const verdict = ok.evaluate({ subject: 'bob' }, {
        cloud: 'aws',
        principal: { type: 'workload', id: 'arn:aws:iam::123456789012:role/ci' },
        target: { kind: 'aws.assume-role', roleArn: 'arn:aws:iam::123456789012:role/deploy' },
        durationSeconds: 600,
        justification: null,
        ticket: null,
      });
      expect(verdict).toMatchObject({
        effect: 'allow',
        approval: { mode: 'approvals', required: 3, groups: ['sre', 'security'], steps: [{ required: 2, groups: ['sre'] }, { required: 1, groups: ['security'] }] },
      });
      // One step is no steps: write approvals/from.
      expect(issuesOf(text.replace('        - { approvals: 1, from: [security, audit] }\n', '')).map((i) => i.field)).toEqual(['rules.0.approval.allOf']);
    });

    it('should refuse claims without an issuer', () => {
      expect(issuesOf(`version: 1\nrules:\n  - name: a\n    requesters: [{ claims: { repository: x } }]\n    targets: [{ kind: aws.assume-role, roleArns: ["*"] }]\n    maxDuration: PT1H\n    approval: auto\n`)).toEqual([
        expect.objectContaining({ field: 'rules.0.requesters.0.issuer', message: 'claims need the issuer that vouches for them' }),
      ]);
    });
  });

  describe('AccessPolicyHolder', () => {
    it('should keep the previous rules when a reload finds an invalid file, and take a valid one', async () => {
      const dir = mkdtempSync(join(tmpdir(), 'jit-policy-'));
      const path = join(dir, 'rules.yaml');
      writeFileSync(path, RULES);
      const holder = await AccessPolicyHolder.open(path, targetKinds);
      const first = holder.current.version;

      writeFileSync(path, RULES.replace('approval: auto', 'approval: sometimes'));
      const rejected = await holder.reload();
      expect(rejected.status).toBe('rejected');
      expect(holder.current.version).toBe(first);
      expect(holder.lastError?.issues[0]).toMatchObject({ field: 'rules.0.approval' });
      expect(holder.current.evaluate(pipeline(mainBranch), s3(['s3:PutObject'])).effect).toBe('allow');

      writeFileSync(path, RULES.replace('maxDuration: PT30M', 'maxDuration: PT5M'));
      expect((await holder.reload()).status).toBe('loaded');
      expect(holder.lastError).toBeNull();
      expect(holder.current.evaluate(pipeline(mainBranch), s3(['s3:PutObject'])).effect).toBe('deny');
      expect((await holder.reload()).status).toBe('unchanged');
    });
  });
});
