import { issuerRolesFor, oidcIssuerSchema } from './oidc-issuer.config';

describe('OIDC issuer groupRoles', () => {
  const base = { name: 'corp', issuer: 'https://idp.example.com', audience: 'jit-console', groupsClaim: 'groups', roles: ['requester'] };

  it('should give the issuer\'s roles plus each role one of whose groups the token is in', () => {
    const config = oidcIssuerSchema.parse({ ...base, groupRoles: { auditor: ['audit'], approver: ['sre', 'oncall'] } });
    expect(issuerRolesFor(config, ['audit'])).toEqual(['requester', 'auditor']);
    expect(issuerRolesFor(config, ['developers'])).toEqual(['requester']);
    expect(issuerRolesFor(config, ['oncall', 'audit'])).toEqual(['requester', 'auditor', 'approver']);
    expect(issuerRolesFor(oidcIssuerSchema.parse(base), ['audit'])).toEqual(['requester']);
  });

  it.each([
    ['an unknown role', { groupRoles: { superuser: ['audit'] } }, 'groupRoles'],
    ['a role without groups', { groupRoles: { auditor: [] } }, 'groupRoles.auditor'],
    ['an empty group name', { groupRoles: { auditor: [''] } }, 'groupRoles.auditor.0'],
    ['no groupsClaim to read groups from', { groupsClaim: undefined, groupRoles: { auditor: ['audit'] } }, 'groupRoles'],
  ])('should refuse %s, naming the field', (_, change, field) => {
    const parsed = oidcIssuerSchema.safeParse({ ...base, ...change });
    expect(parsed.success).toBe(false);
    expect(parsed.error!.issues.map((i) => i.path.join('.'))).toContain(field);
  });
});
