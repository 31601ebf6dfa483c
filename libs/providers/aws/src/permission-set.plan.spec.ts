import { GrantSpec, ProviderError, TargetKinds } from '@jit/domain';
import { AwsIamStsProvider } from './aws-iam-sts.provider';
import { awsKinds } from './aws-kinds';
import { brokerAssignmentsOf, checkSessionDuration, coveredByOthers, isoDurationSeconds, orphanedAssignments, residualNotice, settleAll } from './permission-set.plan';

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
    // The configured maximum only lowers the bound: a one-hour grant still refuses an eight-hour session with it set to 12 h.
    expect(() => checkSessionDuration('Admin', 'PT8H', 3600, 12 * 3600)).toThrow(/at most 3,600 s \(the grant's duration, at least one hour\)/);
    expect(checkSessionDuration('Admin', 'PT8H', 8 * 3600, 12 * 3600)).toBe(8 * 3600);
  });

  it('should say in the notice how long sessions may remain after the assignment is removed', () => {
    expect(residualNotice('ReadOnly', 3600, new Date('2026-01-01T01:00:00Z'))).toMatch(/3,600 s\), so until 2026-01-01T02:00:00.000Z at the latest/);
  });

  const ref = (accounts: Record<string, string>, principalId = 'g-1') => ({ principalType: 'GROUP', principalId, permissionSetArn: SET_ARN, accounts });
  const subject = (id: string, accounts: string[], live: boolean | undefined, providerRefs: Record<string, unknown>[] = []) => ({
    principal: { type: 'group' as const, id },
    target: target(accounts),
    live,
    providerRefs,
  });

  it('should call an assignment an orphan only where an ended grant created or kept it and no live grant covers it', () => {
    const subjects = [
      subject('Platform', ['111111111111', '222222222222'], false, [ref({ '111111111111': 'created', '222222222222': 'created' })]),
      subject('Platform', ['222222222222'], true, [ref({ '222222222222': 'kept' })]),
    ];
    expect(orphanedAssignments(subjects, [undefined, 'GROUP|g-1'])).toEqual(new Map([['GROUP|g-1', ['111111111111']]]));
    // A store that does not say whether a grant is live: never removed on a guess.
    expect(orphanedAssignments([subject('Platform', ['111111111111'], undefined, [ref({ '111111111111': 'created' })])], ['GROUP|g-1']).size).toBe(0);
  });

  it('should never call an assignment an orphan on the word of a grant that did not make it (pending, denied, refused as standing)', () => {
    // The attack: ask for a set needing approval for a principal who holds it standing; the grant is pending, then denied.
    const neverProvisioned = subject('Platform', ['111111111111'], false);
    expect(orphanedAssignments([neverProvisioned], [undefined]).size).toBe(0);
    // A grant that created in one account and found another already assigned (refused there) proves only the one.
    const partly = subject('Platform', ['111111111111', '222222222222'], false, [ref({ '111111111111': 'created' })]);
    expect(orphanedAssignments([partly], [undefined])).toEqual(new Map([['GROUP|g-1', ['111111111111']]]));
    expect(brokerAssignmentsOf(null)).toBeUndefined();
    expect(brokerAssignmentsOf({ principalType: 'GROUP', principalId: 'g-1', accounts: ['111111111111'] })).toBeUndefined();
  });

  it('should judge coverage by principal id: a live grant under another spelling or a new name covers the ended grant\'s assignment', () => {
    const ended = subject('platform', ['111111111111'], false, [ref({ '111111111111': 'created' })]);
    // Same group, spelled differently (the overlap key lowercases), resolved to the same id now.
    expect(orphanedAssignments([ended, subject('Platform', ['111111111111'], true)], [undefined, 'GROUP|g-1']).size).toBe(0);
    // Renamed meanwhile: the live grant's own ref names the id even where the name resolves to nothing.
    expect(orphanedAssignments([ended, subject('Platform-Renamed', ['111111111111'], true, [ref({ '111111111111': 'kept' })])], [undefined, undefined]).size).toBe(0);
    // Another group's live grant does not cover it.
    expect(orphanedAssignments([ended, subject('Other', ['111111111111'], true)], [undefined, 'GROUP|g-2'])).toEqual(new Map([['GROUP|g-1', ['111111111111']]]));
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
