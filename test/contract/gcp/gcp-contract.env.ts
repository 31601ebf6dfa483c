import { randomUUID } from 'node:crypto';
import { GrantSpec } from '@jit/domain';
import { GcpIamBindingProvider, GcpProviderOptions, staticTokenClient } from '@jit/provider-gcp';
import { GcpSimulator } from '@jit/sim-gcp';

export const CONTRACT_ROLE = 'roles/storage.objectViewer';

export interface GcpContractEnv {
  simulator: GcpSimulator;
  options: GcpProviderOptions;
  provider(overrides?: Partial<GcpProviderOptions>): GcpIamBindingProvider;
  spec(resource: string, options?: { grantId?: string; member?: string; role?: string; expiresAt?: Date }): GrantSpec;
  close(): Promise<void>;
}

/**
 * A simulator on an ephemeral port and providers wired to it exactly as the broker wires them
 * (endpoint + static token), with short backoff delays so retries don't slow the suite.
 */
export async function startGcpContractEnv(reconcileResources: string[] = []): Promise<GcpContractEnv> {
  const simulator = await GcpSimulator.start({ port: 0, token: 'contract-token' });
  const options: GcpProviderOptions = {
    endpoint: { protocol: 'http', host: simulator.host, port: simulator.port },
    authClient: staticTokenClient('contract-token'),
    reconcileResources,
    retry: { attempts: 3, baseDelayMs: 2, maxDelayMs: 20 },
  };
  const providers: GcpIamBindingProvider[] = [];
  const provider = (overrides: Partial<GcpProviderOptions> = {}) => {
    const p = new GcpIamBindingProvider({ ...options, ...overrides });
    providers.push(p);
    return p;
  };
  const spec: GcpContractEnv['spec'] = (resource, o = {}) => {
    const grantId = o.grantId ?? randomUUID();
    const startsAt = new Date();
    return {
      grantId,
      principal: { type: 'user', id: o.member ?? 'user:alice@example.com' },
      target: { kind: 'gcp.iam-binding', resource, role: o.role ?? CONTRACT_ROLE },
      startsAt,
      expiresAt: o.expiresAt ?? new Date(startsAt.getTime() + 60 * 60_000),
      requestedBy: 'user:requester@example.com',
      justification: 'contract test',
      artifactName: `jit-broker grant ${grantId}`,
    };
  };
  return {
    simulator,
    options,
    provider,
    spec,
    close: async () => {
      await Promise.all(providers.map((p) => p.close()));
      await simulator.close();
    },
  };
}
