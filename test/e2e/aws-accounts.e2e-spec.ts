import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import { AwsIamStsProvider } from '@jit/provider-aws';
import { AwsSimulator } from '@jit/sim-aws';
import { TestBroker, awsPolicyGrant, startTestBroker } from '../setup/test-broker';

const OWN = '123456789012';
const MEMBER = '111111111111';

/**
 * Over HTTP, a broker running as a role session that serves one member account: the account an
 * ARN names is where it acts (400 naming the field elsewhere), and what STS would refuse is a
 * 422 naming the limit (issue 10 points 5 and 11, issue 18 point 3).
 */
describe('AWS accounts and STS limits over HTTP', () => {
  let sim: AwsSimulator;
  let t: TestBroker;
  const role = (account: string, name: string) => `arn:aws:iam::${account}:role/${name}`;
  const sts = (roleArn: string, duration: string) => ({
    cloud: 'aws', principal: { type: 'workload', id: 'pipeline:release' }, target: { kind: 'aws.sts-credentials', roleArn }, duration, justification: 'deploy',
  });

  beforeAll(async () => {
    sim = await AwsSimulator.start({ port: 0 });
    const brokerRole = sim.createRole('jit-broker', { accountId: OWN, maxSessionDuration: 43_200 });
    sim.createRole('JitBrokerMember', {
      accountId: MEMBER,
      trustPolicy: { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { AWS: brokerRole }, Action: 'sts:AssumeRole' }] },
    });
    for (const account of [OWN, MEMBER, '222222222222']) sim.createRole('ci-deployer', { accountId: account });
    sim.createRole('deploy', { accountId: MEMBER, maxSessionDuration: 43_200 });
    sim.createRole('short', { accountId: MEMBER });
    sim.createRole('no-tag', {
      accountId: MEMBER,
      trustPolicy: { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${OWN}:root` }, Action: 'sts:AssumeRole' }] },
    });
    const bootstrap = new STSClient({ region: 'us-east-1', endpoint: sim.endpoint, credentials: { accessKeyId: 'AKIABOOTSTRAP', secretAccessKey: 'x' } });
    const c = (await bootstrap.send(new AssumeRoleCommand({ RoleArn: brokerRole, RoleSessionName: 'task', DurationSeconds: 43_200 }))).Credentials!;
    const aws = new AwsIamStsProvider({
      region: 'us-east-1',
      iamEndpoint: sim.endpoint,
      stsEndpoint: sim.endpoint,
      credentials: { accessKeyId: c.AccessKeyId!, secretAccessKey: c.SecretAccessKey!, sessionToken: c.SessionToken! },
      memberAccounts: [MEMBER],
      retry: { maxAttempts: 2, baseDelayMs: 1, maxDelayMs: 2 },
    });
    t = await startTestBroker({}, { providers: [aws] });
  });
  afterAll(async () => {
    await t.close();
    await sim.close();
  });

  it('should grant a member account\'s role in that account, not the same name in its own', async () => {
    await t.http.post('/v1/grants').set(t.as('alice')).send(awsPolicyGrant({ principal: { type: 'workload', id: role(MEMBER, 'ci-deployer') } })).expect(201);
    expect(Object.keys(sim.inlinePolicies(role(MEMBER, 'ci-deployer')))).toEqual(['jit-broker-grants']);
    expect(sim.inlinePolicies(role(OWN, 'ci-deployer'))).toEqual({});
  });

  it('should answer 400 naming principal.id for an account it does not serve, and store no grant', async () => {
    const res = await t.http.post('/v1/grants').set(t.as('alice')).send(awsPolicyGrant({ principal: { type: 'workload', id: role('222222222222', 'ci-deployer') } })).expect(400);
    expect(res.body.errors).toEqual([expect.objectContaining({ field: 'principal.id', message: expect.stringContaining('does not serve') })]);
    expect(sim.inlinePolicies(role('222222222222', 'ci-deployer'))).toEqual({});
    const list = await t.http.get('/v1/grants').query({ principal: role('222222222222', 'ci-deployer') }).set(t.as('alice')).expect(200);
    expect(list.body.items).toEqual([]);
  });

  it('should answer 422 naming the one-hour role-chaining limit for a two-hour session, before anything is stored', async () => {
    const res = await t.http.post('/v1/grants').set(t.as('alice')).send(sts(role(MEMBER, 'deploy'), 'PT2H')).expect(422);
    expect(res.body.errors).toEqual([expect.objectContaining({ field: 'duration', message: expect.stringContaining('role chaining') })]);
    expect(sim.requests().some((r) => r.action === 'AssumeRole' && r.params.RoleArn === role(MEMBER, 'deploy'))).toBe(false);
    const ok = await t.http.post('/v1/grants').set(t.as('alice')).send(sts(role(MEMBER, 'deploy'), 'PT1H')).expect(201);
    expect(ok.body.credentials.accessKeyId).toMatch(/^ASIA/);
  });

  it('should answer 422 for a trust policy without sts:SetSourceIdentity, naming target.roleArn', async () => {
    const res = await t.http.post('/v1/grants').set(t.as('alice')).send(sts(role(MEMBER, 'no-tag'), 'PT30M')).expect(422);
    expect(res.body.errors).toEqual([expect.objectContaining({ field: 'target.roleArn', message: expect.stringContaining('sts:SetSourceIdentity') })]);
  });
});
