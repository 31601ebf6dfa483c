import {
  AttachManagedPolicyToPermissionSetCommand, CreateAccountAssignmentCommand, CreatePermissionSetCommand, DeleteAccountAssignmentCommand,
  DeleteInlinePolicyFromPermissionSetCommand, DeletePermissionSetCommand, DescribeAccountAssignmentCreationStatusCommand,
  DescribeAccountAssignmentDeletionStatusCommand, DescribePermissionSetCommand, DescribePermissionSetProvisioningStatusCommand,
  GetInlinePolicyForPermissionSetCommand, ListAccountAssignmentsCommand, ListAccountsForProvisionedPermissionSetCommand, ListInstancesCommand,
  ListManagedPoliciesInPermissionSetCommand, ListPermissionSetsCommand, ListPermissionSetsProvisionedToAccountCommand, ListTagsForResourceCommand,
  ProvisionPermissionSetCommand, PutInlinePolicyToPermissionSetCommand, SSOAdminClient, TagResourceCommand, UpdatePermissionSetCommand, paginateListAccountAssignments,
  paginateListPermissionSets,
} from '@aws-sdk/client-sso-admin';
import {
  DescribeGroupCommand, DescribeUserCommand, GetGroupIdCommand, GetGroupMembershipIdCommand, GetUserIdCommand, IdentitystoreClient, IsMemberInGroupsCommand,
  ListGroupMembershipsCommand, ListGroupMembershipsForMemberCommand, ListGroupsCommand, ListUsersCommand, paginateListUsers,
} from '@aws-sdk/client-identitystore';
import {
  DescribeAccountCommand, DescribeOrganizationCommand, DescribeOrganizationalUnitCommand, ListAccountsCommand, ListAccountsForParentCommand, ListChildrenCommand,
  ListOrganizationalUnitsForParentCommand, ListParentsCommand, ListRootsCommand, OrganizationsClient, paginateListAccounts,
} from '@aws-sdk/client-organizations';
import { AwsSimulator } from '@jit/sim-aws';
import { checkCall } from './aws-json-models';

const credentials = { accessKeyId: 'AKIAIDCTEST', secretAccessKey: 'secret' };
const POLICY = JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 's3:GetObject', Resource: 'arn:aws:s3:::idc-bucket/*' }] });

/** The SDK error's name and message, or undefined when the call succeeded. */
async function failure(call: Promise<unknown>): Promise<{ name: string; message: string; status?: number } | undefined> {
  try {
    await call;
    return undefined;
  } catch (e) {
    const err = e as { name: string; message: string; $metadata?: { httpStatusCode?: number } };
    return { name: err.name, message: err.message, status: err.$metadata?.httpStatusCode };
  }
}

describe('IAM Identity Center, Identity Store and Organizations simulator (real SDK clients)', () => {
  let sim: AwsSimulator;
  let sso: SSOAdminClient;
  let ids: IdentitystoreClient;
  let org: OrganizationsClient;
  let instanceArn: string;
  let storeId: string;

  beforeEach(async () => {
    sim = await AwsSimulator.start({ port: 0 });
    const common = { region: 'eu-west-1', endpoint: sim.endpoint, credentials, maxAttempts: 1 };
    sso = new SSOAdminClient(common);
    ids = new IdentitystoreClient(common);
    org = new OrganizationsClient({ ...common, region: 'us-east-1' });
    instanceArn = sim.identityCenter.instanceArn;
    storeId = sim.identityCenter.identityStoreId;
  });
  afterEach(async () => {
    // Every call of the test, as sent by the SDK and answered, against the botocore models.
    expect(sim.identityCenter.requests().flatMap(checkCall)).toEqual([]);
    sso.destroy();
    ids.destroy();
    org.destroy();
    await sim.close();
  });

  /** Polls a Describe*Status call until it leaves IN_PROGRESS; returns the statuses seen. */
  async function until<T extends { Status?: string }>(describe: () => Promise<T | undefined>): Promise<{ seen: string[]; last: T }> {
    const seen: string[] = [];
    for (let i = 0; i < 20; i++) {
      const status = (await describe())!;
      seen.push(status.Status!);
      if (status.Status !== 'IN_PROGRESS') return { seen, last: status };
    }
    throw new Error(`still IN_PROGRESS after 20 polls: ${seen.join(',')}`);
  }

  async function assign(accountId: string, permissionSetArn: string, principalType: 'USER' | 'GROUP', principalId: string) {
    const created = await sso.send(
      new CreateAccountAssignmentCommand({ InstanceArn: instanceArn, TargetId: accountId, TargetType: 'AWS_ACCOUNT', PermissionSetArn: permissionSetArn, PrincipalType: principalType, PrincipalId: principalId }),
    );
    return { created: created.AccountAssignmentCreationStatus!, ...(await until(async () =>
      (await sso.send(new DescribeAccountAssignmentCreationStatusCommand({ InstanceArn: instanceArn, AccountAssignmentCreationRequestId: created.AccountAssignmentCreationStatus!.RequestId }))).AccountAssignmentCreationStatus)) };
  }

  async function unassign(accountId: string, permissionSetArn: string, principalType: 'USER' | 'GROUP', principalId: string) {
    const deleted = await sso.send(
      new DeleteAccountAssignmentCommand({ InstanceArn: instanceArn, TargetId: accountId, TargetType: 'AWS_ACCOUNT', PermissionSetArn: permissionSetArn, PrincipalType: principalType, PrincipalId: principalId }),
    );
    return until(async () =>
      (await sso.send(new DescribeAccountAssignmentDeletionStatusCommand({ InstanceArn: instanceArn, AccountAssignmentDeletionRequestId: deleted.AccountAssignmentDeletionStatus!.RequestId }))).AccountAssignmentDeletionStatus);
  }

  describe('sso-admin', () => {
    it('should list the one instance with its identity store, with ARNs in the documented formats', async () => {
      const out = await sso.send(new ListInstancesCommand({}));
      expect(out.Instances).toEqual([{ InstanceArn: instanceArn, IdentityStoreId: storeId }]);
      expect(instanceArn).toMatch(/^arn:aws:sso:::instance\/ssoins-[0-9a-f]{16}$/);
      expect(storeId).toMatch(/^d-[0-9a-f]{10}$/);
    });

    it('should create, describe, list, tag and delete a permission set, with PT1H when no session duration is given', async () => {
      const created = await sso.send(new CreatePermissionSetCommand({ InstanceArn: instanceArn, Name: 'Deployer', Description: 'deploys', Tags: [{ Key: 'team', Value: 'platform' }] }));
      const arn = created.PermissionSet!.PermissionSetArn!;
      expect(arn).toMatch(new RegExp(`^arn:aws:sso:::permissionSet/${instanceArn.split('/')[1]}/ps-[0-9a-f]{16}$`));
      expect(created.PermissionSet).toMatchObject({ Name: 'Deployer', Description: 'deploys', SessionDuration: 'PT1H' });
      expect(created.PermissionSet!.CreatedDate).toBeInstanceOf(Date);
      const described = await sso.send(new DescribePermissionSetCommand({ InstanceArn: instanceArn, PermissionSetArn: arn }));
      expect(described.PermissionSet).toEqual(created.PermissionSet);
      await sso.send(new TagResourceCommand({ InstanceArn: instanceArn, ResourceArn: arn, Tags: [{ Key: 'owner', Value: 'jit' }] }));
      const tags = await sso.send(new ListTagsForResourceCommand({ InstanceArn: instanceArn, ResourceArn: arn }));
      expect(tags.Tags).toEqual([{ Key: 'team', Value: 'platform' }, { Key: 'owner', Value: 'jit' }]);
      expect((await sso.send(new ListPermissionSetsCommand({ InstanceArn: instanceArn }))).PermissionSets).toEqual([arn]);
      const reserved = [{ Key: 'aws:owner', Value: 'x' }];
      expect(await failure(sso.send(new TagResourceCommand({ InstanceArn: instanceArn, ResourceArn: arn, Tags: reserved })))).toMatchObject({ name: 'ValidationException' });
      expect(await failure(sso.send(new CreatePermissionSetCommand({ InstanceArn: instanceArn, Name: 'Reserved', Tags: reserved })))).toMatchObject({ name: 'ValidationException' });
      const many = Array.from({ length: 49 }, (_, i) => ({ Key: `k${i}`, Value: 'v' }));
      expect(await failure(sso.send(new TagResourceCommand({ InstanceArn: instanceArn, ResourceArn: arn, Tags: many })))).toMatchObject({ name: 'ServiceQuotaExceededException' });
      await sso.send(new DeletePermissionSetCommand({ InstanceArn: instanceArn, PermissionSetArn: arn }));
      const gone = await failure(sso.send(new DescribePermissionSetCommand({ InstanceArn: instanceArn, PermissionSetArn: arn })));
      expect(gone).toMatchObject({ name: 'ResourceNotFoundException', status: 400 });
    });

    it('should refuse a duplicate name (ConflictException) and session durations outside PT1H..PT12H (ValidationException)', async () => {
      await sso.send(new CreatePermissionSetCommand({ InstanceArn: instanceArn, Name: 'Twice' }));
      expect(await failure(sso.send(new CreatePermissionSetCommand({ InstanceArn: instanceArn, Name: 'Twice' })))).toMatchObject({ name: 'ConflictException' });
      for (const SessionDuration of ['PT30M', 'PT13H', 'P1D', 'PT0H']) {
        const refused = await failure(sso.send(new CreatePermissionSetCommand({ InstanceArn: instanceArn, Name: `d${SessionDuration}`, SessionDuration })));
        expect([SessionDuration, refused?.name]).toEqual([SessionDuration, 'ValidationException']);
      }
      for (const SessionDuration of ['PT1H', 'PT12H', 'PT90M', 'PT4H30M']) {
        const ok = await sso.send(new CreatePermissionSetCommand({ InstanceArn: instanceArn, Name: `ok${SessionDuration}`, SessionDuration }));
        expect(ok.PermissionSet!.SessionDuration).toBe(SessionDuration);
      }
    });

    it('should store, return and delete an inline policy up to 32,768 characters, refusing longer or malformed ones', async () => {
      const arn = sim.identityCenter.createPermissionSet({ name: 'Inline' });
      expect((await sso.send(new GetInlinePolicyForPermissionSetCommand({ InstanceArn: instanceArn, PermissionSetArn: arn }))).InlinePolicy).toBe('');
      await sso.send(new PutInlinePolicyToPermissionSetCommand({ InstanceArn: instanceArn, PermissionSetArn: arn, InlinePolicy: POLICY }));
      expect((await sso.send(new GetInlinePolicyForPermissionSetCommand({ InstanceArn: instanceArn, PermissionSetArn: arn }))).InlinePolicy).toBe(POLICY);
      const padded = (n: number) => POLICY.slice(0, -1) + ' '.repeat(n - POLICY.length) + '}';
      await sso.send(new PutInlinePolicyToPermissionSetCommand({ InstanceArn: instanceArn, PermissionSetArn: arn, InlinePolicy: padded(32_768) }));
      const long = await failure(sso.send(new PutInlinePolicyToPermissionSetCommand({ InstanceArn: instanceArn, PermissionSetArn: arn, InlinePolicy: padded(32_769) })));
      expect(long).toMatchObject({ name: 'ValidationException' });
      expect(long!.message).toContain("at 'inlinePolicy' failed to satisfy constraint: Member must have length less than or equal to 32768");
      const malformed = await failure(sso.send(new PutInlinePolicyToPermissionSetCommand({ InstanceArn: instanceArn, PermissionSetArn: arn, InlinePolicy: '{"Statement":' })));
      expect(malformed).toMatchObject({ name: 'ValidationException' });
      await sso.send(new DeleteInlinePolicyFromPermissionSetCommand({ InstanceArn: instanceArn, PermissionSetArn: arn }));
      expect((await sso.send(new GetInlinePolicyForPermissionSetCommand({ InstanceArn: instanceArn, PermissionSetArn: arn }))).InlinePolicy).toBe('');
    });

    it('should attach AWS managed policies once each and list them', async () => {
      const arn = sim.identityCenter.createPermissionSet({ name: 'Managed' });
      const ManagedPolicyArn = 'arn:aws:iam::aws:policy/ReadOnlyAccess';
      await sso.send(new AttachManagedPolicyToPermissionSetCommand({ InstanceArn: instanceArn, PermissionSetArn: arn, ManagedPolicyArn }));
      expect(await failure(sso.send(new AttachManagedPolicyToPermissionSetCommand({ InstanceArn: instanceArn, PermissionSetArn: arn, ManagedPolicyArn })))).toMatchObject({ name: 'ConflictException' });
      const listed = await sso.send(new ListManagedPoliciesInPermissionSetCommand({ InstanceArn: instanceArn, PermissionSetArn: arn }));
      expect(listed.AttachedManagedPolicies).toEqual([{ Name: 'ReadOnlyAccess', Arn: ManagedPolicyArn }]);
      // Provisioned, the role carries the attached policy: IAM evaluates ReadOnlyAccess on it.
      const account = sim.organization.createAccount({ name: 'managed' });
      sim.identityCenter.assign({ accountId: account, permissionSetArn: arn, principalType: 'USER', principalId: sim.identityCenter.createUser({ userName: 'm' }) });
      const role = sim.identityCenter.provisioned()[0].roleArn;
      expect(sim.isAllowed(role, 's3:GetObject', 'arn:aws:s3:::any/k', new Date())).toBe(true);
      expect(sim.isAllowed(role, 's3:PutObject', 'arn:aws:s3:::any/k', new Date())).toBe(false);
      const customer = await failure(sso.send(new AttachManagedPolicyToPermissionSetCommand({ InstanceArn: instanceArn, PermissionSetArn: arn, ManagedPolicyArn: 'arn:aws:iam::123456789012:policy/Mine' })));
      expect(customer).toMatchObject({ name: 'ValidationException' });
    });

    it('should create an assignment asynchronously: IN_PROGRESS with a RequestId, then SUCCEEDED after the configured polls, provisioning an AWSReservedSSO role', async () => {
      const account = sim.organization.createAccount({ name: 'prod' });
      const user = sim.identityCenter.createUser({ userName: 'alice' });
      const arn = sim.identityCenter.createPermissionSet({ name: 'ReadOnly', inlinePolicy: POLICY, sessionDuration: 'PT2H' });
      sim.identityCenter.setTiming({ polls: 2 });
      const { created, seen, last } = await assign(account, arn, 'USER', user);
      expect(created).toMatchObject({ Status: 'IN_PROGRESS', TargetId: account, TargetType: 'AWS_ACCOUNT', PermissionSetArn: arn, PrincipalType: 'USER', PrincipalId: user });
      expect(created.RequestId).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
      expect(seen).toEqual(['IN_PROGRESS', 'IN_PROGRESS', 'SUCCEEDED']);
      expect(last.FailureReason).toBeUndefined();
      const listed = await sso.send(new ListAccountAssignmentsCommand({ InstanceArn: instanceArn, AccountId: account, PermissionSetArn: arn }));
      expect(listed.AccountAssignments).toEqual([{ AccountId: account, PermissionSetArn: arn, PrincipalType: 'USER', PrincipalId: user }]);
      expect((await sso.send(new ListPermissionSetsProvisionedToAccountCommand({ InstanceArn: instanceArn, AccountId: account }))).PermissionSets).toEqual([arn]);
      expect((await sso.send(new ListAccountsForProvisionedPermissionSetCommand({ InstanceArn: instanceArn, PermissionSetArn: arn }))).AccountIds).toEqual([account]);
      const [provisioned] = sim.identityCenter.provisioned();
      expect(provisioned.roleArn).toMatch(new RegExp(`^arn:aws:iam::${account}:role/aws-reserved/sso.amazonaws.com/AWSReservedSSO_ReadOnly_[0-9a-f]{16}$`));
      // The role carries the permission set's inline policy: IAM evaluates it.
      expect(sim.isAllowed(provisioned.roleArn, 's3:GetObject', 'arn:aws:s3:::idc-bucket/k', new Date())).toBe(true);
      expect(sim.identityCenter.assignments()).toEqual([{ accountId: account, permissionSetArn: arn, permissionSetName: 'ReadOnly', principalType: 'USER', principalId: user }]);
    });

    it('should not show an assignment before its request completes, and complete by time alone when configured in milliseconds', async () => {
      const account = sim.organization.createAccount({ name: 'dev' });
      const group = sim.identityCenter.createGroup({ displayName: 'admins' });
      const arn = sim.identityCenter.createPermissionSet({ name: 'Admin' });
      sim.identityCenter.setTiming({ ms: 150 });
      await sso.send(new CreateAccountAssignmentCommand({ InstanceArn: instanceArn, TargetId: account, TargetType: 'AWS_ACCOUNT', PermissionSetArn: arn, PrincipalType: 'GROUP', PrincipalId: group }));
      const before = await sso.send(new ListAccountAssignmentsCommand({ InstanceArn: instanceArn, AccountId: account, PermissionSetArn: arn }));
      expect(before.AccountAssignments).toEqual([]);
      await new Promise((r) => setTimeout(r, 200));
      const after = await sso.send(new ListAccountAssignmentsCommand({ InstanceArn: instanceArn, AccountId: account, PermissionSetArn: arn }));
      expect(after.AccountAssignments).toHaveLength(1);
    });

    it('should end FAILED with a FailureReason for an unknown principal, an account outside the organization, and an injected failure', async () => {
      const account = sim.organization.createAccount({ name: 'stage' });
      const user = sim.identityCenter.createUser({ userName: 'bob' });
      const arn = sim.identityCenter.createPermissionSet({ name: 'Ops' });
      sim.identityCenter.setTiming({ polls: 0 });
      const ghost = `${storeId.slice(2)}-00000000-0000-4000-8000-000000000000`;
      const unknownUser = await assign(account, arn, 'USER', ghost);
      expect(unknownUser.last).toMatchObject({ Status: 'FAILED' });
      expect(unknownUser.last.FailureReason).toContain(ghost);
      const outside = await assign('999999999999', arn, 'USER', user);
      expect(outside.last.Status).toBe('FAILED');
      expect(outside.last.FailureReason).toContain('999999999999');
      const suspended = await assign(sim.organization.createAccount({ name: 'gone', status: 'SUSPENDED' }), arn, 'USER', user);
      expect(suspended.last.FailureReason).toContain('SUSPENDED');
      const group = sim.identityCenter.createGroup({ displayName: 'not-a-user' });
      expect((await assign(account, arn, 'USER', group)).last.Status).toBe('FAILED');
      sim.identityCenter.failNext({ kind: 'create-assignment', accountId: account, reason: 'Simulated failure' });
      const injected = await assign(account, arn, 'USER', user);
      expect(injected.last).toMatchObject({ Status: 'FAILED', FailureReason: 'Simulated failure' });
      expect(sim.identityCenter.assignments()).toEqual([]);
      // The rule was spent: the next request succeeds.
      expect((await assign(account, arn, 'USER', user)).last.Status).toBe('SUCCEEDED');
    });

    it('should delete an assignment asynchronously, removing the role with the last assignment, and fail deleting one that does not exist', async () => {
      const account = sim.organization.createAccount({ name: 'sandbox' });
      const alice = sim.identityCenter.createUser({ userName: 'alice' });
      const bob = sim.identityCenter.createUser({ userName: 'bob' });
      const arn = sim.identityCenter.createPermissionSet({ name: 'Shared', inlinePolicy: POLICY });
      sim.identityCenter.assign({ accountId: account, permissionSetArn: arn, principalType: 'USER', principalId: alice });
      sim.identityCenter.assign({ accountId: account, permissionSetArn: arn, principalType: 'USER', principalId: bob });
      const role = sim.identityCenter.provisioned()[0].roleArn;
      const first = await unassign(account, arn, 'USER', alice);
      expect(first.seen).toEqual(['IN_PROGRESS', 'SUCCEEDED']);
      expect(sim.identityCenter.provisioned()).toHaveLength(1);
      await unassign(account, arn, 'USER', bob);
      expect(sim.identityCenter.provisioned()).toEqual([]);
      expect(sim.isAllowed(role, 's3:GetObject', 'arn:aws:s3:::idc-bucket/k', new Date())).toBe(false);
      const again = await unassign(account, arn, 'USER', bob);
      expect(again.last.Status).toBe('FAILED');
    });

    it('should refuse deleting a permission set that is still assigned (ConflictException)', async () => {
      const account = sim.organization.createAccount({ name: 'qa' });
      const user = sim.identityCenter.createUser({ userName: 'carol' });
      const arn = sim.identityCenter.createPermissionSet({ name: 'InUse' });
      sim.identityCenter.assign({ accountId: account, permissionSetArn: arn, principalType: 'USER', principalId: user });
      const refused = await failure(sso.send(new DeletePermissionSetCommand({ InstanceArn: instanceArn, PermissionSetArn: arn })));
      expect(refused).toMatchObject({ name: 'ConflictException', status: 400 });
      await unassign(account, arn, 'USER', user);
      await sso.send(new DeletePermissionSetCommand({ InstanceArn: instanceArn, PermissionSetArn: arn }));
    });

    it('should re-provision a changed permission set asynchronously, reporting accounts not on the latest version until then', async () => {
      const account = sim.organization.createAccount({ name: 'data' });
      const user = sim.identityCenter.createUser({ userName: 'dave' });
      const arn = sim.identityCenter.createPermissionSet({ name: 'Data', inlinePolicy: POLICY });
      sim.identityCenter.assign({ accountId: account, permissionSetArn: arn, principalType: 'USER', principalId: user });
      const other = POLICY.replace('idc-bucket', 'other-bucket');
      await sso.send(new PutInlinePolicyToPermissionSetCommand({ InstanceArn: instanceArn, PermissionSetArn: arn, InlinePolicy: other }));
      const stale = await sso.send(new ListPermissionSetsProvisionedToAccountCommand({ InstanceArn: instanceArn, AccountId: account, ProvisioningStatus: 'LATEST_PERMISSION_SET_NOT_PROVISIONED' }));
      expect(stale.PermissionSets).toEqual([arn]);
      const role = sim.identityCenter.provisioned()[0].roleArn;
      expect(sim.isAllowed(role, 's3:GetObject', 'arn:aws:s3:::other-bucket/k', new Date())).toBe(false);
      const started = await sso.send(new ProvisionPermissionSetCommand({ InstanceArn: instanceArn, PermissionSetArn: arn, TargetType: 'ALL_PROVISIONED_ACCOUNTS' }));
      expect(started.PermissionSetProvisioningStatus).toMatchObject({ Status: 'IN_PROGRESS', PermissionSetArn: arn });
      expect(await failure(sso.send(new ProvisionPermissionSetCommand({ InstanceArn: instanceArn, PermissionSetArn: arn, TargetType: 'ALL_PROVISIONED_ACCOUNTS' })))).toMatchObject({ name: 'ConflictException' });
      const { seen } = await until(async () =>
        (await sso.send(new DescribePermissionSetProvisioningStatusCommand({ InstanceArn: instanceArn, ProvisionPermissionSetRequestId: started.PermissionSetProvisioningStatus!.RequestId }))).PermissionSetProvisioningStatus);
      expect(seen).toEqual(['IN_PROGRESS', 'SUCCEEDED']);
      expect(sim.isAllowed(role, 's3:GetObject', 'arn:aws:s3:::other-bucket/k', new Date())).toBe(true);
      const latest = await sso.send(new ListPermissionSetsProvisionedToAccountCommand({ InstanceArn: instanceArn, AccountId: account, ProvisioningStatus: 'LATEST_PERMISSION_SET_PROVISIONED' }));
      expect(latest.PermissionSets).toEqual([arn]);
    });

    it('should treat a repeated creation as done, refuse malformed provisioning and updates, and not know a made-up request id', async () => {
      const account = sim.organization.createAccount({ name: 'edge' });
      const user = sim.identityCenter.createUser({ userName: 'gina' });
      const arn = sim.identityCenter.createPermissionSet({ name: 'Edge' });
      expect((await assign(account, arn, 'USER', user)).last.Status).toBe('SUCCEEDED');
      expect((await assign(account, arn, 'USER', user)).last.Status).toBe('SUCCEEDED');
      expect(sim.identityCenter.assignments()).toHaveLength(1);
      const noTarget = await failure(sso.send(new ProvisionPermissionSetCommand({ InstanceArn: instanceArn, PermissionSetArn: arn, TargetType: 'AWS_ACCOUNT' })));
      expect(noTarget).toMatchObject({ name: 'ValidationException' });
      const both = await failure(sso.send(new ProvisionPermissionSetCommand({ InstanceArn: instanceArn, PermissionSetArn: arn, TargetType: 'ALL_PROVISIONED_ACCOUNTS', TargetId: account })));
      expect(both).toMatchObject({ name: 'ValidationException' });
      const update = await failure(sso.send(new UpdatePermissionSetCommand({ InstanceArn: instanceArn, PermissionSetArn: arn, SessionDuration: 'PT13H' })));
      expect(update).toMatchObject({ name: 'ValidationException' });
      await sso.send(new UpdatePermissionSetCommand({ InstanceArn: instanceArn, PermissionSetArn: arn, SessionDuration: 'PT8H' }));
      expect(sim.identityCenter.permissionSet(arn)!.sessionDuration).toBe('PT8H');
      // The change reaches the account's role only when provisioned again.
      expect(sim.identityCenter.provisioned()[0].upToDate).toBe(false);
      const unknown = await failure(
        sso.send(new DescribeAccountAssignmentCreationStatusCommand({ InstanceArn: instanceArn, AccountAssignmentCreationRequestId: '00000000-0000-4000-8000-000000000000' })),
      );
      expect(unknown).toMatchObject({ name: 'ResourceNotFoundException' });
      const otherInstance = await failure(sso.send(new ListPermissionSetsCommand({ InstanceArn: 'arn:aws:sso:::instance/ssoins-0000000000000000' })));
      expect(otherInstance).toMatchObject({ name: 'ResourceNotFoundException' });
    });

    it('should answer ServiceQuotaExceededException past the permission sets per instance and per account quotas', async () => {
      sim.identityCenter.setQuotas({ permissionSetsPerInstance: 2, permissionSetsProvisionedPerAccount: 1 });
      const a = sim.identityCenter.createPermissionSet({ name: 'A' });
      const b = sim.identityCenter.createPermissionSet({ name: 'B' });
      expect(await failure(sso.send(new CreatePermissionSetCommand({ InstanceArn: instanceArn, Name: 'C' })))).toMatchObject({ name: 'ServiceQuotaExceededException' });
      const account = sim.organization.createAccount({ name: 'full' });
      const user = sim.identityCenter.createUser({ userName: 'erin' });
      expect((await assign(account, a, 'USER', user)).last.Status).toBe('SUCCEEDED');
      const refused = await failure(sso.send(new CreateAccountAssignmentCommand({ InstanceArn: instanceArn, TargetId: account, TargetType: 'AWS_ACCOUNT', PermissionSetArn: b, PrincipalType: 'USER', PrincipalId: user })));
      expect(refused).toMatchObject({ name: 'ServiceQuotaExceededException' });
      expect(refused!.message).toContain('(1)');
    });

    it('should default to 2,000 permission sets per instance and 50 provisioned per account', async () => {
      for (let i = 0; i < 2_000; i++) sim.identityCenter.createPermissionSet({ name: `ps-${i}` });
      expect(await failure(sso.send(new CreatePermissionSetCommand({ InstanceArn: instanceArn, Name: 'one-more' })))).toMatchObject({ name: 'ServiceQuotaExceededException' });
      const account = sim.organization.createAccount({ name: 'busy' });
      const user = sim.identityCenter.createUser({ userName: 'frank' });
      const arns = (await sso.send(new ListPermissionSetsCommand({ InstanceArn: instanceArn, MaxResults: 51 }))).PermissionSets!;
      for (const arn of arns.slice(0, 50)) sim.identityCenter.assign({ accountId: account, permissionSetArn: arn, principalType: 'USER', principalId: user });
      const refused = await failure(sso.send(new CreateAccountAssignmentCommand({ InstanceArn: instanceArn, TargetId: account, TargetType: 'AWS_ACCOUNT', PermissionSetArn: arns[50], PrincipalType: 'USER', PrincipalId: user })));
      expect(refused).toMatchObject({ name: 'ServiceQuotaExceededException' });
    });

    it('should page ListPermissionSets and ListAccountAssignments with NextToken and MaxResults, as the SDK paginators read them', async () => {
      for (let i = 0; i < 7; i++) sim.identityCenter.createPermissionSet({ name: `page-${i}` });
      const pages: number[] = [];
      const all: string[] = [];
      for await (const p of paginateListPermissionSets({ client: sso, pageSize: 3 }, { InstanceArn: instanceArn })) {
        pages.push(p.PermissionSets!.length);
        all.push(...p.PermissionSets!);
      }
      expect(pages).toEqual([3, 3, 1]);
      expect(new Set(all).size).toBe(7);
      const account = sim.organization.createAccount({ name: 'many' });
      const arn = all[0];
      for (let i = 0; i < 5; i++) {
        sim.identityCenter.assign({ accountId: account, permissionSetArn: arn, principalType: 'USER', principalId: sim.identityCenter.createUser({ userName: `u${i}` }) });
      }
      const principals: string[] = [];
      for await (const p of paginateListAccountAssignments({ client: sso, pageSize: 2 }, { InstanceArn: instanceArn, AccountId: account, PermissionSetArn: arn })) {
        principals.push(...p.AccountAssignments!.map((a) => a.PrincipalId!));
      }
      expect(principals).toHaveLength(5);
      const badToken = await failure(sso.send(new ListPermissionSetsCommand({ InstanceArn: instanceArn, NextToken: 'bm90LWEtdG9rZW4=' })));
      expect(badToken).toMatchObject({ name: 'ValidationException' });
    });

    it('should validate members against the model: required, enums, patterns, lengths and MaxResults ranges', async () => {
      const arn = sim.identityCenter.createPermissionSet({ name: 'Valid' });
      const cases: [string, Promise<unknown>, string][] = [
        ['MaxResults 0', sso.send(new ListPermissionSetsCommand({ InstanceArn: instanceArn, MaxResults: 0 })), "Value '0' at 'maxResults' failed to satisfy constraint: Member must have value greater than or equal to 1"],
        ['MaxResults 101', sso.send(new ListPermissionSetsCommand({ InstanceArn: instanceArn, MaxResults: 101 })), 'Member must have value less than or equal to 100'],
        ['instance ARN', sso.send(new ListPermissionSetsCommand({ InstanceArn: 'arn:aws:sso:::instance/nope' })), "Value 'arn:aws:sso:::instance/nope' at 'instanceArn' failed to satisfy constraint: Member must satisfy regular expression pattern"],
        ['name pattern', sso.send(new CreatePermissionSetCommand({ InstanceArn: instanceArn, Name: 'has space' })), "at 'name' failed to satisfy constraint: Member must satisfy regular expression pattern"],
        ['name length', sso.send(new CreatePermissionSetCommand({ InstanceArn: instanceArn, Name: 'n'.repeat(33) })), "at 'name' failed to satisfy constraint: Member must have length less than or equal to 32"],
         
        ['principal type', sso.send(new CreateAccountAssignmentCommand({ InstanceArn: instanceArn, TargetId: '111111111111', TargetType: 'AWS_ACCOUNT', PermissionSetArn: arn, PrincipalType: 'ROLE' as any, PrincipalId: 'x' })), "Value 'ROLE' at 'principalType' failed to satisfy constraint: Member must satisfy enum value set: [USER, GROUP]"],
        ['account id', sso.send(new ListAccountAssignmentsCommand({ InstanceArn: instanceArn, AccountId: '12345', PermissionSetArn: arn })), "at 'accountId' failed to satisfy constraint"],
         
        ['required', sso.send(new DescribePermissionSetCommand({ InstanceArn: instanceArn } as any)), "Value null at 'permissionSetArn' failed to satisfy constraint: Member must not be null"],
        ['tag key', sso.send(new TagResourceCommand({ InstanceArn: instanceArn, ResourceArn: arn, Tags: [{ Key: 'bad!key', Value: 'v' }] })), "at 'tags.1.member.key' failed to satisfy constraint"],
      ];
      for (const [label, call, message] of cases) {
        const error = await failure(call);
        expect([label, error?.name, error?.status]).toEqual([label, 'ValidationException', 400]);
        expect([label, error!.message]).toEqual([label, expect.stringContaining(message)]);
      }
      const two = await failure(sso.send(new CreatePermissionSetCommand({ InstanceArn: instanceArn, Name: 'bad name', RelayState: '' })));
      expect(two!.message).toMatch(/^2 validation errors detected: Value .bad name. at .name.*; Value .. at .relayState. failed to satisfy constraint: Member must have length greater than or equal to 1$/);
    });

    it('should throttle through the fault injector, counted and at a rate, with the SDK retrying ThrottlingException', async () => {
      sim.inject({ throttle: 1 });
      const throttled = await failure(sso.send(new ListInstancesCommand({})));
      expect(throttled).toMatchObject({ name: 'ThrottlingException', status: 400 });
      expect((await sso.send(new ListInstancesCommand({}))).Instances).toHaveLength(1);
      const retrying = new SSOAdminClient({ region: 'eu-west-1', endpoint: sim.endpoint, credentials, maxAttempts: 3 });
      sim.inject({ throttle: 2 });
      const out = await retrying.send(new ListInstancesCommand({}));
      expect(out.$metadata.attempts).toBe(3);
      retrying.destroy();
      sim.inject({ rate: { throttle: 0.5, seed: 3 } });
      const results = await Promise.all(Array.from({ length: 40 }, () => failure(sso.send(new ListInstancesCommand({})))));
      const count = results.filter((r) => r?.name === 'ThrottlingException').length;
      expect(count).toBeGreaterThan(8);
      expect(count).toBeLessThan(32);
      sim.inject({ rate: { throttle: 0 }, serverError: 1 });
      expect(await failure(sso.send(new ListInstancesCommand({})))).toMatchObject({ name: 'InternalServerException', status: 500 });
    });

    it('should refuse calls from an account that is neither the management account nor a delegated administrator', async () => {
      const member = sim.organization.createAccount({ name: 'member', id: '222222222222' });
      const roleArn = sim.createRole('idc-admin', { accountId: member });
      const { STSClient, AssumeRoleCommand } = await import('@aws-sdk/client-sts');
      const sts = new STSClient({ region: 'us-east-1', endpoint: sim.endpoint, credentials });
      const assumed = (await sts.send(new AssumeRoleCommand({ RoleArn: roleArn, RoleSessionName: 'idc' }))).Credentials!;
      sts.destroy();
      const memberCreds = { accessKeyId: assumed.AccessKeyId!, secretAccessKey: assumed.SecretAccessKey!, sessionToken: assumed.SessionToken! };
      const asMember = new SSOAdminClient({ region: 'eu-west-1', endpoint: sim.endpoint, credentials: memberCreds, maxAttempts: 1 });
      const orgAsMember = new OrganizationsClient({ region: 'us-east-1', endpoint: sim.endpoint, credentials: memberCreds, maxAttempts: 1 });
      expect(await failure(asMember.send(new ListInstancesCommand({})))).toMatchObject({ name: 'AccessDeniedException' });
      expect(await failure(orgAsMember.send(new ListAccountsCommand({})))).toMatchObject({ name: 'AccessDeniedException' });
      sim.organization.registerDelegatedAdministrator(member);
      expect((await asMember.send(new ListInstancesCommand({}))).Instances).toHaveLength(1);
      // A delegated administrator manages every account's access but the management account's.
      const arn = sim.identityCenter.createPermissionSet({ name: 'Delegated' });
      const user = sim.identityCenter.createUser({ userName: 'delegate' });
      const onManagement = await failure(asMember.send(new CreateAccountAssignmentCommand({
        InstanceArn: instanceArn, TargetId: '123456789012', TargetType: 'AWS_ACCOUNT', PermissionSetArn: arn, PrincipalType: 'USER', PrincipalId: user,
      })));
      expect(onManagement).toMatchObject({ name: 'AccessDeniedException' });
      const onMember = await asMember.send(new CreateAccountAssignmentCommand({
        InstanceArn: instanceArn, TargetId: member, TargetType: 'AWS_ACCOUNT', PermissionSetArn: arn, PrincipalType: 'USER', PrincipalId: user,
      }));
      expect(onMember.AccountAssignmentCreationStatus!.Status).toBe('IN_PROGRESS');
      expect((await orgAsMember.send(new ListAccountsCommand({}))).Accounts!.length).toBeGreaterThan(1);
      asMember.destroy();
      orgAsMember.destroy();
    });
  });

  describe('seeding', () => {
    it('should take fixed ids for the instance, its identity store, users, groups and OUs, and refuse ids the services could not have made', async () => {
      const fresh = await AwsSimulator.start({ port: 0 });
      try {
        fresh.identityCenter.useInstance({ instanceId: 'ssoins-0123456789abcdef', identityStoreId: 'd-0123456789' });
        expect([fresh.identityCenter.instanceArn, fresh.identityCenter.identityStoreId]).toEqual(['arn:aws:sso:::instance/ssoins-0123456789abcdef', 'd-0123456789']);
        const userId = '0123456789-aaaaaaaa-0000-4000-8000-00000000000a';
        expect(fresh.identityCenter.createUser({ userName: 'fixed', userId })).toBe(userId);
        expect(() => fresh.identityCenter.createUser({ userName: 'again', userId })).toThrow('already exists');
        expect(() => fresh.identityCenter.createGroup({ displayName: 'g', groupId: 'not-an-id' })).toThrow('is not an identity store id');
        expect(() => fresh.identityCenter.useInstance({ instanceId: 'ssoins-fedcba9876543210' })).toThrow('before seeding');
        expect(fresh.organization.createOrganizationalUnit('fixed', undefined, 'ou-sbx0-workloads')).toBe('ou-sbx0-workloads');
        expect(() => fresh.organization.createOrganizationalUnit('bad', undefined, 'ou-x')).toThrow('is not a new OU id');
      } finally {
        await fresh.close();
      }
    });
  });

  describe('identitystore', () => {
    it('should find users by user name and email and groups by display name, and describe them', async () => {
      const alice = sim.identityCenter.createUser({ userName: 'alice', displayName: 'Alice A', givenName: 'Alice', familyName: 'A', email: 'alice@example.com' });
      const group = sim.identityCenter.createGroup({ displayName: 'platform', description: 'platform team' });
      sim.identityCenter.addToGroup(group, alice);
      const byName = await ids.send(new GetUserIdCommand({ IdentityStoreId: storeId, AlternateIdentifier: { UniqueAttribute: { AttributePath: 'userName', AttributeValue: 'alice' } } }));
      expect(byName).toMatchObject({ UserId: alice, IdentityStoreId: storeId });
      const byEmail = await ids.send(new GetUserIdCommand({ IdentityStoreId: storeId, AlternateIdentifier: { UniqueAttribute: { AttributePath: 'emails.value', AttributeValue: 'ALICE@example.com' } } }));
      expect(byEmail.UserId).toBe(alice);
      // The attribute paths are case-exact as AWS documents them (userName, emails.value, displayName): a misspelt path is refused, not matched.
      const byPascal = ids.send(new GetUserIdCommand({ IdentityStoreId: storeId, AlternateIdentifier: { UniqueAttribute: { AttributePath: 'UserName', AttributeValue: 'alice' } } }));
      await expect(byPascal).rejects.toMatchObject({ name: 'ValidationException' });
      const pascalGroup = ids.send(new GetGroupIdCommand({ IdentityStoreId: storeId, AlternateIdentifier: { UniqueAttribute: { AttributePath: 'DisplayName', AttributeValue: 'platform' } } }));
      await expect(pascalGroup).rejects.toMatchObject({ name: 'ValidationException' });
      const groupId = await ids.send(new GetGroupIdCommand({ IdentityStoreId: storeId, AlternateIdentifier: { UniqueAttribute: { AttributePath: 'displayName', AttributeValue: 'platform' } } }));
      expect(groupId.GroupId).toBe(group);
      const user = await ids.send(new DescribeUserCommand({ IdentityStoreId: storeId, UserId: alice }));
      expect(user).toMatchObject({ UserName: 'alice', DisplayName: 'Alice A', Name: { GivenName: 'Alice', FamilyName: 'A' }, Emails: [{ Value: 'alice@example.com', Primary: true }] });
      expect(await ids.send(new DescribeGroupCommand({ IdentityStoreId: storeId, GroupId: group }))).toMatchObject({ DisplayName: 'platform', Description: 'platform team' });
      const members = await ids.send(new ListGroupMembershipsCommand({ IdentityStoreId: storeId, GroupId: group }));
      expect(members.GroupMemberships).toEqual([expect.objectContaining({ GroupId: group, MemberId: { UserId: alice }, IdentityStoreId: storeId })]);
      expect((await ids.send(new ListGroupsCommand({ IdentityStoreId: storeId }))).Groups).toHaveLength(1);
    });

    it('should answer ResourceNotFoundException with the resource type, and ValidationException for bad identifiers', async () => {
      const missing = await failure(ids.send(new GetUserIdCommand({ IdentityStoreId: storeId, AlternateIdentifier: { UniqueAttribute: { AttributePath: 'userName', AttributeValue: 'nobody' } } })));
      expect(missing).toMatchObject({ name: 'ResourceNotFoundException', status: 400 });
      const path = await failure(ids.send(new GetUserIdCommand({ IdentityStoreId: storeId, AlternateIdentifier: { UniqueAttribute: { AttributePath: 'title', AttributeValue: 'x' } } })));
      expect(path).toMatchObject({ name: 'ValidationException' });
      const store = await failure(ids.send(new ListUsersCommand({ IdentityStoreId: 'not-a-store' })));
      expect(store).toMatchObject({ name: 'ValidationException' });
      expect(store!.message).toContain("at 'identityStoreId'");
      const other = await failure(ids.send(new ListUsersCommand({ IdentityStoreId: 'd-0000000000' })));
      expect(other).toMatchObject({ name: 'ResourceNotFoundException' });
      const user = await failure(ids.send(new DescribeUserCommand({ IdentityStoreId: storeId, UserId: 'not-an-id' })));
      expect(user).toMatchObject({ name: 'ValidationException' });
      const range = await failure(ids.send(new ListUsersCommand({ IdentityStoreId: storeId, MaxResults: 101 })));
      expect(range).toMatchObject({ name: 'ValidationException' });
    });

    it('should find by external id and answer membership questions', async () => {
      const user = sim.identityCenter.createUser({ userName: 'ext', externalId: { issuer: 'https://idp.example', id: 'e-1' } });
      const group = sim.identityCenter.createGroup({ displayName: 'ext-group' });
      const other = sim.identityCenter.createGroup({ displayName: 'other-group' });
      const membership = sim.identityCenter.addToGroup(group, user);
      const found = await ids.send(new GetUserIdCommand({ IdentityStoreId: storeId, AlternateIdentifier: { ExternalId: { Issuer: 'https://idp.example', Id: 'e-1' } } }));
      expect(found.UserId).toBe(user);
      const id = await ids.send(new GetGroupMembershipIdCommand({ IdentityStoreId: storeId, GroupId: group, MemberId: { UserId: user } }));
      expect(id.MembershipId).toBe(membership);
      const answer = await ids.send(new IsMemberInGroupsCommand({ IdentityStoreId: storeId, MemberId: { UserId: user }, GroupIds: [group, other] }));
      expect(answer.Results!.map((r) => r.MembershipExists)).toEqual([true, false]);
      const forMember = await ids.send(new ListGroupMembershipsForMemberCommand({ IdentityStoreId: storeId, MemberId: { UserId: user } }));
      expect(forMember.GroupMemberships!.map((m) => m.GroupId)).toEqual([group]);
      const both = await failure(ids.send(new GetUserIdCommand({
        IdentityStoreId: storeId,
        AlternateIdentifier: { ExternalId: { Issuer: 'https://idp.example', Id: 'e-1' }, UniqueAttribute: { AttributePath: 'userName', AttributeValue: 'ext' } } as never,
      })));
      expect(both).toMatchObject({ name: 'ValidationException' });
    });

    it('should page ListUsers as the SDK paginator reads it', async () => {
      for (let i = 0; i < 5; i++) sim.identityCenter.createUser({ userName: `user${i}` });
      const pages: string[][] = [];
      for await (const p of paginateListUsers({ client: ids, pageSize: 2 }, { IdentityStoreId: storeId })) pages.push(p.Users!.map((u) => u.UserName!));
      expect(pages).toEqual([['user0', 'user1'], ['user2', 'user3'], ['user4']]);
    });
  });

  describe('organizations', () => {
    it('should describe the organization and walk root, OUs and accounts', async () => {
      const ou = sim.organization.createOrganizationalUnit('workloads');
      const nested = sim.organization.createOrganizationalUnit('prod', ou);
      const a1 = sim.organization.createAccount({ name: 'one', parentId: ou });
      const a2 = sim.organization.createAccount({ name: 'two', parentId: nested });
      const o = (await org.send(new DescribeOrganizationCommand({}))).Organization!;
      expect(o).toMatchObject({ Id: sim.organization.id, FeatureSet: 'ALL', MasterAccountId: '123456789012' });
      expect(o.Arn).toMatch(/^arn:aws:organizations::123456789012:organization\/o-[a-z0-9]{10}$/);
      const roots = (await org.send(new ListRootsCommand({}))).Roots!;
      expect(roots).toEqual([expect.objectContaining({ Id: sim.organization.rootId, Name: 'Root' })]);
      const ous = (await org.send(new ListOrganizationalUnitsForParentCommand({ ParentId: roots[0].Id! }))).OrganizationalUnits!;
      expect(ous).toEqual([{ Id: ou, Name: 'workloads', Arn: `arn:aws:organizations::123456789012:ou/${sim.organization.id}/${ou}` }]);
      expect(ou).toMatch(/^ou-[a-z0-9]{4}-[a-z0-9]{8}$/);
      const children = (await org.send(new ListChildrenCommand({ ParentId: ou, ChildType: 'ORGANIZATIONAL_UNIT' }))).Children;
      expect(children).toEqual([{ Id: nested, Type: 'ORGANIZATIONAL_UNIT' }]);
      const accounts = (await org.send(new ListAccountsForParentCommand({ ParentId: nested }))).Accounts!;
      expect(accounts.map((a) => a.Id)).toEqual([a2]);
      const described = (await org.send(new DescribeAccountCommand({ AccountId: a1 }))).Account!;
      expect(described).toMatchObject({ Id: a1, Name: 'one', Status: 'ACTIVE', JoinedMethod: 'CREATED' });
      expect(described.JoinedTimestamp).toBeInstanceOf(Date);
    });

    it('should answer its own error names: AccountNotFoundException, ParentNotFoundException, InvalidInputException with a reason, TooManyRequestsException', async () => {
      expect(await failure(org.send(new DescribeAccountCommand({ AccountId: '999999999999' })))).toMatchObject({ name: 'AccountNotFoundException', status: 400 });
      expect(await failure(org.send(new ListAccountsForParentCommand({ ParentId: 'ou-abcd-abcdefgh' })))).toMatchObject({ name: 'ParentNotFoundException' });
      const pattern = await org.send(new DescribeAccountCommand({ AccountId: '123' })).catch((e: { name: string; Reason?: string }) => e);
      expect(pattern).toMatchObject({ name: 'InvalidInputException', Reason: 'INVALID_PATTERN' });
      const max = await org.send(new ListAccountsCommand({ MaxResults: 21 })).catch((e: { name: string; Reason?: string }) => e);
      expect(max).toMatchObject({ name: 'InvalidInputException', Reason: 'MAX_VALUE_EXCEEDED' });
      const token = await org.send(new ListAccountsCommand({ NextToken: 'garbage' })).catch((e: { name: string; Reason?: string }) => e);
      expect(token).toMatchObject({ name: 'InvalidInputException', Reason: 'INVALID_NEXT_TOKEN' });
      sim.inject({ throttle: 1 });
      expect(await failure(org.send(new ListRootsCommand({})))).toMatchObject({ name: 'TooManyRequestsException' });
    });

    it('should describe an OU and name each child\'s parent', async () => {
      const ou = sim.organization.createOrganizationalUnit('parent');
      const child = sim.organization.createOrganizationalUnit('child', ou);
      const account = sim.organization.createAccount({ name: 'leaf', parentId: child });
      expect((await org.send(new DescribeOrganizationalUnitCommand({ OrganizationalUnitId: child }))).OrganizationalUnit).toMatchObject({ Id: child, Name: 'child' });
      expect((await org.send(new ListParentsCommand({ ChildId: account }))).Parents).toEqual([{ Id: child, Type: 'ORGANIZATIONAL_UNIT' }]);
      expect((await org.send(new ListParentsCommand({ ChildId: ou }))).Parents).toEqual([{ Id: sim.organization.rootId, Type: 'ROOT' }]);
      expect(await failure(org.send(new ListParentsCommand({ ChildId: '999999999999' })))).toMatchObject({ name: 'ChildNotFoundException' });
      expect(await failure(org.send(new DescribeOrganizationalUnitCommand({ OrganizationalUnitId: 'ou-abcd-abcdefgh' })))).toMatchObject({ name: 'OrganizationalUnitNotFoundException' });
    });

    it('should page ListAccounts by at most 20', async () => {
      for (let i = 0; i < 44; i++) sim.organization.createAccount({ name: `acct-${i}` });
      const sizes: number[] = [];
      for await (const p of paginateListAccounts({ client: org }, {})) sizes.push(p.Accounts!.length);
      expect(sizes).toEqual([20, 20, 5]);
    });
  });
});
