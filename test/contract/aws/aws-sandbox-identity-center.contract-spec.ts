import { GetGroupIdCommand, GetUserIdCommand, IdentitystoreClient, ListGroupMembershipsCommand } from '@aws-sdk/client-identitystore';
import { ListAccountsForParentCommand, ListOrganizationalUnitsForParentCommand, ListRootsCommand, OrganizationsClient } from '@aws-sdk/client-organizations';
import { DescribePermissionSetCommand, ListInstancesCommand, ListManagedPoliciesInPermissionSetCommand, ListPermissionSetsCommand, SSOAdminClient } from '@aws-sdk/client-sso-admin';
import { AwsSimulator } from '@jit/sim-aws';
import { SANDBOX, seedSandboxIdentityCenter } from '../../../apps/sandbox/src/sandbox-clouds';

/** The sandbox's Identity Center as the real SDK clients see it: what the walk-through and the rules name. */
describe('sandbox AWS: Identity Center seeds', () => {
  let sim: AwsSimulator;
  const idc = SANDBOX.aws.identityCenter;
  beforeAll(async () => {
    sim = await AwsSimulator.start({ port: 0 });
    seedSandboxIdentityCenter(sim);
  });
  afterAll(() => sim.close());

  it('should serve the fixed instance, two users, the group with bob, three accounts in the OU and the ReadOnly permission set', async () => {
    const common = { region: 'us-east-1', endpoint: sim.endpoint, credentials: { accessKeyId: 'AKIASANDBOX', secretAccessKey: 'sandbox' }, maxAttempts: 1 };
    const sso = new SSOAdminClient(common);
    const ids = new IdentitystoreClient(common);
    const org = new OrganizationsClient(common);
    try {
      const [instance] = (await sso.send(new ListInstancesCommand({}))).Instances!;
      expect(instance).toEqual({ InstanceArn: `arn:aws:sso:::instance/${idc.instanceId}`, IdentityStoreId: idc.identityStoreId });
      for (const [name, id] of Object.entries(idc.users)) {
        const found = await ids.send(new GetUserIdCommand({ IdentityStoreId: idc.identityStoreId, AlternateIdentifier: { UniqueAttribute: { AttributePath: 'emails.value', AttributeValue: `${name}@example.com` } } }));
        expect(found.UserId).toBe(id);
      }
      const group = await ids.send(new GetGroupIdCommand({ IdentityStoreId: idc.identityStoreId, AlternateIdentifier: { UniqueAttribute: { AttributePath: 'displayName', AttributeValue: idc.group.name } } }));
      const members = await ids.send(new ListGroupMembershipsCommand({ IdentityStoreId: idc.identityStoreId, GroupId: group.GroupId }));
      expect(members.GroupMemberships!.map((m) => m.MemberId)).toEqual([{ UserId: idc.users.bob }]);
      const root = (await org.send(new ListRootsCommand({}))).Roots![0].Id!;
      const ous = (await org.send(new ListOrganizationalUnitsForParentCommand({ ParentId: root }))).OrganizationalUnits!;
      expect(ous.map((o) => [o.Id, o.Name])).toEqual([[idc.organizationalUnit, 'Workloads']]);
      const accounts = (await org.send(new ListAccountsForParentCommand({ ParentId: idc.organizationalUnit }))).Accounts!;
      expect(accounts.map((a) => a.Id)).toEqual(idc.accounts);
      const [arn] = (await sso.send(new ListPermissionSetsCommand({ InstanceArn: instance.InstanceArn }))).PermissionSets!;
      const set = (await sso.send(new DescribePermissionSetCommand({ InstanceArn: instance.InstanceArn, PermissionSetArn: arn }))).PermissionSet!;
      expect(set).toMatchObject({ Name: idc.permissionSet, SessionDuration: 'PT1H' });
      const managed = await sso.send(new ListManagedPoliciesInPermissionSetCommand({ InstanceArn: instance.InstanceArn, PermissionSetArn: arn }));
      expect(managed.AttachedManagedPolicies).toEqual([{ Name: 'ReadOnlyAccess', Arn: 'arn:aws:iam::aws:policy/ReadOnlyAccess' }]);
      expect(sim.identityCenter.assignments()).toEqual([]);
    } finally {
      sso.destroy();
      ids.destroy();
      org.destroy();
    }
  });
});
