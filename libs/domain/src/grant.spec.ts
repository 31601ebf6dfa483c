import { approvalSteps, approvalsFilled, assertTransition, canTransition, matchApprovals } from './grant';
import { DomainError } from './grant.exception';

describe('grant state machine', () => {
  it('should follow design.md: approval, provisioning, activation, revocation', () => {
    expect(canTransition('pending_approval', 'provisioning')).toBe(true);
    expect(canTransition('provisioning', 'active')).toBe(true);
    expect(canTransition('active', 'revoking')).toBe(true);
    expect(canTransition('revoking', 'revoke_failed')).toBe(true);
    expect(canTransition('revoke_failed', 'revoked')).toBe(true);
  });

  it('should never leave an ended state', () => {
    for (const ended of ['expired', 'revoked', 'denied', 'failed'] as const) {
      expect(() => assertTransition(ended, 'active')).toThrow(DomainError);
    }
  });

  it('should not activate a grant that was never provisioned', () => {
    expect(canTransition('pending_approval', 'active')).toBe(false);
    expect(canTransition('failed', 'active')).toBe(false);
  });
});

describe('approvalsFilled', () => {
  const sreAndSecurity = [
    { required: 1, groups: ['sre'] },
    { required: 1, groups: ['security'] },
  ];
  const by = (...groups: string[][]) => groups.map((g) => ({ groups: g }));

  it('should need a distinct approver for each step, however many groups one person is in', () => {
    expect(approvalsFilled(sreAndSecurity, by(['sre', 'security']))).toBe(1);
    expect(approvalsFilled(sreAndSecurity, by(['sre'], ['sre']))).toBe(1);
    expect(approvalsFilled(sreAndSecurity, by(['sre'], ['security']))).toBe(2);
  });

  it('should not depend on the order of approvals: someone in both groups is moved to the step only they can fill', () => {
    expect(approvalsFilled(sreAndSecurity, by(['sre', 'security'], ['sre']))).toBe(2);
    expect(approvalsFilled(sreAndSecurity, by(['sre'], ['sre', 'security']))).toBe(2);
    expect(matchApprovals(sreAndSecurity, by(['sre', 'security'], ['sre']))).toEqual([1, 1]);
  });

  it('should count N from a union of groups as one step, and ignore approvers of no step', () => {
    expect(approvalsFilled([{ required: 2, groups: ['sre', 'security'] }], by(['sre'], ['security'], ['sre']))).toBe(2);
    expect(approvalsFilled([{ required: 2, groups: ['sre'] }], by(['developers'], ['sre']))).toBe(1);
    expect(approvalSteps({ required: 2, groups: ['sre'] })).toEqual([{ required: 2, groups: ['sre'] }]);
  });
});
