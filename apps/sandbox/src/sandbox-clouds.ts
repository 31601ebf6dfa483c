import { readFileSync, writeFileSync } from 'node:fs';
import { CloudAccessProvider } from '@jit/domain';
import { AwsIamStsProvider, BROKER_POLICY_NAME } from '@jit/provider-aws';
import { AzureProvider, assignmentDescription, nameBasedGuid } from '@jit/provider-azure';
import { GcpIamBindingProvider, staticTokenClient } from '@jit/provider-gcp';
import { AwsSimulator } from '@jit/sim-aws';
import { AzureSimulator } from '@jit/sim-azure';
import { GcpSimulator } from '@jit/sim-gcp';
import { seedSandboxGcpStanding } from './sandbox-gcp-standing';

/** The sandbox's simulated estate: fixed ids so the printed walk-through works on every run. */
export const SANDBOX = {
  aws: {
    account: '123456789012',
    memberAccount: '111111111111',
    memberRole: 'JitBrokerMember',
    role: 'ci-deployer',
    assumable: 'deploy',
    user: 'alice',
    /** IAM Identity Center in the management account (the broker's): fixed ids so rules and the walk-through can name them. */
    identityCenter: {
      instanceId: 'ssoins-7223000000000001',
      identityStoreId: 'd-9067000001',
      organizationalUnit: 'ou-sbx0-workloads',
      accounts: ['111111111111', '222222222222', '333333333333'],
      users: { alice: '9067000001-aaaaaaaa-0000-4000-8000-00000000000a', bob: '9067000001-bbbbbbbb-0000-4000-8000-00000000000b' },
      group: { name: 'sre', id: '9067000001-cccccccc-0000-4000-8000-00000000000c' },
      permissionSet: 'ReadOnly',
    },
  },
  gcp: { project: 'sandbox-project', projectNumber: '100000000001', folder: '100', organization: '1', token: 'sandbox-token', group: 'sandbox-oncall@sandbox.example' },
  azure: {
    clientId: 'a0a0a0a0-0000-4000-8000-00000000000a',
    secret: 'sandbox-secret',
    user: '11111111-0000-4000-8000-00000000000a',
    group: '22222222-0000-4000-8000-00000000000a',
    workload: '33333333-0000-4000-8000-00000000000a',
    resourceApi: '44444444-0000-4000-8000-00000000000a',
    appRole: '55555555-0000-4000-8000-00000000000a',
    subscription: '66666666-0000-4000-8000-00000000000a',
    /** Entra "Security Reader" and Azure "Reader" role definition ids. */
    directoryRole: '5d6b6bb7-de71-4623-b4af-96380a352509',
    reader: 'acdd72a7-3385-48ef-bd42-f606fba81ae7',
    /** Standing access an admin left behind, for discovery to find (seedSandboxAzureStanding). */
    standing: {
      owner: '77777777-0000-4000-8000-000000000001',
      dormant: '77777777-0000-4000-8000-000000000002',
      globalAdmin: '77777777-0000-4000-8000-000000000003',
      eligible: '77777777-0000-4000-8000-000000000004',
      activated: '77777777-0000-4000-8000-000000000005',
      reader: '77777777-0000-4000-8000-000000000006',
      managedIdentity: '77777777-0000-4000-8000-000000000007',
      /** A workload holding the broker's own role assignment (a grant's artifact): brokerOwned, not standing. */
      brokerWorkload: '77777777-0000-4000-8000-000000000008',
      brokerGrantId: '77777777-0000-4000-8000-0000000000b1',
    },
  },
} as const;

export interface SandboxClouds {
  providers: CloudAccessProvider[];
  endpoints: string[];
  close(): Promise<void>;
}

/**
 * Where a sandbox's simulators listen: written by the sandbox that started them to
 * `<dataDir>/sandbox-simulators.json`, read by replicas started with JIT_SANDBOX_SIMULATORS_FILE,
 * so every replica grants and revokes in the same simulated clouds.
 */
export interface SandboxSimulatorsFile {
  aws: { endpoint: string };
  gcp: { host: string; port: number };
  azure: { url: string; tenantId: string; caCertPem: string };
}

/**
 * Starts the three cloud simulators on loopback, seeds them, writes where they listen to
 * `simulatorsFile` (when given), and builds the real adapters against them: the sandbox exercises exactly the
 * code production runs.
 */
/** The sandbox's Entra and ARM estate (users, groups, service principals, roles, the subscription, the broker's client). */
export function seedSandboxAzure(azure: AzureSimulator): void {
  const a = SANDBOX.azure;
  azure.seed({
    users: [{ id: a.user }],
    groups: [{ id: a.group }],
    servicePrincipals: [{ id: a.workload }, { id: a.resourceApi, displayName: 'orders-api', appRoles: [{ id: a.appRole, value: 'Orders.Write' }] }],
    directoryRoles: [{ id: a.directoryRole, displayName: 'Security Reader', policy: { maxDurationSeconds: 8 * 3600 } }],
    azureRoles: [{ id: a.reader, roleName: 'Reader', policy: { maxDurationSeconds: 8 * 3600 } }],
    subscriptions: [a.subscription],
    clients: [{ clientId: a.clientId, secret: a.secret }],
  });
}

/**
 * Standing access in the sandbox's tenant, as discovery should see it: a permanent Owner in use,
 * a permanent User Access Administrator unused since January 2025, a Global Administrator who has
 * never signed in, a managed identity with Contributor, a plain Reader (not privileged), a
 * permanent eligibility for Owner (eligibility, not access), and an activation of Owner (just in
 * time: not standing). The broker's own artifacts come from the walk-through's grants.
 */
export function seedSandboxAzureStanding(azure: AzureSimulator): void {
  const a = SANDBOX.azure;
  const s = a.standing;
  const sub = `/subscriptions/${a.subscription}`;
  const recent = new Date(Date.now() - 86_400_000).toISOString();
  azure.seed({
    users: [
      { id: s.owner, displayName: 'Olga Owner', userPrincipalName: 'olga@sandbox.example', signInActivity: { lastSuccessfulSignInDateTime: recent } },
      { id: s.dormant, displayName: 'Dora Dormant', userPrincipalName: 'dora@sandbox.example', signInActivity: { lastSuccessfulSignInDateTime: '2025-01-15T09:30:00Z' } },
      { id: s.globalAdmin, displayName: 'Gus Global', userPrincipalName: 'gus@sandbox.example', signInActivity: null },
      { id: s.eligible, displayName: 'Eli Eligible', userPrincipalName: 'eli@sandbox.example', signInActivity: { lastSuccessfulSignInDateTime: recent } },
      { id: s.activated, displayName: 'Ada Activated', userPrincipalName: 'ada@sandbox.example', signInActivity: { lastSuccessfulSignInDateTime: recent } },
      { id: s.reader, displayName: 'Rita Reader', userPrincipalName: 'rita@sandbox.example', signInActivity: { lastSuccessfulSignInDateTime: recent } },
    ],
    servicePrincipals: [
      { id: s.managedIdentity, displayName: 'id-orders-batch', servicePrincipalType: 'ManagedIdentity' },
      { id: s.brokerWorkload, displayName: 'app-report-builder', servicePrincipalType: 'Application' },
    ],
  });
  const owner = '8e3af657-a8ff-443c-a75c-2fe8c4bcb635';
  azure.seedRoleAssignment({ scope: sub, roleDefinitionId: owner, principalId: s.owner, createdOn: new Date('2024-06-01T00:00:00Z') });
  azure.seedRoleAssignment({ scope: sub, roleDefinitionId: '18d7d88d-d35e-4fb5-a5c3-7773c20a72d9', principalId: s.dormant, createdOn: new Date('2023-11-20T00:00:00Z') });
  azure.seedRoleAssignment({ scope: `${sub}/resourceGroups/rg-orders`, roleDefinitionId: 'b24988ac-6180-42a0-ab88-20f7382dd24c', principalId: s.managedIdentity });
  azure.seedRoleAssignment({ scope: sub, roleDefinitionId: a.reader, principalId: s.reader });
  // The broker's own grant artifact, named and described as the broker makes them.
  azure.seedRoleAssignment({
    scope: `${sub}/resourceGroups/rg-orders`,
    roleDefinitionId: a.reader,
    principalId: s.brokerWorkload,
    name: nameBasedGuid(`${s.brokerGrantId}/assign`),
    description: assignmentDescription(s.brokerGrantId, new Date(Date.now() + 3_600_000)),
  });
  azure.seedDirectoryRoleAssignment({ roleDefinitionId: '62e90394-69f5-4237-9190-012177145e10', principalId: s.globalAdmin });
  azure.seedEligibility({ surface: 'arm', scope: sub, roleDefinitionId: owner, principalId: s.eligible });
  azure.seedPimAssignment({ surface: 'arm', scope: sub, roleDefinitionId: owner, principalId: s.activated, assignmentType: 'Activated', end: new Date(Date.now() + 4 * 3_600_000) });
}

/**
 * Standing access in the sandbox's own AWS account, as discovery should see it: an admin user
 * (AdministratorAccess, in use), a role holding AdministratorAccess never used, a read-only user,
 * the Admins group (IAMFullAccess and an inline EC2 policy) with one member, and one grant the
 * broker made (a `Jit…` statement in its `jit-broker-grants` policy on `batch-worker`, a role the
 * sandbox does not reconcile), which discovery recognises and does not report.
 */
export function seedSandboxAwsStanding(aws: AwsSimulator): void {
  const { account } = SANDBOX.aws;
  const s = aws.iamSeeds;
  const day = 86_400_000;
  const allow = (statement: object) => ({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Resource: '*', ...statement }] });
  const admin = aws.createUser('ops-admin', { accountId: account });
  s.attachPolicy(admin, 'arn:aws:iam::aws:policy/AdministratorAccess');
  s.setPasswordLastUsed(admin, new Date(Date.now() - day));
  s.setServiceLastAccessed(admin, 's3', new Date(Date.now() - day));
  s.setServiceLastAccessed(admin, 'ec2', new Date(Date.now() - 3 * day));
  s.attachPolicy(aws.createRole('legacy-admin', { accountId: account }), 'arn:aws:iam::aws:policy/AdministratorAccess');
  const reader = aws.createUser('auditor-ro', { accountId: account });
  s.attachPolicy(reader, 'arn:aws:iam::aws:policy/ReadOnlyAccess');
  s.setServiceLastAccessed(reader, 'cloudtrail', new Date(Date.now() - 2 * day));
  const admins = s.createGroup('Admins', { accountId: account });
  s.attachPolicy(admins, 'arn:aws:iam::aws:policy/IAMFullAccess');
  s.putInlinePolicy(admins, 'ec2-operations', allow({ Action: ['ec2:*'] }));
  const dana = aws.createUser('dana', { accountId: account });
  s.addToGroup(dana, admins);
  s.setServiceLastAccessed(dana, 'iam', new Date(Date.now() - 40 * day));
  const worker = aws.createRole('batch-worker', { accountId: account });
  s.putInlinePolicy(worker, BROKER_POLICY_NAME, {
    Version: '2012-10-17',
    Statement: [{
      Sid: 'Jit5a1d0c3e2b7f4e6a9c8d7b6a5f4e3d2c', Effect: 'Allow', Action: ['s3:GetObject'], Resource: ['arn:aws:s3:::sandbox-reports/*'],
      Condition: { DateLessThan: { 'aws:CurrentTime': new Date(Date.now() + 7 * day).toISOString().replace(/\.\d{3}Z$/, 'Z') } },
    }],
  });
}

/**
 * IAM Identity Center for `aws.permission-set`: the organization's Workloads OU with three accounts
 * (the member account among them), the users alice and bob (the company IdP's) with bob in the
 * group sre, and the permission set ReadOnly (AWS managed ReadOnlyAccess, one-hour sessions), not
 * assigned anywhere.
 */
export function seedSandboxIdentityCenter(aws: AwsSimulator): void {
  const idc = SANDBOX.aws.identityCenter;
  aws.identityCenter.useInstance({ instanceId: idc.instanceId, identityStoreId: idc.identityStoreId });
  const ou = aws.organization.createOrganizationalUnit('Workloads', undefined, idc.organizationalUnit);
  idc.accounts.forEach((id, i) => aws.organization.createAccount({ id, name: ['member', 'staging', 'playground'][i], parentId: ou }));
  aws.identityCenter.createUser({ userName: 'alice', userId: idc.users.alice, displayName: 'Alice Developer', givenName: 'Alice', familyName: 'Developer', email: 'alice@example.com' });
  aws.identityCenter.createUser({ userName: 'bob', userId: idc.users.bob, displayName: 'Bob SRE', givenName: 'Bob', familyName: 'SRE', email: 'bob@example.com' });
  aws.identityCenter.createGroup({ displayName: idc.group.name, groupId: idc.group.id, description: 'Site reliability engineers' });
  aws.identityCenter.addToGroup(idc.group.id, idc.users.bob);
  aws.identityCenter.createPermissionSet({
    name: idc.permissionSet,
    description: 'Read-only access to every service',
    sessionDuration: 'PT1H',
    managedPolicyArns: ['arn:aws:iam::aws:policy/ReadOnlyAccess'],
  });
}

export async function startSandboxClouds(simulatorsFile?: string): Promise<SandboxClouds> {
  // Two accounts: the broker's own (its long-term key is the simulator's user jit-broker there) and a
  // member account it reaches through JitBrokerMember, whose trust policy names the broker.
  const aws = await AwsSimulator.start({ port: 0 });
  const { account, memberAccount } = SANDBOX.aws;
  aws.createRole(SANDBOX.aws.memberRole, {
    accountId: memberAccount,
    trustPolicy: { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${account}:user/jit-broker` }, Action: 'sts:AssumeRole' }] },
  });
  for (const accountId of [account, memberAccount]) {
    aws.createRole(SANDBOX.aws.role, { accountId });
    aws.createRole(SANDBOX.aws.assumable, { accountId, maxSessionDuration: 43200 });
    aws.createUser(SANDBOX.aws.user, { accountId });
  }
  seedSandboxIdentityCenter(aws);
  seedSandboxAwsStanding(aws);

  const gcp = await GcpSimulator.start({ port: 0, token: SANDBOX.gcp.token });
  gcp.createProject(SANDBOX.gcp.project);
  if (gcp.projectNumber(SANDBOX.gcp.project) !== SANDBOX.gcp.projectNumber) throw new Error('the GCP simulator numbered the sandbox project differently');
  gcp.createFolder(SANDBOX.gcp.folder);
  gcp.createOrganization(SANDBOX.gcp.organization);
  seedSandboxGcpStanding(gcp, SANDBOX.gcp);
  // A Google group for gcp.group-membership, with a permanent member the broker leaves alone.
  gcp.groups.createGroup(SANDBOX.gcp.group, { members: [{ email: 'lead@sandbox.example' }] });

  const azure = await AzureSimulator.start();
  seedSandboxAzure(azure);
  seedSandboxAzureStanding(azure);

  const where: SandboxSimulatorsFile = {
    aws: { endpoint: aws.endpoint },
    gcp: { host: gcp.host, port: gcp.port },
    azure: { url: azure.url, tenantId: azure.tenantId, caCertPem: azure.caCertPem },
  };
  if (simulatorsFile) writeFileSync(simulatorsFile, JSON.stringify(where, null, 2), { mode: 0o600 });
  const clouds = sandboxCloudsAt(where);
  return {
    ...clouds,
    endpoints: simulatorsFile
      ? [...clouds.endpoints, `started by this sandbox; more replicas attach with JIT_SANDBOX_SIMULATORS_FILE=${simulatorsFile}`]
      : clouds.endpoints,
    async close() {
      await clouds.close();
      await Promise.all([aws.close(), gcp.close(), azure.close()]);
    },
  };
}

/** The adapters against simulators another sandbox started and described in `file` (JIT_SANDBOX_SIMULATORS_FILE). */
export function attachSandboxClouds(file: string): SandboxClouds {
  let where: SandboxSimulatorsFile;
  try {
    where = JSON.parse(readFileSync(file, 'utf8')) as SandboxSimulatorsFile;
  } catch (error) {
    throw new Error(`JIT_SANDBOX_SIMULATORS_FILE: cannot read ${file} (${(error as Error).message}); start one sandbox with the simulators first`);
  }
  if (typeof where?.aws?.endpoint !== 'string' || typeof where?.gcp?.port !== 'number' || typeof where?.azure?.caCertPem !== 'string') {
    throw new Error(`JIT_SANDBOX_SIMULATORS_FILE: ${file} does not describe sandbox simulators`);
  }
  const clouds = sandboxCloudsAt(where);
  return { ...clouds, endpoints: [...clouds.endpoints, `started by another sandbox, attached through ${file}`] };
}

function sandboxCloudsAt(where: SandboxSimulatorsFile): SandboxClouds {
  const { account, memberAccount } = SANDBOX.aws;
  const awsPrincipals = [account, memberAccount].flatMap((acc) => [
    `arn:aws:iam::${acc}:role/${SANDBOX.aws.role}`,
    `arn:aws:iam::${acc}:role/${SANDBOX.aws.assumable}`,
    `arn:aws:iam::${acc}:user/${SANDBOX.aws.user}`,
  ]);
  const a = SANDBOX.azure;
  const gcpProvider = new GcpIamBindingProvider({
    endpoint: { host: where.gcp.host, port: where.gcp.port, protocol: 'http' },
    authClient: staticTokenClient(SANDBOX.gcp.token),
    reconcileResources: [`projects/${SANDBOX.gcp.project}`, `folders/${SANDBOX.gcp.folder}`, `organizations/${SANDBOX.gcp.organization}`],
  });
  const providers: CloudAccessProvider[] = [
    new AwsIamStsProvider({
      region: 'us-east-1',
      credentials: { accessKeyId: 'AKIASANDBOX', secretAccessKey: 'sandbox' },
      iamEndpoint: where.aws.endpoint,
      stsEndpoint: where.aws.endpoint,
      // aws.permission-set: Identity Center, the Identity Store and Organizations on the same simulator.
      ssoAdminEndpoint: where.aws.endpoint,
      identityStoreEndpoint: where.aws.endpoint,
      organizationsEndpoint: where.aws.endpoint,
      reconcilePrincipals: awsPrincipals,
      memberAccounts: [memberAccount],
      memberRoleName: SANDBOX.aws.memberRole,
    }),
    new AzureProvider({
      tenantId: where.azure.tenantId,
      clientId: a.clientId,
      clientSecret: a.secret,
      authorityHost: where.azure.url,
      graphEndpoint: where.azure.url,
      armEndpoint: where.azure.url,
      extraCaCertsPem: [where.azure.caCertPem],
      reconcileScopes: [`/subscriptions/${a.subscription}`],
    }),
    gcpProvider,
  ];
  return {
    providers,
    endpoints: [
      `aws  IAM/STS simulator ${where.aws.endpoint} (account ${account}, member account ${memberAccount} through ${SANDBOX.aws.memberRole})`,
      `gcp  Resource Manager and Cloud Identity simulator http://${where.gcp.host}:${where.gcp.port} (group ${SANDBOX.gcp.group})`,
      `azure Entra/Graph/ARM simulator ${where.azure.url}`,
    ],
    close: () => gcpProvider.close(),
  };
}
