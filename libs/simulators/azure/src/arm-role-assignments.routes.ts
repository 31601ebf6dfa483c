import { ROLE_ASSIGNMENT_API_VERSIONS, armList, covers, idPrefix, parseArmPath, principalNotFound, requireApiVersion, requireScope, resolveRoleDefinition } from './arm-scope';
import { ArmRoleAssignmentRecord, SimContext, SimRoute, rejectUnknown } from './sim-context';
import { GUID, SimHttpError, asText, isObject, parseEqFilter } from './sim-http';

const WRITABLE = ['roleDefinitionId', 'principalId', 'principalType', 'description', 'condition', 'conditionVersion', 'delegatedManagedIdentityResourceId'];
const PRINCIPAL_TYPES = ['User', 'Group', 'ServicePrincipal', 'ForeignGroup', 'Device'];

/** ARM role assignments (2022-04-01): no expiry of any kind, deleted by whoever made them. */
export const armRoleAssignmentRoutes: SimRoute = (req, ctx, caller) => {
  const p = parseArmPath(req.path);
  if (!p || p.collection.toLowerCase() !== 'roleassignments') return undefined;
  requireApiVersion(req, ROLE_ASSIGNMENT_API_VERSIONS);
  const scope = requireScope(ctx, p.scope);
  if (!p.name) {
    if (req.method !== 'GET') return undefined;
    const { eq, functions } = parseEqFilter(req.query.get('$filter'));
    // RoleAssignmentFilter defines principalId only; the functions are atScope() and assignedTo('…').
    const unknown = Object.keys(eq).find((k) => k !== 'principalId') ?? functions.find((f) => f !== 'atScope');
    if (unknown) throw new SimHttpError(400, 'UnsupportedQuery', `The filter '${req.query.get('$filter')}' is not supported. Supported filters are 'atScope()' and 'principalId eq {value}'.`);
    const atScope = functions.includes('atScope');
    const items = [...ctx.roleAssignments.values(), ...pimRoleAssignments(ctx)]
      .filter((a) => covers(ctx, a.scope, scope) || (!atScope && covers(ctx, scope, a.scope)))
      .filter((a) => !eq.principalId || a.principalId === eq.principalId.toLowerCase())
      .sort((a, b) => a.scope.localeCompare(b.scope) || a.name.localeCompare(b.name))
      .map((a) => resource(a));
    return armList(req, ctx, items);
  }
  if (p.op) return undefined;
  if (!GUID.test(p.name)) throw new SimHttpError(400, 'InvalidRoleAssignmentId', `The role assignment ID '${p.name}' is not valid. The role assignment ID must be a GUID.`);
  const key = `${scope}|${p.name.toLowerCase()}`;
  const existing = ctx.roleAssignments.get(key);
  if (req.method === 'GET') {
    const viaPim = pimRoleAssignments(ctx).find((a) => a.scope === scope && a.name === p.name!.toLowerCase());
    if (viaPim) return { status: 200, body: resource(viaPim) };
    if (!existing) throw new SimHttpError(404, 'RoleAssignmentNotFound', `The role assignment '${p.name}' is not found.`);
    return { status: 200, body: resource(existing) };
  }
  if (req.method === 'DELETE') {
    if (!existing) return { status: 204 };
    ctx.roleAssignments.delete(key);
    return { status: 200, body: resource(existing) };
  }
  if (req.method !== 'PUT') return undefined;
  const body = req.body;
  if (!isObject(body) || !isObject(body.properties)) throw new SimHttpError(400, 'InvalidRequestContent', 'The request content must be {"properties":{...}}.');
  rejectUnknown(body, ['properties'], 'RoleAssignmentCreateParameters');
  const props = body.properties;
  rejectUnknown(props, WRITABLE, 'RoleAssignmentProperties');
  const role = resolveRoleDefinition(ctx, props.roleDefinitionId, p.scope);
  const principalId = asText(props.principalId).toLowerCase();
  if (!GUID.test(principalId)) throw new SimHttpError(400, 'InvalidPrincipalId', 'A valid principal ID must be provided for role assignment.');
  if (props.principalType !== undefined && !PRINCIPAL_TYPES.includes(asText(props.principalType))) {
    throw new SimHttpError(400, 'InvalidPrincipalType', `The principal type '${asText(props.principalType)}' is not valid.`);
  }
  const principal = ctx.directory.principal(principalId);
  // With principalType given, ARM skips the directory lookup that replication delays break.
  if (props.principalType === undefined && (!principal || ctx.faults.takeReplicationMiss())) throw principalNotFound(ctx.tenantId)(principalId);
  if (!principal) throw principalNotFound(ctx.tenantId)(principalId);
  const principalType = props.principalType === undefined ? principal.type : asText(props.principalType);
  if (principalType !== principal.type) {
    throw new SimHttpError(400, 'UnmatchedPrincipalType', `The PrincipalId '${principalId.replace(/-/g, '')}' has type '${principal.type}' , which is different from specified PrincipalType '${principalType}'.`);
  }
  if (existing) {
    if (existing.principalId !== principalId || existing.roleGuid !== role.guid) {
      throw new SimHttpError(400, 'RoleAssignmentUpdateNotPermitted', 'Tenant ID, application ID, principal ID, and scope are not allowed to be updated.');
    }
    existing.description = (props.description as string | undefined) ?? existing.description;
    existing.updatedOn = new Date().toISOString();
    return { status: 200, body: resource(existing) };
  }
  // PIM's assignments count: ARM keeps one assignment per principal, role and scope.
  const duplicate = [...ctx.roleAssignments.values(), ...pimRoleAssignments(ctx)].find((a) => a.scope === scope && a.principalId === principalId && a.roleGuid === role.guid);
  if (duplicate) {
    throw new SimHttpError(409, 'RoleAssignmentExists', `The role assignment already exists. The ID of the existing role assignment is ${duplicate.name.replace(/-/g, '')}.`);
  }
  const now = new Date().toISOString();
  const record: ArmRoleAssignmentRecord = {
    name: p.name.toLowerCase(),
    scope,
    roleDefinitionId: role.id,
    roleGuid: role.guid,
    principalId,
    principalType,
    description: (props.description as string | undefined) ?? null,
    condition: (props.condition as string | undefined) ?? null,
    conditionVersion: (props.conditionVersion as string | undefined) ?? null,
    createdOn: now,
    updatedOn: now,
    createdBy: caller.appId,
  };
  ctx.roleAssignments.set(key, record);
  return { status: 201, body: resource(record) };
};

function resource(a: ArmRoleAssignmentRecord): Record<string, unknown> {
  return {
    properties: {
      roleDefinitionId: a.roleDefinitionId,
      principalId: a.principalId,
      principalType: a.principalType,
      scope: a.scope,
      condition: a.condition,
      conditionVersion: a.conditionVersion,
      createdOn: a.createdOn,
      updatedOn: a.updatedOn,
      createdBy: a.createdBy,
      updatedBy: a.createdBy,
      delegatedManagedIdentityResourceId: null,
      description: a.description,
    },
    id: `${idPrefix(a.scope)}/providers/Microsoft.Authorization/roleAssignments/${a.name}`,
    type: 'Microsoft.Authorization/roleAssignments',
    name: a.name,
  };
}

/**
 * The role assignments PIM keeps for its active ARM schedules: Azure lists them with the others
 * (the schedule instance's `originRoleAssignmentId` names them), which is why a reader must ask
 * PIM's schedules to tell an activation from a standing assignment.
 */
function pimRoleAssignments(ctx: SimContext): ArmRoleAssignmentRecord[] {
  return ctx.pim.instances('arm').map((s) => {
    const [roleGuid, scope] = s.targetKey.split('|');
    const sub = /^\/subscriptions\/[^/]+/.exec(scope)?.[0] ?? '';
    return {
      name: s.id,
      scope,
      roleDefinitionId: `${sub}/providers/Microsoft.Authorization/roleDefinitions/${roleGuid}`,
      roleGuid,
      principalId: s.principalId,
      principalType: ctx.directory.principal(s.principalId)?.type ?? 'User',
      description: null,
      condition: s.condition ?? null,
      conditionVersion: s.conditionVersion ?? null,
      createdOn: s.createdAt.toISOString(),
      updatedOn: s.createdAt.toISOString(),
      createdBy: '',
    };
  });
}

export function roleAssignmentsOf(ctx: SimContext): ArmRoleAssignmentRecord[] {
  return [...ctx.roleAssignments.values()];
}
