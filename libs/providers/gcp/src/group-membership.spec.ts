import { GrantSpec, ProviderError } from '@jit/domain';
import { CloudIdentityGateway } from './cloud-identity.gateway';
import { gcpKinds } from './gcp-kinds';
import { GroupMemberships, memberEmail, memberExpiry } from './group-membership';

const kind = gcpKinds.find((k) => k.kind === 'gcp.group-membership')!;
// Only the pure parts are exercised here; the calls are covered against the simulator (gcp-group-membership.contract-spec.ts).
const groups = new GroupMemberships({} as CloudIdentityGateway, { attempts: 1, baseDelayMs: 1, maxDelayMs: 1 }, () => new Date());

const spec = (group: string, member: string, o: Partial<GrantSpec> = {}): GrantSpec => ({
  grantId: 'g-1',
  principal: { type: 'user', id: member },
  target: { kind: 'gcp.group-membership', group },
  startsAt: new Date('2030-01-01T00:00:00Z'),
  expiresAt: new Date('2030-01-01T01:00:00Z'),
  requestedBy: 'user:r@example.com',
  justification: null,
  artifactName: 'jit-broker grant g-1',
  ...o,
});

function refusal(fn: () => void): ProviderError {
  try {
    fn();
  } catch (e) {
    return e as ProviderError;
  }
  throw new Error('accepted');
}

describe('gcp.group-membership', () => {
  it('should take a group by email and refuse anything else, naming the field', () => {
    expect(kind.target.safeParse({ kind: 'gcp.group-membership', group: 'prod-admins@example.com' }).success).toBe(true);
    for (const group of ['prod-admins', 'groups/abc123', 'a b@example.com', `${'a'.repeat(250)}@example.com`]) {
      const parsed = kind.target.safeParse({ kind: 'gcp.group-membership', group });
      expect(parsed.success).toBe(false);
      expect(parsed.error?.issues[0].path).toEqual(['group']);
    }
    expect(kind.target.safeParse({ kind: 'gcp.group-membership', group: 'a@example.com', role: 'MEMBER' }).success).toBe(false);
  });

  it('should accept users, service accounts and groups by email, each of its own type, and nothing else', () => {
    for (const id of ['user:alice@example.com', 'serviceAccount:ci@p-1.iam.gserviceaccount.com', 'group:team@example.com']) expect(kind.principals.id.test(id)).toBe(true);
    for (const id of ['alice@example.com', 'domain:example.com', 'allUsers', 'principal://goog/subject/alice@example.com']) expect(kind.principals.id.test(id)).toBe(false);
    expect(kind.principals.impliedType?.('serviceAccount:ci@p-1.iam.gserviceaccount.com')?.type).toBe('workload');
    expect(kind.principals.impliedType?.('group:team@example.com')?.mismatch('user')).toMatch(/is a group, not a user/);
  });

  it('should match groups case-insensitively in rules and the deny-list', () => {
    const target = { kind: 'gcp.group-membership', group: 'Prod-Admins@Example.com' };
    expect(kind.rules.matches({ kind: 'gcp.group-membership', groups: ['prod-*@example.com'] }, target, 'covers')).toBe(true);
    expect(kind.rules.matches({ kind: 'gcp.group-membership', groups: ['dev-*@example.com'] }, target, 'touches')).toBe(false);
    expect(kind.rules.matches({ kind: 'gcp.group-membership', groups: ['*-admins@example.com'] }, { ...target, group: 'prod-*@example.com' }, 'touches')).toBe(true);
  });

  it('should give overlapping grants one key per member and group, whatever the case, and store the group in lower case', () => {
    const a = groups.overlapKey({ type: 'user', id: 'user:Alice@Example.com' }, { kind: 'gcp.group-membership', group: 'Ops@Example.com' });
    const b = groups.overlapKey({ type: 'user', id: 'user:alice@example.com' }, { kind: 'gcp.group-membership', group: 'ops@example.com' });
    expect(a).toBe(b);
    expect(memberEmail('serviceAccount:CI@p.iam.gserviceaccount.com')).toBe('ci@p.iam.gserviceaccount.com');
  });

  it('should refuse, before any call, a group as its own member and an expiry not after the start', () => {
    expect(refusal(() => groups.validate(spec('team@example.com', 'group:Team@example.com'))).options).toMatchObject({ field: 'principal.id', code: 'gcp.group-member-is-group' });
    expect(refusal(() => groups.validate(spec('team@example.com', 'domain:example.com'))).options.field).toBe('principal.id');
    expect(refusal(() => groups.validate(spec('team@example.com', 'user:a@example.com', { expiresAt: new Date('2030-01-01T00:00:00Z') }))).options.field).toBe('expiresAt');
    expect(() => groups.validate(spec('team@example.com', 'user:a@example.com'))).not.toThrow();
  });

  it('should read the MEMBER role expiry: a time, none (permanent), or no MEMBER role at all', () => {
    expect(memberExpiry({ roles: [{ name: 'MEMBER', expiryDetail: { expireTime: '2030-01-01T00:00:00Z' } }] })).toEqual(new Date('2030-01-01T00:00:00Z'));
    expect(memberExpiry({ roles: [{ name: 'OWNER' }, { name: 'MEMBER' }] })).toBeNull();
    expect(memberExpiry({ roles: [] })).toBeUndefined();
  });
});
