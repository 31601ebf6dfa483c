import { assertTransition, canTransition } from './grant';
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
