import { randomUUID } from 'node:crypto';
import { InventoryPage, ProviderError, StandingAccessInventory, StandingAssignment, StandingPrincipal } from '@jit/domain';
import { SignalScope } from '@jit/resilience';
import { AzureCallPolicy, toProviderError } from './azure-call.policy';
import { AzureHttpClient } from './azure-http.client';
import { AzureHttpError } from './azure-http.error';
import { TICKET_SYSTEM, grantIdFromDescription, nameBasedGuid, roleGuid } from './azure-ids';
import { ArmList, ROLE_ASSIGNMENTS_API_VERSION, armUrl } from './arm-paths';

/**
 * `ticketInfo.ticketSystem` of the PIM requests discovery's removals and restores make: not the
 * broker's grant ticket system, so reconciliation never takes a restored assignment for a grant's.
 */
export const DISCOVERY_TICKET_SYSTEM = 'jit-broker-discovery';

/**
 * Azure's standing access for discovery (docs/providers/azure.md, "Discovery"): one part per
 * configured ARM scope (its permanent role assignments, then its PIM eligibilities) and one for
 * the Entra tenant (its permanent directory role assignments, then its eligibilities).
 *
 * Azure lists the role assignments PIM keeps for its active schedules with the others, so each
 * part first reads PIM's schedules (ARM `roleAssignmentSchedules`, Graph
 * `roleAssignmentScheduleInstances`): an activation (`Activated`) is just-in-time and the
 * broker's own PIM grants (the request that made the schedule carries the broker's
 * `ticketInfo.ticketSystem`) are the broker's, so neither is reported; every other PIM
 * assignment (an admin's, permanent or ending, say Owner until 2099) is reported as
 * `azure.pim-active` with its end. Eligibilities are reported as `azure.pim-eligible`: access a
 * member can activate, not access held.
 */

export interface AzureStandingOptions {
  tenantId: string;
  /** ARM scopes (subscriptions, management groups) a scan walks, one part each. */
  scopes: string[];
  armEndpoint: string;
  graphEndpoint: string;
}

type Phase = 'assignments' | 'eligibility';
interface Cursor {
  phase: Phase;
  next: string;
}

interface ArmRoleAssignment {
  id: string;
  name: string;
  properties: {
    roleDefinitionId: string;
    principalId: string;
    principalType?: string | null;
    scope: string;
    description?: string | null;
    condition?: string | null;
    conditionVersion?: string | null;
    createdOn?: string | null;
  };
}

interface ArmSchedule {
  id: string;
  name: string;
  properties: {
    scope: string;
    roleDefinitionId: string;
    principalId: string;
    principalType?: string | null;
    assignmentType?: string | null;
    roleAssignmentScheduleRequestId?: string | null;
    status?: string | null;
    startDateTime?: string | null;
    endDateTime?: string | null;
    createdOn?: string | null;
  };
}

interface ArmRoleDefinition {
  properties: { roleName: string; permissions?: { actions?: string[]; notActions?: string[]; dataActions?: string[]; notDataActions?: string[] }[] };
}

interface GraphPage<T> {
  value: T[];
  '@odata.nextLink'?: string;
}

interface DirectoryObject {
  '@odata.type'?: string;
  id: string;
  displayName?: string | null;
  servicePrincipalType?: string | null;
}

interface GraphRoleAssignment {
  id: string;
  principalId: string;
  roleDefinitionId: string;
  directoryScopeId?: string | null;
  appScopeId?: string | null;
  condition?: string | null;
  principal?: DirectoryObject | null;
}

interface GraphEligibility extends GraphRoleAssignment {
  createdDateTime?: string | null;
  status?: string | null;
  scheduleInfo?: { startDateTime?: string | null; expiration?: { endDateTime?: string | null } | null } | null;
}

interface GraphInstance {
  roleAssignmentOriginId?: string | null;
  roleAssignmentScheduleId?: string | null;
  assignmentType?: string | null;
  endDateTime?: string | null;
}

interface SignInActivity {
  lastSignInDateTime?: string | null;
  lastSuccessfulSignInDateTime?: string | null;
  lastNonInteractiveSignInDateTime?: string | null;
}

interface RoleInfo {
  name: string;
  actions?: string[];
  /** The definition could not be read (403, 404): what the role allows is unknown, not nothing. */
  unreadable?: boolean;
}

interface PrincipalInfo {
  principal: StandingPrincipal;
  lastUsedAt: Date | null;
  neverUsed: boolean;
}

/** PIM's view of one part: which assignments are activations or the broker's (not reported), and which are an admin's PIM assignment (with its end, null when permanent). */
interface PimIndex {
  skip: Set<string>;
  active: Map<string, string | null>;
}

/** Cached lookups are re-read after this long, so each scan sees the directory as it is. */
const CACHE_TTL_MS = 10 * 60_000;
const CACHE_LIMIT = 10_000;
const ARM_PART = 'arm:';
const ENTRA_PART = 'entra:';

export class AzureStandingInventory implements StandingAccessInventory {
  readonly cloud = 'azure' as const;
  private readonly roles = new Cache<RoleInfo>();
  private readonly principals = new Cache<PrincipalInfo>();
  /** Per part: PIM's schedules, read when the part starts (or resumes in a new process). */
  private readonly pim = new Cache<PimIndex>();
  private readonly directoryRoles = new Cache<Map<string, RoleInfo>>();

  constructor(
    private readonly http: AzureHttpClient,
    private readonly calls: AzureCallPolicy,
    private readonly scope: SignalScope,
    private readonly options: AzureStandingOptions,
  ) {}

  parts(): Promise<string[]> {
    return Promise.resolve([...this.options.scopes.map((s) => `${ARM_PART}${normScope(s)}`), `${ENTRA_PART}${this.options.tenantId}`]);
  }

  page(part: string, cursor: string | null, signal?: AbortSignal): Promise<InventoryPage> {
    return this.scope.run(signal, async () => {
      if (part.startsWith(ARM_PART)) {
        const scope = part.slice(ARM_PART.length);
        if (!this.options.scopes.some((s) => normScope(s).toLowerCase() === scope.toLowerCase())) throw unknownPart(part);
        return this.armPage(scope, this.parseCursor(cursor, this.options.armEndpoint.replace(/\/$/, '')));
      }
      if (part === `${ENTRA_PART}${this.options.tenantId}`) return this.entraPage(this.parseCursor(cursor, `${this.options.graphEndpoint.replace(/\/$/, '')}/v1.0`));
      throw unknownPart(part);
    });
  }

  remove(assignment: StandingAssignment, signal?: AbortSignal): Promise<void> {
    return this.scope.run(signal, async () => {
      const l = assignment.locator;
      if (assignment.access.type === 'azure.role-assignment') {
        await this.run('delete the role assignment', () => this.http.armCall('DELETE', `${encodePath(String(l.id))}?api-version=${ROLE_ASSIGNMENTS_API_VERSION}`));
        return;
      }
      if (assignment.access.type === 'azure.directory-role') {
        // The stored id first. Graph names assignments itself, so one restored since has a new id:
        // then the one giving the same role, principal and scope, but never one PIM keeps (an
        // activation, the broker's own grant), which is not this standing assignment.
        if (await this.deleteDirectoryAssignment(String(l.id))) return;
        const current = await this.findDirectoryAssignment(l, await this.pimKeptDirectoryAssignments());
        if (current) await this.deleteDirectoryAssignment(current.id);
        return;
      }
      if (assignment.access.type === 'azure.pim-active') {
        if (l.api === 'graph' && l.condition) throw notRemovable(assignment, 'Graph\'s PIM requests carry no condition, so the broker could not restore it as it was; remove it in PIM if it should go');
        return this.pimRequest(assignment, 'remove');
      }
      throw notRemovable(assignment);
    });
  }

  restore(assignment: StandingAssignment, signal?: AbortSignal): Promise<void> {
    return this.scope.run(signal, async () => {
      const l = assignment.locator;
      if (assignment.access.type === 'azure.role-assignment') {
        const properties: Record<string, unknown> = { roleDefinitionId: l.roleDefinitionId, principalId: l.principalId };
        if (l.principalType) properties.principalType = l.principalType;
        if (l.description) properties.description = l.description;
        if (l.condition) Object.assign(properties, { condition: l.condition, conditionVersion: l.conditionVersion ?? '2.0' });
        try {
          // The same name, so the assignment comes back with the id it had.
          await this.calls.run('restore the role assignment', () => this.http.armCall('PUT', armUrl(String(l.scope), 'roleAssignments', String(l.name)), { properties }));
        } catch (e) {
          if (e instanceof AzureHttpError && e.code === 'RoleAssignmentExists') return;
          throw toProviderError(e, 'Azure discovery: restore the role assignment');
        }
        return;
      }
      if (assignment.access.type === 'azure.directory-role') {
        // Present means done; an activation of the same role is not the standing assignment.
        if (await this.findDirectoryAssignment(l, await this.pimKeptDirectoryAssignments())) return;
        await this.run('restore the directory role assignment', () =>
          this.http.graphCall('POST', '/roleManagement/directory/roleAssignments', {
            principalId: l.principalId,
            roleDefinitionId: l.roleDefinitionId,
            ...(l.appScopeId ? { appScopeId: l.appScopeId } : { directoryScopeId: l.directoryScopeId }),
            ...(l.condition ? { condition: l.condition } : {}),
          }),
        );
        return;
      }
      if (assignment.access.type === 'azure.pim-active') return this.pimRequest(assignment, 'restore');
      throw notRemovable(assignment);
    });
  }

  /**
   * An admin's PIM assignment is PIM's to remove: an `AdminRemove` request (absent: done), and
   * restored by an `AdminAssign` with the end it had, or none (present: done). A role whose PIM
   * policy requires active assignments to end refuses the restore (`PolicyValidationFailed`).
   */
  private async pimRequest(assignment: StandingAssignment, action: 'remove' | 'restore'): Promise<void> {
    const l = assignment.locator;
    const remove = action === 'remove';
    const justification = `jit-broker discovery: standing assignment ${remove ? 'removed' : 'restored'} after an approved request`;
    const ticketInfo = { ticketNumber: `standing-${action}`, ticketSystem: DISCOVERY_TICKET_SYSTEM };
    const start = new Date().toISOString();
    // An assignment that ended is restored until the end it had; one whose end has passed is not restored.
    const end = typeof l.endDateTime === 'string' ? l.endDateTime : null;
    if (!remove && end && Date.parse(end) <= Date.now()) return;
    try {
      if (l.api === 'arm') {
        const properties: Record<string, unknown> = {
          principalId: l.principalId,
          roleDefinitionId: l.roleDefinitionId,
          requestType: remove ? 'AdminRemove' : 'AdminAssign',
          justification,
          ticketInfo,
        };
        // An ABAC condition the assignment had comes back with it, never dropped (a wider grant).
        if (!remove && l.condition) Object.assign(properties, { condition: l.condition, conditionVersion: l.conditionVersion ?? '2.0' });
        if (!remove) properties.scheduleInfo = { startDateTime: start, expiration: end ? { type: 'AfterDateTime', endDateTime: end, duration: null } : { type: 'NoExpiration', endDateTime: null, duration: null } };
        await this.calls.run(`Azure discovery: PIM ${action}`, () => this.http.armCall('PUT', armUrl(String(l.scope), 'roleAssignmentScheduleRequests', randomUUID()), { properties }));
      } else {
        const body: Record<string, unknown> = {
          action: remove ? 'adminRemove' : 'adminAssign',
          principalId: l.principalId,
          roleDefinitionId: l.roleDefinitionId,
          ...(l.appScopeId ? { appScopeId: l.appScopeId } : { directoryScopeId: l.directoryScopeId }),
          justification,
          ticketInfo,
        };
        if (!remove) body.scheduleInfo = { startDateTime: start, expiration: end ? { type: 'afterDateTime', endDateTime: end } : { type: 'noExpiration' } };
        await this.calls.run(`Azure discovery: PIM ${action}`, () => this.http.graphCall('POST', '/roleManagement/directory/roleAssignmentScheduleRequests', body));
      }
    } catch (e) {
      if (e instanceof AzureHttpError && e.code === (remove ? 'RoleAssignmentDoesNotExist' : 'RoleAssignmentExists')) return;
      throw toProviderError(e, `Azure discovery: PIM ${action} of ${assignment.access.name}`);
    }
  }

  // ARM: a subscription or management group.

  private async armPage(scope: string, cursor: Cursor | null): Promise<InventoryPage> {
    const managementGroup = scope === '/' || /^\/providers\/Microsoft\.Management\/managementGroups\//i.test(scope);
    // The tenant root and a management group list what is at (and above) them; a subscription
    // also what is below it. What is above the scope (the root `/`, management groups) is
    // reported too, each under its own scope: keys are per scope, so the parts of a scan that
    // all see it report it once.
    const filter: Record<string, string> = managementGroup ? { $filter: 'atScope()' } : {};
    if (!cursor || cursor.phase === 'assignments') {
      const index = await this.pimIndex(`${ARM_PART}${scope}`, !cursor, () => this.armScheduleIndex(scope, filter));
      const url = cursor?.next ?? armUrl(scope, 'roleAssignments', undefined, '', filter);
      const { body } = await this.run('list role assignments', () => this.http.armCall<ArmList<ArmRoleAssignment>>('GET', url));
      await this.prefetch((body.value ?? []).map((a) => a.properties));
      const assignments: StandingAssignment[] = [];
      for (const a of body.value ?? []) {
        const triple = armTriple(a.properties.scope, a.properties.roleDefinitionId, a.properties.principalId);
        if (index.skip.has(triple)) continue;
        assignments.push(await this.armAssignment(a, index.active.has(triple), index.active.get(triple) ?? null));
      }
      const next: Cursor = body.nextLink ? { phase: 'assignments', next: body.nextLink } : { phase: 'eligibility', next: armUrl(scope, 'roleEligibilitySchedules', undefined, '', filter) };
      return { assignments, cursor: JSON.stringify(next) };
    }
    const { body } = await this.run('list PIM eligibility schedules', () => this.http.armCall<ArmList<ArmSchedule>>('GET', cursor.next));
    await this.prefetch((body.value ?? []).map((x) => x.properties));
    const assignments: StandingAssignment[] = [];
    for (const s of body.value ?? []) {
      const p = s.properties;
      if (p.status && p.status !== 'Provisioned') continue;
      const role = await this.armRole(p.roleDefinitionId, p.scope);
      const who = await this.principalOf(p.principalId, p.principalType ?? 'Unknown');
      assignments.push({
        cloud: 'azure',
        key: `azure|arm-eligible|${armTriple(p.scope, p.roleDefinitionId, p.principalId)}`,
        principal: who.principal,
        scope: p.scope,
        access: { type: 'azure.pim-eligible', name: role.name, id: roleGuid(p.roleDefinitionId), actions: role.actions },
        since: date(p.createdOn ?? p.startDateTime),
        lastUsedAt: who.lastUsedAt,
        neverUsed: who.neverUsed,
        usage: null,
        brokerOwned: false,
        removable: false,
        locator: {
          api: 'arm',
          scheduleId: s.id,
          scope: p.scope,
          roleDefinitionId: p.roleDefinitionId,
          principalId: p.principalId,
          endDateTime: p.endDateTime ?? null,
          permanent: !p.endDateTime,
          ...(role.unreadable ? { definitionUnreadable: true } : {}),
        },
      });
    }
    return { assignments, cursor: body.nextLink ? JSON.stringify({ phase: 'eligibility', next: body.nextLink } satisfies Cursor) : null };
  }

  private async armAssignment(a: ArmRoleAssignment, pimManaged: boolean, end: string | null): Promise<StandingAssignment> {
    const p = a.properties;
    const role = await this.armRole(p.roleDefinitionId, p.scope);
    const who = await this.principalOf(p.principalId, p.principalType ?? 'Unknown');
    // Anyone who can write a role assignment can write its description: it is the broker's only
    // when its name is the broker's deterministic name for the grant the description claims.
    // One handed over to an overlapping grant keeps the first grant's name under the keeper's
    // description: it is reported (not broker-owned), with the grant it claims.
    const claimed = grantIdFromDescription(p.description);
    const brokerOwned = claimed !== null && a.name.toLowerCase() === nameBasedGuid(`${claimed}/assign`);
    return {
      cloud: 'azure',
      key: `azure|arm|${armTriple(p.scope, p.roleDefinitionId, p.principalId)}`,
      principal: who.principal,
      scope: p.scope,
      access: { type: pimManaged ? 'azure.pim-active' : 'azure.role-assignment', name: role.name, id: roleGuid(p.roleDefinitionId), actions: role.actions },
      since: date(p.createdOn),
      lastUsedAt: who.lastUsedAt,
      neverUsed: who.neverUsed,
      usage: null,
      brokerOwned,
      ...(claimed !== null ? { brokerGrantIds: [claimed] } : {}),
      // PIM's own assignments are removed through PIM (AdminRemove), not the role assignments API.
      removable: true,
      locator: {
        api: 'arm',
        id: a.id,
        name: a.name,
        scope: p.scope,
        roleDefinitionId: p.roleDefinitionId,
        principalId: p.principalId,
        principalType: p.principalType ?? null,
        description: p.description ?? null,
        condition: p.condition ?? null,
        conditionVersion: p.conditionVersion ?? null,
        ...(claimed !== null && !brokerOwned ? { claimedGrantId: claimed } : {}),
        ...(pimManaged ? { endDateTime: end, permanent: !end } : {}),
        // What the role allows is unknown (access.actions absent): the criteria must not take it for harmless.
        ...(role.unreadable ? { definitionUnreadable: true } : {}),
      },
    };
  }

  /**
   * PIM's schedules at, above and below the scope: which (scope, role, principal) are activations
   * or the broker's grants (their `roleAssignmentScheduleRequestId` names a request with the
   * broker's ticket system), and which are an admin's PIM assignment, with its end.
   */
  private async armScheduleIndex(scope: string, filter: Record<string, string>): Promise<PimIndex> {
    const index: PimIndex = { skip: new Set(), active: new Map() };
    const schedules: ArmSchedule[] = [];
    let next: string | undefined = armUrl(scope, 'roleAssignmentSchedules', undefined, '', filter);
    while (next) {
      const url: string = next;
      const { body } = await this.run('list PIM assignment schedules', () => this.http.armCall<ArmList<ArmSchedule>>('GET', url));
      schedules.push(...(body.value ?? []));
      next = body.nextLink;
    }
    // The broker's requests are read only when some schedule could be one (its grants always end).
    const broker = schedules.some((s) => s.properties.assignmentType !== 'Activated' && s.properties.endDateTime && s.properties.roleAssignmentScheduleRequestId)
      ? await this.armBrokerRequests(scope, filter)
      : new Set<string>();
    for (const s of schedules) {
      const p = s.properties;
      const triple = armTriple(p.scope, p.roleDefinitionId, p.principalId);
      const request = lastSegment(p.roleAssignmentScheduleRequestId);
      if (p.assignmentType === 'Activated' || (request && broker.has(request))) index.skip.add(triple);
      else index.active.set(triple, p.endDateTime ?? null);
    }
    return index;
  }

  /** The names of the PIM requests the broker made for its grants around the scope. */
  private async armBrokerRequests(scope: string, filter: Record<string, string>): Promise<Set<string>> {
    const out = new Set<string>();
    let next: string | undefined = armUrl(scope, 'roleAssignmentScheduleRequests', undefined, '', filter);
    while (next) {
      const url: string = next;
      const { body } = await this.run('list PIM assignment requests', () =>
        this.http.armCall<ArmList<{ name: string; properties: { ticketInfo?: { ticketSystem?: string | null } | null } }>>('GET', url),
      );
      for (const r of body.value ?? []) if (r.properties.ticketInfo?.ticketSystem === TICKET_SYSTEM) out.add(r.name.toLowerCase());
      next = body.nextLink;
    }
    return out;
  }

  private armRole(roleDefinitionId: string, scope: string): Promise<RoleInfo> {
    const id = roleDefinitionId.startsWith('/') ? roleDefinitionId : `${/^\/subscriptions\/[^/]+/i.exec(scope)?.[0] ?? ''}/providers/Microsoft.Authorization/roleDefinitions/${roleDefinitionId}`;
    return this.roles.get(id.toLowerCase(), async () => {
      try {
        const { body } = await this.calls.run('read a role definition', () =>
          this.http.armCall<ArmRoleDefinition>('GET', `${encodePath(id)}?api-version=${ROLE_ASSIGNMENTS_API_VERSION}`),
        );
        // `actions` and `dataActions` only: Azure's `notActions` are subtracted from the actions
        // beside them, not the port's NotAction ("everything but these"), so they are left out
        // rather than read as a grant of everything else.
        const permissions = body.properties.permissions ?? [];
        return { name: body.properties.roleName, actions: permissions.flatMap((x) => [...(x.actions ?? []), ...(x.dataActions ?? [])]) };
      } catch (e) {
        // A role definition deleted since (its assignments linger) or not readable: named by its id.
        if (e instanceof AzureHttpError && (e.status === 404 || e.status === 403)) return { name: `unknown role ${roleGuid(id)}`, unreadable: true };
        throw toProviderError(e, 'Azure discovery: read a role definition');
      }
    });
  }

  // Entra: the tenant's directory roles.

  private async entraPage(cursor: Cursor | null): Promise<InventoryPage> {
    const roles = await this.directoryRoles.get('roles', () => this.readDirectoryRoles(), !cursor);
    if (!cursor || cursor.phase === 'assignments') {
      const index = await this.pimIndex(`${ENTRA_PART}${this.options.tenantId}`, !cursor, () => this.directoryScheduleIndex());
      const url = cursor?.next ?? '/roleManagement/directory/roleAssignments?$expand=principal';
      const page = await this.run('list directory role assignments', () => this.http.graphCall<GraphPage<GraphRoleAssignment>>('GET', url));
      await this.prefetchDirectory(page.value ?? []);
      const assignments: StandingAssignment[] = [];
      for (const a of page.value ?? []) {
        if (index.skip.has(a.id)) continue;
        const pim = index.active.has(a.id);
        const base = await this.directoryAssignment(a, roles, pim ? 'azure.pim-active' : 'azure.directory-role');
        const end = index.active.get(a.id) ?? null;
        assignments.push(pim ? { ...base, locator: { ...base.locator, endDateTime: end, permanent: !end } } : base);
      }
      const nextLink = page['@odata.nextLink'];
      const next: Cursor = nextLink ? { phase: 'assignments', next: nextLink } : { phase: 'eligibility', next: '/roleManagement/directory/roleEligibilitySchedules?$expand=principal' };
      return { assignments, cursor: JSON.stringify(next) };
    }
    const page = await this.run('list directory role eligibility schedules', () => this.http.graphCall<GraphPage<GraphEligibility>>('GET', cursor.next));
    await this.prefetchDirectory(page.value ?? []);
    const assignments: StandingAssignment[] = [];
    for (const e of page.value ?? []) {
      if (e.status && e.status !== 'Provisioned') continue;
      const base = await this.directoryAssignment(e, roles, 'azure.pim-eligible');
      const end = e.scheduleInfo?.expiration?.endDateTime ?? null;
      assignments.push({
        ...base,
        since: date(e.createdDateTime ?? e.scheduleInfo?.startDateTime),
        locator: { ...base.locator, scheduleId: e.id, endDateTime: end, permanent: !end },
      });
    }
    const nextLink = page['@odata.nextLink'];
    return { assignments, cursor: nextLink ? JSON.stringify({ phase: 'eligibility', next: nextLink } satisfies Cursor) : null };
  }

  private async directoryAssignment(a: GraphRoleAssignment, roles: Map<string, RoleInfo>, type: string): Promise<StandingAssignment> {
    // An assignment is scoped to the directory (`directoryScopeId`) or to an application's own
    // scope (`appScopeId`): the latter is not the whole tenant and is kept apart in key and scope.
    const appScopeId = a.appScopeId ?? null;
    const directoryScopeId = a.directoryScopeId ?? (appScopeId ? null : '/');
    const scope = appScopeId ? `app:${appScopeId}` : (directoryScopeId ?? '/');
    const role = roles.get(a.roleDefinitionId.toLowerCase()) ?? { name: a.roleDefinitionId };
    const who = await this.principalOf(a.principalId, principalTypeOf(a.principal), a.principal ?? undefined);
    const eligible = type === 'azure.pim-eligible';
    return {
      cloud: 'azure',
      key: `azure|${eligible ? 'entra-eligible' : 'entra'}|${scope.toLowerCase()}|${a.roleDefinitionId.toLowerCase()}|${a.principalId.toLowerCase()}`,
      principal: who.principal,
      scope,
      access: { type, name: role.name, id: a.roleDefinitionId, actions: role.actions },
      // Graph v1.0 does not say when a directory role assignment was made.
      since: null,
      lastUsedAt: who.lastUsedAt,
      neverUsed: who.neverUsed,
      usage: null,
      // The broker's directory role grants go through PIM and always end: they never get here.
      brokerOwned: false,
      // Graph's PIM requests carry no condition: a conditioned PIM assignment could not be restored as it was.
      removable: type === 'azure.directory-role' || (type === 'azure.pim-active' && !a.condition),
      locator: { api: 'graph', id: a.id, principalId: a.principalId, roleDefinitionId: a.roleDefinitionId, directoryScopeId, ...(appScopeId ? { appScopeId } : {}), ...(a.condition ? { condition: a.condition } : {}) },
    };
  }

  private async readDirectoryRoles(): Promise<Map<string, RoleInfo>> {
    const out = new Map<string, RoleInfo>();
    let next: string | undefined = '/roleManagement/directory/roleDefinitions';
    while (next) {
      const url: string = next;
      const page = await this.run('list directory role definitions', () =>
        this.http.graphCall<GraphPage<{ id: string; templateId?: string | null; displayName: string; rolePermissions?: { allowedResourceActions?: string[] }[] }>>('GET', url),
      );
      for (const d of page.value ?? []) {
        // Allowed actions only; `excludedResourceActions` narrow them (see armRole).
        const info: RoleInfo = { name: d.displayName, actions: (d.rolePermissions ?? []).flatMap((p) => p.allowedResourceActions ?? []) };
        out.set(d.id.toLowerCase(), info);
        if (d.templateId) out.set(d.templateId.toLowerCase(), info);
      }
      next = page['@odata.nextLink'];
    }
    return out;
  }

  /** The role assignments PIM keeps (`roleAssignmentOriginId`): activations and the broker's grants (made by a request with its ticket system) are not reported. */
  private async directoryScheduleIndex(): Promise<PimIndex> {
    const index: PimIndex = { skip: new Set(), active: new Map() };
    const instances = await this.directoryInstances();
    const broker = instances.some((i) => i.assignmentType !== 'Activated' && i.endDateTime) ? await this.directoryBrokerSchedules() : new Set<string>();
    for (const i of instances) {
      if (!i.roleAssignmentOriginId) continue;
      if (i.assignmentType === 'Activated' || (i.roleAssignmentScheduleId && broker.has(i.roleAssignmentScheduleId.toLowerCase()))) index.skip.add(i.roleAssignmentOriginId);
      else index.active.set(i.roleAssignmentOriginId, i.endDateTime ?? null);
    }
    return index;
  }

  private async directoryInstances(): Promise<GraphInstance[]> {
    const instances: GraphInstance[] = [];
    let next: string | undefined = '/roleManagement/directory/roleAssignmentScheduleInstances';
    while (next) {
      const url: string = next;
      const page = await this.run('list directory PIM assignment instances', () => this.http.graphCall<GraphPage<GraphInstance>>('GET', url));
      instances.push(...(page.value ?? []));
      next = page['@odata.nextLink'];
    }
    return instances;
  }

  /** The schedules (`targetScheduleId`) the broker's directory role requests made. */
  private async directoryBrokerSchedules(): Promise<Set<string>> {
    const out = new Set<string>();
    let next: string | undefined = '/roleManagement/directory/roleAssignmentScheduleRequests';
    while (next) {
      const url: string = next;
      const page = await this.run('list directory PIM assignment requests', () =>
        this.http.graphCall<GraphPage<{ targetScheduleId?: string | null; ticketInfo?: { ticketSystem?: string | null } | null }>>('GET', url),
      );
      for (const r of page.value ?? []) if (r.targetScheduleId && r.ticketInfo?.ticketSystem === TICKET_SYSTEM) out.add(r.targetScheduleId.toLowerCase());
      next = page['@odata.nextLink'];
    }
    return out;
  }

  /** The ids of the directory role assignments PIM keeps for its schedules (activations, time-bound and PIM assignments). */
  private async pimKeptDirectoryAssignments(): Promise<Set<string>> {
    return new Set((await this.directoryInstances()).map((i) => i.roleAssignmentOriginId?.toLowerCase()).filter((x): x is string => !!x));
  }

  /** Deletes one directory role assignment; false when Graph has no such id. */
  private async deleteDirectoryAssignment(id: string): Promise<boolean> {
    try {
      await this.run('delete the directory role assignment', () => this.http.graphCall('DELETE', `/roleManagement/directory/roleAssignments/${encodeURIComponent(id)}`));
      return true;
    } catch (e) {
      if (e instanceof ProviderError && e.options.cause instanceof AzureHttpError && e.options.cause.status === 404) return false;
      throw e;
    }
  }

  private async findDirectoryAssignment(l: Record<string, unknown>, exclude: Set<string> = new Set()): Promise<GraphRoleAssignment | undefined> {
    const filter = `principalId eq '${String(l.principalId)}' and roleDefinitionId eq '${String(l.roleDefinitionId)}'`;
    let next: string | undefined = `/roleManagement/directory/roleAssignments?$filter=${encodeURIComponent(filter)}`;
    while (next) {
      const url: string = next;
      const page = await this.run('find the directory role assignment', () => this.http.graphCall<GraphPage<GraphRoleAssignment>>('GET', url));
      const found = page.value.find(
        (a) => (a.appScopeId ?? null) === (l.appScopeId ?? null) && (a.directoryScopeId ?? (a.appScopeId ? null : '/')) === l.directoryScopeId && !exclude.has(a.id.toLowerCase()),
      );
      if (found) return found;
      next = page['@odata.nextLink'];
    }
    return undefined;
  }

  // Principals: kind, human or workload, last sign-in.

  /**
   * Users: `signInActivity` (needs AuditLog.Read.All and Entra ID P1); service principals:
   * `servicePrincipalType` (a managed identity or an application; Graph v1.0 has no sign-in
   * activity for them); groups: the name. A principal Graph will not show (deleted, or the
   * permission missing) is reported with what the listing said and no last use.
   */
  private principalOf(id: string, principalType: string, expanded?: DirectoryObject): Promise<PrincipalInfo> {
    return this.principals.get(id.toLowerCase(), async () => {
      const fallback = (displayName?: string | null): PrincipalInfo => ({ principal: standingPrincipal(id, principalType, displayName), lastUsedAt: null, neverUsed: false });
      try {
        if (principalType === 'User') {
          const user = await this.calls.run('read a user\'s sign-in activity', () =>
            this.http.graphCall<{ id: string; displayName?: string; userPrincipalName?: string; signInActivity?: SignInActivity | null }>(
              'GET',
              `/users/${encodeURIComponent(id)}?$select=id,displayName,userPrincipalName,signInActivity`,
            ),
          );
          const last = lastSignIn(user.signInActivity);
          return { principal: { id, kind: 'user', human: true, displayName: user.userPrincipalName ?? user.displayName ?? undefined }, lastUsedAt: last, neverUsed: !last };
        }
        if (principalType === 'ServicePrincipal') {
          const sp =
            expanded?.servicePrincipalType !== undefined
              ? expanded
              : await this.calls.run('read a service principal', () =>
                  this.http.graphCall<DirectoryObject>('GET', `/servicePrincipals/${encodeURIComponent(id)}?$select=id,displayName,servicePrincipalType`),
                );
          return { principal: standingPrincipal(id, principalType, sp.displayName, sp.servicePrincipalType), lastUsedAt: null, neverUsed: false };
        }
        if (principalType === 'Group' && !expanded) {
          const group = await this.calls.run('read a group', () => this.http.graphCall<DirectoryObject>('GET', `/directoryObjects/${encodeURIComponent(id)}?$select=id,displayName`));
          return fallback(group.displayName);
        }
        return fallback(expanded?.displayName);
      } catch (e) {
        if (e instanceof AzureHttpError && (e.status === 403 || e.status === 404 || e.status === 400)) return fallback(expanded?.displayName);
        throw toProviderError(e, 'Azure discovery: read a principal');
      }
    });
  }

  // Shared.

  /** A page's role definitions and principals, read a few at a time (each once: the caches share reads) before the page is built in order. */
  private async prefetch(items: { scope: string; roleDefinitionId: string; principalId: string; principalType?: string | null }[]): Promise<void> {
    await inBatches(items, (p) => this.armRole(p.roleDefinitionId, p.scope));
    await inBatches(items, (p) => this.principalOf(p.principalId, p.principalType ?? 'Unknown'));
  }

  private async prefetchDirectory(items: GraphRoleAssignment[]): Promise<void> {
    await inBatches(items, (a) => this.principalOf(a.principalId, principalTypeOf(a.principal), a.principal ?? undefined));
  }

  private pimIndex(part: string, fresh: boolean, load: () => Promise<PimIndex>): Promise<PimIndex> {
    return this.pim.get(part, load, fresh);
  }

  /** `base`: the API's root URL (ARM's endpoint, Graph's endpoint with its version). */
  private parseCursor(cursor: string | null, base: string): Cursor | null {
    if (cursor === null) return null;
    let parsed: Partial<Cursor>;
    try {
      parsed = JSON.parse(cursor) as Partial<Cursor>;
    } catch {
      throw badCursor();
    }
    if ((parsed.phase !== 'assignments' && parsed.phase !== 'eligibility') || typeof parsed.next !== 'string') throw badCursor();
    // A next link goes to the API it came from, never elsewhere with the broker's token: it is
    // made absolute here (a path under the API's base; a link as the API wrote it) and its origin
    // checked, so no client guesses a host from a path (the Graph SDK takes any path holding
    // `https://` for a URL).
    let url: URL;
    try {
      url = parsed.next.startsWith('/') ? new URL(`${base}${parsed.next}`) : new URL(parsed.next);
    } catch {
      throw badCursor();
    }
    if (url.origin !== new URL(base).origin) throw badCursor();
    return { phase: parsed.phase, next: url.href };
  }

  private async run<T>(what: string, call: () => Promise<T>): Promise<T> {
    try {
      return await this.calls.run(`Azure discovery: ${what}`, call);
    } catch (e) {
      throw toProviderError(e, `Azure discovery: ${what}`);
    }
  }
}

/** Lookups at most this many at a time per page: well inside ARM's and Graph's per-tenant read limits. */
const LOOKUP_CONCURRENCY = 8;

async function inBatches<T>(items: T[], fn: (item: T) => Promise<unknown>): Promise<void> {
  for (let i = 0; i < items.length; i += LOOKUP_CONCURRENCY) await Promise.all(items.slice(i, i + LOOKUP_CONCURRENCY).map(fn));
}

/** Lookups shared by the pages of a scan, re-read once stale; concurrent callers share one read. */
class Cache<T> {
  private readonly entries = new Map<string, { at: number; value: Promise<T> }>();

  get(key: string, load: () => Promise<T>, fresh = false): Promise<T> {
    const hit = this.entries.get(key);
    if (hit && !fresh && Date.now() - hit.at < CACHE_TTL_MS) return hit.value;
    if (this.entries.size >= CACHE_LIMIT) this.entries.clear();
    const value = load();
    this.entries.set(key, { at: Date.now(), value });
    // A failed read is not remembered.
    value.catch(() => this.entries.get(key)?.value === value && this.entries.delete(key));
    return value;
  }
}

/** When Entra began recording `lastSuccessfulSignInDateTime` (December 2023). */
const SUCCESSFUL_SIGN_IN_RECORDED_FROM = Date.parse('2023-12-01T00:00:00Z');

/**
 * The last time the user signed in successfully: `lastSuccessfulSignInDateTime` (interactive or
 * not). `lastSignInDateTime` and `lastNonInteractiveSignInDateTime` count failed attempts too, so
 * they are read only when there is no successful sign-in recorded, and then only for activity
 * before Entra recorded successful ones: a later attempt with none recorded is a failed one.
 */
export function lastSignIn(a: SignInActivity | null | undefined): Date | null {
  if (!a) return null;
  const successful = date(a.lastSuccessfulSignInDateTime);
  if (successful) return successful;
  const older = [a.lastSignInDateTime, a.lastNonInteractiveSignInDateTime].map(date).filter((d): d is Date => d !== null && d.getTime() < SUCCESSFUL_SIGN_IN_RECORDED_FROM);
  return older.length ? new Date(Math.max(...older.map((d) => d.getTime()))) : null;
}

/** How ARM's `principalType` (and Graph's `servicePrincipalType`) name the holder: a person, a workload, or a group. */
export function standingPrincipal(id: string, principalType: string, displayName?: string | null, servicePrincipalType?: string | null): StandingPrincipal {
  const name = displayName ?? undefined;
  switch (principalType) {
    case 'User':
      return { id, kind: 'user', human: true, displayName: name };
    case 'Group':
    case 'ForeignGroup':
      return { id, kind: 'group', human: null, displayName: name };
    case 'ServicePrincipal':
      return { id, kind: servicePrincipalType === 'ManagedIdentity' ? 'managed_identity' : 'service_principal', human: false, displayName: name };
    default:
      return { id, kind: 'unknown', human: null, displayName: name };
  }
}

/** ARM's `principalType` for an expanded Graph principal (`@odata.type`). */
function principalTypeOf(p: DirectoryObject | null | undefined): string {
  switch (p?.['@odata.type']) {
    case '#microsoft.graph.user':
      return 'User';
    case '#microsoft.graph.group':
      return 'Group';
    case '#microsoft.graph.servicePrincipal':
      return 'ServicePrincipal';
    default:
      return 'Unknown';
  }
}

function armTriple(scope: string, roleDefinitionId: string, principalId: string): string {
  return `${normScope(scope).toLowerCase()}|${roleGuid(roleDefinitionId)}|${principalId.toLowerCase()}`;
}

function lastSegment(id: string | null | undefined): string | null {
  return id ? (id.split('/').pop() ?? '').toLowerCase() || null : null;
}

/** An ARM scope without a trailing slash; the tenant root stays `/`. */
function normScope(scope: string): string {
  return scope.replace(/\/$/, '') || '/';
}

function date(v: string | null | undefined): Date | null {
  if (!v) return null;
  const d = new Date(v);
  return Number.isNaN(d.getTime()) ? null : d;
}

function encodePath(id: string): string {
  return id.split('/').map(encodeURIComponent).join('/');
}

function unknownPart(part: string): ProviderError {
  return new ProviderError('invalid', `Azure discovery has no part '${part}' (parts are the configured ARM scopes and the Entra tenant)`, { field: 'part' });
}

function badCursor(): ProviderError {
  return new ProviderError('invalid', 'Azure discovery: the stored cursor is not one this adapter wrote', { field: 'cursor' });
}

function notRemovable(a: StandingAssignment, why = 'an eligibility is access a member must still activate in PIM; remove it in PIM if it should go'): ProviderError {
  return new ProviderError(
    'invalid',
    `${a.access.type} is not removable through the broker: ${why} (docs/providers/azure.md, "Discovery")`,
    { field: 'access.type', code: 'azure.not-removable' },
  );
}
