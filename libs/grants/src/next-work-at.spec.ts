import { Grant, GrantState } from '@jit/domain';
import { nextWorkAt } from './next-work-at';

const T = (s: number) => new Date(Date.UTC(2026, 10, 26, 12, 0, s));

/** Only the fields nextWorkAt reads; the rest of a grant does not bear on when work is due. */
const grant = (state: GrantState, over: Partial<Grant> = {}): Grant =>
  ({ state, expiresAt: T(30), nextAttemptAt: null, approvalDeadline: null, ...over }) as Grant;

describe('nextWorkAt', () => {
  it.each<[string, Grant, Date | null]>([
    ['an active grant at its expiry', grant('active'), T(30)],
    ['a revocation at its retry', grant('revoking', { nextAttemptAt: T(5) }), T(5)],
    ['a revoke_failed grant at its slow retry', grant('revoke_failed', { nextAttemptAt: T(50) }), T(50)],
    ['a pending request at its approval deadline', grant('pending_approval', { approvalDeadline: T(10) }), T(10)],
    ['a pending request without a deadline: never', grant('pending_approval'), null],
    ['an ended grant: never', grant('expired'), null],
  ])('should schedule %s', (_name, g, at) => {
    expect(nextWorkAt(g, null)).toEqual(at);
  });

  it('should schedule a provisioning row at its lease (retry or recheck) and not before', () => {
    expect(nextWorkAt(grant('provisioning'), T(3))).toEqual(T(3));
    expect(nextWorkAt(grant('provisioning'), null)).toBeNull();
  });

  it('should hold work back until a lease on the row lapses, since nobody can claim it before', () => {
    expect(nextWorkAt(grant('revoking', { nextAttemptAt: T(5) }), T(20))).toEqual(T(20));
    expect(nextWorkAt(grant('revoking', { nextAttemptAt: T(25) }), T(20))).toEqual(T(25));
  });
});
