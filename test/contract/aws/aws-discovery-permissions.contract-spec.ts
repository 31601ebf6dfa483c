import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import { StandingAssignment } from '@jit/domain';
import { AwsSimulator, PolicyDocument, RecordedRequest, evaluate, parseIdentityPolicy } from '@jit/sim-aws';
import { awsTestProvider } from './aws-test-provider';
import { documentedPolicies } from './documented-policy.util';

const OWN = '123456789012';
const MEMBER = '111111111111';

/** The documented statements for `account` (the docs write them for 123456789012; the member role gets the same with its own ARNs). */
function forAccount(blocks: unknown[], account: string): PolicyDocument {
  const statements = blocks.flatMap((b) => (b as { Statement: object[] }).Statement);
  return parseIdentityPolicy(JSON.stringify({ Version: '2012-10-17', Statement: statements }).replaceAll(`::${OWN}:`, `::${account}:`));
}

/**
 * Issue 16: the read permissions and the optional removal permissions in docs/providers/aws.md
 * ("Discovery permissions"), as written, allow every call a scan, a removal and a restore make,
 * in the broker's own account and through JitBrokerMember in a member account.
 */
describe('AWS: the documented discovery permissions allow every call discovery makes', () => {
  let sim: AwsSimulator;
  beforeAll(async () => {
    sim = await AwsSimulator.start({ port: 0 });
  });
  afterAll(() => sim.close());

  it('should allow each call of a scan, a removal and a restore in both accounts, and deny the writes on the broker itself', async () => {
    const [read, removal] = documentedPolicies('Discovery permissions');
    expect(read && removal).toBeTruthy();
    const policyOf: Record<string, PolicyDocument> = {
      [`arn:aws:iam::${OWN}:role/jit-broker`]: forAccount([read, removal], OWN),
      [`arn:aws:iam::${MEMBER}:role/JitBrokerMember`]: forAccount([read, removal], MEMBER),
    };
    const brokerRole = sim.createRole('jit-broker', { accountId: OWN });
    const bootstrap = new STSClient({ region: 'us-east-1', endpoint: sim.endpoint, credentials: { accessKeyId: 'AKIABOOTSTRAP', secretAccessKey: 'x' } });
    const c = (await bootstrap.send(new AssumeRoleCommand({ RoleArn: brokerRole, RoleSessionName: 'task' }))).Credentials!;
    sim.createRole('JitBrokerMember', {
      accountId: MEMBER,
      trustPolicy: { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { AWS: brokerRole }, Action: 'sts:AssumeRole' }] },
    });
    const seeds = sim.iamSeeds;
    for (const account of [OWN, MEMBER]) {
      const group = seeds.createGroup('Admins', { accountId: account });
      seeds.attachPolicy(group, 'arn:aws:iam::aws:policy/IAMFullAccess');
      const user = sim.createUser('alice', { accountId: account });
      seeds.addToGroup(user, group);
      seeds.putInlinePolicy(user, 'extra', { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 's3:*', Resource: '*' }] });
      seeds.attachPolicy(sim.createRole('ops', { accountId: account }), seeds.createPolicy('ops', { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'ec2:*', Resource: '*' }] }, { accountId: account }));
    }
    const provider = awsTestProvider(sim, {
      credentials: { accessKeyId: c.AccessKeyId!, secretAccessKey: c.SecretAccessKey!, sessionToken: c.SessionToken! },
      memberAccounts: [MEMBER],
      inventory: { accessAdvisor: { firstPollMs: 1, maxPollMs: 5 } },
    });
    const inventory = provider.standingInventory();
    sim.clearRequests();
    for (const part of await inventory.parts()) {
      const found: StandingAssignment[] = [];
      let cursor: string | null = null;
      do {
        const page = await inventory.page(part, cursor);
        found.push(...page.assignments);
        cursor = page.cursor;
      } while (cursor);
      for (const a of found.filter((x) => x.removable && ['alice', 'ops', 'Admins'].includes(x.principal.displayName ?? ''))) {
        await inventory.remove(a);
        await inventory.restore(a);
      }
    }

    const needs = (r: RecordedRequest): [string, string, string][] => {
      const role = /^arn:aws:sts::(\d{12}):assumed-role\/([^/]+)\//.exec(r.callerArn!)!;
      const caller = `arn:aws:iam::${role[1]}:role/${role[2]}`;
      if (r.action === 'GetCallerIdentity') return [];
      if (r.service === 'sts') return [[caller, 'sts:AssumeRole', r.params.RoleArn]];
      const p = r.params;
      const resource = ['GetAccountAuthorizationDetails', 'GetServiceLastAccessedDetails'].includes(r.action) ? '*'
        : r.action === 'GenerateServiceLastAccessedDetails' ? p.Arn
          : p.PolicyArn && !p.RoleName && !p.UserName && !p.GroupName ? p.PolicyArn
            : p.GroupName ? `arn:aws:iam::${r.account}:group/${p.GroupName}`
              : p.RoleName ? `arn:aws:iam::${r.account}:role/${p.RoleName}`
                : `arn:aws:iam::${r.account}:user/${p.UserName}`;
      return [[caller, `iam:${r.action}`, resource]];
    };
    const calls = sim.requests();
    // A restore reads the inline policy first: absent (NoSuchEntity) is what lets it put it back.
    expect(calls.filter((r) => r.errorCode && !(r.errorCode === 'NoSuchEntity' && /^Get(User|Role|Group)Policy$/.test(r.action)))).toEqual([]);
    const needed = calls.flatMap(needs);
    const actions = new Set(needed.map(([, action]) => action));
    for (const a of ['GetAccountAuthorizationDetails', 'GenerateServiceLastAccessedDetails', 'GetServiceLastAccessedDetails', 'GetUser', 'DetachRolePolicy', 'AttachRolePolicy',
      'DetachGroupPolicy', 'AttachGroupPolicy', 'GetUserPolicy', 'DeleteUserPolicy', 'PutUserPolicy', 'RemoveUserFromGroup', 'AddUserToGroup']) {
      expect(actions).toContain(`iam:${a}`);
    }
    expect(new Set(needed.map(([caller]) => caller))).toEqual(new Set(Object.keys(policyOf)));
    const context = { 'aws:currenttime': new Date().toISOString() };
    const denied = [...new Set(needed.map((n) => n.join(' ')))].filter((call) => {
      const [caller, action, resource] = call.split(' ');
      if (action === 'sts:AssumeRole') return false; // the broker's own policy (Least-privilege IAM policy) covers reaching JitBrokerMember
      return evaluate([policyOf[caller]], action, resource, context) !== 'allow';
    });
    expect(denied).toEqual([]);
    // The documented Deny keeps the broker from changing itself, in its own account and through the member role in the member account.
    const memberRole = `arn:aws:iam::${MEMBER}:role/JitBrokerMember`;
    for (const [caller, account] of [[brokerRole, OWN], [memberRole, MEMBER]] as const) {
      for (const action of ['AttachRolePolicy', 'PutRolePolicy', 'DetachRolePolicy', 'DeleteRolePolicy']) {
        expect(evaluate([policyOf[caller]], `iam:${action}`, memberRole, context)).toBe('deny');
        expect(evaluate([policyOf[caller]], `iam:${action}`, `arn:aws:iam::${account}:role/ops`, context)).toBe('allow');
      }
      expect(evaluate([policyOf[caller]], 'iam:AttachRolePolicy', `arn:aws:iam::${account}:role/jit-broker`, context)).toBe('deny');
      // A broker running as an IAM user named jit-broker.
      for (const action of ['AttachUserPolicy', 'PutUserPolicy', 'DetachUserPolicy', 'DeleteUserPolicy']) {
        expect(evaluate([policyOf[caller]], `iam:${action}`, `arn:aws:iam::${account}:user/jit-broker`, context)).toBe('deny');
      }
    }
  });
});
