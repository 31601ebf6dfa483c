import { GrantSpec, OwnedArtifact, ProvisionOutcome, ProvisionStatus } from '@jit/domain';
import { AzureCallPolicy, toProviderError } from './azure-call.policy';
import { AzureHttpClient } from './azure-http.client';
import { AzureHttpError } from './azure-http.error';
import { armRoleDefinitionId, assignmentDescription, grantIdFromDescription, roleGuid } from './azure-ids';
import { AzureMechanism } from './azure-mechanism';
import { ArmList, armUrl } from './arm-paths';

interface RoleAssignment {
  id: string;
  name: string;
  properties: { roleDefinitionId: string; principalId: string; scope: string; description?: string | null };
}

type ResourceRoleSpec = GrantSpec & { target: { kind: 'azure.resource-role'; scope: string; roleDefinitionId: string } };

const NAME = 'ARM role assignment';

/**
 * Workloads on Azure resources: a plain ARM role assignment named by a GUID derived from the
 * grant. ARM has no expiry for these; the sweeper's revoke is the only end (docs/providers/azure.md).
 * The assignment records its owning grant in `description`, so reconciliation can attribute it
 * and overlapping grants can hand it over instead of deleting it.
 */
export class ArmRoleAssignmentMechanism implements AzureMechanism {
  constructor(
    private readonly http: AzureHttpClient,
    private readonly calls: AzureCallPolicy,
    private readonly reconcileScopes: string[],
  ) {}

  async grant(spec: GrantSpec, overlapping: GrantSpec[]): Promise<ProvisionOutcome> {
    const s = spec as ResourceRoleSpec;
    const keeper = [s, ...overlapping.filter((g) => g.grantId !== s.grantId)].reduce((a, b) => (b.expiresAt > a.expiresAt ? b : a));
    try {
      const { body } = await this.run('create the role assignment', () => this.http.armCall<RoleAssignment>('PUT', armUrl(s.target.scope, 'roleAssignments', s.artifactName), {
        properties: {
          roleDefinitionId: armRoleDefinitionId(s.target.roleDefinitionId, s.target.scope),
          principalId: s.principal.id,
          // Set so ARM does not look the principal up, which fails while a new one replicates.
          principalType: 'ServicePrincipal',
          description: assignmentDescription(keeper.grantId, keeper.expiresAt),
        },
      }), true);
      return { status: 'active', providerRef: { roleAssignmentId: body.id }, notice: NO_EXPIRY_NOTICE };
    } catch (e) {
      if (!(e instanceof AzureHttpError && e.code === 'RoleAssignmentExists')) throw toProviderError(e, `${NAME}: grant`);
      // The principal already holds the role here (an overlapping grant, or a standing assignment).
      const existing = await this.find(s);
      if (!existing) throw toProviderError(e, `${NAME}: grant`);
      return { status: 'active', providerRef: { roleAssignmentId: existing.id, sharedWith: grantIdFromDescription(existing.properties.description) }, notice: NO_EXPIRY_NOTICE };
    }
  }

  async revoke(spec: GrantSpec, overlapping: GrantSpec[]): Promise<void> {
    const s = spec as ResourceRoleSpec;
    const existing = await this.find(s);
    const owner = existing && grantIdFromDescription(existing.properties.description);
    if (!existing || !owner) return; // absent, or a standing assignment the broker never made
    const survivors = overlapping.filter((g) => g.grantId !== s.grantId && g.expiresAt.getTime() > this.calls.now().getTime());
    if (survivors.length) {
      const keeper = survivors.reduce((a, b) => (b.expiresAt > a.expiresAt ? b : a));
      if (owner === keeper.grantId) return;
      await this.run('hand the role assignment to an overlapping grant', () =>
        this.http.armCall('PUT', armUrl(existing.properties.scope, 'roleAssignments', existing.name), {
          properties: {
            roleDefinitionId: existing.properties.roleDefinitionId,
            principalId: existing.properties.principalId,
            principalType: 'ServicePrincipal',
            description: assignmentDescription(keeper.grantId, keeper.expiresAt),
          },
        }),
      );
      return;
    }
    await this.delete(existing.id);
  }

  async status(spec: GrantSpec): Promise<ProvisionStatus> {
    const existing = await this.find(spec as ResourceRoleSpec);
    return existing ? { status: 'active', providerRef: { roleAssignmentId: existing.id } } : { status: 'absent' };
  }

  async *listOwned(): AsyncIterable<OwnedArtifact> {
    for (const scope of this.reconcileScopes) {
      for (const a of await this.list(scope)) {
        const grantId = grantIdFromDescription(a.properties.description);
        if (!grantId) continue;
        yield { grantId, artifactName: a.name, locator: { roleAssignmentId: a.id }, description: `${NAME} ${a.id} (${a.properties.description})` };
      }
    }
  }

  async removeOrphan(artifact: OwnedArtifact): Promise<void> {
    await this.delete(String(artifact.locator.roleAssignmentId));
  }

  /** The principal's assignment of this role at exactly this scope, whatever its name. */
  private async find(s: ResourceRoleSpec): Promise<RoleAssignment | undefined> {
    const all = await this.list(s.target.scope, `principalId eq '${s.principal.id}'`);
    const scope = s.target.scope.replace(/\/$/, '').toLowerCase();
    return all.find(
      (a) => a.properties.scope.toLowerCase() === scope && roleGuid(a.properties.roleDefinitionId) === roleGuid(s.target.roleDefinitionId),
    );
  }

  private async list(scope: string, filter?: string): Promise<RoleAssignment[]> {
    const out: RoleAssignment[] = [];
    let next: string | undefined = armUrl(scope, 'roleAssignments', undefined, '', filter ? { $filter: filter } : {});
    while (next) {
      const url: string = next;
      const { body } = await this.run('list role assignments', () => this.http.armCall<ArmList<RoleAssignment>>('GET', url));
      out.push(...body.value);
      next = body.nextLink;
    }
    return out;
  }

  private async delete(id: string): Promise<void> {
    await this.run('delete the role assignment', () => this.http.armCall('DELETE', `${id.split('/').map(encodeURIComponent).join('/')}?api-version=2022-04-01`));
  }

  private async run<T>(what: string, fn: () => Promise<T>, rawErrors = false): Promise<T> {
    try {
      return await this.calls.run(`${NAME}: ${what}`, fn, { namesPrincipal: true });
    } catch (e) {
      if (rawErrors && e instanceof AzureHttpError) throw e;
      throw toProviderError(e, `${NAME}: ${what}`);
    }
  }
}

const NO_EXPIRY_NOTICE = 'ARM role assignments have no cloud-side expiry: access ends when the broker deletes the assignment (sweeper).';
