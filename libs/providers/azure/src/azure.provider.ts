import { rootCertificates } from 'node:tls';
import { ClientCertificateCredential, ClientSecretCredential, DefaultAzureCredential, TokenCredential, WorkloadIdentityCredential } from '@azure/identity';
import {
  CloudAccessProvider,
  GrantContext,
  GrantSpec,
  OwnedArtifact,
  OwnedListingPart,
  Principal,
  PrincipalType,
  ProviderError,
  ProvisionOutcome,
  ProvisionStatus,
  StandingAccessInventory,
  Target,
  TargetKind,
} from '@jit/domain';
import { SignalScope } from '@jit/resilience';
import { AzureCallPolicy, toProviderError } from './azure-call.policy';
import { AzureHttpClient } from './azure-http.client';
import { nameBasedGuid } from './azure-ids';
import { AzureMechanism } from './azure-mechanism';
import { AzureKind, azureKinds } from './azure-kinds';
import { AzureProviderOptions, DEFAULT_RETRY } from './azure-provider.options';
import { AzureStandingInventory } from './azure-standing.inventory';
import { targetKey } from './azure-target';
import { validateAzureSpec } from './azure-spec.validator';
import { AppRoleMechanism } from './app-role.mechanism';
import { ArmPimBackend } from './arm-pim.backend';
import { ArmRoleAssignmentMechanism } from './arm-role-assignment.mechanism';
import { GraphPimBackend } from './graph-pim.backend';
import { PimMechanism } from './pim.mechanism';
import { PIM_MINIMUM_MS } from './pim-rules';

const KINDS = azureKinds.map((k) => k.kind);

/** What each Entra object type is called in a request; other directory objects cannot receive access. */
const PRINCIPAL_TYPE_OF: Record<string, PrincipalType> = {
  '#microsoft.graph.user': 'user',
  '#microsoft.graph.group': 'group',
  // Managed identities are service principals too.
  '#microsoft.graph.servicePrincipal': 'workload',
  // Types Graph derives from those (the v1.0 CSDL's agent identities).
  '#microsoft.graph.agentIdentity': 'workload',
  '#microsoft.graph.agentIdentityBlueprintPrincipal': 'workload',
  '#microsoft.graph.agentUser': 'user',
};
/** A lookup that found nothing is remembered this long, so a flood of unknown ids does not spend Graph's throttle budget. */
const NOT_FOUND_TTL_MS = 60_000;
/** An object's type never changes; the bound keeps a flood of lookups from growing the cache. */
const PRINCIPAL_CACHE_LIMIT = 10_000;
/** A principal created moments ago may not be readable yet; a request waits this long at most for it. */
const LOOKUP_REPLICATION_WAIT_MS = 10_000;
const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * Azure adapter: Entra directory roles and group membership through Graph PIM, resource roles
 * through ARM PIM (users, groups) or plain role assignments (workloads), app roles through Graph.
 */
export class AzureProvider extends CloudAccessProvider {
  readonly cloud = 'azure' as const;
  readonly kinds: readonly TargetKind[] = KINDS;
  private readonly http: AzureHttpClient;
  /** The caller's signal, carried from the public methods to every Graph and ARM request under them. */
  private readonly scope = new SignalScope();
  private readonly calls: AzureCallPolicy;
  /** For lookups inside a requester's HTTP request: "not found" is retried for replication only briefly. */
  private readonly lookups: AzureCallPolicy;
  private readonly principalTypes = new Map<string, PrincipalType>();
  private readonly notFound = new Map<string, { until: number; error: ProviderError }>();
  private readonly mechanisms: Record<'directoryRole' | 'groupMembership' | 'resourceRolePim' | 'resourceRoleAssignment' | 'appRole', AzureMechanism>;
  private readonly inventory: AzureStandingInventory;

  constructor(private readonly options: AzureProviderOptions) {
    super();
    const now = options.now ?? (() => new Date());
    this.calls = new AzureCallPolicy({ ...DEFAULT_RETRY, ...options.retry }, this.scope, now);
    this.lookups = new AzureCallPolicy(
      { ...this.calls.retry, replicationWaitMs: Math.min(this.calls.retry.replicationWaitMs, LOOKUP_REPLICATION_WAIT_MS) },
      this.scope,
      now,
    );
    this.http = new AzureHttpClient({
      credential: options.credential ?? buildCredential(options),
      graphEndpoint: options.graphEndpoint ?? 'https://graph.microsoft.com',
      armEndpoint: options.armEndpoint ?? 'https://management.azure.com',
      extraCaCertsPem: options.extraCaCertsPem,
      scope: this.scope,
    });
    this.mechanisms = {
      directoryRole: new PimMechanism(new GraphPimBackend(this.http, 'azure.directory-role'), this.calls),
      groupMembership: new PimMechanism(new GraphPimBackend(this.http, 'azure.group-membership'), this.calls),
      resourceRolePim: new PimMechanism(new ArmPimBackend(this.http, options.reconcileScopes ?? []), this.calls),
      resourceRoleAssignment: new ArmRoleAssignmentMechanism(this.http, this.calls, options.reconcileScopes ?? []),
      appRole: new AppRoleMechanism(this.http, this.calls),
    };
    this.inventory = new AzureStandingInventory(this.http, this.calls, this.scope, {
      tenantId: options.tenantId,
      scopes: options.discoveryScopes ?? options.reconcileScopes ?? [],
      armEndpoint: options.armEndpoint ?? 'https://management.azure.com',
      graphEndpoint: options.graphEndpoint ?? 'https://graph.microsoft.com',
    });
  }

  /** Permanent ARM role assignments and PIM eligibilities per discovery scope, and the tenant's directory roles (azure-standing.inventory.ts). */
  override standingInventory(): StandingAccessInventory {
    return this.inventory;
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
    const duration = spec.expiresAt.getTime() - spec.startsAt.getTime();
    if (this.mechanismFor(spec) instanceof PimMechanism && duration < PIM_MINIMUM_MS) {
      throw new ProviderError(
        'invalid',
        `${spec.target.kind} for a ${spec.principal.type} goes through PIM, which refuses assignments shorter than five minutes (ActiveDurationTooShort): ask for PT5M or more`,
        { field: 'duration', code: 'ActiveDurationTooShort' },
      );
    }
  }

  /**
   * An Entra object id does not say whether it is a user, a group or a service principal, and the
   * type decides both the rule that applies and the mechanism (PIM for people, RBAC for
   * workloads). Graph `GET /directoryObjects/{id}?$select=id` answers it in `@odata.type`.
   */
  override verifyPrincipal(principal: Principal, target: Target, signal?: AbortSignal): Promise<void> {
    return this.scope.run(signal, () => this.checkPrincipal(principal, target));
  }

  private async checkPrincipal(principal: Principal, target: Target): Promise<void> {
    // Every Azure kind takes an Entra object id, whatever the target.
    void target;
    // A malformed id is left to validate(), which names the field.
    if (!GUID.test(principal.id)) return;
    const id = principal.id.toLowerCase();
    let actual = this.principalTypes.get(id);
    if (!actual) {
      const missing = this.notFound.get(id);
      if (missing && missing.until > this.calls.now().getTime()) throw missing.error;
      let object: { '@odata.type'?: string };
      try {
        object = await this.lookups.run('Graph directoryObjects lookup', () => this.http.graphCall('GET', `/directoryObjects/${id}?$select=id`), {
          namesPrincipal: true,
        });
      } catch (e) {
        const error = toProviderError(e, `looking up principal ${principal.id}`);
        if (error.options.field === 'principal.id') {
          if (this.notFound.size >= PRINCIPAL_CACHE_LIMIT) this.notFound.clear();
          this.notFound.set(id, { until: this.calls.now().getTime() + NOT_FOUND_TTL_MS, error });
        }
        throw error;
      }
      const odataType = object['@odata.type'];
      if (!odataType) throw new ProviderError('terminal', `Graph answered for ${principal.id} without its @odata.type`, { code: 'azure.no-odata-type' });
      actual = PRINCIPAL_TYPE_OF[odataType];
      if (!actual) {
        throw new ProviderError('invalid', `${principal.id} is a ${odataType.replace('#microsoft.graph.', '')} in Entra ID, which cannot receive access`, {
          field: 'principal.id',
          code: 'azure.principal-kind',
        });
      }
      if (this.principalTypes.size >= PRINCIPAL_CACHE_LIMIT) this.principalTypes.clear();
      this.principalTypes.set(id, actual);
    }
    if (actual !== principal.type) {
      throw new ProviderError('invalid', `${principal.id} is a ${actual} in Entra ID; declare principal.type "${actual}", not "${principal.type}"`, {
        field: 'principal.type',
        code: 'azure.principal-type',
      });
    }
  }

  async grant(spec: GrantSpec, context: GrantContext, signal?: AbortSignal): Promise<ProvisionOutcome> {
    this.validate(spec);
    return this.scope.run(signal, () => this.mechanismFor(spec).grant(spec, context.overlapping));
  }

  async revoke(spec: GrantSpec, context: GrantContext & { early: boolean }, signal?: AbortSignal): Promise<void> {
    // Shape only: a grant stored before the five-minute minimum must still be revocable.
    validateAzureSpec(spec, this.artifactName(spec.grantId, spec.target));
    await this.scope.run(signal, () => this.mechanismFor(spec).revoke(spec, context.overlapping));
  }

  async status(spec: GrantSpec, signal?: AbortSignal): Promise<ProvisionStatus> {
    validateAzureSpec(spec, this.artifactName(spec.grantId, spec.target));
    return this.scope.run(signal, () => this.mechanismFor(spec).status(spec));
  }

  listOwned(signal?: AbortSignal): AsyncIterable<OwnedArtifact> {
    return this.scope.iterate(signal, () => this.owned());
  }

  /** One part per mechanism (each its own API and listing), so one that stays throttled leaves the others reconciled. */
  override async listingParts(): Promise<OwnedListingPart[]> {
    return Object.entries(this.mechanisms).map(([name, mechanism]: [string, AzureMechanism]) => ({
      name,
      list: (signal?: AbortSignal) => this.scope.iterate(signal, () => this.ownedBy(name, mechanism)),
    }));
  }

  async removeOrphan(artifact: OwnedArtifact, signal?: AbortSignal): Promise<void> {
    const mechanism = this.mechanisms[artifact.locator.mechanism as keyof AzureProvider['mechanisms']];
    if (!mechanism) throw new ProviderError('invalid', `unknown Azure artifact locator ${JSON.stringify(artifact.locator)}`);
    await this.scope.run(signal, () => mechanism.removeOrphan(artifact));
  }

  async healthCheck(signal?: AbortSignal): Promise<void> {
    try {
      await this.scope.run(signal, () =>
        this.calls.run('health check', () => this.http.graphCall('GET', '/roleManagement/directory/roleAssignmentScheduleInstances?$top=1')),
      );
    } catch (e) {
      throw toProviderError(e, 'Azure health check (Graph)');
    }
  }

  private async *owned(): AsyncIterable<OwnedArtifact> {
    for (const [name, mechanism] of Object.entries(this.mechanisms)) yield* this.ownedBy(name, mechanism);
  }

  private async *ownedBy(name: string, mechanism: AzureMechanism): AsyncIterable<OwnedArtifact> {
    for await (const artifact of mechanism.listOwned()) yield { ...artifact, locator: { ...artifact.locator, mechanism: name } };
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
  if (o.clientId && o.federatedTokenFile) {
    return new WorkloadIdentityCredential({ ...common, tenantId: o.tenantId, clientId: o.clientId, tokenFilePath: o.federatedTokenFile });
  }
  return new DefaultAzureCredential({ ...common, tenantId: o.tenantId });
}

function tlsOptions(o: AzureProviderOptions) {
  if (!o.extraCaCertsPem?.length) return undefined;
  return { ca: [...rootCertificates, ...o.extraCaCertsPem] };
}
