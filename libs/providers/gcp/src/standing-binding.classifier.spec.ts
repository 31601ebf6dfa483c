import { STANDING_HORIZON_DAYS, judgeCondition, memberPrincipal } from './standing-binding.classifier';

const NOW = new Date('2030-01-01T00:00:00.000Z');
const inDays = (days: number) => new Date(NOW.getTime() + days * 86_400_000).toISOString();

describe('standing-binding classifier', () => {
  describe(memberPrincipal.name, () => {
    it.each([
      ['user:alice@example.com', 'user', true, 'alice@example.com'],
      ['serviceAccount:ci@p.iam.gserviceaccount.com', 'service_account', false, 'ci@p.iam.gserviceaccount.com'],
      ['group:ops@example.com', 'group', null, 'ops@example.com'],
      ['domain:example.com', 'group', null, 'every account of example.com'],
      ['allUsers', 'group', null, 'anyone on the internet'],
      ['principal://iam.googleapis.com/locations/global/workforcePools/staff/subject/alice', 'user', true, 'alice'],
      ['principal://iam.googleapis.com/projects/123/locations/global/workloadIdentityPools/gh/subject/repo:x', 'unknown', false, 'repo:x'],
      ['principalSet://iam.googleapis.com/locations/global/workforcePools/staff/group/admins', 'group', null, undefined],
      ['deleted:user:bob@example.com?uid=123456789', 'user', true, 'bob@example.com (deleted)'],
      ['projectOwner:p', 'unknown', null, undefined],
    ])('should read %s as %s (human %s)', (member, kind, human, displayName) => {
      expect(memberPrincipal(member)).toEqual({ id: member, kind, human, ...(displayName !== undefined && { displayName }) });
    });
  });

  describe(judgeCondition.name, () => {
    it('should count an unconditional binding and one ending beyond the horizon as standing', () => {
      expect(judgeCondition(undefined, NOW)).toEqual({ standing: true });
      expect(judgeCondition(`request.time < timestamp("${inDays(STANDING_HORIZON_DAYS + 1)}")`, NOW)).toEqual({ standing: true });
    });

    it('should leave out a binding that has ended or ends within the horizon, in the broker\'s or jit-access\'s form', () => {
      expect(judgeCondition(`request.time < timestamp("${inDays(-1)}")`, NOW)).toEqual({ standing: false, why: 'expired' });
      expect(judgeCondition(`request.time < timestamp('${inDays(2)}')`, NOW)).toEqual({ standing: false, why: 'temporary' });
      expect(judgeCondition(`(request.time >= timestamp("${inDays(-1)}") && request.time < timestamp("${inDays(1)}"))`, NOW)).toEqual({ standing: false, why: 'temporary' });
      expect(judgeCondition('has({}.jitAccessConstraint)', NOW)).toEqual({ standing: false, why: 'never-true' });
    });

    it('should keep as standing a start without an end, an alternative, and any condition on other attributes', () => {
      expect(judgeCondition(`request.time > timestamp("${inDays(-400)}")`, NOW)).toEqual({ standing: true });
      expect(judgeCondition(`request.time < timestamp("${inDays(1)}") || request.time > timestamp("${inDays(5)}")`, NOW)).toEqual({ standing: true });
      expect(judgeCondition(`resource.name.startsWith("projects/p/buckets/x") && request.time < timestamp("${inDays(1)}")`, NOW)).toEqual({ standing: true });
      expect(judgeCondition('request.time < timestamp("not a date")', NOW)).toEqual({ standing: true });
    });
  });
});
