import { lastSignIn, standingPrincipal } from './azure-standing.inventory';

describe('Azure standing inventory: what Graph says of a principal', () => {
  it('should take the last successful sign-in (interactive or not), never a failed attempt', () => {
    // lastSignInDateTime and lastNonInteractiveSignInDateTime count failed attempts too.
    expect(lastSignIn({ lastSuccessfulSignInDateTime: '2026-01-02T00:00:00Z', lastSignInDateTime: '2026-03-01T00:00:00Z', lastNonInteractiveSignInDateTime: '2026-02-01T00:00:00Z' })).toEqual(
      new Date('2026-01-02T00:00:00Z'),
    );
    expect(lastSignIn({ lastSuccessfulSignInDateTime: '2026-04-01T00:00:00Z', lastNonInteractiveSignInDateTime: '2026-02-01T00:00:00Z' })).toEqual(new Date('2026-04-01T00:00:00Z'));
  });

  it('should fall back to the older fields only for activity before Entra recorded successful sign-ins (December 2023)', () => {
    expect(lastSignIn({ lastSignInDateTime: '2023-06-01T00:00:00Z', lastSuccessfulSignInDateTime: null })).toEqual(new Date('2023-06-01T00:00:00Z'));
    expect(lastSignIn({ lastNonInteractiveSignInDateTime: '2023-09-01T00:00:00Z', lastSignInDateTime: '2023-06-01T00:00:00Z' })).toEqual(new Date('2023-09-01T00:00:00Z'));
    // Since then, an attempt with no successful sign-in recorded is a failed one: no use.
    expect(lastSignIn({ lastSignInDateTime: '2026-03-01T00:00:00Z', lastNonInteractiveSignInDateTime: '2026-02-01T00:00:00Z', lastSuccessfulSignInDateTime: null })).toBeNull();
  });

  it('should say nothing when Graph has no sign-in, or only unreadable dates', () => {
    expect(lastSignIn(null)).toBeNull();
    expect(lastSignIn(undefined)).toBeNull();
    expect(lastSignIn({ lastSignInDateTime: null, lastNonInteractiveSignInDateTime: null })).toBeNull();
    expect(lastSignIn({ lastSignInDateTime: 'not a date' })).toBeNull();
  });

  it.each([
    ['User', undefined, { kind: 'user', human: true }],
    ['Group', undefined, { kind: 'group', human: null }],
    ['ForeignGroup', undefined, { kind: 'group', human: null }],
    ['ServicePrincipal', 'Application', { kind: 'service_principal', human: false }],
    ['ServicePrincipal', 'ManagedIdentity', { kind: 'managed_identity', human: false }],
    ['ServicePrincipal', undefined, { kind: 'service_principal', human: false }],
    ['Device', undefined, { kind: 'unknown', human: null }],
  ])('should read principalType %s (servicePrincipalType %s) as %j', (principalType, spType, expected) => {
    expect(standingPrincipal('id-1', principalType, 'name', spType)).toEqual({ id: 'id-1', displayName: 'name', ...expected });
  });
});
