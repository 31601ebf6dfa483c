import { expanded } from './arm-pim.routes';
import { PIM_API_VERSIONS, ROLE_ASSIGNMENT_API_VERSIONS, armList, covers, idPrefix, parseArmPath, requireApiVersion, requireScope } from './arm-scope';
import { PimSchedule } from './pim-schedule.engine';
import { EligibilityRecord, SimContext, SimRoute } from './sim-context';
import { GUID, SimHttpError, parseEqFilter } from './sim-http';

const AUTHZ = '/providers/Microsoft.Authorization';

/**
 * What a reader of standing access asks ARM: role definitions (Microsoft's REST reference,
 * api-version 2022-04-01; not in the shipped specs), and PIM's assignment and eligibility
 * schedules for a scope (RoleAssignmentSchedule.json, RoleEligibilitySchedule.json, 2020-10-01).
 */
export const armRoleDiscoveryRoutes: SimRoute = (req, ctx) => {
  if (req.method !== 'GET') return undefined;
  const tenantLevel = /^\/providers\/Microsoft\.Authorization\/roleDefinitions\/([^/]+)$/i.exec(req.path);
  if (tenantLevel) {
    requireApiVersion(req, ROLE_ASSIGNMENT_API_VERSIONS);
    return { status: 200, body: roleDefinition(ctx, '', tenantLevel[1]) };
  }
  const p = parseArmPath(req.path);
  if (!p || p.op) return undefined;
  const collection = p.collection.toLowerCase();
  if (collection === 'roledefinitions') {
    requireApiVersion(req, ROLE_ASSIGNMENT_API_VERSIONS);
    const scope = requireScope(ctx, p.scope);
    const sub = /^\/subscriptions\/[^/]+/.exec(scope)?.[0] ?? '';
    if (p.name) return { status: 200, body: roleDefinition(ctx, sub, p.name) };
    const { eq } = parseEqFilter(req.query.get('$filter'));
    const unknown = Object.keys(eq).find((k) => k !== 'roleName' && k !== 'type');
    if (unknown) throw new SimHttpError(400, 'UnsupportedQuery', `The filter on '${unknown}' is not supported.`);
    const items = [...ctx.directory.azureRoles.values()]
      .map((r) => roleDefinition(ctx, sub, r.id))
      .filter((d) => (!eq.roleName || d.properties.roleName === eq.roleName) && (!eq.type || d.properties.type === eq.type));
    return armList(req, ctx, items);
  }
  if (collection !== 'roleassignmentschedules' && collection !== 'roleeligibilityschedules') return undefined;
  requireApiVersion(req, PIM_API_VERSIONS);
  const scope = requireScope(ctx, p.scope);
  const eligibility = collection === 'roleeligibilityschedules';
  const rows: Row[] = eligibility
    ? [...ctx.eligibilities.values()].filter((e) => e.surface === 'arm' && (e.end === null || e.end.getTime() > Date.now())).map(fromEligibility)
    : ctx.pim.schedulesOf('arm').filter((s) => s.end === null || s.end.getTime() > Date.now()).map(fromSchedule);
  if (p.name) {
    const row = rows.find((r) => r.id === p.name!.toLowerCase() && r.scope === scope);
    if (!row) {
      const what = eligibility ? 'RoleEligibilitySchedule' : 'RoleAssignmentSchedule';
      throw new SimHttpError(404, `${what}NotFound`, `The ${what.replace(/([a-z])([A-Z])/g, '$1 $2').toLowerCase()} '${p.name}' was not found.`);
    }
    return { status: 200, body: scheduleResource(ctx, row, eligibility) };
  }
  const { eq, functions } = parseEqFilter(req.query.get('$filter'));
  const unknown = Object.keys(eq).find((k) => k !== 'principalId' && k !== 'roleDefinitionId' && k !== 'status') ?? functions.find((f) => f !== 'atScope' && f !== 'asTarget');
  if (unknown) throw new SimHttpError(400, 'UnsupportedQuery', `The filter '${req.query.get('$filter')}' is not supported.`);
  const atScope = functions.includes('atScope');
  // Every simulated schedule is Provisioned.
  if (eq.status && eq.status !== 'Provisioned') return armList(req, ctx, []);
  const items = rows
    .filter((r) => covers(ctx, r.scope, scope) || (!atScope && covers(ctx, scope, r.scope)))
    .filter((r) => !eq.principalId || r.principalId === eq.principalId.toLowerCase())
    .filter((r) => !eq.roleDefinitionId || r.roleGuid === eq.roleDefinitionId.split('/').pop()!.toLowerCase())
    .sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime() || a.id.localeCompare(b.id))
    .map((r) => scheduleResource(ctx, r, eligibility));
  return armList(req, ctx, items);
};

interface Row {
  id: string;
  roleGuid: string;
  scope: string;
  principalId: string;
  start: Date;
  end: Date | null;
  createdAt: Date;
  assignmentType?: string;
}

function fromSchedule(s: PimSchedule): Row {
  const [roleGuid, scope] = s.targetKey.split('|');
  return { id: s.id, roleGuid, scope, principalId: s.principalId, start: s.start, end: s.end, createdAt: s.createdAt, assignmentType: s.assignmentType ?? 'Assigned' };
}

function fromEligibility(e: EligibilityRecord): Row {
  return { id: e.id, roleGuid: e.roleId, scope: e.scope, principalId: e.principalId, start: e.start, end: e.end, createdAt: e.createdAt };
}

function scheduleResource(ctx: SimContext, r: Row, eligibility: boolean): Record<string, unknown> {
  const sub = /^\/subscriptions\/[^/]+/.exec(r.scope)?.[0] ?? '';
  const roleDefinitionId = `${sub}${AUTHZ}/roleDefinitions/${r.roleGuid}`;
  const common = {
    scope: r.scope,
    roleDefinitionId,
    principalId: r.principalId,
    principalType: ctx.directory.principal(r.principalId)?.type ?? 'User',
    memberType: 'Direct',
    status: 'Provisioned',
    startDateTime: r.start.toISOString(),
    endDateTime: r.end?.toISOString() ?? null,
    condition: null,
    conditionVersion: null,
    createdOn: r.createdAt.toISOString(),
    updatedOn: r.createdAt.toISOString(),
    expandedProperties: expanded(ctx, r.scope, roleDefinitionId, r.principalId),
  };
  const collection = eligibility ? 'roleEligibilitySchedules' : 'roleAssignmentSchedules';
  const properties = eligibility
    ? { ...common, roleEligibilityScheduleRequestId: null }
    : {
        ...common,
        roleAssignmentScheduleRequestId: requestOf(ctx, r.id),
        linkedRoleEligibilityScheduleId: null,
        assignmentType: r.assignmentType,
      };
  return { properties, name: r.id, id: `${idPrefix(r.scope)}${AUTHZ}/${collection}/${r.id}`, type: `Microsoft.Authorization/${collection.replace(/^r/, 'R')}` };
}

/** The request that made a schedule, as its id under the schedule's scope. */
function requestOf(ctx: SimContext, scheduleId: string): string | null {
  const request = [...ctx.pim.requests.values()].find((q) => q.surface === 'arm' && q.action === 'assign' && q.targetScheduleId === scheduleId);
  return request ? `${idPrefix(String(request.wire.scope))}${AUTHZ}/roleAssignmentScheduleRequests/${request.id}` : null;
}

/** `GET {scope}/providers/Microsoft.Authorization/roleDefinitions/{id}` as Microsoft's REST reference shows it (2022-04-01). */
function roleDefinition(ctx: SimContext, subscriptionPrefix: string, name: string) {
  if (!GUID.test(name)) throw new SimHttpError(400, 'InvalidRoleDefinitionId', `The role definition ID '${name}' is not valid.`);
  const role = ctx.directory.azureRoles.get(name.toLowerCase());
  if (!role) throw new SimHttpError(404, 'RoleDefinitionDoesNotExist', `The specified role definition with ID '${name}' does not exist.`);
  if (ctx.directory.unreadableAzureRoles.has(role.id)) {
    throw new SimHttpError(403, 'AuthorizationFailed', `The client does not have authorization to perform action 'Microsoft.Authorization/roleDefinitions/read' over scope '${subscriptionPrefix || '/'}/providers/Microsoft.Authorization/roleDefinitions/${name}' or the scope is invalid.`);
  }
  return {
    properties: {
      roleName: role.roleName,
      type: role.isBuiltIn ? 'BuiltInRole' : 'CustomRole',
      description: role.isBuiltIn ? `Built-in role ${role.roleName}` : null,
      assignableScopes: role.isBuiltIn ? ['/'] : [...ctx.directory.subscriptions].map((s) => `/subscriptions/${s}`),
      permissions: role.permissions.map((p) => ({ actions: p.actions, notActions: p.notActions ?? [], dataActions: p.dataActions ?? [], notDataActions: p.notDataActions ?? [] })),
      createdOn: '2015-02-02T21:55:09.8806423Z',
      updatedOn: '2024-03-06T16:45:42.4429052Z',
      createdBy: null,
      updatedBy: null,
    },
    id: `${subscriptionPrefix}${AUTHZ}/roleDefinitions/${role.id}`,
    type: 'Microsoft.Authorization/roleDefinitions',
    name: role.id,
  };
}
