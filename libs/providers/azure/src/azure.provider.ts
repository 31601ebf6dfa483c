import { rootCertificates } from 'node:tls';
import { ClientCertificateCredential, ClientSecretCredential, DefaultAzureCredential, TokenCredential, WorkloadIdentityCredential } from '@azure/identity';
import {
  CloudAccessProvider,
  GrantContext,
  GrantSpec,
  OwnedArtifact,
  Principal,
  ProviderError,
  ProvisionOutcome,
  ProvisionStatus,
  Target,
  TargetKind,
} from '@jit/domain';
import { AzureCallPolicy, toProviderError } from './azure-call.policy';
import { AzureHttpClient } from './azure-http.client';
import { nameBasedGuid } from './azure-ids';
import { AzureMechanism } from './azure-mechanism';
import { AzureProviderOptions, DEFAULT_RETRY } from './azure-provider.options';
import { targetKey } from './azure-target';
import { validateAzureSpec } from './azure-spec.validator';
import { AppRoleMechanism } from './app-role.mechanism';
import { ArmPimBackend } from './arm-pim.backend';
import { ArmRoleAssignmentMechanism } from './arm-role-assignment.mechanism';
import { GraphPimBackend } from './graph-pim.backend';
import { PimMechanism } from './pim.mechanism';

const KINDS = ['azure.directory-role', 'azure.resource-role', 'azure.group-membership', 'azure.app-role'] as const;
type AzureKind = (typeof KINDS)[number];

/**
 * Azure adapter: Entra directory roles and group membership through Graph PIM, resource roles
 * through ARM PIM (users, groups) or plain role assignments (workloads), app roles through Graph.
 */
export class AzureProvider extends CloudAccessProvider {
  readonly cloud = 'azure' as const;
  readonly kinds: readonly TargetKind[] = KINDS;
  private readonly http: AzureHttpClient;
  private readonly calls: AzureCallPolicy;
  private readonly mechanisms: Record<'directoryRole' | 'groupMembership' | 'resourceRolePim' | 'resourceRoleAssignment' | 'appRole', AzureMechanism>;

  constructor(private readonly options: AzureProviderOptions) {
    super();
    this.calls = new AzureCallPolicy({ ...DEFAULT_RETRY, ...options.retry });
    this.http = new AzureHttpClient({
      credential: options.credential ?? buildCredential(options),
      graphEndpoint: options.graphEndpoint ?? 'https://graph.microsoft.com',
      armEndpoint: options.armEndpoint ?? 'https://management.azure.com',
      extraCaCertsPem: options.extraCaCertsPem,
    });
    this.mechanisms = {
      directoryRole: new PimMechanism(new GraphPimBackend(this.http, 'azure.directory-role'), this.calls),
      groupMembership: new PimMechanism(new GraphPimBackend(this.http, 'azure.group-membership'), this.calls),
      resourceRolePim: new PimMechanism(new ArmPimBackend(this.http, options.reconcileScopes ?? []), this.calls),
      resourceRoleAssignment: new ArmRoleAssignmentMechanism(this.http, this.calls, options.reconcileScopes ?? []),
      appRole: new AppRoleMechanism(this.http, this.calls),
    };
  }

  artifactName(grantId: string, target: Target): string {
    switch (target.kind) {
      case 'azure.resource-role':
        // The role assignment's name (workloads) or the PIM assign request's name (users, groups).
        return nameBasedGuid(`${grantId}/assign`);
      default:
        return `jit-broker/${grantId}`;
    }
  }

  overlapKey(principal: Principal, target: Target): string {
    return `${principal.id.toLowerCase()}|${targetKey(target)}`;
  }

  validate(spec: GrantSpec): void {
    validateAzureSpec(spec, this.artifactName(spec.grantId, spec.target));
  }

  async grant(spec: GrantSpec, context: GrantContext): Promise<ProvisionOutcome> {
    this.validate(spec);
    return this.mechanismFor(spec).grant(spec, context.overlapping);
  }

  async revoke(spec: GrantSpec, context: GrantContext & { early: boolean }): Promise<void> {
    this.validate(spec);
    await this.mechanismFor(spec).revoke(spec, context.overlapping);
  }

  async status(spec: GrantSpec): Promise<ProvisionStatus> {
    this.validate(spec);
    return this.mechanismFor(spec).status(spec);
  }

  async *listOwned(): AsyncIterable<OwnedArtifact> {
    for (const [name, mechanism] of Object.entries(this.mechanisms)) {
      for await (const artifact of mechanism.listOwned()) yield { ...artifact, locator: { ...artifact.locator, mechanism: name } };
    }
  }

  async removeOrphan(artifact: OwnedArtifact): Promise<void> {
    const mechanism = this.mechanisms[artifact.locator.mechanism as keyof AzureProvider['mechanisms']];
    if (!mechanism) throw new ProviderError('invalid', `unknown Azure artifact locator ${JSON.stringify(artifact.locator)}`);
    await mechanism.removeOrphan(artifact);
  }

  async healthCheck(): Promise<void> {
    try {
      await this.calls.run('health check', () => this.http.graphCall('GET', '/roleManagement/directory/roleAssignmentScheduleInstances?$top=1'));
    } catch (e) {
      throw toProviderError(e, 'Azure health check (Graph)');
    }
  }

  private mechanismFor(spec: GrantSpec): AzureMechanism {
    const kind = spec.target.kind as AzureKind;
    switch (kind) {
      case 'azure.directory-role':
        return this.mechanisms.directoryRole;
      case 'azure.group-membership':
        return this.mechanisms.groupMembership;
      case 'azure.resource-role':
        // PIM cannot make service principals eligible (cloud-apis.md A4): workloads get plain RBAC.
        return spec.principal.type === 'workload' ? this.mechanisms.resourceRoleAssignment : this.mechanisms.resourceRolePim;
      case 'azure.app-role':
        return this.mechanisms.appRole;
    }
  }
}

/** Secret, certificate, workload identity federation, or the DefaultAzureCredential chain. */
function buildCredential(o: AzureProviderOptions): TokenCredential {
  const common = { authorityHost: o.authorityHost, disableInstanceDiscovery: o.authorityHost !== undefined, tlsOptions: tlsOptions(o) };
  if (o.clientId && o.clientSecret) return new ClientSecretCredential(o.tenantId, o.clientId, o.clientSecret, common);
  if (o.clientId && o.clientCertificatePath) return new ClientCertificateCredential(o.tenantId, o.clientId, o.clientCertificatePath, common);
  if (o.clientId && process.env.AZURE_FEDERATED_TOKEN_FILE) {
    return new WorkloadIdentityCredential({ ...common, tenantId: o.tenantId, clientId: o.clientId, tokenFilePath: process.env.AZURE_FEDERATED_TOKEN_FILE });
  }
  return new DefaultAzureCredential({ ...common, tenantId: o.tenantId });
}

function tlsOptions(o: AzureProviderOptions) {
  if (!o.extraCaCertsPem?.length) return undefined;
  return { ca: [...rootCertificates, ...o.extraCaCertsPem] };
}
