import { CloudAccessProvider } from '@jit/domain';
import { AwsIamStsProvider } from '@jit/provider-aws';
import { AzureProvider } from '@jit/provider-azure';
import { GcpIamBindingProvider, staticTokenClient } from '@jit/provider-gcp';
import { AwsSimulator } from '@jit/sim-aws';
import { AzureSimulator } from '@jit/sim-azure';
import { GcpSimulator } from '@jit/sim-gcp';

/** The sandbox's simulated estate: fixed ids so the printed walk-through works on every run. */
export const SANDBOX = {
  aws: { account: '123456789012', memberAccount: '111111111111', memberRole: 'JitBrokerMember', role: 'ci-deployer', assumable: 'deploy', user: 'alice' },
  gcp: { project: 'sandbox-project', projectNumber: '100000000001', folder: '100', organization: '1', token: 'sandbox-token' },
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
  },
} as const;

export interface SandboxClouds {
  providers: CloudAccessProvider[];
  endpoints: string[];
  close(): Promise<void>;
}

/**
 * Starts the three cloud simulators on loopback, seeds them, and builds the real adapters
 * against them: the sandbox exercises exactly the code production runs.
 */
export async function startSandboxClouds(): Promise<SandboxClouds> {
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
  const awsPrincipals = [account, memberAccount].flatMap((a) => [
    `arn:aws:iam::${a}:role/${SANDBOX.aws.role}`,
    `arn:aws:iam::${a}:role/${SANDBOX.aws.assumable}`,
    `arn:aws:iam::${a}:user/${SANDBOX.aws.user}`,
  ]);

  const gcp = await GcpSimulator.start({ port: 0, token: SANDBOX.gcp.token });
  gcp.createProject(SANDBOX.gcp.project);
  if (gcp.projectNumber(SANDBOX.gcp.project) !== SANDBOX.gcp.projectNumber) throw new Error('the GCP simulator numbered the sandbox project differently');
  gcp.createFolder(SANDBOX.gcp.folder);
  gcp.createOrganization(SANDBOX.gcp.organization);

  const azure = await AzureSimulator.start();
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

  const gcpProvider = new GcpIamBindingProvider({
    endpoint: { host: gcp.host, port: gcp.port, protocol: 'http' },
    authClient: staticTokenClient(SANDBOX.gcp.token),
    reconcileResources: [`projects/${SANDBOX.gcp.project}`, `folders/${SANDBOX.gcp.folder}`, `organizations/${SANDBOX.gcp.organization}`],
  });
  const providers: CloudAccessProvider[] = [
    new AwsIamStsProvider({
      region: 'us-east-1',
      credentials: { accessKeyId: 'AKIASANDBOX', secretAccessKey: 'sandbox' },
      iamEndpoint: aws.endpoint,
      stsEndpoint: aws.endpoint,
      reconcilePrincipals: awsPrincipals,
      memberAccounts: [memberAccount],
      memberRoleName: SANDBOX.aws.memberRole,
    }),
    new AzureProvider({
      tenantId: azure.tenantId,
      clientId: a.clientId,
      clientSecret: a.secret,
      authorityHost: azure.url,
      graphEndpoint: azure.url,
      armEndpoint: azure.url,
      extraCaCertsPem: [azure.caCertPem],
      reconcileScopes: [`/subscriptions/${a.subscription}`],
    }),
    gcpProvider,
  ];
  return {
    providers,
    endpoints: [`aws  IAM/STS simulator ${aws.endpoint} (account ${account}, member account ${memberAccount} through ${SANDBOX.aws.memberRole})`, `gcp  Resource Manager simulator http://${gcp.host}:${gcp.port}`, `azure Entra/Graph/ARM simulator ${azure.url}`],
    async close() {
      await gcpProvider.close();
      await Promise.all([aws.close(), gcp.close(), azure.close()]);
    },
  };
}
