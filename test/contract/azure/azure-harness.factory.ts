import { GrantSpec, Principal, Target } from '@jit/domain';
import { azureTarget } from '@jit/provider-azure';
import { ContractHarness } from '@jit/testing';
import { AzureSimulator, HoldsQuery } from '@jit/sim-azure';
import { IDS, newGrantId, providerFor, startSeededSimulator } from './azure-world.fixture';

/** One Azure mechanism, as the contract suite exercises it. */
export interface AzureMechanismCase {
  name: string;
  target: Target;
  /** The principal for `variant` (0 = default). */
  principal(variant: number): Principal;
  cloudSideExpiry: boolean;
}

export const MECHANISMS = {
  directoryRole: {
    name: 'azure.directory-role (Graph PIM)',
    target: { kind: 'azure.directory-role', roleDefinitionId: IDS.directoryRole, directoryScopeId: '/' },
    principal: (v: number) => ({ type: 'user', id: IDS.users[v] }),
    cloudSideExpiry: true,
  },
  resourceRoleWorkload: {
    name: 'azure.resource-role for workloads (ARM roleAssignments)',
    target: { kind: 'azure.resource-role', scope: `/subscriptions/${IDS.subscription}/resourceGroups/rg-orders`, roleDefinitionId: IDS.reader },
    principal: (v: number) => ({ type: 'workload', id: IDS.workloads[v] }),
    cloudSideExpiry: false,
  },
  resourceRoleUser: {
    name: 'azure.resource-role for users (ARM PIM)',
    target: { kind: 'azure.resource-role', scope: `/subscriptions/${IDS.subscription}/resourceGroups/rg-orders`, roleDefinitionId: IDS.reader },
    principal: (v: number) => ({ type: 'user', id: IDS.users[v] }),
    cloudSideExpiry: true,
  },
  appRole: {
    name: 'azure.app-role (Graph appRoleAssignedTo)',
    target: { kind: 'azure.app-role', resourceServicePrincipalId: IDS.resourceApi, appRoleId: IDS.appRole },
    principal: (v: number) => ({ type: 'workload', id: IDS.workloads[v] }),
    cloudSideExpiry: false,
  },
  groupMembership: {
    name: 'azure.group-membership (Graph PIM for Groups)',
    target: { kind: 'azure.group-membership', groupId: IDS.pimGroup, access: 'member' },
    principal: (v: number) => ({ type: 'user', id: IDS.users[v] }),
    cloudSideExpiry: true,
  },
} satisfies Record<string, AzureMechanismCase>;

export function holdsQuery(given: Target): HoldsQuery {
  const target = azureTarget(given);
  switch (target.kind) {
    case 'azure.directory-role':
      return { kind: 'directory-role', roleDefinitionId: target.roleDefinitionId, directoryScopeId: target.directoryScopeId };
    case 'azure.resource-role':
      return { kind: 'resource-role', roleDefinitionId: target.roleDefinitionId, scope: target.scope };
    case 'azure.group-membership':
      return { kind: 'group-membership', groupId: target.groupId, access: target.access };
    case 'azure.app-role':
      return { kind: 'app-role', resourceServicePrincipalId: target.resourceServicePrincipalId, appRoleId: target.appRoleId };
    default:
      throw new Error(`not an Azure target: ${given.kind}`);
  }
}

/** Builds specs the way the broker does: artifact name from the provider, before any call. */
export function specFactory(provider: ContractHarness['provider'], c: AzureMechanismCase, target: Target = c.target) {
  return (options: { grantId?: string; expiresAt?: Date; variant?: number } = {}): GrantSpec => {
    const grantId = options.grantId ?? newGrantId();
    return {
      grantId,
      principal: c.principal(options.variant ?? 0),
      target,
      startsAt: new Date(),
      expiresAt: options.expiresAt ?? new Date(Date.now() + 60 * 60_000),
      requestedBy: 'alice@example.com',
      justification: 'contract test',
      artifactName: provider.artifactName(grantId, target),
    };
  };
}

/**
 * The shared suite revokes right after granting in almost every case, so PIM's five-minute
 * removal window is shortened to nothing here; azure-pim-five-minutes.contract-spec.ts tests
 * the window itself, and every other rule (the five-minute minimum included) stays.
 */
export function azureHarness(c: AzureMechanismCase): () => Promise<ContractHarness & { sim: AzureSimulator }> {
  return async () => {
    const sim = await startSeededSimulator({ pimRemovalWindowMs: 0 });
    const provider = providerFor(sim);
    return {
      sim,
      provider,
      spec: specFactory(provider, c),
      holds: async (spec, at) => sim.holds(spec.principal.id, holdsQuery(spec.target), at),
      throttleNext: (count) => sim.inject({ throttle: count }),
      failNext: (count) => sim.inject({ serverError: count }),
      restartedProvider: () => providerFor(sim),
      cloudSideExpiry: c.cloudSideExpiry,
      cloudDeadlines: async (spec) => {
        const q = holdsQuery(spec.target);
        if (q.kind === 'app-role') return [];
        return sim.pimSchedules(spec.principal.id, q).flatMap((s) => (s.end ? [s.end] : []));
      },
      close: () => sim.close(),
    };
  };
}
