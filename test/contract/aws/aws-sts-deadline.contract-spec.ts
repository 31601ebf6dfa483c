import { IAMClient, PutRolePolicyCommand } from '@aws-sdk/client-iam';
import { AwsSimulator } from '@jit/sim-aws';
import { awsGrantSpec } from './aws-grant-spec';
import { awsTestProvider } from './aws-test-provider';

const OBJECT = 'arn:aws:s3:::deadline-artifacts/app.zip';

/**
 * Issue 10 point 10 for `aws.sts-credentials`: neither the session STS issues nor the session
 * policy's cutoff may outlive `expiresAt`, read from what the simulator issued and stored.
 */
describe('AWS aws.sts-credentials: cloud-side deadlines never after expiresAt', () => {
  let sim: AwsSimulator;
  let roleArn: string;

  beforeAll(async () => {
    sim = await AwsSimulator.start({ port: 0 });
    roleArn = sim.createRole('deadline-deploy', { maxSessionDuration: 7200 });
    const iam = new IAMClient({ region: 'us-east-1', endpoint: sim.endpoint, credentials: { accessKeyId: 'AKIATEST', secretAccessKey: 'x' } });
    const doc = { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 's3:*', Resource: 'arn:aws:s3:::deadline-artifacts/*' }] };
    await iam.send(new PutRolePolicyCommand({ RoleName: 'deadline-deploy', PolicyName: 'deploy-permissions', PolicyDocument: JSON.stringify(doc) }));
  });
  afterAll(() => sim.close());

  it('should end the session and its session policy no later than an expiresAt with milliseconds', async () => {
    const provider = awsTestProvider(sim);
    const expiresAt = new Date(Math.floor(Date.now() / 1000) * 1000 + 3_600_000 + 999);
    const grant = { ...awsGrantSpec(provider, roleArn, { kind: 'aws.sts-credentials', roleArn }, { expiresAt }), principal: { type: 'workload' as const, id: 'pipeline:deadline' } };
    sim.clearRequests();
    const outcome = await provider.grant(grant, { overlapping: [] });
    const sessionArn = outcome.providerRef.assumedRoleArn as string;

    // The session as STS issued it (the simulator's Expiration, relayed unchanged).
    expect(Date.parse(outcome.credentials!.expiration)).toBeLessThanOrEqual(expiresAt.getTime());
    // The session policy as STS received it.
    const assume = sim.requests().find((r) => r.action === 'AssumeRole')!;
    const policy = JSON.parse(assume.params.Policy) as { Statement: { Effect: string; Condition?: { DateLessThan?: Record<string, string> } }[] };
    const cutoffs = policy.Statement.filter((s) => s.Effect === 'Allow').map((s) => Date.parse(s.Condition!.DateLessThan!['aws:CurrentTime']));
    expect(cutoffs.length).toBeGreaterThan(0);
    for (const cutoff of cutoffs) expect(cutoff).toBeLessThanOrEqual(expiresAt.getTime());
    // And the simulator's own evaluation: usable until shortly before (STS counts whole seconds
    // from its issue second, so the session may end up to two seconds early), not at expiresAt.
    expect(sim.isAllowed(sessionArn, 's3:GetObject', OBJECT, new Date(expiresAt.getTime() - 3_000))).toBe(true);
    expect(sim.isAllowed(sessionArn, 's3:GetObject', OBJECT, expiresAt)).toBe(false);
  });
});
