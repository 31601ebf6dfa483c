import { Approval, Grant, GrantDecision, approvalProgress } from './grant';
import { openApprovalGroups } from './approval-openings';

const GROUPS = ['sre', 'security', 'dba', 'net'];

const base: Omit<Grant, 'decision' | 'approvals'> = {
  id: '00000000-0000-4000-8000-000000000001', state: 'pending_approval', cloud: 'aws', kind: 'aws.iam-policy',
  principal: { type: 'workload', id: 'arn:aws:iam::123456789012:role/ci' }, target: { kind: 'aws.iam-policy', actions: ['s3:GetObject'], resources: ['*'] },
  requestedBy: 'alice', justification: null, ticket: null, durationSeconds: 3600, createdAt: new Date(0), startsAt: null,
  expiresAt: new Date(3_600_000), endedAt: null, endReason: null, approvalDeadline: new Date(600_000), artifactName: 'jit-1', overlapKey: 'k',
  providerRef: null, lastError: null, attempts: 0, nextAttemptAt: null,
};

const GROUPS3 = GROUPS.slice(0, 3);
/** Every subset of `xs`, the empty one included. */
const subsets = <T>(xs: readonly T[]): T[][] => xs.reduce<T[][]>((all, x) => [...all, ...all.map((s) => [...s, x])], [[]]);
const nonEmpty = subsets(GROUPS3).filter((s) => s.length > 0);
const steps = nonEmpty.flatMap((groups) => [1, 2].map((required) => ({ required, groups })));
/** Every decision of one or two steps over three groups, and the older one-step form. */
const decisions: GrantDecision[] = [
  ...steps.map((s): GrantDecision => ({ rule: 'r', mode: 'approvals', required: s.required, groups: s.groups, policyVersion: 'v' })),
  ...steps.flatMap((s1) =>
    steps.map((s2): GrantDecision => ({
      rule: 'r', mode: 'approvals', required: s1.required + s2.required, groups: [...new Set([...s1.groups, ...s2.groups])], steps: [s1, s2], policyVersion: 'v',
    })),
  ),
];
/** Up to two approvals so far, each with its groups or none recorded (from before steps). */
const approvalOptions: (string[] | undefined)[] = [undefined, ...subsets(GROUPS3)];
const approvalSets: Approval[][] = [[], ...approvalOptions.map((g) => [g]), ...approvalOptions.flatMap((g1) => approvalOptions.map((g2) => [g1, g2]))].map((gs) =>
  gs.map((g, i) => ({ approver: `a${i}`, decision: 'approved' as const, at: '2026-12-05T12:00:00Z', ...(g ? { groups: g } : {}) })),
);

describe(openApprovalGroups.name, () => {
  it('should name a group of an approver exactly when approvalProgress says their approval fills a step', () => {
    // Every one- and two-step decision over three groups, with up to two approvals, for every approver's group set.
    let mismatches = 0;
    for (const decision of decisions) {
      for (const approvals of approvalSets) {
        const grant: Grant = { ...base, decision, approvals };
        const open = openApprovalGroups(grant);
        for (const actorGroups of subsets(GROUPS)) {
          const p = approvalProgress(grant, new Set(actorGroups));
          if (actorGroups.some((g) => open.includes(g)) !== p.after > p.before) mismatches++;
        }
      }
    }
    expect(mismatches).toBe(0);
  });

  it('should leave a later step open to its group once the first step is full, and close a full request', () => {
    const decision: GrantDecision = {
      rule: 'r', mode: 'approvals', required: 2, groups: ['sre', 'security'], policyVersion: 'v',
      steps: [{ required: 1, groups: ['sre'] }, { required: 1, groups: ['security'] }],
    };
    const bySre: Approval = { approver: 'bob', decision: 'approved', at: '2026-12-05T12:00:00Z', groups: ['sre'] };
    expect(openApprovalGroups({ ...base, decision, approvals: [] })).toEqual(['sre', 'security']);
    expect(openApprovalGroups({ ...base, decision, approvals: [bySre] })).toEqual(['security']);
    expect(openApprovalGroups({ ...base, decision, approvals: [bySre, { ...bySre, approver: 'carol', groups: ['security'] }] })).toEqual([]);
    expect(openApprovalGroups({ ...base, state: 'denied', decision, approvals: [] })).toEqual([]);
  });
});
