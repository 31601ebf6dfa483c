import {
  CloudAccessProvider,
  EMPTY_RECONCILE_SCOPE,
  GrantContext,
  GrantSpec,
  OwnedArtifact,
  OwnedListingPart,
  Principal,
  ProviderError,
  ProvisionOutcome,
  ProvisionStatus,
  ReconcileScope,
  Target,
} from '@jit/domain';
import { bindingTitle, isValidGrantId, parseBrokerBinding } from './broker-binding.convention';
import { DEFAULT_INVENTORY_OPTIONS, GcpStandingInventory } from './gcp-standing.inventory';
import { PolicyInsightsGateway } from './policy-insights.gateway';
import { GCP_BASIC_ROLES, GCP_MEMBER, GCP_RESOURCE, GCP_ROLE, GcpTarget, gcpKinds } from './gcp-kinds';
import { DEFAULT_RETRY, GcpProviderOptions } from './gcp-provider.options';
import { PUBLIC_MEMBERS } from './gcp-policy.limits';
import { CoalescerStats, PolicyWriteCoalescer } from './policy-write.coalescer';
import { ResourceManagerGateway } from './resource-manager.gateway';
import { CloudIdentityGateway } from './cloud-identity.gateway';
import { GROUP_MEMBERSHIP_KIND, GroupMemberships } from './group-membership';

/** Project numbers resolved to ids, kept since neither ever changes; a bound keeps a flood of lookups from growing it. */
const PROJECT_ID_CACHE_LIMIT = 10_000;
const PROJECT_NUMBER = /^projects\/(\d+)$/;

/** Conflicts are normal under concurrent writers: allow more rounds for them than for faults. */
const CONFLICT_ATTEMPTS = 8;

/** What every GCP grant carries: IAM cannot recall what was already done or minted with it. */
export const GCP_REVOKE_NOTICE =
  'Revoking removes the IAM binding, which GCP applies within minutes (IAM propagation). OAuth access tokens ' +
  'already minted with this access (for example by impersonating a service account) stay valid until they expire: ' +
  'up to 1 hour, or 12 hours where the organization allows extended lifetimes. GCP cannot revoke them.';

interface BindingLocator {
  resource: string;
  role: string;
  member: string;
  grantId: string;
}

/**
 * `gcp.iam-binding`: one conditional binding per grant, `request.time < timestamp(expiresAt)`,
 * on a project, folder or organization allow policy (design.md section 4). A binding per grant
 * keeps overlapping grants independent: each ends on its own, and revoking one leaves the others.
 */
export class GcpIamBindingProvider extends CloudAccessProvider {
  readonly cloud = 'gcp' as const;
  readonly kinds = gcpKinds.map((k) => k.kind);
  private readonly gateway: ResourceManagerGateway;
  private readonly writer: PolicyWriteCoalescer;
  private readonly now: () => Date;
  private readonly projectIds = new Map<string, string>();
  private inventory?: GcpStandingInventory;
  /** `gcp.group-membership` (group-membership.ts): Cloud Identity memberships with an expiry. */
  private readonly groups: GroupMemberships;

  constructor(private readonly options: GcpProviderOptions) {
    super();
    this.now = options.now ?? (() => new Date());
    this.gateway = new ResourceManagerGateway(options);
    this.writer = new PolicyWriteCoalescer(this.gateway, { ...DEFAULT_RETRY, conflictAttempts: CONFLICT_ATTEMPTS, ...options.retry }, this.now);
    this.groups = new GroupMemberships(new CloudIdentityGateway(options), { ...DEFAULT_RETRY, ...options.retry }, this.now);
  }

  artifactName(grantId: string, target: Target): string {
    if (target.kind === GROUP_MEMBERSHIP_KIND) return this.groups.artifactName(grantId);
    return bindingTitle(grantId);
  }

  overlapKey(principal: Principal, target: Target): string {
    if (target.kind === GROUP_MEMBERSHIP_KIND) return this.groups.overlapKey(principal, target);
    const t = target as GcpTarget;
    return `gcp.iam-binding|${t.resource}|${t.role}|${principal.id}`;
  }

  /** `gcp.group-membership`: a member email that is a group's must be named `group:` (Cloud Identity ignores the prefix). */
  override async verifyPrincipal(principal: Principal, target: Target, signal?: AbortSignal): Promise<void> {
    if (target.kind === GROUP_MEMBERSHIP_KIND) await this.groups.verifyPrincipal(principal, signal);
  }

  /**
   * `projects/<number>` becomes `projects/<id>`: both name one project to setIamPolicy, and the
   * rules and deny-list must not see it under a second name (a deny entry on the id would
   * otherwise miss a request by number). Resolved with projects.get.
   */
  override async canonicalTarget(given: Target, signal?: AbortSignal): Promise<Target> {
    if (given.kind === GROUP_MEMBERSHIP_KIND) return this.groups.canonicalTarget(given, signal);
    if (given.kind !== 'gcp.iam-binding') return given;
    const target = given as GcpTarget;
    const number = PROJECT_NUMBER.exec(target.resource)?.[1];
    if (!number) return target;
    let id = this.projectIds.get(number);
    if (!id) {
      try {
        id = await this.writer.read((s) => this.gateway.projectId(target.resource, s), signal);
      } catch (e) {
        // GCP answers 403 for a project that does not exist as for one the broker may not read.
        if (e instanceof ProviderError && ['PERMISSION_DENIED', 'NOT_FOUND', 'INVALID_ARGUMENT'].includes(e.options.code ?? '')) {
          throw new ProviderError(
            'invalid',
            `${target.resource} is not a project the broker can read (resourcemanager.projects.get); request it by project id`,
            { field: 'target.resource', code: 'gcp.unknown-project', cause: e },
          );
        }
        throw e;
      }
      if (this.projectIds.size >= PROJECT_ID_CACHE_LIMIT) this.projectIds.clear();
      this.projectIds.set(number, id);
    }
    return { ...target, resource: `projects/${id}` };
  }

  validate(spec: GrantSpec): void {
    if (spec.target.kind === GROUP_MEMBERSHIP_KIND) return this.groups.validate(spec);
    const { resource, role } = this.target(spec);
    const member = spec.principal.id;
    const invalid = (field: string, message: string) => new ProviderError('invalid', message, { field, code: `gcp.${field.replace(/\W+/g, '-')}` });
    if (!GCP_RESOURCE.test(resource)) throw invalid('target.resource', 'must be projects/<id>, folders/<number> or organizations/<number>');
    if (!GCP_ROLE.test(role)) throw invalid('target.role', 'must be roles/<name> or a custom role projects/<id>/roles/<name> or organizations/<n>/roles/<name>');
    if (GCP_BASIC_ROLES.includes(role)) {
      throw new ProviderError('limit', `GCP does not allow conditions on basic roles (${GCP_BASIC_ROLES.join(', ')}), so ${role} cannot be granted with an expiry`, {
        field: 'target.role',
        code: 'gcp.no-condition-on-basic-role',
      });
    }
    if (PUBLIC_MEMBERS.includes(member)) {
      throw new ProviderError('limit', `GCP does not allow conditions on ${member}, so it cannot be granted with an expiry`, {
        field: 'principal.id',
        code: 'gcp.no-condition-on-public-member',
      });
    }
    if (!GCP_MEMBER.test(member)) throw invalid('principal.id', 'must be a member string: user:, group:, serviceAccount:, domain: or principal://');
    if (!isValidGrantId(spec.grantId)) throw invalid('grantId', 'must be 1-64 letters, digits, - or _ to fit the binding title');
    if (spec.expiresAt.getTime() <= spec.startsAt.getTime()) throw invalid('expiresAt', 'must be after startsAt');
  }

  async grant(spec: GrantSpec, context: GrantContext, signal?: AbortSignal): Promise<ProvisionOutcome> {
    if (spec.target.kind === GROUP_MEMBERSHIP_KIND) return this.groups.grant(spec, context, signal);
    // Overlapping grants need nothing: each has its own binding and its own expiry.
    this.validate(spec);
    const { resource, role } = this.target(spec);
    await this.writer.submit(resource, {
      type: 'add',
      grantId: spec.grantId,
      role,
      member: spec.principal.id,
      expiresAt: spec.expiresAt,
      requestedBy: spec.requestedBy,
    }, signal);
    return {
      status: 'active',
      providerRef: { resource, role, member: spec.principal.id, bindingTitle: spec.artifactName, expiresAt: spec.expiresAt.toISOString() },
      notice: GCP_REVOKE_NOTICE,
    };
  }

  async revoke(spec: GrantSpec, context: GrantContext & { early: boolean }, signal?: AbortSignal): Promise<void> {
    // Only this grant's binding goes; overlapping grants keep theirs. GCP has no way to cut
    // live tokens, so `early` changes nothing here (the notice on the grant says so).
    if (spec.target.kind === GROUP_MEMBERSHIP_KIND) return this.groups.revoke(spec, context, signal);
    const { resource, role } = this.target(spec);
    await this.writer.submit(resource, { type: 'remove', grantId: spec.grantId, role, member: spec.principal.id }, signal);
  }

  async status(spec: GrantSpec, signal?: AbortSignal): Promise<ProvisionStatus> {
    if (spec.target.kind === GROUP_MEMBERSHIP_KIND) return this.groups.status(spec, signal);
    const { resource, role } = this.target(spec);
    const policy = await this.writer.read((s) => this.gateway.getPolicy(resource, s), signal);
    const own = (policy.bindings ?? [])
      .map(parseBrokerBinding)
      .find((b) => b && b.grantId === spec.grantId && b.role === role && b.member === spec.principal.id);
    // An expired binding still in the policy grants nothing: the access is absent.
    if (!own || own.expiresAt.getTime() <= this.now().getTime()) return { status: 'absent' };
    return { status: 'active', providerRef: { resource, role, member: own.member, bindingTitle: bindingTitle(own.grantId), expiresAt: own.expiresAt.toISOString() } };
  }

  async *listOwned(signal?: AbortSignal, scope: ReconcileScope = EMPTY_RECONCILE_SCOPE): AsyncIterable<OwnedArtifact> {
    for (const part of await this.listingParts(scope)) yield* part.list(signal);
  }

  /**
   * One part per resource whose IAM policy may hold the broker's bindings: those of
   * `reconcileResources`, and the resource of each `gcp.iam-binding` subject of the scope (the
   * grants table), so one throttled policy read leaves the other resources reconciled.
   */
  override async listingParts(scope: ReconcileScope): Promise<OwnedListingPart[]> {
    const resources = new Set(this.options.reconcileResources);
    for (const { target } of await scope.subjects()) {
      const resource = (target as { resource?: unknown }).resource;
      if (target.kind === 'gcp.iam-binding' && typeof resource === 'string') resources.add(resource);
    }
    const bindings = [...resources].map((resource) => ({ name: resource, list: (signal?: AbortSignal) => this.ownedOn(resource, signal) }));
    return [...bindings, ...(await this.groups.listingParts(scope))];
  }

  private async *ownedOn(resource: string, signal?: AbortSignal): AsyncIterable<OwnedArtifact> {
    const now = this.now().getTime();
    const policy = await this.writer.read((s) => this.gateway.getPolicy(resource, s), signal);
    for (const binding of policy.bindings ?? []) {
      const own = parseBrokerBinding(binding);
      if (!own) continue;
      const locator: BindingLocator = { resource, role: own.role, member: own.member, grantId: own.grantId };
      const expired = own.expiresAt.getTime() <= now ? ', expired' : '';
      yield {
        grantId: own.grantId,
        artifactName: bindingTitle(own.grantId),
        locator: { ...locator },
        description: `${own.role} for ${own.member} on ${resource} until ${own.expiresAt.toISOString()}${expired}`,
      };
    }
  }

  async removeOrphan(artifact: OwnedArtifact, signal?: AbortSignal): Promise<void> {
    if (typeof artifact.locator.membership === 'string') return this.groups.removeOrphan(artifact, signal);
    const { resource, role, member, grantId } = artifact.locator as Partial<BindingLocator>;
    if (!resource || !role || !member || !grantId) throw new ProviderError('invalid', 'not a GCP binding locator', { field: 'locator' });
    await this.writer.submit(resource, { type: 'remove', grantId, role, member }, signal);
  }

  async healthCheck(signal?: AbortSignal): Promise<void> {
    const resource = this.options.reconcileResources[0];
    if (!resource) {
      await this.writer.read(() => this.gateway.checkCredentials(), signal);
      return;
    }
    const type = resource.slice(0, resource.indexOf('/'));
    const needed = [`resourcemanager.${type}.getIamPolicy`, `resourcemanager.${type}.setIamPolicy`];
    const held = await this.writer.read((s) => this.gateway.testPermissions(resource, needed, s), signal);
    const missing = needed.filter((p) => !held.includes(p));
    if (missing.length > 0) throw new ProviderError('terminal', `the broker lacks ${missing.join(', ')} on ${resource}`, { code: 'gcp.missing-permission' });
  }

  /**
   * Discovery's view of GCP (gcp-standing.inventory.ts): search, allow policies and policy
   * insights with this adapter's credentials; removals share its write queue per policy.
   */
  override standingInventory(): GcpStandingInventory {
    this.inventory ??= new GcpStandingInventory(this.gateway, new PolicyInsightsGateway(this.options), this.writer, {
      ...DEFAULT_INVENTORY_OPTIONS,
      ...this.options.inventory,
      ...(this.options.maxGrantSeconds !== undefined && { maxGrantSeconds: this.options.maxGrantSeconds }),
      now: this.now,
    });
    return this.inventory;
  }

  /** Counts of the coalesced read-modify-writes since start (for metrics and the benchmark). */
  writeStats(): CoalescerStats {
    return this.writer.stats();
  }

  async close(): Promise<void> {
    await Promise.all([this.gateway.close(), this.inventory?.close()]);
  }

  private target(spec: GrantSpec): GcpTarget {
    if (spec.target.kind !== 'gcp.iam-binding') {
      throw new ProviderError('invalid', `the GCP provider does not serve ${spec.target.kind}`, { field: 'target.kind' });
    }
    return spec.target as GcpTarget;
  }
}
