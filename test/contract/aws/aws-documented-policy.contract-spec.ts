import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import { GrantSpec, Target } from '@jit/domain';
import { AwsSimulator, PolicyDocument, RecordedRequest, evaluate, parseIdentityPolicy } from '@jit/sim-aws';
import { awsGrantSpec } from './aws-grant-spec';
import { awsTestProvider } from './aws-test-provider';
import { documentedPolicies } from './documented-policy.util';

const alone = { overlapping: [] };
const OWN = '123456789012';
const MEMBER = '111111111111';

/**
 * Issue 18 point 2: the policies in docs/providers/aws.md, as written, must allow every call the
 * adapter makes for every kind (grant, status, revoke at expiry and early, reconcile, health) in
 * the broker's own account and in a member account, evaluated by the simulator's IAM policy
 * evaluation. The documented trust policies are seeded verbatim, and the broker runs as the
 * documented `role/jit-broker` session, so they are checked by the simulator's STS as well.
 */
describe('AWS: the documented policies allow every call the broker makes', () => {
  let sim: AwsSimulator;

  beforeAll(async () => {
    sim = await AwsSimulator.start({ port: 0 });
  });
  afterAll(() => sim.close());

  it('should allow each call, in both accounts, and the test should see every kind of call', async () => {
    const [brokerPolicy] = documentedPolicies('Least-privilege IAM policy for the broker');
    const [vendedTrust] = documentedPolicies('Trust policy of a vended role');
    const [memberTrust] = documentedPolicies('Trust policy of JitBrokerMember');
    const [memberPolicy] = documentedPolicies('Permission policy of JitBrokerMember');
    const policyOf: Record<string, PolicyDocument> = {
      [`arn:aws:iam::${OWN}:role/jit-broker`]: parseIdentityPolicy(JSON.stringify(brokerPolicy)),
      [`arn:aws:iam::${MEMBER}:role/JitBrokerMember`]: parseIdentityPolicy(JSON.stringify(memberPolicy)),
    };

    // The broker's own role session, as an ECS task role or web identity would give it.
    const brokerRole = sim.createRole('jit-broker', { accountId: OWN });
    const bootstrap = new STSClient({ region: 'us-east-1', endpoint: sim.endpoint, credentials: { accessKeyId: 'AKIABOOTSTRAP', secretAccessKey: 'x' } });
    const c = (await bootstrap.send(new AssumeRoleCommand({ RoleArn: brokerRole, RoleSessionName: 'task' }))).Credentials!;
    sim.createRole('JitBrokerMember', { accountId: MEMBER, trustPolicy: memberTrust as object });

    const arns = new Map<string, string>();
    const seed = (account: string, kind: 'role' | 'user', name: string, path: string) => {
      const arn = kind === 'role'
        ? sim.createRole(name, { accountId: account, path, ...(path === '/jit-vended/' && { trustPolicy: vendedTrust as object }) })
        : sim.createUser(name, { accountId: account, path });
      arns.set(`${account}/${kind}/${name}`, arn);
      return arn;
    };
    const provider = awsTestProvider(sim, {
      credentials: { accessKeyId: c.AccessKeyId!, secretAccessKey: c.SecretAccessKey!, sessionToken: c.SessionToken! },
      memberAccounts: [MEMBER],
    });
    const atExpiry: GrantSpec[] = [];
    const granted: GrantSpec[] = [];
    sim.clearRequests();
    for (const account of [OWN, MEMBER]) {
      const role = seed(account, 'role', 'ci-deployer', '/jit/');
      const user = seed(account, 'user', 'alice', '/jit/');
      const vended = seed(account, 'role', 'deploy', '/jit-vended/');
      const policyKinds: Target[] = [
        { kind: 'aws.iam-policy', actions: ['s3:GetObject'], resources: ['arn:aws:s3:::docs/*'] },
        { kind: 'aws.assume-role', roleArn: vended },
      ];
      for (const principal of [role, user]) {
        for (const target of policyKinds) {
          const early = awsGrantSpec(provider, principal, target);
          const later = awsGrantSpec(provider, principal, target);
          for (const s of [early, later]) await provider.grant(s, alone);
          granted.push(early, later);
          await provider.status(early);
          await provider.revoke(early, { ...alone, early: true });
          atExpiry.push(later);
        }
      }
      const sts = { ...awsGrantSpec(provider, vended, { kind: 'aws.sts-credentials', roleArn: vended }), principal: { type: 'workload' as const, id: 'ci' } };
      await provider.verifyPrincipal(sts.principal, sts.target);
      await provider.grant(sts, alone);
      granted.push(sts);
      await provider.status(sts);
      await provider.revoke(sts, { ...alone, early: true });
    }
    // Reconciliation in both accounts: list where the grants' rows point, then remove what no grant owns (the at-expiry grants, as orphans).
    const scope = { subjects: async () => granted.map((g) => ({ principal: g.principal, target: g.target })) };
    for await (const owned of provider.listOwned(undefined, scope)) {
      if (atExpiry.some((s) => s.grantId === owned.grantId)) await provider.removeOrphan(owned);
    }
    await provider.healthCheck();

    /** Who made the call (its role's policy applies), the IAM action and the resource ARN; GetCallerIdentity needs no permission. */
    const needs = (r: RecordedRequest): [string, string, string][] => {
      const role = /^arn:aws:sts::(\d{12}):assumed-role\/([^/]+)\//.exec(r.callerArn!)!;
      const caller = `arn:aws:iam::${role[1]}:role/${role[2]}`;
      if (r.action === 'GetCallerIdentity') return [];
      if (r.service === 'sts') {
        return [[caller, 'sts:AssumeRole', r.params.RoleArn], ...(r.params.SourceIdentity ? [[caller, 'sts:SetSourceIdentity', r.params.RoleArn] as [string, string, string]] : [])];
      }
      const kind = r.params.RoleName ? 'role' : 'user';
      const arn = arns.get(`${r.account}/${kind}/${r.params.RoleName ?? r.params.UserName}`);
      if (!arn) throw new Error(`no seeded ${kind} ${r.params.RoleName ?? r.params.UserName} in ${r.account}`);
      return [[caller, `iam:${r.action}`, arn]];
    };
    const calls = sim.requests();
    expect(calls.filter((r) => r.errorCode && r.errorCode !== 'NoSuchEntity')).toEqual([]);
    const needed = calls.flatMap(needs);
    const seen = (account: string) => new Set(needed.filter(([, , arn]) => arn.includes(`::${account}:`)).map(([, action]) => action));
    const iamActions = ['PutRolePolicy', 'GetRolePolicy', 'DeleteRolePolicy', 'ListRolePolicies', 'PutUserPolicy', 'GetUserPolicy', 'DeleteUserPolicy', 'ListUserPolicies', 'GetRole'].map((a) => `iam:${a}`);
    expect(seen(OWN)).toEqual(new Set([...iamActions, 'sts:AssumeRole', 'sts:SetSourceIdentity']));
    expect(seen(MEMBER)).toEqual(new Set([...iamActions, 'sts:AssumeRole', 'sts:SetSourceIdentity']));
    expect(new Set(needed.map(([caller]) => caller))).toEqual(new Set(Object.keys(policyOf)));
    const context = { 'aws:currenttime': new Date().toISOString() };
    const denied = [...new Set(needed.map((n) => n.join(' ')))].filter((call) => {
      const [caller, action, resource] = call.split(' ');
      return evaluate([policyOf[caller]], action, resource, context) !== 'allow';
    });
    expect(denied).toEqual([]);
  });
});
