import { PimAction, PimRequestRecord, PimSchedule } from './pim-schedule.engine';
import { parseScheduleInfo } from './schedule-info.parser';
import { PIM_API_VERSIONS, covers, idPrefix, parseArmPath, principalNotFound, requireApiVersion, requireScope, resolveRoleDefinition } from './arm-scope';
import { SimContext, SimRoute, rejectUnknown, requirePrincipal } from './sim-context';
import { GUID, SimHttpError, isObject, parseEqFilter } from './sim-http';

/** Writable properties of `RoleAssignmentScheduleRequestProperties` (2020-10-01). */
const WRITABLE = ['roleDefinitionId', 'principalId', 'requestType', 'targetRoleAssignmentScheduleId', 'targetRoleAssignmentScheduleInstanceId', 'scheduleInfo', 'linkedRoleEligibilityScheduleId', 'justification', 'ticketInfo', 'condition', 'conditionVersion'];
const READ_ONLY = ['scope', 'principalType', 'status', 'approvalId', 'createdOn', 'requestorId', 'expandedProperties'];
const REQUEST_TYPES: Record<string, PimAction | 'delegated'> = {
  AdminAssign: 'assign',
  AdminUpdate: 'update',
  AdminExtend: 'extend',
  AdminRenew: 'extend',
  AdminRemove: 'remove',
  SelfActivate: 'delegated',
  SelfDeactivate: 'delegated',
  SelfExtend: 'delegated',
  SelfRenew: 'delegated',
};

/** ARM PIM: role assignment schedule requests and instances. */
export const armPimRoutes: SimRoute = (req, ctx, caller) => {
  const p = parseArmPath(req.path);
  if (!p || !['roleassignmentschedulerequests', 'roleassignmentscheduleinstances'].includes(p.collection.toLowerCase())) return undefined;
  requireApiVersion(req, PIM_API_VERSIONS);
  const scope = requireScope(ctx, p.scope);
  if (p.collection.toLowerCase() === 'roleassignmentscheduleinstances') {
    if (p.name || req.method !== 'GET') return undefined;
    const { eq } = parseEqFilter(req.query.get('$filter'));
    const items = ctx.pim
      .instances('arm')
      .filter((s) => covers(ctx, scheduleScope(s), scope) || covers(ctx, scope, scheduleScope(s)))
      .filter((s) => !eq.principalId || s.principalId === eq.principalId.toLowerCase())
      .map((s) => instanceResource(ctx, s));
    return { status: 200, body: { value: items } };
  }
  if (!p.name) {
    if (req.method !== 'GET') return undefined;
    const { eq, functions } = parseEqFilter(req.query.get('$filter'));
    const items = ctx.pim
      .list('arm')
      .filter((r) => covers(ctx, scope, requestScope(r)) || covers(ctx, requestScope(r), scope))
      .filter((r) => !functions.includes('asRequestor') || r.requestorId === caller.appId)
      .filter((r) => !eq.principalId || r.principalId === eq.principalId.toLowerCase())
      .map((r) => requestResource(ctx, r));
    return { status: 200, body: { value: items } };
  }
  if (!GUID.test(p.name)) throw new SimHttpError(400, 'InvalidRoleAssignmentScheduleRequestName', `The request name '${p.name}' must be a GUID.`);
  const existing = ctx.pim.get(p.name.toLowerCase());
  if (p.op) {
    if (p.op.toLowerCase() !== 'cancel' || req.method !== 'POST') return undefined;
    if (!existing || existing.surface !== 'arm') throw notFound(p.name);
    ctx.pim.cancel(existing.id);
    return { status: 200 };
  }
  if (req.method === 'GET') {
    if (!existing || existing.surface !== 'arm') throw notFound(p.name);
    return { status: 200, body: requestResource(ctx, existing) };
  }
  if (req.method !== 'PUT') return undefined;
  if (existing) throw new SimHttpError(409, 'RoleAssignmentRequestExists', `A role assignment request with Id: ${p.name} already exists`);
  const body = req.body;
  if (!isObject(body) || !isObject(body.properties)) throw new SimHttpError(400, 'InvalidRequestContent', 'The request content must be {"properties":{...}}.');
  rejectUnknown(body, ['properties'], 'RoleAssignmentScheduleRequest');
  const props = body.properties;
  rejectUnknown(props, [...WRITABLE, ...READ_ONLY], 'RoleAssignmentScheduleRequestProperties');
  const action = REQUEST_TYPES[String(props.requestType)];
  if (!action) throw new SimHttpError(400, 'InvalidRequestType', `The request type '${String(props.requestType)}' is not supported.`);
  if (action === 'delegated') throw new SimHttpError(400, 'InvalidRequestType', `${String(props.requestType)} acts for the calling user and needs a delegated token.`);
  const role = resolveRoleDefinition(ctx, props.roleDefinitionId, p.scope);
  const principal = requirePrincipal(ctx, props.principalId, principalNotFound(ctx.tenantId));
  const schedule = action === 'remove' ? { start: new Date(), end: null } : parseScheduleInfo(props.scheduleInfo, 'arm');
  const record = ctx.pim.submit({
    id: p.name.toLowerCase(),
    surface: 'arm',
    targetKey: `${role.guid}|${scope}`,
    principalId: principal.id,
    action,
    start: schedule.start,
    end: schedule.end,
    policy: ctx.directory.azureRoles.get(role.guid)!.policy,
    wire: { ...props, scope: p.scope },
    requestorId: caller.appId,
  });
  return { status: 201, body: requestResource(ctx, record) };
};

function notFound(name: string): SimHttpError {
  return new SimHttpError(404, 'RoleAssignmentScheduleRequestNotFound', `The role assignment schedule request '${name}' was not found.`);
}

function requestScope(r: PimRequestRecord): string {
  return String(r.wire.scope);
}

function scheduleScope(s: PimSchedule): string {
  return s.targetKey.split('|')[1];
}

function principalType(ctx: SimContext, id: string): string {
  return ctx.directory.principal(id)?.type ?? 'User';
}

function requestResource(ctx: SimContext, r: PimRequestRecord): Record<string, unknown> {
  const w = r.wire;
  const scope = requestScope(r);
  const sent = isObject(w.scheduleInfo) && isObject(w.scheduleInfo.expiration) ? w.scheduleInfo.expiration : {};
  return {
    properties: {
      scope,
      roleDefinitionId: w.roleDefinitionId,
      principalId: r.principalId,
      principalType: principalType(ctx, r.principalId),
      requestType: w.requestType,
      status: r.status,
      approvalId: r.approvalId ? `${idPrefix(scope)}/providers/Microsoft.Authorization/roleAssignmentApprovals/${r.approvalId}` : null,
      scheduleInfo:
        r.action === 'remove'
          ? null
          : {
              startDateTime: r.start.toISOString(),
              expiration: {
                type: r.end === null ? 'NoExpiration' : sent.type,
                endDateTime: sent.type === 'AfterDateTime' ? r.end?.toISOString() ?? null : null,
                duration: sent.type === 'AfterDuration' ? sent.duration : null,
              },
            },
      targetRoleAssignmentScheduleId: r.targetScheduleId ? `${idPrefix(scope)}/providers/Microsoft.Authorization/roleAssignmentSchedules/${r.targetScheduleId}` : null,
      targetRoleAssignmentScheduleInstanceId: null,
      linkedRoleEligibilityScheduleId: null,
      justification: w.justification ?? null,
      ticketInfo: w.ticketInfo ?? { ticketNumber: null, ticketSystem: null },
      condition: w.condition ?? null,
      conditionVersion: w.conditionVersion ?? null,
      createdOn: r.createdAt.toISOString(),
      requestorId: r.requestorId,
      expandedProperties: expanded(ctx, scope, String(w.roleDefinitionId), r.principalId),
    },
    name: r.id,
    id: `${idPrefix(scope)}/providers/Microsoft.Authorization/roleAssignmentScheduleRequests/${r.id}`,
    type: 'Microsoft.Authorization/RoleAssignmentScheduleRequests',
  };
}

function instanceResource(ctx: SimContext, s: PimSchedule): Record<string, unknown> {
  const [roleGuid, scope] = s.targetKey.split('|');
  const roleDefinitionId = `${/^\/subscriptions\/[^/]+/.exec(scope)?.[0] ?? ''}/providers/Microsoft.Authorization/roleDefinitions/${roleGuid}`;
  return {
    properties: {
      scope,
      roleDefinitionId,
      principalId: s.principalId,
      principalType: principalType(ctx, s.principalId),
      roleAssignmentScheduleId: `${idPrefix(scope)}/providers/Microsoft.Authorization/roleAssignmentSchedules/${s.id}`,
      originRoleAssignmentId: `${idPrefix(scope)}/providers/Microsoft.Authorization/roleAssignments/${s.id}`,
      status: 'Provisioned',
      startDateTime: s.start.toISOString(),
      endDateTime: s.end?.toISOString() ?? null,
      linkedRoleEligibilityScheduleId: null,
      linkedRoleEligibilityScheduleInstanceId: null,
      assignmentType: s.assignmentType ?? 'Assigned',
      memberType: 'Direct',
      condition: null,
      conditionVersion: null,
      createdOn: s.createdAt.toISOString(),
      expandedProperties: expanded(ctx, scope, roleDefinitionId, s.principalId),
    },
    name: s.id,
    id: `${idPrefix(scope)}/providers/Microsoft.Authorization/roleAssignmentScheduleInstances/${s.id}`,
    type: 'Microsoft.Authorization/RoleAssignmentScheduleInstances',
  };
}

export function expanded(ctx: SimContext, scope: string, roleDefinitionId: string, principalId: string): Record<string, unknown> {
  const guid = roleDefinitionId.split('/').pop()!.toLowerCase();
  const principal = ctx.directory.principal(principalId);
  return {
    scope: { id: scope, displayName: scope.split('/').pop(), type: scope.includes('/resourcegroups/') ? 'resourcegroup' : 'subscription' },
    roleDefinition: { id: roleDefinitionId, displayName: ctx.directory.azureRoles.get(guid)?.roleName ?? guid, type: ctx.directory.azureRoles.get(guid)?.isBuiltIn === false ? 'CustomRole' : 'BuiltInRole' },
    principal: { id: principalId, displayName: principal?.displayName ?? null, email: null, type: principal?.type ?? 'User' },
  };
}
