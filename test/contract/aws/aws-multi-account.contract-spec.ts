import { ProviderError, Target } from '@jit/domain';
import { BROKER_POLICY_NAME } from '@jit/provider-aws';
import { AwsSimulator } from '@jit/sim-aws';
import { awsGrantSpec } from './aws-grant-spec';
import { awsTestProvider } from './aws-test-provider';

const alone = { overlapping: [] };
const OWN = '123456789012';
const MEMBER = '111111111111';
const STRANGER = '222222222222';
const BROKER = `arn:aws:iam::${OWN}:user/jit-broker`;
const s3: Target = { kind: 'aws.iam-policy', actions: ['s3:GetObject'], resources: ['arn:aws:s3:::multi/*'] };
const MEMBER_SESSION = `arn:aws:sts::${MEMBER}:assumed-role/JitBrokerMember/jit-broker`;

async function refusal(promise: Promise<unknown>): Promise<ProviderError> {
  const e = await promise.then(() => undefined, (err: unknown) => err);
  expect(e).toBeInstanceOf(ProviderError);
  return e as ProviderError;
}

/** Issue 10 point 5: the broker acts in the account an ARN names, and only in accounts it serves. */
describe('AWS adapter across accounts: its own and member accounts through JitBrokerMember', () => {
  let sim: AwsSimulator;
  const arn = (account: string, name: string) => `arn:aws:iam::${account}:role/${name}`;

  beforeAll(async () => {
    sim = await AwsSimulator.start({ port: 0 });
    for (const account of [OWN, MEMBER, STRANGER]) sim.createRole('ci-deployer', { accountId: account });
    sim.createRole('JitBrokerMember', {
      accountId: MEMBER,
      trustPolicy: { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { AWS: BROKER }, Action: 'sts:AssumeRole' }] },
    });
    sim.createRole('deploy', { accountId: MEMBER, maxSessionDuration: 7200 });
    sim.createRole('deploy', { accountId: STRANGER });
  });
  afterAll(() => sim.close());

  const provider = (extra: Parameters<typeof awsTestProvider>[1] = {}) => awsTestProvider(sim, { memberAccounts: [MEMBER], ...extra });

  it('should write a member account\'s principal in that account, with the member role\'s session, and leave the same name elsewhere alone', async () => {
    const p = provider();
    sim.clearRequests();
    const spec = awsGrantSpec(p, arn(MEMBER, 'ci-deployer'), s3);
    await p.grant(spec, alone);
    expect(Object.keys(sim.inlinePolicies(arn(MEMBER, 'ci-deployer')))).toEqual([BROKER_POLICY_NAME]);
    expect(sim.inlinePolicies(arn(OWN, 'ci-deployer'))).toEqual({});
    expect(sim.isAllowed(arn(MEMBER, 'ci-deployer'), 's3:GetObject', 'arn:aws:s3:::multi/a', new Date())).toBe(true);
    const iam = sim.requests().filter((r) => r.service === 'iam');
    expect(iam.length).toBeGreaterThan(0);
    expect(new Set(iam.map((r) => `${r.account} ${r.callerArn}`))).toEqual(new Set([`${MEMBER} ${MEMBER_SESSION}`]));
    const memberAssume = sim.requests().filter((r) => r.action === 'AssumeRole');
    expect(memberAssume.map((r) => [r.params.RoleArn, r.callerArn])).toEqual([[arn(MEMBER, 'JitBrokerMember'), BROKER]]);
    await p.revoke(spec, { ...alone, early: true });
    expect(sim.inlinePolicies(arn(MEMBER, 'ci-deployer'))).toEqual({});
  });

  it('should refuse a principal or roleArn in an account it does not serve with a 400 naming the field, calling nothing', async () => {
    const p = provider();
    const stranger = awsGrantSpec(p, arn(STRANGER, 'ci-deployer'), s3);
    // Refused before the rules see the request, and again by validate().
    const early = await refusal(p.verifyPrincipal(stranger.principal, stranger.target));
    expect(early).toMatchObject({ kind: 'invalid', options: { field: 'principal.id', code: 'UnservedAccount' } });
    expect(() => p.validate(stranger)).toThrow(expect.objectContaining({ kind: 'invalid', options: expect.objectContaining({ field: 'principal.id', code: 'UnservedAccount' }) }));
    const session = { ...awsGrantSpec(p, arn(STRANGER, 'deploy'), { kind: 'aws.sts-credentials', roleArn: arn(STRANGER, 'deploy') }), principal: { type: 'workload' as const, id: 'ci' } };
    expect(() => p.validate(session)).toThrow(expect.objectContaining({ kind: 'invalid', options: expect.objectContaining({ field: 'target.roleArn' }) }));
    // A fresh adapter that has not read its identity yet refuses in grant(), before writing anything.
    const fresh = provider();
    sim.clearRequests();
    const e = await refusal(fresh.grant(awsGrantSpec(fresh, arn(STRANGER, 'ci-deployer'), s3), alone));
    expect([e.kind, e.options.field]).toEqual(['invalid', 'principal.id']);
    expect(e.message).toContain(`account ${STRANGER}, which this broker does not serve`);
    expect(sim.requests().map((r) => r.action)).toEqual(['GetCallerIdentity']);
    expect(sim.inlinePolicies(arn(STRANGER, 'ci-deployer'))).toEqual({});
    // Another partition is not served either.
    const china = awsGrantSpec(p, `arn:aws-cn:iam::${OWN}:role/ci-deployer`, s3);
    expect(() => p.validate(china)).toThrow(expect.objectContaining({ options: expect.objectContaining({ field: 'principal.id', code: 'UnservedAccount' }) }));
  });

  it('should vend a member account\'s role with the broker\'s own identity, read it and deny it early in that account', async () => {
    const p = provider();
    const roleArn = arn(MEMBER, 'deploy');
    const spec = { ...awsGrantSpec(p, roleArn, { kind: 'aws.sts-credentials', roleArn }), principal: { type: 'workload' as const, id: 'ci' } };
    sim.clearRequests();
    const outcome = await p.grant(spec, alone);
    const session = outcome.providerRef.assumedRoleArn as string;
    expect(session).toBe(`arn:aws:sts::${MEMBER}:assumed-role/deploy/jit-${spec.grantId}`);
    expect(sim.requests().find((r) => r.action === 'GetRole')).toMatchObject({ account: MEMBER, callerArn: MEMBER_SESSION });
    expect(sim.requests().find((r) => r.action === 'AssumeRole' && r.params.RoleArn === roleArn)?.callerArn).toBe(BROKER);
    await p.revoke(spec, { ...alone, early: true });
    expect(Object.keys(sim.inlinePolicies(roleArn))).toEqual([BROKER_POLICY_NAME]);
    expect(sim.isAllowed(session, 'sts:GetCallerIdentity', '*', new Date())).toBe(false);
  });

  it('should reconcile every served account, each with its own credentials, and skip principals of other accounts', async () => {
    const principals = [arn(OWN, 'ci-deployer'), arn(MEMBER, 'ci-deployer'), arn(STRANGER, 'ci-deployer')];
    const p = provider({ reconcilePrincipals: principals });
    const own = awsGrantSpec(p, principals[0], s3);
    const member = awsGrantSpec(p, principals[1], s3);
    await p.grant(own, alone);
    await p.grant(member, alone);
    const listed = async () => {
      const found: Record<string, string> = {};
      for await (const a of p.listOwned()) found[a.grantId!] = a.locator.principalArn as string;
      return found;
    };
    expect(await listed()).toEqual({ [own.grantId]: principals[0], [member.grantId]: principals[1] });
    for await (const a of p.listOwned()) await p.removeOrphan(a);
    expect(await listed()).toEqual({});
    expect(sim.inlinePolicies(principals[1])).toEqual({});
  });

  it('should assume the member role once for many calls (renewal: member-account.credentials.spec.ts)', async () => {
    const p = provider();
    sim.clearRequests();
    await Promise.all([0, 1, 2].map(() => p.status(awsGrantSpec(p, arn(MEMBER, 'ci-deployer'), s3))));
    await p.status(awsGrantSpec(p, arn(MEMBER, 'ci-deployer'), s3));
    const memberAssumes = sim.requests().filter((r) => r.action === 'AssumeRole' && r.params.RoleArn === arn(MEMBER, 'JitBrokerMember'));
    expect(memberAssumes).toHaveLength(1);
    expect(memberAssumes[0].params).toMatchObject({ RoleSessionName: 'jit-broker', DurationSeconds: '3600' });
    expect(memberAssumes[0].params.SourceIdentity).toBeUndefined();
  });

  it('should name the member role when its trust policy does not let the broker in', async () => {
    const p = provider({ memberAccounts: [STRANGER] });
    const e = await refusal(p.grant(awsGrantSpec(p, arn(STRANGER, 'ci-deployer'), s3), alone));
    expect(e.kind).toBe('terminal');
    expect(e.message).toContain(`${arn(STRANGER, 'JitBrokerMember')}`);
    expect(sim.inlinePolicies(arn(STRANGER, 'ci-deployer'))).toEqual({});
  });
});
