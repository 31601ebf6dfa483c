import { IAMClient, PutRolePolicyCommand } from '@aws-sdk/client-iam';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { ProviderError, Target } from '@jit/domain';
import { BROKER_POLICY_NAME } from '@jit/provider-aws';
import { AwsSimulator } from '@jit/sim-aws';
import { ManualClock } from '@jit/testing';
import { awsGrantSpec } from './aws-grant-spec';
import { awsTestProvider } from './aws-test-provider';

const alone = { overlapping: [] };
const OBJECT = 'arn:aws:s3:::deploy-artifacts/app.zip';

describe('AWS adapter: aws.sts-credentials against the STS simulator', () => {
  let sim: AwsSimulator;
  let roleArn: string;
  const caller = { type: 'workload' as const, id: 'pipeline:release' };

  beforeAll(async () => {
    sim = await AwsSimulator.start({ port: 0 });
    roleArn = sim.createRole('deploy', { maxSessionDuration: 7200 });
    // The role's own permissions, as a customer would have set them up.
    const iam = new IAMClient({ region: 'us-east-1', endpoint: sim.endpoint, credentials: { accessKeyId: 'AKIATEST', secretAccessKey: 'x' } });
    const doc = { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 's3:*', Resource: 'arn:aws:s3:::deploy-artifacts/*' }] };
    await iam.send(new PutRolePolicyCommand({ RoleName: 'deploy', PolicyName: 'deploy-permissions', PolicyDocument: JSON.stringify(doc) }));
  });
  afterAll(() => sim.close());
  afterEach(() => sim.inject({ throttle: 0, serverError: 0, latencyMs: 0 }));

  const target = (): Target => ({ kind: 'aws.sts-credentials', roleArn });
  const spec = (provider: ReturnType<typeof awsTestProvider>, window: { startsAt?: Date; expiresAt?: Date } = {}, t = target()) => ({
    ...awsGrantSpec(provider, roleArn, t, window),
    principal: caller,
  });

  it('should vend working credentials once, for a session named after the grant, lasting the grant', async () => {
    const provider = awsTestProvider(sim);
    expect(provider.vendsCredentials('aws.sts-credentials')).toBe(true);
    expect(provider.vendsCredentials('aws.iam-policy')).toBe(false);
    const grant = spec(provider, { expiresAt: new Date(Date.now() + 1_800_000) });
    sim.clearRequests();
    const outcome = await provider.grant(grant, alone);
    // The session lasts the whole seconds left of the grant when the call is made (from the next second to the
    // expiry's second): at most the 30 minutes asked, and at least that count taken now, after the call, however
    // slow a loaded machine made it. Counting the same way as the adapter keeps sub-second phase out of it.
    const leftAfter = Math.floor(grant.expiresAt.getTime() / 1000) - Math.ceil(Date.now() / 1000);
    const assume = sim.requests().find((r) => r.action === 'AssumeRole')!;
    expect(assume.params.RoleSessionName).toBe(`jit-${grant.grantId}`);
    expect(assume.params.SourceIdentity).toBe(`jit-${grant.grantId}`);
    expect(Number(assume.params.DurationSeconds)).toBeGreaterThanOrEqual(leftAfter);
    expect(Number(assume.params.DurationSeconds)).toBeLessThanOrEqual(1800);
    const creds = outcome.credentials!;
    expect(JSON.stringify(outcome.providerRef)).not.toContain(creds.secretAccessKey);
    expect(JSON.stringify(outcome.providerRef)).not.toContain(creds.sessionToken);
    const asSession = new STSClient({
      region: 'us-east-1',
      endpoint: sim.endpoint,
      credentials: { accessKeyId: creds.accessKeyId, secretAccessKey: creds.secretAccessKey, sessionToken: creds.sessionToken },
    });
    const me = await asSession.send(new GetCallerIdentityCommand({}));
    expect(me.Arn).toBe(`arn:aws:sts::123456789012:assumed-role/deploy/jit-${grant.grantId}`);
    expect(sim.isAllowed(me.Arn!, 's3:GetObject', OBJECT, new Date())).toBe(true);
    expect(sim.isAllowed(me.Arn!, 's3:GetObject', OBJECT, new Date(grant.expiresAt.getTime() + 1000))).toBe(false);
    expect((await provider.status(grant)).status).toBe('active');
  });

  it('should cut a session off at expiresAt even when STS keeps it for its 900-second minimum', async () => {
    const provider = awsTestProvider(sim);
    const now = Date.now();
    const grant = spec(provider, { startsAt: new Date(now - 700_000), expiresAt: new Date(now + 300_000) });
    const outcome = await provider.grant(grant, alone);
    const sessionArn = outcome.providerRef.assumedRoleArn as string;
    expect(new Date(outcome.credentials!.expiration).getTime()).toBeGreaterThan(now + 800_000);
    expect(sim.isAllowed(sessionArn, 's3:GetObject', OBJECT, new Date(now + 200_000))).toBe(true);
    expect(sim.isAllowed(sessionArn, 's3:GetObject', OBJECT, new Date(now + 400_000))).toBe(false);
  });

  it('should narrow the session with the requester\'s session policy', async () => {
    const provider = awsTestProvider(sim);
    const sessionPolicy = { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 's3:GetObject', Resource: '*' }] };
    const outcome = await provider.grant(spec(provider, {}, { kind: 'aws.sts-credentials', roleArn, sessionPolicy }), alone);
    const sessionArn = outcome.providerRef.assumedRoleArn as string;
    expect(sim.isAllowed(sessionArn, 's3:GetObject', OBJECT, new Date())).toBe(true);
    expect(sim.isAllowed(sessionArn, 's3:PutObject', OBJECT, new Date())).toBe(false);
  });

  it('should deny exactly the revoked grant\'s session on an early revoke, and leave another grant\'s session working', async () => {
    const provider = awsTestProvider(sim);
    const revoked = spec(provider);
    const kept = spec(provider);
    const a = (await provider.grant(revoked, alone)).providerRef.assumedRoleArn as string;
    const b = (await provider.grant(kept, alone)).providerRef.assumedRoleArn as string;
    await provider.revoke(revoked, { overlapping: [kept], early: true });
    await provider.revoke(revoked, { overlapping: [kept], early: true });
    expect(sim.isAllowed(a, 's3:GetObject', OBJECT, new Date())).toBe(false);
    expect(sim.isAllowed(b, 's3:GetObject', OBJECT, new Date())).toBe(true);
    expect((await provider.status(revoked)).status).toBe('absent');
    const deny = JSON.parse(sim.inlinePolicies(roleArn)[BROKER_POLICY_NAME]).Statement.find((s: { Effect: string }) => s.Effect === 'Deny');
    expect(deny.Condition.StringEquals['aws:SourceIdentity']).toBe(`jit-${revoked.grantId}`);
    expect(Date.parse(deny.Condition.DateLessThan['aws:CurrentTime'])).toBeGreaterThanOrEqual(revoked.expiresAt.getTime());
  });

  it('should keep a live session deny out of reconciliation and clean it up once no session of the grant can be valid', async () => {
    const clock = new ManualClock(new Date());
    const provider = awsTestProvider(sim, { clock, reconcilePrincipals: [roleArn] });
    const startsAt = new Date();
    const grant = spec(provider, { startsAt, expiresAt: new Date(startsAt.getTime() + 960_000) });
    const sessionArn = (await provider.grant(grant, alone)).providerRef.assumedRoleArn as string;
    await provider.revoke(grant, { ...alone, early: true });
    const listed = async () => {
      const found = [];
      for await (const a of provider.listOwned()) if (a.grantId === grant.grantId) found.push(a);
      return found;
    };
    expect(await listed()).toHaveLength(0);
    clock.at = new Date(Date.now() + 24 * 3_600_000);
    const spent = await listed();
    expect(spent).toHaveLength(1);
    await provider.removeOrphan(spent[0]);
    expect(await listed()).toHaveLength(0);
    expect(sim.isAllowed(sessionArn, 's3:GetObject', OBJECT, clock.at)).toBe(false);
  });

  it('should not touch anything on a revoke at expiry', async () => {
    const provider = awsTestProvider(sim);
    const grant = spec(provider);
    await provider.grant(grant, alone);
    sim.clearRequests();
    await provider.revoke(grant, { ...alone, early: false });
    expect(sim.requests()).toHaveLength(0);
  });

  describe('limits', () => {
    const refused = (fn: () => unknown): ProviderError => {
      try {
        fn();
      } catch (e) {
        expect(e).toBeInstanceOf(ProviderError);
        return e as ProviderError;
      }
      throw new Error('expected a ProviderError');
    };

    it('should refuse durations outside 960..43,200 seconds in validate(), naming duration', () => {
      const provider = awsTestProvider(sim);
      const start = new Date();
      // 900 is STS's floor; a PT15M grant's session, issued a moment later, would outlive expiresAt.
      for (const seconds of [900, 959, 43_201]) {
        const e = refused(() => provider.validate(spec(provider, { startsAt: start, expiresAt: new Date(start.getTime() + seconds * 1000) })));
        expect(e.kind).toBe('limit');
        expect(e.options.field).toBe('duration');
      }
      provider.validate(spec(provider, { startsAt: start, expiresAt: new Date(start.getTime() + 960_000) }));
    });

    it('should refuse a duration beyond the role\'s MaxSessionDuration from GetRole, before any AssumeRole', async () => {
      const provider = awsTestProvider(sim);
      const grant = spec(provider, { expiresAt: new Date(Date.now() + 3 * 3_600_000) });
      sim.clearRequests();
      const e = await provider.grant(grant, alone).then(() => undefined, (err: ProviderError) => err);
      expect(e?.kind).toBe('limit');
      expect(e?.options).toMatchObject({ field: 'duration', code: 'MaxSessionDuration' });
      expect(e?.message).toMatch(/at most 7200 seconds \(its MaxSessionDuration/);
      expect(sim.requests().map((r) => r.action)).toEqual(['GetCallerIdentity', 'GetRole']);
    });

    it('should read a role with GetRole once for a burst of grants, not once per grant', async () => {
      const provider = awsTestProvider(sim);
      sim.clearRequests();
      await Promise.all([provider.grant(spec(provider), alone), provider.grant(spec(provider), alone)]);
      await provider.grant(spec(provider), alone);
      expect(sim.requests().filter((r) => r.action === 'GetRole')).toHaveLength(1);
      expect(sim.requests().filter((r) => r.action === 'AssumeRole')).toHaveLength(3);
    });

    it('should refuse a role whose trust policy cannot allow sts:SetSourceIdentity with a limit naming it, before any AssumeRole', async () => {
      const noTag = sim.createRole('no-source-identity', {
        trustPolicy: { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { AWS: 'arn:aws:iam::123456789012:root' }, Action: 'sts:AssumeRole' }] },
      });
      const provider = awsTestProvider(sim);
      sim.clearRequests();
      const e = await provider.grant(spec(provider, {}, { kind: 'aws.sts-credentials', roleArn: noTag }), alone).then(() => undefined, (err: ProviderError) => err);
      expect(e?.kind).toBe('limit');
      expect(e?.options).toMatchObject({ field: 'target.roleArn', code: 'SetSourceIdentity' });
      expect(e?.message).toContain('sts:SetSourceIdentity');
      expect(sim.requests().map((r) => r.action)).toEqual(['GetCallerIdentity', 'GetRole']);
    });

    it('should map STS\'s AccessDenied for sts:SetSourceIdentity (granted to someone else) to the same limit', async () => {
      const other = sim.createRole('source-identity-for-others', {
        trustPolicy: {
          Version: '2012-10-17',
          Statement: [
            { Effect: 'Allow', Principal: { AWS: 'arn:aws:iam::123456789012:root' }, Action: 'sts:AssumeRole' },
            { Effect: 'Allow', Principal: { AWS: 'arn:aws:iam::210987654321:root' }, Action: 'sts:SetSourceIdentity' },
          ],
        },
      });
      const provider = awsTestProvider(sim);
      sim.clearRequests();
      const e = await provider.grant(spec(provider, {}, { kind: 'aws.sts-credentials', roleArn: other }), alone).then(() => undefined, (err: ProviderError) => err);
      expect(e?.kind).toBe('limit');
      expect(e?.options).toMatchObject({ field: 'target.roleArn', code: 'SetSourceIdentity' });
      expect(sim.requests().find((r) => r.action === 'AssumeRole')?.errorCode).toBe('AccessDenied');
    });

    it('should refuse a session policy over 2,048 characters', () => {
      const provider = awsTestProvider(sim);
      const resources = Array.from({ length: 60 }, (_, i) => `arn:aws:s3:::deploy-artifacts/path-${i}/*`);
      const sessionPolicy = { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 's3:GetObject', Resource: resources }] };
      const e = refused(() => provider.validate(spec(provider, {}, { kind: 'aws.sts-credentials', roleArn, sessionPolicy })));
      expect(e.kind).toBe('limit');
      expect(e.options.field).toBe('target.sessionPolicy');
    });

    it('should report a role that does not exist as invalid, naming target.roleArn', async () => {
      const provider = awsTestProvider(sim);
      const missing = 'arn:aws:iam::123456789012:role/not-seeded';
      const e = await provider.grant(spec(provider, {}, { kind: 'aws.sts-credentials', roleArn: missing }), alone).then(() => undefined, (err: ProviderError) => err);
      expect(e?.kind).toBe('invalid');
      expect(e?.options).toMatchObject({ field: 'target.roleArn', code: 'NoSuchEntity' });
    });

    it('should report a role whose trust policy does not name the broker as terminal', async () => {
      const stranger = sim.createRole('trusts-someone-else', {
        trustPolicy: { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { AWS: 'arn:aws:iam::210987654321:root' }, Action: ['sts:AssumeRole', 'sts:SetSourceIdentity'] }] },
      });
      const provider = awsTestProvider(sim);
      const e = await provider.grant(spec(provider, {}, { kind: 'aws.sts-credentials', roleArn: stranger }), alone).then(() => undefined, (err: ProviderError) => err);
      expect(e?.kind).toBe('terminal');
      expect(e?.options.code).toBe('AccessDenied');
    });
  });
});
