import { ProviderError, StandingAccessInventory, StandingAssignment } from '@jit/domain';
import { BROKER_POLICY_NAME } from '@jit/provider-aws';
import { AwsSimulator } from '@jit/sim-aws';
import { seedSandboxAwsStanding } from '../../../apps/sandbox/src/sandbox-clouds';
import { awsGrantSpec } from './aws-grant-spec';
import { awsTestProvider } from './aws-test-provider';

const OWN = '123456789012';
const MEMBER = '111111111111';
const BROKER = `arn:aws:iam::${OWN}:user/jit-broker`;
const ADMIN = 'arn:aws:iam::aws:policy/AdministratorAccess';
const DAY = 86_400_000;
const SSO_ROLE = `arn:aws:iam::${OWN}:role/aws-reserved/sso.amazonaws.com/AWSReservedSSO_AdministratorAccess_0123456789abcdef`;
const arn = (kind: string, name: string, account = OWN) => `arn:aws:iam::${account}:${kind}/${name}`;

async function scan(inventory: StandingAccessInventory, part: string): Promise<{ assignments: StandingAssignment[]; pages: number }> {
  const assignments: StandingAssignment[] = [];
  let cursor: string | null = null;
  let pages = 0;
  do {
    const page = await inventory.page(part, cursor);
    assignments.push(...page.assignments);
    cursor = page.cursor;
    pages++;
  } while (cursor);
  return { assignments, pages };
}

const find = (all: StandingAssignment[], principal: string, access: string) => all.find((a) => a.principal.id === principal && a.access.name === access);

/** Issue 16 point 1 (AWS): standing access in the served accounts, through the real SDK against the simulator. */
describe('AWS standing-access inventory (discovery)', () => {
  let sim: AwsSimulator;
  let inventory: StandingAccessInventory;
  const provider = () =>
    awsTestProvider(sim, { memberAccounts: [MEMBER], inventory: { pageSize: 10, accessAdvisor: { firstPollMs: 1, maxPollMs: 5, maxWaitMs: 5_000 } } });

  beforeAll(async () => {
    sim = await AwsSimulator.start({ port: 0 });
    const seed = sim.iamSeeds;
    const alice = sim.createUser('admin-alice');
    seed.attachPolicy(alice, ADMIN);
    seed.setServiceLastAccessed(alice, 's3', new Date(Date.now() - DAY));
    seed.setPasswordLastUsed(alice, new Date(Date.now() - 2 * DAY));

    const admins = seed.createGroup('Admins');
    seed.attachPolicy(admins, 'arn:aws:iam::aws:policy/IAMFullAccess');
    seed.putInlinePolicy(admins, 'ops-extra', { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'ec2:*', Resource: '*' }] });
    const bob = sim.createUser('bob');
    seed.addToGroup(bob, admins);
    seed.setServiceLastAccessed(bob, 'ec2', new Date(Date.now() - 10 * DAY));

    seed.attachPolicy(sim.createRole('unused-admin'), ADMIN);
    const old = sim.createRole('old-power');
    seed.attachPolicy(old, 'arn:aws:iam::aws:policy/PowerUserAccess');
    seed.setRoleLastUsed(old, new Date(Date.now() - 200 * DAY));
    seed.setServiceLastAccessed(old, 'ec2', new Date(Date.now() - 200 * DAY));

    const reader = sim.createUser('reader');
    seed.attachPolicy(reader, 'arn:aws:iam::aws:policy/ReadOnlyAccess');
    seed.setServiceLastAccessed(reader, 's3', new Date(Date.now() - 3 * DAY));

    sim.createRole('AWSReservedSSO_AdministratorAccess_0123456789abcdef', {
      path: '/aws-reserved/sso.amazonaws.com/',
      trustPolicy: {
        Version: '2012-10-17',
        Statement: [{ Effect: 'Allow', Principal: { Federated: `arn:aws:iam::${OWN}:saml-provider/AWSSSO_0123456789abcdef_DO_NOT_DELETE` }, Action: ['sts:AssumeRoleWithSAML', 'sts:TagSession'] }],
      },
    });
    seed.attachPolicy(SSO_ROLE, ADMIN);
    seed.attachPolicy(
      sim.createRole('lambda-exec', { trustPolicy: { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' }, Action: 'sts:AssumeRole' }] } }),
      'arn:aws:iam::aws:policy/ReadOnlyAccess',
    );
    const custom = seed.createPolicy('deploy-lambda', { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: ['lambda:UpdateFunctionCode', 'iam:PassRole'], Resource: '*' }] });
    seed.attachPolicy(sim.createRole('ci-deployer'), custom);

    sim.createRole('JitBrokerMember', {
      accountId: MEMBER,
      trustPolicy: { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { AWS: BROKER }, Action: 'sts:AssumeRole' }] },
    });
    seed.attachPolicy(arn('role', 'JitBrokerMember', MEMBER), 'arn:aws:iam::aws:policy/IAMFullAccess');
    seed.attachPolicy(sim.createUser('member-admin', { accountId: MEMBER }), ADMIN);
    inventory = provider().standingInventory();
  });
  afterAll(() => sim.close());

  it('should serve one part per served account and find the privileged admin user with its policy, granted against used', async () => {
    expect(await inventory.parts()).toEqual([OWN, MEMBER]);
    const { assignments } = await scan(inventory, OWN);
    const admin = find(assignments, arn('user', 'admin-alice'), 'AdministratorAccess')!;
    expect(admin).toMatchObject({
      cloud: 'aws',
      key: `aws:${OWN}:${arn('user', 'admin-alice')}:managed:${ADMIN}`,
      principal: { id: arn('user', 'admin-alice'), kind: 'user', human: true, displayName: 'admin-alice' },
      scope: `aws:${OWN}`,
      access: { type: 'aws.managed-policy', name: 'AdministratorAccess', id: ADMIN, actions: ['*'] },
      brokerOwned: false,
      removable: true,
      neverUsed: false,
      locator: { mechanism: 'managed', account: OWN, principalKind: 'user', principalName: 'admin-alice', policyArn: ADMIN },
    });
    expect(admin.usage!.granted).toEqual(expect.arrayContaining(['s3', 'ec2', 'iam', 'lambda']));
    expect(admin.usage).toMatchObject({ used: ['s3'], periodDays: 400 });
    expect(Date.now() - admin.lastUsedAt!.getTime()).toBeLessThan(DAY + 60_000);

    // PowerUserAccess: NotAction iam:*, organizations:*, account:* plus a few of them allowed by name.
    const power = find(assignments, arn('role', 'old-power'), 'PowerUserAccess')!;
    expect(power.access.notActions).toEqual(['iam:*', 'organizations:*', 'account:*']);
    expect(power.access.actions).toContain('iam:CreateServiceLinkedRole');

    const reader = find(assignments, arn('user', 'reader'), 'ReadOnlyAccess')!;
    expect(reader.usage!.used).toEqual(['s3']);
    expect(reader.usage!.granted).not.toContain('organizations');
    expect(reader.access.actions).toContain('ec2:Describe*');
  });

  it('should flag roles never used or used long ago, and tell people from workloads', async () => {
    const { assignments } = await scan(inventory, OWN);
    const unused = find(assignments, arn('role', 'unused-admin'), 'AdministratorAccess')!;
    expect(unused).toMatchObject({ lastUsedAt: null, neverUsed: true, principal: { kind: 'role', human: null }, removable: true });
    expect(unused.usage).toMatchObject({ used: [] });
    const old = find(assignments, arn('role', 'old-power'), 'PowerUserAccess')!;
    expect(old).toMatchObject({ neverUsed: false, usage: { used: ['ec2'] } });
    expect(Math.round((Date.now() - old.lastUsedAt!.getTime()) / DAY)).toBe(200);
    expect(find(assignments, arn('role', 'lambda-exec'), 'ReadOnlyAccess')!.principal.human).toBe(false);
    const sso = find(assignments, SSO_ROLE, 'AdministratorAccess')!;
    expect(sso).toMatchObject({ principal: { human: true }, removable: false });
    expect(find(assignments, arn('role', 'ci-deployer'), 'deploy-lambda')!.access.actions).toEqual(['lambda:UpdateFunctionCode', 'iam:PassRole']);
  });

  it('should name who outside the account may assume a role in locator.externalTrust', async () => {
    const seedAdmin = (principal: string) => sim.iamSeeds.attachPolicy(principal, ADMIN);
    const trusted = (principal: object) => ({ trustPolicy: { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: principal, Action: 'sts:AssumeRole' }] } });
    seedAdmin(sim.createRole('vendor-access', trusted({ AWS: ['arn:aws:iam::999999999999:root', `arn:aws:iam::${OWN}:root`] })));
    seedAdmin(sim.createRole('open-door', trusted({ AWS: '*' })));
    seedAdmin(sim.createRole('in-house', trusted({ AWS: `arn:aws:iam::${OWN}:root` })));
    const { assignments } = await scan(inventory, OWN);
    expect(find(assignments, arn('role', 'vendor-access'), 'AdministratorAccess')!.locator.externalTrust).toEqual(['arn:aws:iam::999999999999:root']);
    expect(find(assignments, arn('role', 'open-door'), 'AdministratorAccess')!.locator.externalTrust).toEqual(['*']);
    expect(find(assignments, arn('role', 'in-house'), 'AdministratorAccess')!.locator).not.toHaveProperty('externalTrust');
  });

  it('should report a group\'s policies on the group and on each member through its membership', async () => {
    const { assignments } = await scan(inventory, OWN);
    const group = arn('group', 'Admins');
    expect(find(assignments, group, 'IAMFullAccess')).toMatchObject({ principal: { kind: 'group', human: null }, access: { type: 'aws.managed-policy' } });
    expect(find(assignments, group, 'ops-extra')).toMatchObject({ access: { type: 'aws.inline-policy', actions: ['ec2:*'] }, usage: { used: ['ec2'] } });
    const membership = find(assignments, arn('user', 'bob'), 'Admins')!;
    expect(membership).toMatchObject({
      key: `aws:${OWN}:${arn('user', 'bob')}:member-of:${group}`,
      principal: { kind: 'user', human: true },
      access: { type: 'aws.group-membership', id: group },
      usage: { used: ['ec2'] },
      removable: true,
      locator: { mechanism: 'membership', account: OWN, userName: 'bob', groupName: 'Admins' },
    });
    expect(membership.access.actions).toEqual(expect.arrayContaining(['iam:*', 'ec2:*']));
  });

  it('should see a group changed since the last scan when a new scan starts, not a catalog from minutes ago', async () => {
    const late = sim.iamSeeds.createGroup('Late');
    sim.iamSeeds.putInlinePolicy(late, 'read', { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 's3:GetObject', Resource: '*' }] });
    const carol = sim.createUser('carol');
    sim.iamSeeds.addToGroup(carol, late);
    expect(find((await scan(inventory, OWN)).assignments, carol, 'Late')!.access.actions).toEqual(['s3:GetObject']);
    sim.iamSeeds.putInlinePolicy(late, 'escalate', { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'iam:*', Resource: '*' }] });
    expect(find((await scan(inventory, OWN)).assignments, carol, 'Late')!.access.actions).toEqual(expect.arrayContaining(['s3:GetObject', 'iam:*']));
  });

  it('should fail a page as transient, not report a membership granting nothing, when a group is gone from the catalog read after the listing', async () => {
    const doomed = sim.iamSeeds.createGroup('Doomed');
    sim.iamSeeds.attachPolicy(doomed, ADMIN);
    sim.iamSeeds.addToGroup(sim.createUser('aaron'), doomed);
    sim.clearRequests();
    sim.inject({ latencyMs: 300, latencyActions: ['GetAccountAuthorizationDetails'] });
    const catalogRead = () => sim.requests().some((r) => r.action === 'GetAccountAuthorizationDetails' && r.params['Filter.member.1'] === 'Group');
    try {
      const page = provider().standingInventory().page(OWN, null);
      // The listing (with aaron in Doomed) is answered; the catalog's read has arrived and waits: delete the group now.
      while (!catalogRead()) await new Promise((r) => setTimeout(r, 5));
      sim.iamSeeds.deleteEntity(doomed);
      await expect(page).rejects.toMatchObject({ kind: 'transient', options: { code: 'CatalogChanged' } });
    } finally {
      sim.inject({ latencyMs: 0 });
    }
    expect(find((await scan(inventory, OWN)).assignments, arn('user', 'aaron'), 'Doomed')).toBeUndefined();
  });

  it('should recognise the broker\'s own inline policy and never offer to remove it, nor the member role\'s policies', async () => {
    const p = provider();
    const spec = awsGrantSpec(p, arn('role', 'ci-deployer'), { kind: 'aws.iam-policy', actions: ['s3:GetObject'], resources: ['arn:aws:s3:::b/*'] });
    await p.grant(spec, { overlapping: [] });
    const { assignments } = await scan(p.standingInventory(), OWN);
    const own = find(assignments, arn('role', 'ci-deployer'), BROKER_POLICY_NAME)!;
    expect(own).toMatchObject({ brokerOwned: true, removable: false, access: { type: 'aws.inline-policy' } });
    await expect(p.standingInventory().remove(own)).rejects.toMatchObject({ kind: 'invalid', options: { field: 'removable' } });
    const member = await scan(p.standingInventory(), MEMBER);
    expect(find(member.assignments, arn('role', 'JitBrokerMember', MEMBER), 'IAMFullAccess')).toMatchObject({ removable: false, brokerOwned: false });
    expect(find(member.assignments, arn('user', 'member-admin', MEMBER), 'AdministratorAccess')).toMatchObject({ removable: true, scope: `aws:${MEMBER}` });
    // Member-account calls go out with the member role's session.
    expect(sim.requests().filter((r) => r.action === 'GetAccountAuthorizationDetails' && r.account === MEMBER).length).toBeGreaterThan(0);
    await p.revoke(spec, { overlapping: [], early: true });
  });

  it('should not let a policy named like the broker\'s hide standing admin: only statements the broker wrote are broker-owned', async () => {
    const admin = { Effect: 'Allow', Action: '*', Resource: '*' };
    // A user, a group and a role with a hand-made jit-broker-grants: plain, with a copied broker Sid, and next to a real grant.
    const sneaky = sim.createUser('sneaky');
    sim.iamSeeds.putInlinePolicy(sneaky, BROKER_POLICY_NAME, { Version: '2012-10-17', Statement: [{ Sid: 'Jit0123456789abcdef0123456789abcdef', ...admin }] });
    const group = sim.iamSeeds.createGroup('Sneakies');
    sim.iamSeeds.putInlinePolicy(group, BROKER_POLICY_NAME, { Version: '2012-10-17', Statement: [admin] });
    const p = provider();
    const role = sim.createRole('granted-and-planted');
    const spec = awsGrantSpec(p, role, { kind: 'aws.iam-policy', actions: ['s3:GetObject'], resources: ['arn:aws:s3:::b/*'] });
    await p.grant(spec, { overlapping: [] });
    const real = JSON.parse(sim.inlinePolicies(role)[BROKER_POLICY_NAME]) as { Statement: object[] };
    sim.iamSeeds.putInlinePolicy(role, BROKER_POLICY_NAME, { Version: '2012-10-17', Statement: [...real.Statement, { Sid: 'Planted', ...admin }] });

    const { assignments } = await scan(p.standingInventory(), OWN);
    const foreign = `${BROKER_POLICY_NAME} (statements not written by the broker)`;
    expect(find(assignments, sneaky, BROKER_POLICY_NAME)).toBeUndefined();
    expect(find(assignments, sneaky, foreign)).toMatchObject({ brokerOwned: false, access: { type: 'aws.inline-policy', actions: ['*'] } });
    expect(find(assignments, group, BROKER_POLICY_NAME)).toMatchObject({ brokerOwned: false, removable: true, access: { actions: ['*'] } });
    const own = find(assignments, role, BROKER_POLICY_NAME)!;
    expect(own).toMatchObject({ brokerOwned: true, removable: false, brokerGrantIds: [spec.grantId], access: { actions: ['s3:GetObject'] } });
    expect(find(assignments, role, foreign)).toMatchObject({ brokerOwned: false, removable: false, access: { actions: ['*'] } });
    expect(assignments.filter((a) => a.brokerOwned && a.access.actions?.includes('*'))).toEqual([]);

    // The broker's next write to the policy drops the planted statement instead of keeping it.
    const other = awsGrantSpec(p, role, { kind: 'aws.iam-policy', actions: ['s3:PutObject'], resources: ['arn:aws:s3:::b/*'] });
    await p.grant(other, { overlapping: [] });
    const after = JSON.parse(sim.inlinePolicies(role)[BROKER_POLICY_NAME]) as { Statement: { Sid?: string }[] };
    expect(after.Statement.map((s) => s.Sid)).not.toContain('Planted');
    expect(after.Statement).toHaveLength(2);
    expect(sim.isAllowed(role, 'iam:CreateUser', '*', new Date())).toBe(false);
    await p.revoke(other, { overlapping: [], early: true });
    await p.revoke(spec, { overlapping: [], early: true });
  });

  it('should page across many principals with the Marker as cursor, each assignment once, and resume from a stored cursor', async () => {
    for (let i = 0; i < 45; i++) sim.iamSeeds.putInlinePolicy(sim.createRole(`bulk-${String(i).padStart(2, '0')}`), 'tasks', { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'sqs:SendMessage', Resource: '*' }] });
    const { assignments, pages } = await scan(inventory, OWN);
    expect(pages).toBeGreaterThanOrEqual(6);
    const bulk = assignments.filter((a) => a.principal.displayName?.startsWith('bulk-'));
    expect(bulk).toHaveLength(45);
    expect(new Set(assignments.map((a) => a.key)).size).toBe(assignments.length);
    // A scan stopped after two pages and resumed by another adapter instance (as after a crash)
    // from the stored cursor adds up to the whole set: nothing skipped, nothing twice.
    const before: StandingAssignment[] = [];
    let cursor: string | null = null;
    for (let i = 0; i < 2; i++) {
      const page = await inventory.page(OWN, cursor);
      before.push(...page.assignments);
      cursor = page.cursor;
    }
    const resumedBy = provider().standingInventory();
    const after: StandingAssignment[] = [];
    while (cursor) {
      const page = await resumedBy.page(OWN, cursor);
      after.push(...page.assignments);
      cursor = page.cursor;
    }
    expect(after.length).toBeGreaterThan(0);
    const joined = [...before, ...after].map((a) => a.key);
    expect(new Set(joined).size).toBe(joined.length);
    expect([...joined].sort()).toEqual(assignments.map((a) => a.key).sort());
    const listing = sim.requests().filter((r) => r.action === 'GetAccountAuthorizationDetails' && r.params['Filter.member.1'] === 'User');
    expect(listing.every((r) => r.params.MaxItems === '10')).toBe(true);
  });

  it('should poll access-advisor jobs until COMPLETED, and leave usage unknown (falling back on RoleLastUsed) when one does not finish in time', async () => {
    sim.iamSeeds.setAccessAdvisorPendingPolls(3);
    sim.clearRequests();
    const polled = await inventory.page(OWN, null);
    expect(polled.assignments.every((a) => a.usage !== null)).toBe(true);
    const polls = sim.requests().filter((r) => r.action === 'GetServiceLastAccessedDetails').length;
    const jobs = sim.requests().filter((r) => r.action === 'GenerateServiceLastAccessedDetails').length;
    expect(polls).toBeGreaterThanOrEqual(4 * jobs);
    sim.iamSeeds.setAccessAdvisorPendingPolls(1_000);
    const impatient = awsTestProvider(sim, { inventory: { accessAdvisor: { firstPollMs: 5, maxPollMs: 10, maxWaitMs: 60 } } }).standingInventory();
    const { assignments } = await scan(impatient, OWN);
    const old = find(assignments, arn('role', 'old-power'), 'PowerUserAccess')!;
    expect(old).toMatchObject({ usage: null, neverUsed: false });
    expect(Math.round((Date.now() - old.lastUsedAt!.getTime()) / DAY)).toBe(200);
    expect(find(assignments, arn('role', 'unused-admin'), 'AdministratorAccess')).toMatchObject({ usage: null, lastUsedAt: null, neverUsed: true });
    sim.iamSeeds.setAccessAdvisorPendingPolls(1);
  });

  it('should ride out throttling with the adapter\'s retries', async () => {
    sim.clearRequests();
    sim.inject({ throttle: 3 });
    const page = await inventory.page(OWN, null);
    expect(page.assignments.length).toBeGreaterThan(0);
    expect(sim.requests().filter((r) => r.errorCode === 'Throttling')).toHaveLength(3);
  });

  it('should stop when the caller\'s signal aborts', async () => {
    const controller = new AbortController();
    controller.abort();
    sim.clearRequests();
    await expect(inventory.page(OWN, null, controller.signal)).rejects.toMatchObject({ name: 'AbortError' });
    expect(sim.requests().filter((r) => r.action === 'GetAccountAuthorizationDetails')).toEqual([]);
  });

  it('should refuse a part that is not a served account', async () => {
    await expect(inventory.page('222222222222', null)).rejects.toMatchObject({ kind: 'invalid', options: { code: 'UnservedAccount' } });
    await expect(inventory.page('not-an-account', null)).rejects.toBeInstanceOf(ProviderError);
  });

  it('should remove then restore a managed policy, an inline policy (exactly) and a group membership', async () => {
    const user = sim.createUser('restorable');
    const text = '{\n  "Version": "2012-10-17",\n  "Statement": [{"Sid": "Keep", "Effect": "Allow", "Action": ["kms:Decrypt"], "Resource": "*"}]\n}';
    sim.iamSeeds.putInlinePolicy(user, 'kms-use', text);
    sim.iamSeeds.attachPolicy(user, ADMIN);
    sim.iamSeeds.addToGroup(user, arn('group', 'Admins'));
    const { assignments } = await scan(inventory, OWN);
    const mine = assignments.filter((a) => a.principal.id === user);
    expect(mine.map((a) => a.access.type).sort()).toEqual(['aws.group-membership', 'aws.inline-policy', 'aws.managed-policy']);
    // Stored with the finding: the locator survives a JSON round trip.
    const stored = mine.map((a) => JSON.parse(JSON.stringify(a)) as StandingAssignment);

    for (const a of stored) await inventory.remove(a);
    expect(sim.inlinePolicies(user)).toEqual({});
    expect(sim.iamSeeds.attachedPolicies(user)).toEqual([]);
    expect(sim.iamSeeds.groupsOf(user)).toEqual([]);
    expect(sim.isAllowed(user, 'kms:Decrypt', '*', new Date())).toBe(false);
    // Absent means done.
    for (const a of stored) await inventory.remove(a);

    for (const a of stored) await inventory.restore(a);
    expect(sim.inlinePolicies(user)).toEqual({ 'kms-use': text });
    expect(sim.iamSeeds.attachedPolicies(user)).toEqual([ADMIN]);
    expect(sim.iamSeeds.groupsOf(user)).toEqual(['Admins']);
    for (const a of stored) await inventory.restore(a);
    const again = (await scan(inventory, OWN)).assignments.filter((a) => a.principal.id === user);
    expect(again.map((a) => a.key).sort()).toEqual(mine.map((a) => a.key).sort());
  });

  it('should refuse to remove from or restore to a principal or group recreated under the same name since the scan', async () => {
    const policy = { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'ec2:*', Resource: '*' }] };
    const dave = sim.createUser('dave');
    sim.iamSeeds.attachPolicy(dave, ADMIN);
    sim.iamSeeds.putInlinePolicy(dave, 'ops', policy);
    const team = sim.iamSeeds.createGroup('Team');
    sim.iamSeeds.addToGroup(dave, team);
    const role = sim.createRole('recycled');
    sim.iamSeeds.attachPolicy(role, ADMIN);
    const listed = (await scan(inventory, OWN)).assignments;
    const managed = find(listed, dave, 'AdministratorAccess')!;
    const inline = find(listed, dave, 'ops')!;
    const membership = find(listed, dave, 'Team')!;
    const roleAdmin = find(listed, role, 'AdministratorAccess')!;
    expect(managed.locator).toMatchObject({ principalId: expect.stringMatching(/^AIDA/) });
    expect(membership.locator).toMatchObject({ userId: expect.stringMatching(/^AIDA/), groupId: expect.stringMatching(/^AGPA/) });

    // Deleted and recreated under the same names, with the same access: someone else now.
    sim.iamSeeds.deleteEntity(dave);
    sim.iamSeeds.deleteEntity(team);
    sim.iamSeeds.deleteEntity(role);
    const dave2 = sim.createUser('dave');
    sim.iamSeeds.attachPolicy(dave2, ADMIN);
    sim.iamSeeds.putInlinePolicy(dave2, 'ops', policy);
    sim.iamSeeds.addToGroup(dave2, sim.iamSeeds.createGroup('Team'));
    sim.iamSeeds.attachPolicy(sim.createRole('recycled'), ADMIN);
    for (const a of [managed, inline, membership, roleAdmin]) {
      await expect(inventory.remove(a)).rejects.toMatchObject({ kind: 'terminal', options: { code: 'PrincipalReplaced', field: 'locator' } });
    }
    expect(sim.iamSeeds.attachedPolicies(dave2)).toEqual([ADMIN]);
    expect(Object.keys(sim.inlinePolicies(dave2))).toEqual(['ops']);
    expect(sim.iamSeeds.groupsOf(dave2)).toEqual(['Team']);
    expect(sim.iamSeeds.attachedPolicies(role)).toEqual([ADMIN]);

    // Restore: the same check, so a removal is never put back on a newcomer.
    sim.iamSeeds.deleteEntity(role);
    await inventory.remove(roleAdmin); // gone: removed
    sim.createRole('recycled');
    await expect(inventory.restore(roleAdmin)).rejects.toMatchObject({ options: { code: 'PrincipalReplaced' } });
    expect(sim.iamSeeds.attachedPolicies(role)).toEqual([]);
  });

  it('should not overwrite an inline policy created under the same name after the removal when restoring', async () => {
    const erin = sim.createUser('erin');
    const original = { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'kms:Decrypt', Resource: '*' }] };
    sim.iamSeeds.putInlinePolicy(erin, 'keys', original);
    const listed = find((await scan(inventory, OWN)).assignments, erin, 'keys')!;
    await inventory.remove(listed);
    const newer = JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'kms:Encrypt', Resource: '*' }] });
    sim.iamSeeds.putInlinePolicy(erin, 'keys', newer);
    await expect(inventory.restore(listed)).rejects.toMatchObject({ kind: 'terminal', options: { code: 'PolicyNameTaken', field: 'locator' } });
    expect(sim.inlinePolicies(erin)).toEqual({ keys: newer });
    // The same document (spacing aside) is already restored.
    sim.iamSeeds.putInlinePolicy(erin, 'keys', JSON.stringify(original, null, 2));
    await inventory.restore(listed);
    expect(JSON.parse(sim.inlinePolicies(erin).keys)).toEqual(original);
  });

  it('should refuse to delete an inline policy changed since the scan, and a locator it did not write', async () => {
    const user = sim.createUser('drifting');
    sim.iamSeeds.putInlinePolicy(user, 'p', { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 's3:GetObject', Resource: '*' }] });
    const listed = find((await scan(inventory, OWN)).assignments, user, 'p')!;
    sim.iamSeeds.putInlinePolicy(user, 'p', { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 's3:*', Resource: '*' }] });
    await expect(inventory.remove(listed)).rejects.toMatchObject({ kind: 'terminal', options: { code: 'ChangedSinceScan' } });
    expect(Object.keys(sim.inlinePolicies(user))).toEqual(['p']);
    await expect(inventory.remove({ ...listed, locator: { mechanism: 'managed', account: OWN } })).rejects.toMatchObject({ kind: 'invalid', options: { field: 'locator' } });
  });
});

/** What a new user scanning the sandbox finds in AWS (apps/sandbox's seedSandboxAwsStanding). */
describe('AWS standing-access inventory of the sandbox estate', () => {
  it('should find the admin user, the unused admin role, the read-only user and the group member, and recognise the broker\'s grant', async () => {
    const sim = await AwsSimulator.start({ port: 0 });
    try {
      seedSandboxAwsStanding(sim);
      const { assignments } = await scan(awsTestProvider(sim, { inventory: { accessAdvisor: { firstPollMs: 1, maxPollMs: 5 } } }).standingInventory(), OWN);
      expect(find(assignments, arn('user', 'ops-admin'), 'AdministratorAccess')).toMatchObject({ neverUsed: false, usage: { used: ['ec2', 's3'] }, principal: { human: true } });
      expect(find(assignments, arn('role', 'legacy-admin'), 'AdministratorAccess')).toMatchObject({ neverUsed: true, lastUsedAt: null });
      expect(find(assignments, arn('user', 'auditor-ro'), 'ReadOnlyAccess')).toMatchObject({ access: { type: 'aws.managed-policy' }, usage: { used: ['cloudtrail'] } });
      expect(find(assignments, arn('user', 'dana'), 'Admins')!.access.actions).toEqual(expect.arrayContaining(['iam:*', 'ec2:*']));
      const broker = assignments.filter((a) => a.brokerOwned);
      expect(broker.map((a) => [a.principal.id, a.access.name, a.removable])).toEqual([[arn('role', 'batch-worker'), BROKER_POLICY_NAME, false]]);
    } finally {
      await sim.close();
    }
  });
});
