import { GrantSpec, ProviderError, TargetKinds } from '@jit/domain';
import { AwsIamStsProvider } from './aws-iam-sts.provider';
import { awsKinds } from './aws-kinds';
import { checkSessionDuration, coveredByOthers, isOrphanedAccount, isoDurationSeconds, residualNotice, settleAll } from './permission-set.plan';

const SET_ARN = 'arn:aws:sso:::permissionSet/ssoins-1111222233334444/ps-aaaabbbbccccdddd';
const target = (accounts: string[], extra: Record<string, unknown> = {}) => ({
  kind: 'aws.permission-set',
  permissionSet: SET_ARN,
  permissionSetName: 'ReadOnly',
  accounts,
  ...extra,
});
const spec = (grantId: string, accounts: string[]): GrantSpec => ({
  grantId,
  principal: { type: 'group', id: 'Platform' },
  target: target(accounts),
  startsAt: new Date('2026-01-01T00:00:00Z'),
  expiresAt: new Date('2026-01-01T01:00:00Z'),
  requestedBy: 'alice',
  justification: null,
  artifactName: `jit-assignment-${grantId}`,
});

describe('aws.permission-set without the cloud', () => {
  it('should key overlap on principal and permission set, not on the accounts, so grants for A+B and for B see each other', () => {
    const provider = new AwsIamStsProvider({ region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'y' } });
    const group = { type: 'group' as const, id: 'Platform' };
    expect(provider.overlapKey(group, target(['111111111111', '222222222222']))).toBe(provider.overlapKey(group, target(['222222222222'])));
    expect(provider.overlapKey(group, target(['111111111111']))).not.toBe(provider.overlapKey({ type: 'user', id: 'Platform' }, target(['111111111111'])));
    expect(provider.overlapKey(group, target(['111111111111']))).not.toBe(
      provider.overlapKey(group, target(['111111111111'], { permissionSet: SET_ARN.replace('aaaa', 'eeee') })),
    );
  });

  it('should tell which accounts other live grants still cover, ignoring the grant itself', () => {
    const covered = coveredByOthers([spec('a', ['111111111111', '222222222222']), spec('self', ['333333333333']), spec('b', ['222222222222'])], 'self');
    expect([...covered].sort()).toEqual(['111111111111', '222222222222']);
  });

  it('should read ISO-8601 session durations', () => {
    expect(isoDurationSeconds('PT1H')).toBe(3600);
    expect(isoDurationSeconds('PT12H')).toBe(43200);
    expect(isoDurationSeconds('PT1H30M')).toBe(5400);
    expect(isoDurationSeconds('P1D')).toBe(86400);
    expect(isoDurationSeconds('PT')).toBeUndefined();
    expect(isoDurationSeconds('1h')).toBeUndefined();
  });

  it('should refuse a permission set whose sessions would outlive the grant by more than it lasts (at least an hour), or than the configured bound', () => {
    expect(checkSessionDuration('ReadOnly', 'PT1H', 900)).toBe(3600);
    expect(checkSessionDuration('ReadOnly', 'PT4H', 4 * 3600)).toBe(4 * 3600);
    const refused = (() => {
      try {
        checkSessionDuration('Admin', 'PT8H', 3600);
      } catch (e) {
        return e as ProviderError;
      }
    })();
    expect(refused).toBeInstanceOf(ProviderError);
    expect(refused?.kind).toBe('limit');
    expect(refused?.options).toMatchObject({ field: 'target.permissionSet', code: 'SessionDuration' });
    expect(refused?.message).toMatch(/Admin has a SessionDuration of PT8H \(28,800 s\).*at most 3,600 s/);
    expect(() => checkSessionDuration('ReadOnly', 'PT2H', 8 * 3600, 3600)).toThrow(/JIT_AWS_SSO_MAX_SESSION_DURATION/);
  });

  it('should say in the notice how long sessions may remain after the assignment is removed', () => {
    expect(residualNotice('ReadOnly', 3600, new Date('2026-01-01T01:00:00Z'))).toMatch(/3,600 s\), so until 2026-01-01T02:00:00.000Z at the latest/);
  });

  it('should call an assignment an orphan only where a grant in scope covered it and no live one does', () => {
    const subject = (accounts: string[], live: boolean | undefined) => ({ principal: { type: 'group' as const, id: 'Platform' }, target: target(accounts), live });
    const subjects = [subject(['111111111111', '222222222222'], false), subject(['222222222222'], true)];
    expect(isOrphanedAccount(subjects, '111111111111')).toBe(true);
    expect(isOrphanedAccount(subjects, '222222222222')).toBe(false);
    expect(isOrphanedAccount(subjects, '333333333333')).toBe(false);
    // A store that does not say whether a grant is live: never removed on a guess.
    expect(isOrphanedAccount([subject(['111111111111'], undefined)], '111111111111')).toBe(false);
  });

  it('should run at most the given number at once and settle every item', async () => {
    let running = 0;
    let most = 0;
    const results = await settleAll([1, 2, 3, 4, 5, 6, 7], 3, async (n) => {
      running++;
      most = Math.max(most, running);
      await new Promise((r) => setTimeout(r, 5));
      running--;
      if (n === 4) throw new Error('four');
      return n * 2;
    });
    expect(most).toBe(3);
    expect(results.map((r) => (r.status === 'fulfilled' ? r.value : (r.reason as Error).message))).toEqual([2, 4, 6, 'four', 10, 12, 14]);
  });
});

describe('aws.permission-set in the rules', () => {
  const kinds = new TargetKinds(awsKinds);
  const d = kinds.get('aws.permission-set');
  const matcher = (permissionSets: string[], accounts: string[]) => ({ kind: 'aws.permission-set', permissionSets, accounts });
  const byOu = target(['111111111111', '222222222222'], { organizationalUnit: 'ou-ab12-cdef3456' });

  it('should match the permission set by name or by ARN', () => {
    expect(d.rules.matches(matcher(['ReadOnly'], ['*']), target(['111111111111']), 'covers')).toBe(true);
    expect(d.rules.matches(matcher([SET_ARN], ['*']), target(['111111111111']), 'covers')).toBe(true);
    expect(d.rules.matches(matcher(['arn:aws:sso:::permissionSet/*'], ['*']), target(['111111111111']), 'covers')).toBe(true);
    expect(d.rules.matches(matcher(['Admin*'], ['*']), target(['111111111111']), 'covers')).toBe(false);
  });

  it('should cover a request when each account is covered, or its organizational unit is', () => {
    expect(d.rules.matches(matcher(['ReadOnly'], ['111111111111']), target(['111111111111', '222222222222']), 'covers')).toBe(false);
    expect(d.rules.matches(matcher(['ReadOnly'], ['111111111111', '2222*']), target(['111111111111', '222222222222']), 'covers')).toBe(true);
    expect(d.rules.matches(matcher(['ReadOnly'], ['ou-ab12-cdef3456']), byOu, 'covers')).toBe(true);
    expect(d.rules.matches(matcher(['ReadOnly'], ['ou-ab12-*']), target(['111111111111']), 'covers')).toBe(false);
  });

  it('should let a deny entry on one account stop a request for the organizational unit holding it', () => {
    expect(d.rules.matches(matcher(['*'], ['222222222222']), byOu, 'touches')).toBe(true);
    expect(d.rules.matches(matcher(['*'], ['333333333333']), byOu, 'touches')).toBe(false);
    expect(d.rules.matches(matcher(['ReadOnly'], ['ou-ab12-cdef3456']), byOu, 'touches')).toBe(true);
  });

  it('should let a deny entry on an OU stop a request listing one of its accounts, by the OUs the broker found above them', () => {
    const listed = target(['111111111111'], { accountOrganizationalUnits: ['ou-ab12-cdef3456', 'ou-ab12-prod0000'] });
    expect(d.rules.matches(matcher(['*'], ['ou-ab12-prod*']), listed, 'touches')).toBe(true);
    expect(d.rules.matches(matcher(['*'], ['ou-ab12-other000']), listed, 'touches')).toBe(false);
    // Allow rules still need each account covered, or the OU requested.
    expect(d.rules.matches(matcher(['*'], ['ou-ab12-prod*']), listed, 'covers')).toBe(false);
  });

  it('should accept users and groups, require accounts or an organizational unit, and reject a malformed set', () => {
    const parse = (t: unknown) => kinds.targetSchema.safeParse(t);
    expect(parse({ kind: 'aws.permission-set', permissionSet: 'ReadOnly', accounts: ['111111111111'] }).success).toBe(true);
    expect(parse({ kind: 'aws.permission-set', permissionSet: 'ReadOnly', organizationalUnit: 'ou-ab12-cdef3456' }).success).toBe(true);
    expect(parse({ kind: 'aws.permission-set', permissionSet: 'ReadOnly' }).error?.issues[0]).toMatchObject({ path: ['accounts'] });
    expect(parse({ kind: 'aws.permission-set', permissionSet: 'Read Only', accounts: ['111111111111'] }).error?.issues[0]).toMatchObject({ path: ['permissionSet'] });
    expect(parse({ kind: 'aws.permission-set', permissionSet: 'ReadOnly', accounts: ['111111111111', '111111111111'] }).success).toBe(false);
    expect(parse({ kind: 'aws.permission-set', permissionSet: 'ReadOnly', accounts: ['1111'] }).error?.issues[0].path).toEqual(['accounts', 0]);
    expect(d.principals.types).toEqual(['user', 'group']);
    expect(d.principals.id.test('alice@example.com')).toBe(true);
    expect(d.principals.id.test(' alice')).toBe(false);
    expect(d.enforcement({ type: 'user', id: 'alice' })).toBe('sweeper');
  });
});
