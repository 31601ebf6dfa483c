import { GrantSpec, Target } from '@jit/domain';
import { AwsSimulator, RecordedRequest, evaluate, parseIdentityPolicy } from '@jit/sim-aws';
import { awsGrantSpec } from './aws-grant-spec';
import { awsTestProvider } from './aws-test-provider';
import { documentedPolicies } from './documented-policy.util';

const alone = { overlapping: [] };
const ACCOUNT = '123456789012';

/**
 * Issue 18 point 2: the least-privilege policy in docs/providers/aws.md, as written, must allow
 * every call the adapter makes for every kind (grant, status, revoke at expiry and early,
 * reconcile, health), evaluated by the simulator's IAM policy evaluation.
 */
describe('AWS: the documented least-privilege policy allows every call the broker makes', () => {
  let sim: AwsSimulator;
  let arns: Map<string, string>;

  beforeAll(async () => {
    sim = await AwsSimulator.start({ port: 0 });
  });
  afterAll(() => sim.close());

  /** The IAM actions and resource ARNs a recorded call needs; GetCallerIdentity needs none. */
  function needs(r: RecordedRequest): [string, string][] {
    if (r.action === 'GetCallerIdentity') return [];
    if (r.service === 'sts') {
      const out: [string, string][] = [[`sts:${r.action}`, r.params.RoleArn]];
      if (r.params.SourceIdentity) out.push(['sts:SetSourceIdentity', r.params.RoleArn]);
      return out;
    }
    const name = r.params.RoleName ?? r.params.UserName;
    const kind = r.params.RoleName ? 'role' : 'user';
    const arn = arns.get(`${r.account}/${kind}/${name}`);
    if (!arn) throw new Error(`no seeded ${kind} ${name} in ${r.account}`);
    return [[`iam:${r.action}`, arn]];
  }

  it('should allow each call, and the test should see every kind of call', async () => {
    const [policy] = documentedPolicies('Least-privilege IAM policy for the broker');
    const doc = parseIdentityPolicy(JSON.stringify(policy));
    arns = new Map();
    const seed = (kind: 'role' | 'user', name: string, path: string, options: { maxSessionDuration?: number } = {}) => {
      const arn = kind === 'role' ? sim.createRole(name, { path, ...options }) : sim.createUser(name, { path });
      arns.set(`${ACCOUNT}/${kind}/${name}`, arn);
      return arn;
    };
    const role = seed('role', 'ci-deployer', '/jit/');
    const user = seed('user', 'alice', '/jit/');
    const vended = seed('role', 'deploy', '/jit-vended/', { maxSessionDuration: 7200 });
    const provider = awsTestProvider(sim, { reconcilePrincipals: [role, user, vended] });
    sim.clearRequests();

    const policyKinds: Target[] = [
      { kind: 'aws.iam-policy', actions: ['s3:GetObject'], resources: ['arn:aws:s3:::docs/*'] },
      { kind: 'aws.assume-role', roleArn: vended },
    ];
    const specs: GrantSpec[] = [];
    for (const principal of [role, user]) {
      for (const target of policyKinds) {
        const early = awsGrantSpec(provider, principal, target);
        const atExpiry = awsGrantSpec(provider, principal, target);
        for (const s of [early, atExpiry]) await provider.grant(s, alone);
        await provider.status(early);
        await provider.revoke(early, { ...alone, early: true });
        specs.push(atExpiry);
      }
    }
    const sts = { ...awsGrantSpec(provider, vended, { kind: 'aws.sts-credentials', roleArn: vended }), principal: { type: 'workload' as const, id: 'ci' } };
    await provider.verifyPrincipal(sts.principal, sts.target);
    await provider.grant(sts, alone);
    await provider.status(sts);
    await provider.revoke(sts, { ...alone, early: true });
    // Reconciliation: list, then remove what no grant owns (the at-expiry grants, as orphans).
    for await (const owned of provider.listOwned()) {
      if (specs.some((s) => s.grantId === owned.grantId)) await provider.removeOrphan(owned);
    }
    await provider.healthCheck();

    const calls = sim.requests();
    expect(calls.filter((r) => r.errorCode && r.errorCode !== 'NoSuchEntity')).toEqual([]);
    const needed = calls.flatMap(needs);
    expect(new Set(needed.map(([action]) => action))).toEqual(
      new Set([
        'iam:PutRolePolicy', 'iam:GetRolePolicy', 'iam:DeleteRolePolicy', 'iam:ListRolePolicies',
        'iam:PutUserPolicy', 'iam:GetUserPolicy', 'iam:DeleteUserPolicy', 'iam:ListUserPolicies',
        'iam:GetRole', 'sts:AssumeRole', 'sts:SetSourceIdentity',
      ]),
    );
    const context = { 'aws:currenttime': new Date().toISOString() };
    const denied = [...new Set(needed.map(([a, r]) => `${a} on ${r}`))].filter((call) => {
      const [action, resource] = call.split(' on ');
      return evaluate([doc], action, resource, context) !== 'allow';
    });
    expect(denied).toEqual([]);
  });
});
