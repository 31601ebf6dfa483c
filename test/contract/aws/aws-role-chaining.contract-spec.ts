import { createHash } from 'node:crypto';
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import { ProviderError, Target } from '@jit/domain';
import { AwsSimulator } from '@jit/sim-aws';
import { awsGrantSpec } from './aws-grant-spec';
import { awsTestProvider } from './aws-test-provider';

const alone = { overlapping: [] };
const HOUR = 3_600_000;

async function refusal(promise: Promise<unknown>): Promise<ProviderError> {
  const e = await promise.then(() => undefined, (err: unknown) => err);
  expect(e).toBeInstanceOf(ProviderError);
  return e as ProviderError;
}

/** Issue 18 point 3: a broker on a role session is role chaining, capped at one hour; the packed session-policy limit. */
describe('AWS adapter: role chaining and the packed session-policy limit', () => {
  let sim: AwsSimulator;
  let target: string;
  let brokerSession: { accessKeyId: string; secretAccessKey: string; sessionToken: string };

  beforeAll(async () => {
    sim = await AwsSimulator.start({ port: 0 });
    target = sim.createRole('twelve-hours', { maxSessionDuration: 43_200 });
    // The broker's own role, as an ECS task role or web identity would give it.
    const brokerRole = sim.createRole('jit-broker', { maxSessionDuration: 43_200 });
    const sts = new STSClient({ region: 'us-east-1', endpoint: sim.endpoint, credentials: { accessKeyId: 'AKIABOOTSTRAP', secretAccessKey: 'x' } });
    const out = await sts.send(new AssumeRoleCommand({ RoleArn: brokerRole, RoleSessionName: 'broker-task', DurationSeconds: 43_200 }));
    brokerSession = { accessKeyId: out.Credentials!.AccessKeyId!, secretAccessKey: out.Credentials!.SecretAccessKey!, sessionToken: out.Credentials!.SessionToken! };
  });
  afterAll(() => sim.close());

  const spec = (provider: ReturnType<typeof awsTestProvider>, ms: number, t: Target = { kind: 'aws.sts-credentials', roleArn: target }) => ({
    ...awsGrantSpec(provider, target, t, { expiresAt: new Date(Date.now() + ms) }),
    principal: { type: 'workload' as const, id: 'pipeline:chained' },
  });

  it('should refuse over one hour in validate() once the broker knows it runs as a role session, naming the limit', async () => {
    const provider = awsTestProvider(sim, { credentials: brokerSession });
    const grant = spec(provider, 2 * HOUR);
    await provider.verifyPrincipal(grant.principal, grant.target);
    let error: unknown;
    try {
      provider.validate(grant);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ProviderError);
    expect((error as ProviderError).kind).toBe('limit');
    expect((error as ProviderError).options).toMatchObject({ field: 'duration', code: 'RoleChaining' });
    expect((error as ProviderError).message).toMatch(/role chaining.*3,600 seconds \(one hour\)/);
    provider.validate(spec(provider, HOUR));
  });

  it('should refuse over one hour in grant() before any AssumeRole, and vend an hour', async () => {
    const provider = awsTestProvider(sim, { credentials: brokerSession });
    sim.clearRequests();
    const e = await refusal(provider.grant(spec(provider, 2 * HOUR), alone));
    expect(e.options).toMatchObject({ field: 'duration', code: 'RoleChaining' });
    expect(sim.requests().map((r) => r.action)).toEqual(['GetCallerIdentity']);
    const outcome = await provider.grant(spec(provider, HOUR), alone);
    expect(outcome.credentials).toBeDefined();
    expect(sim.requests().filter((r) => r.action === 'GetCallerIdentity')).toHaveLength(1);
  });

  it('should not cap a broker on long-term keys', async () => {
    const provider = awsTestProvider(sim);
    const grant = spec(provider, 2 * HOUR);
    await provider.verifyPrincipal(grant.principal, grant.target);
    provider.validate(grant);
    expect((await provider.grant(grant, alone)).credentials).toBeDefined();
  });

  it('should be refused by the simulator as by STS: DurationSeconds over 3,600 from a role session', async () => {
    const chained = new STSClient({ region: 'us-east-1', endpoint: sim.endpoint, credentials: brokerSession, maxAttempts: 1 });
    const e = (await chained.send(new AssumeRoleCommand({ RoleArn: target, RoleSessionName: 'x1', DurationSeconds: 3_601 })).then(() => undefined, (err: unknown) => err)) as Error;
    expect(e?.name).toBe('ValidationError');
    expect(e.message).toContain('1 hour session limit for roles assumed by role chaining');
    await chained.send(new AssumeRoleCommand({ RoleArn: target, RoleSessionName: 'x2', DurationSeconds: 3_600 }));
  });

  it('should turn STS\'s PackedPolicyTooLarge for a policy under 2,048 characters into a limit on target.sessionPolicy', async () => {
    const provider = awsTestProvider(sim);
    const buckets = Array.from({ length: 30 }, (_, i) => `arn:aws:s3:::${createHash('sha256').update(String(i)).digest('hex').slice(0, 40)}/*`);
    const sessionPolicy = { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 's3:GetObject', Resource: buckets }] };
    const grant = spec(provider, HOUR, { kind: 'aws.sts-credentials', roleArn: target, sessionPolicy });
    provider.validate(grant); // within the plaintext limit
    sim.clearRequests();
    const e = await refusal(provider.grant(grant, alone));
    expect(e.kind).toBe('limit');
    expect(e.options).toMatchObject({ field: 'target.sessionPolicy', code: 'PackedPolicyTooLarge' });
    const assume = sim.requests().find((r) => r.action === 'AssumeRole')!;
    expect(assume.params.Policy.length).toBeLessThanOrEqual(2_048);
    expect([assume.status, assume.errorCode]).toEqual([400, 'PackedPolicyTooLarge']);
  });

  it('should report the plaintext limit under its own name, not as PackedPolicyTooLarge', () => {
    const provider = awsTestProvider(sim);
    const resources = Array.from({ length: 60 }, (_, i) => `arn:aws:s3:::deploy-artifacts/path-${i}/*`);
    const sessionPolicy = { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 's3:GetObject', Resource: resources }] };
    expect(() => provider.validate(spec(provider, HOUR, { kind: 'aws.sts-credentials', roleArn: target, sessionPolicy }))).toThrow(
      expect.objectContaining({ kind: 'limit', options: expect.objectContaining({ field: 'target.sessionPolicy', code: 'SessionPolicyPlaintextLength' }) }),
    );
  });
});
