import { randomUUID } from 'node:crypto';
import { PimAction, PimRequestRecord, PimSchedule } from './pim-schedule.engine';
import { parseScheduleInfo } from './schedule-info.parser';
import { SimCaller, SimContext, SimRoute, rejectUnknown, requirePrincipal } from './sim-context';
import { GUID, SimHttpError, SimRequest, SimResponse, isObject } from './sim-http';
import { graphList, graphNotFound, matchesFilter } from './graph-odata';

const DIRECTORY = '/v1.0/roleManagement/directory';
const GROUPS = '/v1.0/identityGovernance/privilegedAccess/group';

/** Writable properties of the request entity types in the v1.0 CSDL. */
const DIRECTORY_REQUEST_PROPS = ['action', 'appScopeId', 'directoryScopeId', 'isValidationOnly', 'justification', 'principalId', 'roleDefinitionId', 'scheduleInfo', 'targetScheduleId', 'ticketInfo', 'customData'];
const GROUP_REQUEST_PROPS = ['accessId', 'groupId', 'principalId', 'action', 'isValidationOnly', 'justification', 'scheduleInfo', 'targetScheduleId', 'ticketInfo', 'customData'];

/** Members of `unifiedRoleScheduleRequestActions` / `scheduleRequestActions`; the `self*` ones need a user token. */
const ACTIONS: Record<string, PimAction | 'delegated'> = {
  adminAssign: 'assign',
  adminUpdate: 'update',
  adminRemove: 'remove',
  adminExtend: 'extend',
  adminRenew: 'extend',
  selfActivate: 'delegated',
  selfDeactivate: 'delegated',
  selfExtend: 'delegated',
  selfRenew: 'delegated',
};

/** Graph PIM for directory roles and for groups. */
export const graphPimRoutes: SimRoute = (req, ctx, caller) => {
  for (const surface of ['directory', 'group'] as const) {
    const base = surface === 'directory' ? `${DIRECTORY}/roleAssignmentScheduleRequests` : `${GROUPS}/assignmentScheduleRequests`;
    const instances = surface === 'directory' ? `${DIRECTORY}/roleAssignmentScheduleInstances` : `${GROUPS}/assignmentScheduleInstances`;
    if (req.path === base && req.method === 'POST') return create(req, ctx, caller, surface);
    if (req.path === base && req.method === 'GET') {
      const items = ctx.pim.list(surface).map((r) => requestEntity(ctx, r, surface));
      return graphList(req, ctx, base, items.filter(matchesFilter(req)));
    }
    const one = new RegExp(`^${base}/([^/]+)(/cancel)?$`).exec(req.path);
    if (one) {
      const record = ctx.pim.get(one[1]);
      if (!record || record.surface !== surface) throw graphNotFound(one[1]);
      if (one[2] && req.method === 'POST') {
        ctx.pim.cancel(record.id);
        return { status: 204 };
      }
      if (!one[2] && req.method === 'GET') return { status: 200, body: { '@odata.context': context(ctx, base, true), ...requestEntity(ctx, record, surface) } };
    }
    if (req.path === instances && req.method === 'GET') {
      const filtered = ctx.pim.instances(surface).map((s) => instanceEntity(s, surface)).filter(matchesFilter(req));
      if (surface === 'group' && !/groupId|principalId/.test(req.query.get('$filter') ?? '')) {
        throw new SimHttpError(400, 'BadRequest', 'A filter on groupId or principalId is required.');
      }
      return graphList(req, ctx, instances, filtered);
    }
  }
  return undefined;
};

function create(req: SimRequest, ctx: SimContext, caller: SimCaller, surface: 'directory' | 'group'): SimResponse {
  const body = req.body;
  if (!isObject(body)) throw new SimHttpError(400, 'BadRequest', 'The request body must be a JSON object.');
  const type = surface === 'directory' ? 'microsoft.graph.unifiedRoleAssignmentScheduleRequest' : 'microsoft.graph.privilegedAccessGroupAssignmentScheduleRequest';
  rejectUnknown(body, surface === 'directory' ? DIRECTORY_REQUEST_PROPS : GROUP_REQUEST_PROPS, type);
  const action = ACTIONS[String(body.action)];
  if (!action) throw new SimHttpError(400, 'BadRequest', `Requested value '${String(body.action)}' was not found in the enum.`);
  if (action === 'delegated') throw new SimHttpError(400, 'InvalidRequest', `${String(body.action)} acts for the signed-in user and needs a delegated token.`);
  let targetKey: string;
  let policy;
  let newScheduleId: (() => string) | undefined;
  if (surface === 'directory') {
    if (!GUID.test(String(body.roleDefinitionId))) throw new SimHttpError(400, 'InvalidRequest', 'roleDefinitionId must be a role definition id.');
    const role = ctx.directory.directoryRoles.get(String(body.roleDefinitionId).toLowerCase());
    if (!role) throw graphNotFound(String(body.roleDefinitionId));
    if (typeof body.directoryScopeId !== 'string' && typeof body.appScopeId !== 'string') {
      throw new SimHttpError(400, 'InvalidRequest', 'Either directoryScopeId or appScopeId is required.');
    }
    targetKey = `${role.id}|${String(body.directoryScopeId ?? body.appScopeId)}`;
    policy = role.policy;
  } else {
    if (body.accessId !== 'member' && body.accessId !== 'owner') throw new SimHttpError(400, 'BadRequest', `Requested value '${String(body.accessId)}' was not found in the enum.`);
    const group = ctx.directory.principal(String(body.groupId));
    if (!group || group.type !== 'Group') throw graphNotFound(String(body.groupId));
    targetKey = `${group.id}|${body.accessId}`;
    policy = ctx.directory.groupPolicies.get(`${group.id}/${body.accessId}`) ?? {};
    newScheduleId = () => `${group.id}_${String(body.accessId)}_${randomUUID()}`;
  }
  const principal = requirePrincipal(ctx, body.principalId, graphNotFound);
  if (surface === 'group' && principal.type === 'ServicePrincipal') {
    throw new SimHttpError(400, 'InvalidRequest', 'PIM for Groups assigns users and groups only.');
  }
  const schedule = action === 'remove' ? { start: new Date(), end: null } : parseScheduleInfo(body.scheduleInfo, 'graph');
  const record = ctx.pim.submit({
    surface,
    targetKey,
    principalId: principal.id,
    action,
    start: schedule.start,
    end: schedule.end,
    policy,
    wire: body,
    requestorId: caller.appId,
    newScheduleId,
  });
  const base = surface === 'directory' ? `${DIRECTORY}/roleAssignmentScheduleRequests` : `${GROUPS}/assignmentScheduleRequests`;
  return { status: 201, body: { '@odata.context': context(ctx, base, true), ...requestEntity(ctx, record, surface) } };
}

function requestEntity(ctx: SimContext, r: PimRequestRecord, surface: 'directory' | 'group'): Record<string, unknown> {
  const w = r.wire;
  const common = {
    id: r.id,
    status: r.status,
    createdDateTime: r.createdAt.toISOString(),
    completedDateTime: r.completedAt?.toISOString() ?? null,
    approvalId: r.approvalId,
    customData: w.customData ?? null,
    createdBy: { application: { id: r.requestorId, displayName: null }, device: null, user: null },
    action: w.action,
    principalId: r.principalId,
    isValidationOnly: w.isValidationOnly ?? false,
    targetScheduleId: r.targetScheduleId,
    justification: w.justification ?? null,
    scheduleInfo: r.action === 'remove' ? null : scheduleEcho(r),
    ticketInfo: w.ticketInfo ?? { ticketNumber: null, ticketSystem: null },
  };
  if (surface === 'directory') {
    return { ...common, roleDefinitionId: w.roleDefinitionId, directoryScopeId: w.directoryScopeId ?? null, appScopeId: w.appScopeId ?? null };
  }
  void ctx;
  return { ...common, accessId: w.accessId, groupId: String(w.groupId).toLowerCase() };
}

/** Responses echo the expiration type in the CSDL's camelCase, whatever casing was sent. */
function scheduleEcho(r: PimRequestRecord): Record<string, unknown> {
  const sent = isObject(r.wire.scheduleInfo) && isObject(r.wire.scheduleInfo.expiration) ? r.wire.scheduleInfo.expiration : {};
  const type = r.end === null ? 'noExpiration' : typeof sent.duration === 'string' ? 'afterDuration' : 'afterDateTime';
  return {
    startDateTime: r.start.toISOString(),
    recurrence: null,
    expiration: { type, endDateTime: type === 'afterDateTime' ? r.end!.toISOString() : null, duration: type === 'afterDuration' ? sent.duration : null },
  };
}

function instanceEntity(s: PimSchedule, surface: 'directory' | 'group'): Record<string, unknown> {
  const [first, second] = s.targetKey.split('|');
  const times = { startDateTime: s.start.toISOString(), endDateTime: s.end?.toISOString() ?? null };
  if (surface === 'directory') {
    return {
      id: `${s.id}-instance`,
      principalId: s.principalId,
      roleDefinitionId: first,
      directoryScopeId: second,
      appScopeId: null,
      ...times,
      assignmentType: s.assignmentType ?? 'Assigned',
      memberType: 'Direct',
      roleAssignmentOriginId: s.id,
      roleAssignmentScheduleId: s.id,
    };
  }
  return { id: `${s.id}-instance`, ...times, accessId: second, assignmentScheduleId: s.id, assignmentType: 'assigned', groupId: first, memberType: 'direct', principalId: s.principalId };
}

function context(ctx: SimContext, base: string, entity: boolean): string {
  return `${ctx.baseUrl}/v1.0/$metadata#${base.replace('/v1.0/', '')}${entity ? '/$entity' : ''}`;
}
