import { IAMClient, PutRolePolicyCommand } from '@aws-sdk/client-iam';
import { GrantSpec, ProviderError, Target } from '@jit/domain';
import { BROKER_POLICY_NAME } from '@jit/provider-aws';
import { AwsSimulator } from '@jit/sim-aws';
import { ManualClock } from '@jit/testing';
import { awsGrantSpec } from './aws-grant-spec';
import { awsTestProvider } from './aws-test-provider';

const alone = { overlapping: [] };
const s3 = (bucket: string): Target => ({ kind: 'aws.iam-policy', actions: ['s3:GetObject'], resources: [`arn:aws:s3:::${bucket}/*`] });

async function providerError(promise: Promise<unknown>): Promise<ProviderError> {
  const error = await promise.then(() => undefined, (e: unknown) => e);
  expect(error).toBeInstanceOf(ProviderError);
  return error as ProviderError;
}

describe('AWS adapter against the IAM simulator (aws.iam-policy, aws.assume-role)', () => {
  let sim: AwsSimulator;
  let roleCount = 0;
  const newRole = (options?: { maxSessionDuration?: number }) => sim.createRole(`role-${++roleCount}`, options);

  beforeAll(async () => {
    sim = await AwsSimulator.start({ port: 0 });
  });
  afterAll(() => sim.close());
  afterEach(() => sim.inject({ throttle: 0, serverError: 0, latencyMs: 0 }));

  describe('expiry in the cloud', () => {
    it('should allow until the last second before expiresAt and deny from expiresAt on, without any revoke', async () => {
      const provider = awsTestProvider(sim);
      const role = newRole();
      const expiresAt = new Date(Math.ceil(Date.now() / 1000) * 1000 + 1_800_000);
      await provider.grant(awsGrantSpec(provider, role, s3('data'), { expiresAt }), alone);
      expect(sim.isAllowed(role, 's3:GetObject', 'arn:aws:s3:::data/a', new Date(expiresAt.getTime() - 1000))).toBe(true);
      expect(sim.isAllowed(role, 's3:GetObject', 'arn:aws:s3:::data/a', expiresAt)).toBe(false);
      expect(sim.isAllowed(role, 's3:PutObject', 'arn:aws:s3:::data/a', new Date())).toBe(false);
      expect(sim.isAllowed(role, 's3:GetObject', 'arn:aws:s3:::other/a', new Date())).toBe(false);
    });

    it('should put DateLessThan aws:CurrentTime on every statement, next to the requester\'s conditions', async () => {
      const provider = awsTestProvider(sim);
      const role = newRole();
      const target: Target = { ...s3('data'), conditions: { StringEquals: { 'aws:RequestedRegion': 'eu-west-1' } } };
      const expiresAt = new Date(Math.ceil(Date.now() / 1000) * 1000 + 3_600_000);
      const spec = awsGrantSpec(provider, role, target, { expiresAt });
      await provider.grant(spec, alone);
      const doc = JSON.parse(sim.inlinePolicies(role)[BROKER_POLICY_NAME]);
      for (const s of doc.Statement) expect(s.Condition.DateLessThan['aws:CurrentTime']).toBe(spec.expiresAt.toISOString().replace(/\.\d{3}Z$/, 'Z'));
      const keys = { 'aws:RequestedRegion': 'eu-west-1' };
      expect(sim.isAllowed(role, 's3:GetObject', 'arn:aws:s3:::data/a', new Date(), { keys })).toBe(true);
      expect(sim.isAllowed(role, 's3:GetObject', 'arn:aws:s3:::data/a', new Date(), { keys: { 'aws:RequestedRegion': 'us-east-1' } })).toBe(false);
    });

    it('should work the same on an IAM user', async () => {
      const provider = awsTestProvider(sim);
      const user = sim.createUser('alice');
      const spec = awsGrantSpec(provider, user, s3('data'));
      await provider.grant(spec, alone);
      expect(sim.isAllowed(user, 's3:GetObject', 'arn:aws:s3:::data/a', new Date())).toBe(true);
      await provider.revoke(spec, { ...alone, early: true });
      expect(sim.isAllowed(user, 's3:GetObject', 'arn:aws:s3:::data/a', new Date())).toBe(false);
      expect(sim.inlinePolicies(user)).toEqual({});
    });
  });

  describe('overlapping and concurrent grants', () => {
    it('should keep the later grant of the same permission after the earlier one is revoked, and end it at its own expiry', async () => {
      const provider = awsTestProvider(sim);
      const role = newRole();
      const first = awsGrantSpec(provider, role, s3('shared'), { expiresAt: new Date(Date.now() + 600_000) });
      const second = awsGrantSpec(provider, role, s3('shared'), { expiresAt: new Date(Date.now() + 1_200_000) });
      expect(provider.overlapKey(first.principal, first.target)).toBe(provider.overlapKey(second.principal, second.target));
      await provider.grant(first, alone);
      await provider.grant(second, { overlapping: [first] });
      await provider.revoke(first, { overlapping: [second], early: true });
      const between = new Date(first.expiresAt.getTime() + 60_000);
      expect(sim.isAllowed(role, 's3:GetObject', 'arn:aws:s3:::shared/a', between)).toBe(true);
      expect(sim.isAllowed(role, 's3:GetObject', 'arn:aws:s3:::shared/a', new Date(second.expiresAt.getTime() + 1000))).toBe(false);
      await provider.revoke(second, { overlapping: [], early: true });
      expect(sim.inlinePolicies(role)).toEqual({});
    });

    it('should lose none of a burst of concurrent grants on one role', async () => {
      const provider = awsTestProvider(sim);
      const role = newRole();
      const specs = Array.from({ length: 30 }, (_, i) => awsGrantSpec(provider, role, s3(`burst-${i}`)));
      await Promise.all(specs.map((spec) => provider.grant(spec, alone)));
      for (let i = 0; i < specs.length; i++) expect(sim.isAllowed(role, 's3:GetObject', `arn:aws:s3:::burst-${i}/k`, new Date())).toBe(true);
      expect(JSON.parse(sim.inlinePolicies(role)[BROKER_POLICY_NAME]).Statement).toHaveLength(30);
      await Promise.all(specs.slice(0, 15).map((spec) => provider.revoke(spec, { ...alone, early: true })));
      for (let i = 0; i < specs.length; i++) expect(sim.isAllowed(role, 's3:GetObject', `arn:aws:s3:::burst-${i}/k`, new Date())).toBe(i >= 15);
    });

    it('should lose none of the grants two broker replicas write to one role at the same time', async () => {
      const replicas = [awsTestProvider(sim), awsTestProvider(sim)];
      const role = newRole();
      const specs = Array.from({ length: 8 }, (_, i) => awsGrantSpec(replicas[0], role, s3(`replica-${i}`)));
      await Promise.all(specs.map((spec, i) => replicas[i % 2].grant(spec, alone)));
      for (let i = 0; i < specs.length; i++) expect(sim.isAllowed(role, 's3:GetObject', `arn:aws:s3:::replica-${i}/k`, new Date())).toBe(true);
    });
  });

  describe('limits', () => {
    it('should refuse in validate() a grant whose policy alone exceeds the user budget of 2,048 characters, naming it', () => {
      const provider = awsTestProvider(sim);
      const user = sim.createUser('big-user');
      const resources = Array.from({ length: 60 }, (_, i) => `arn:aws:s3:::bucket-with-a-long-name-${i}/*`);
      const spec = awsGrantSpec(provider, user, { kind: 'aws.iam-policy', actions: ['s3:GetObject'], resources });
      let error: unknown;
      try {
        provider.validate(spec);
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(ProviderError);
      expect((error as ProviderError).kind).toBe('limit');
      expect((error as ProviderError).options.field).toBe('target');
      expect((error as ProviderError).message).toMatch(/2,048/);
    });

    it('should refuse a grant that would push the role past 10,240 characters with the customer\'s own inline policy, writing nothing', async () => {
      const provider = awsTestProvider(sim);
      const role = newRole();
      const roleName = role.split('/').pop()!;
      const resources = Array.from({ length: 180 }, (_, i) => `arn:aws:s3:::customer-bucket-${i}/*`);
      const customer = JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 's3:ListBucket', Resource: resources }] });
      const iam = new IAMClient({ region: 'us-east-1', endpoint: sim.endpoint, credentials: { accessKeyId: 'AKIATEST', secretAccessKey: 'x' } });
      await iam.send(new PutRolePolicyCommand({ RoleName: roleName, PolicyName: 'customer', PolicyDocument: customer }));
      const grants: GrantSpec[] = [];
      let error: ProviderError | undefined;
      for (let i = 0; i < 20 && !error; i++) {
        const spec = awsGrantSpec(provider, role, s3(`b${i}`));
        error = await provider.grant(spec, alone).then(() => (grants.push(spec), undefined), (e: ProviderError) => e);
      }
      expect(error?.kind).toBe('limit');
      expect(error?.message).toMatch(/10240 characters/);
      expect(error?.options.field).toBe('principal.id');
      const stored = JSON.parse(sim.inlinePolicies(role)[BROKER_POLICY_NAME]).Statement;
      expect(stored).toHaveLength(grants.length);
      expect(grants.length).toBeGreaterThan(0);
    });

    it('should make room by dropping statements already past their deadline instead of refusing', async () => {
      const clock = new ManualClock(new Date());
      const provider = awsTestProvider(sim, { clock });
      const user = sim.createUser(`gc-user`);
      let filled = 0;
      let refused: ProviderError | undefined;
      while (!refused && filled < 50) {
        const spec = awsGrantSpec(provider, user, s3(`gc-${filled}`), { expiresAt: new Date(Date.now() + 60_000) });
        refused = await provider.grant(spec, alone).then(() => (filled++, undefined), (e: ProviderError) => e);
      }
      expect(refused?.kind).toBe('limit');
      expect(filled).toBeGreaterThan(1);
      const extra = awsGrantSpec(provider, user, s3('gc-late'), { expiresAt: new Date(Date.now() + 3_600_000) });
      const full = await providerError(provider.grant(extra, alone));
      expect(full.kind).toBe('limit');
      clock.at = new Date(Date.now() + 120_000);
      await provider.grant({ ...extra }, alone);
      expect(sim.isAllowed(user, 's3:GetObject', 'arn:aws:s3:::gc-late/k', clock.at)).toBe(true);
      expect(JSON.parse(sim.inlinePolicies(user)[BROKER_POLICY_NAME]).Statement).toHaveLength(1);
    });

    it('should report a principal role that does not exist as invalid, naming principal.id', async () => {
      const provider = awsTestProvider(sim);
      const spec = awsGrantSpec(provider, 'arn:aws:iam::123456789012:role/never-created', s3('x'));
      const error = await providerError(provider.grant(spec, alone));
      expect(error.kind).toBe('invalid');
      expect(error.options.field).toBe('principal.id');
      await provider.revoke(spec, { ...alone, early: true });
    });

    it('should refuse a role name longer than IAM\'s 64 characters before any call', () => {
      const provider = awsTestProvider(sim);
      const spec = awsGrantSpec(provider, `arn:aws:iam::123456789012:user/${'u'.repeat(129)}`, s3('x'));
      expect(() => provider.validate(spec)).toThrow(/at most 128/);
    });
  });

  describe('faults', () => {
    it('should retry throttling and 5xx inside the adapter and succeed when they pass', async () => {
      const provider = awsTestProvider(sim);
      const role = newRole();
      await provider.healthCheck(); // the broker's identity is read once, before the IAM calls under test
      sim.clearRequests();
      sim.inject({ throttle: 2, serverError: 1 });
      await provider.grant(awsGrantSpec(provider, role, s3('retry')), alone);
      const codes = sim.requests().map((r) => r.errorCode ?? 'ok');
      expect(codes.slice(0, 3)).toEqual(['Throttling', 'Throttling', 'ServiceFailure']);
      expect(sim.isAllowed(role, 's3:GetObject', 'arn:aws:s3:::retry/k', new Date())).toBe(true);
    });

    it('should give up after the configured attempts with a transient error and a retry hint', async () => {
      const provider = awsTestProvider(sim, { retry: { maxAttempts: 3, baseDelayMs: 1, maxDelayMs: 2 } });
      const role = newRole();
      sim.clearRequests();
      sim.inject({ serverError: 100 });
      const error = await providerError(provider.grant(awsGrantSpec(provider, role, s3('down')), alone));
      expect(error.kind).toBe('transient');
      expect(error.options.retryAfterMs).toBeGreaterThan(0);
      expect(sim.requests()).toHaveLength(3);
    });

    it('should treat a malformed policy as terminal without retrying', async () => {
      const provider = awsTestProvider(sim);
      const role = newRole();
      sim.clearRequests();
      // A wildcard-free resource in a form IAM does not accept passes the domain schema only via a cast.
      const target = { kind: 'aws.iam-policy', actions: ['s3:GetObject'], resources: ['not-an-arn'] } as Target;
      const error = await providerError(provider.grant(awsGrantSpec(provider, role, target), alone));
      expect(error.kind).toBe('terminal');
      expect(error.options.code).toBe('MalformedPolicyDocument');
      expect(sim.requests().filter((r) => r.action === 'PutRolePolicy')).toHaveLength(1);
    });

    it('should time out a call slower than requestTimeoutMs as transient, and succeed once latency drops', async () => {
      const provider = awsTestProvider(sim, { requestTimeoutMs: 50, retry: { maxAttempts: 2, baseDelayMs: 1, maxDelayMs: 1 } });
      const role = newRole();
      sim.inject({ latencyMs: 400 });
      const error = await providerError(provider.healthCheck());
      expect(error.kind).toBe('transient');
      sim.inject({ latencyMs: 0 });
      await provider.grant(awsGrantSpec(provider, role, s3('slow')), alone);
    });

    it('should recover when the write landed but the broker never heard back (crash between cloud call and database write)', async () => {
      const role = newRole();
      const slow = awsTestProvider(sim, { requestTimeoutMs: 100, retry: { maxAttempts: 1, baseDelayMs: 1, maxDelayMs: 1 } });
      const spec = awsGrantSpec(slow, role, s3('lost-reply'));
      sim.inject({ latencyMs: 300, latencyActions: ['PutRolePolicy'] });
      const error = await providerError(slow.grant(spec, alone));
      expect(error.kind).toBe('transient');
      sim.inject({ latencyMs: 0 });
      const restarted = awsTestProvider(sim);
      // The PutRolePolicy was applied although its reply was lost; wait for it through status(), not time.
      let status = await restarted.status(spec);
      for (let i = 0; i < 50 && status.status === 'absent'; i++) {
        await new Promise((r) => setTimeout(r, 20));
        status = await restarted.status(spec);
      }
      expect(status.status).toBe('active');
      await restarted.grant(spec, alone);
      expect(JSON.parse(sim.inlinePolicies(role)[BROKER_POLICY_NAME]).Statement).toHaveLength(1);
      await restarted.revoke(spec, { ...alone, early: false });
      expect(sim.isAllowed(role, 's3:GetObject', 'arn:aws:s3:::lost-reply/k', new Date())).toBe(false);
    });
  });

  it('should answer the health check through sts:GetCallerIdentity', async () => {
    const provider = awsTestProvider(sim);
    sim.clearRequests();
    await provider.healthCheck();
    expect(sim.requests().map((r) => `${r.service}:${r.action}`)).toEqual(['sts:GetCallerIdentity']);
  });
});
