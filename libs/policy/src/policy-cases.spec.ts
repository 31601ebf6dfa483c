import { YamlFileError } from '@jit/config';
import { targetKinds } from '@jit/testing';
import { parseAccessPolicy } from './access-policy.loader';
import { runPolicyCases } from './policy-cases';

const RULES = `
version: 1
groups:
  sre: [carol]
issuers:
  - { name: github, issuer: https://token.actions.githubusercontent.com, audience: jit-broker }
rules:
  - name: ci-artifacts
    requesters:
      - issuer: github
        claims: { repository: acme/app, ref: refs/heads/main }
    targets:
      - { kind: aws.iam-policy, actions: ["s3:PutObject"], resources: ["arn:aws:s3:::artifacts/*"] }
    maxDuration: PT30M
    approval: auto
  - name: humans
    requesters: [{ subjects: [alice] }]
    targets:
      - { kind: gcp.iam-binding, roles: ["roles/storage.*"], resources: ["projects/acme-prod"] }
      - { kind: aws.sts-credentials, roleArns: ["*"] }
    maxDuration: PT4H
    approval: { approvals: 2, from: [sre] }
`;
const policy = parseAccessPolicy(RULES, 'rules.yaml', new Date('2026-11-26T00:00:00Z'), targetKinds);
const BOUNDS = { minSeconds: 60, maxSeconds: 8 * 3600 };

const PIPELINE_REQUEST = `
      cloud: aws
      principal: { type: workload, id: "arn:aws:iam::123456789012:role/ci" }
      target: { kind: aws.iam-policy, actions: ["s3:PutObject"], resources: ["arn:aws:s3:::artifacts/*"] }
      duration: PT10M`;

describe('runPolicyCases', () => {
  it('should pass cases whose decisions match, naming effect, rule, code and approval', () => {
    const results = runPolicyCases(
      policy,
      `cases:
  - name: main branch deploys at once
    requester: { subject: "github:repo:acme/app:ref:refs/heads/main", issuer: github, claims: { repository: acme/app, ref: refs/heads/main } }
    request:${PIPELINE_REQUEST}
    expect: { effect: allow, rule: ci-artifacts, approval: auto }
  - name: a branch is not main
    requester: { subject: "github:repo:acme/app:ref:refs/heads/dev", issuer: github, claims: { repository: acme/app, ref: refs/heads/dev } }
    request:${PIPELINE_REQUEST}
    expect: { effect: deny, rule: null, code: no_matching_rule }
  - name: alice needs two approvals
    requester: { subject: alice }
    request: { cloud: gcp, principal: { type: user, id: "user:alice@acme.com" }, target: { kind: gcp.iam-binding, resource: projects/acme-prod, role: roles/storage.admin }, duration: PT1H }
    expect: { effect: allow, rule: humans, approval: approvals, approvals: 2 }
`,
      'cases.yaml',
      BOUNDS,
    );
    expect(results.map((r) => [r.name, r.passed, r.mismatches])).toEqual([
      ['main branch deploys at once', true, []],
      ['a branch is not main', true, []],
      ['alice needs two approvals', true, []],
    ]);
  });

  it('should fail a case on each expectation the decision misses, and on an invalid request', () => {
    const [wrongRule, wrongApprovals, invalid] = runPolicyCases(
      policy,
      `cases:
  - name: expects another rule
    requester: { subject: alice }
    request: { cloud: gcp, principal: { type: user, id: "user:alice@acme.com" }, target: { kind: gcp.iam-binding, resource: projects/acme-prod, role: roles/storage.admin }, duration: PT1H }
    expect: { effect: allow, rule: ci-artifacts, approval: auto }
  - name: expects one approval
    requester: { subject: alice }
    request: { cloud: gcp, principal: { type: user, id: "user:alice@acme.com" }, target: { kind: gcp.iam-binding, resource: projects/acme-prod, role: roles/storage.admin }, duration: PT1H }
    expect: { effect: allow, approvals: 1 }
  - name: a request the API would refuse
    requester: { subject: alice }
    request: { cloud: gcp, principal: { type: user, id: "user:alice@acme.com" }, target: { kind: gcp.iam-binding, resource: projects/acme-prod, role: roles/storage.admin }, duration: P30D }
    expect: { effect: deny }
`,
      'cases.yaml',
      BOUNDS,
    );
    expect(wrongRule.passed).toBe(false);
    expect(wrongRule.mismatches).toEqual(['rule: expected "ci-artifacts", got "humans"', 'approval: expected "auto", got "approvals"']);
    expect(wrongApprovals.mismatches).toEqual(['approvals: expected 1, got 2']);
    expect(invalid).toMatchObject({ passed: false, decision: { effect: 'invalid' } });
    expect(invalid.mismatches[0]).toMatch(/^the request is invalid: duration/);
  });

  it('should deny, as the broker does, credentials that would have to wait for approval', () => {
    const [sts] = runPolicyCases(
      policy,
      `cases:
  - name: session credentials cannot wait for approvers
    requester: { subject: alice }
    request: { cloud: aws, principal: { type: user, id: "alice-laptop" }, target: { kind: aws.sts-credentials, roleArn: "arn:aws:iam::123456789012:role/deploy" }, duration: PT1H }
    expect: { effect: deny, rule: humans, code: rule_conditions }
`,
      'cases.yaml',
      BOUNDS,
    );
    expect(sts.mismatches).toEqual([]);
    expect(sts.decision).toMatchObject({ effect: 'deny', reason: expect.stringContaining('request aws.assume-role instead') });
  });

  it('should reject a malformed cases file with the line and field, before running anything', () => {
    const text = `cases:
  - name: typo in effect
    requester: { subject: alice }
    request: {}
    expect: { effect: permit }
`;
    try {
      runPolicyCases(policy, text, 'cases.yaml', BOUNDS);
      throw new Error('expected a YamlFileError');
    } catch (e) {
      expect(e).toBeInstanceOf(YamlFileError);
      expect((e as YamlFileError).issues).toEqual([expect.objectContaining({ line: 5, field: 'cases.0.expect.effect' })]);
    }
  });
});
