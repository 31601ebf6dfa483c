import { CloudAccessProvider } from '@jit/domain';
import { AwsIamStsProvider } from '@jit/provider-aws';
import { AzureProvider } from '@jit/provider-azure';
import { GcpIamBindingProvider, staticTokenClient } from '@jit/provider-gcp';
import { AwsSimulator } from '@jit/sim-aws';
import { AzureSimulator } from '@jit/sim-azure';
import { GcpSimulator } from '@jit/sim-gcp';
import { SANDBOX, seedSandboxAzure } from '../apps/sandbox/src/sandbox-clouds';

/** Where the chaos run's simulators listen: written to a file for the broker replicas. */
export interface ChaosEndpoints {
  aws: string;
  gcp: { host: string; port: number };
  azure: { url: string; tenantId: string; caCertPem: string };
}

/** The AWS principals of the estate (the sandbox's, in the broker's own account). */
export const CHAOS_AWS_ROLES = [SANDBOX.aws.role, SANDBOX.aws.assumable].map((r) => `arn:aws:iam::${SANDBOX.aws.account}:role/${r}`);

export interface ChaosSimulators {
  aws: AwsSimulator;
  gcp: GcpSimulator;
  azure: AzureSimulator;
  endpoints: ChaosEndpoints;
  close(): Promise<void>;
}

/** The three simulators, seeded with the sandbox's estate, in this process: they outlive every broker replica the run kills. */
export async function startChaosSimulators(): Promise<ChaosSimulators> {
  const aws = await AwsSimulator.start({ port: 0 });
  for (const role of [SANDBOX.aws.role, SANDBOX.aws.assumable]) aws.createRole(role, { accountId: SANDBOX.aws.account });
  const gcp = await GcpSimulator.start({ port: 0, token: SANDBOX.gcp.token });
  gcp.createProject(SANDBOX.gcp.project);
  const azure = await AzureSimulator.start();
  seedSandboxAzure(azure);
  return {
    aws,
    gcp,
    azure,
    endpoints: { aws: aws.endpoint, gcp: { host: gcp.host, port: gcp.port }, azure: { url: azure.url, tenantId: azure.tenantId, caCertPem: azure.caCertPem } },
    close: async () => {
      await Promise.all([aws.close(), gcp.close(), azure.close()]);
    },
  };
}

/** The real adapters against the run's simulators, as the sandbox builds them. */
export function chaosProviders(e: ChaosEndpoints): CloudAccessProvider[] {
  const a = SANDBOX.azure;
  return [
    new AwsIamStsProvider({
      region: 'us-east-1',
      credentials: { accessKeyId: 'AKIASANDBOX', secretAccessKey: 'sandbox' },
      iamEndpoint: e.aws,
      stsEndpoint: e.aws,
      reconcilePrincipals: CHAOS_AWS_ROLES,
    }),
    new AzureProvider({
      tenantId: e.azure.tenantId,
      clientId: a.clientId,
      clientSecret: a.secret,
      authorityHost: e.azure.url,
      graphEndpoint: e.azure.url,
      armEndpoint: e.azure.url,
      extraCaCertsPem: [e.azure.caCertPem],
      reconcileScopes: [`/subscriptions/${a.subscription}`],
    }),
    new GcpIamBindingProvider({
      endpoint: { host: e.gcp.host, port: e.gcp.port, protocol: 'http' },
      authClient: staticTokenClient(SANDBOX.gcp.token),
      reconcileResources: [`projects/${SANDBOX.gcp.project}`],
    }),
  ];
}
