import { randomBytes } from 'node:crypto';
import { DirectoryRoleAssignmentRecord, SimContext, SimRoute, rejectUnknown, requirePrincipal } from './sim-context';
import { GUID, SimHttpError, SimRequest, asText, isObject } from './sim-http';
import { graphList, graphNotFound, matchesFilter } from './graph-odata';

const BASE = '/v1.0/roleManagement/directory';
const ODATA_TYPE = { User: '#microsoft.graph.user', Group: '#microsoft.graph.group', ServicePrincipal: '#microsoft.graph.servicePrincipal' } as const;
/** Writable properties of `unifiedRoleAssignment` (v1.0 CSDL). */
const ASSIGNMENT_PROPS = ['appScopeId', 'condition', 'directoryScopeId', 'principalId', 'principalOrganizationId', 'roleDefinitionId'];

/**
 * Entra directory roles as Graph v1.0 serves them: `roleDefinitions`, `roleAssignments` (the
 * permanent ones, and those PIM keeps for its active schedules, as Entra lists both, with
 * `$filter`, `$expand=principal` and paging; create and delete for the permanent ones), and
 * `roleEligibilitySchedules`.
 */
export const graphDirectoryRoleRoutes: SimRoute = (req, ctx) => {
  if (!req.path.startsWith(`${BASE}/role`)) return undefined;
  const rest = req.path.slice(BASE.length);
  if (rest === '/roleDefinitions' && req.method === 'GET') {
    const items = [...ctx.directory.directoryRoles.values()].sort((a, b) => a.displayName.localeCompare(b.displayName)).map((r) => definition(ctx, r.id));
    return graphList(req, ctx, `${BASE}/roleDefinitions`, items.filter(matchesFilter(req)));
  }
  const oneDefinition = /^\/roleDefinitions\/([^/]+)$/.exec(rest);
  if (oneDefinition && req.method === 'GET') {
    if (!ctx.directory.directoryRoles.has(oneDefinition[1].toLowerCase())) throw graphNotFound(oneDefinition[1]);
    return { status: 200, body: { '@odata.context': `${ctx.baseUrl}${BASE.replace('/v1.0', '/v1.0/$metadata#')}/roleDefinitions/$entity`, ...definition(ctx, oneDefinition[1]) } };
  }
  if (rest === '/roleAssignments') {
    if (req.method === 'GET') {
      const expand = expansions(req, 'unifiedRoleAssignment');
      const items = assignments(ctx).filter(matchesFilter(req));
      return graphList(req, ctx, `${BASE}/roleAssignments`, items.map((a) => expandInto(ctx, a, expand)));
    }
    if (req.method === 'POST') return create(req, ctx);
    return undefined;
  }
  const oneAssignment = /^\/roleAssignments\/([^/]+)$/.exec(rest);
  if (oneAssignment) {
    const id = oneAssignment[1];
    const found = assignments(ctx).find((a) => a.id === id);
    if (!found) throw graphNotFound(id);
    if (req.method === 'GET') return { status: 200, body: expandInto(ctx, found, expansions(req, 'unifiedRoleAssignment')) };
    if (req.method === 'DELETE') {
      // Graph deletes whatever assignment the id names, one PIM keeps for a schedule too.
      if (!ctx.directoryRoleAssignments.delete(id)) ctx.pim.drop('directory', id);
      return { status: 204 };
    }
    return undefined;
  }
  if (rest === '/roleEligibilitySchedules' && req.method === 'GET') {
    const expand = expansions(req, 'unifiedRoleEligibilitySchedule');
    const items = [...ctx.eligibilities.values()]
      .filter((e) => e.surface === 'directory' && (e.end === null || e.end.getTime() > Date.now()))
      .sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime())
      .map((e) => ({
        id: e.id,
        principalId: e.principalId,
        roleDefinitionId: e.roleId,
        directoryScopeId: e.scope,
        appScopeId: null,
        createdUsing: e.id,
        createdDateTime: e.createdAt.toISOString(),
        modifiedDateTime: null,
        status: 'Provisioned',
        memberType: 'Direct',
        scheduleInfo: {
          startDateTime: e.start.toISOString(),
          recurrence: null,
          expiration: { type: e.end ? 'afterDateTime' : 'noExpiration', endDateTime: e.end?.toISOString() ?? null, duration: null },
        },
      }))
      .filter(matchesFilter(req));
    return graphList(req, ctx, `${BASE}/roleEligibilitySchedules`, items.map((a) => expandInto(ctx, a, expand)));
  }
  return undefined;
};

/** The permanent assignments and those PIM keeps for its active directory schedules (`roleAssignmentOriginId` names them). */
function assignments(ctx: SimContext): Record<string, unknown>[] {
  const permanent = [...ctx.directoryRoleAssignments.values()].map((a) => entity(ctx, a));
  const viaPim = ctx.pim.instances('directory').map((s) => {
    const [roleDefinitionId, directoryScopeId] = s.targetKey.split('|');
    return entity(ctx, { id: s.id, principalId: s.principalId, roleDefinitionId, directoryScopeId });
  });
  return [...permanent, ...viaPim];
}

function entity(ctx: SimContext, a: DirectoryRoleAssignmentRecord): Record<string, unknown> {
  return {
    id: a.id,
    principalId: a.principalId,
    principalOrganizationId: ctx.tenantId,
    roleDefinitionId: a.roleDefinitionId,
    directoryScopeId: a.directoryScopeId,
    appScopeId: a.appScopeId ?? null,
    condition: null,
  };
}

function definition(ctx: SimContext, id: string): Record<string, unknown> {
  const r = ctx.directory.directoryRoles.get(id.toLowerCase())!;
  return {
    id: r.id,
    description: r.displayName,
    displayName: r.displayName,
    isBuiltIn: r.isBuiltIn,
    isEnabled: true,
    resourceScopes: ['/'],
    templateId: r.id,
    version: '1',
    rolePermissions: [{ allowedResourceActions: r.allowedResourceActions, condition: null, excludedResourceActions: [] }],
  };
}

/** `$expand` of `principal` and `roleDefinition`, the navigation properties the broker reads; others are refused as Graph refuses unknown ones. */
function expansions(req: SimRequest, type: string): string[] {
  const value = req.query.get('$expand');
  if (!value) return [];
  const names = value.split(',').map((s) => s.trim());
  const unknown = names.find((n) => n !== 'principal' && n !== 'roleDefinition');
  if (unknown) throw new SimHttpError(400, 'BadRequest', `Could not find a property named '${unknown}' on type 'microsoft.graph.${type}'.`);
  return names;
}

function expandInto(ctx: SimContext, item: Record<string, unknown>, expand: string[]): Record<string, unknown> {
  const out = { ...item };
  if (expand.includes('principal')) out.principal = principalObject(ctx, String(item.principalId));
  if (expand.includes('roleDefinition')) out.roleDefinition = ctx.directory.directoryRoles.has(String(item.roleDefinitionId)) ? definition(ctx, String(item.roleDefinitionId)) : null;
  return out;
}

/** A directory object as `$expand=principal` returns it: its derived type and its default properties. */
export function principalObject(ctx: SimContext, id: string): Record<string, unknown> | null {
  const p = ctx.directory.principal(id);
  if (!p) return null;
  const common = { '@odata.type': ODATA_TYPE[p.type], id: p.id, deletedDateTime: null, displayName: p.displayName };
  if (p.type === 'User') return { ...common, userPrincipalName: ctx.directory.users.get(p.id)?.userPrincipalName ?? null, accountEnabled: true };
  if (p.type === 'ServicePrincipal') return { ...common, servicePrincipalType: ctx.directory.servicePrincipals.get(p.id)?.servicePrincipalType ?? 'Application', accountEnabled: true };
  return { ...common, securityEnabled: true };
}

function create(req: SimRequest, ctx: SimContext) {
  const body = req.body;
  if (!isObject(body)) throw new SimHttpError(400, 'BadRequest', 'The request body must be a JSON object.');
  rejectUnknown(body, ASSIGNMENT_PROPS, 'microsoft.graph.unifiedRoleAssignment');
  const roleDefinitionId = asText(body.roleDefinitionId).toLowerCase();
  if (!GUID.test(roleDefinitionId) || !ctx.directory.directoryRoles.has(roleDefinitionId)) {
    throw new SimHttpError(404, 'Request_ResourceNotFound', `Resource '${asText(body.roleDefinitionId)}' does not exist or one of its queried reference-property objects are not present.`);
  }
  if (typeof body.directoryScopeId !== 'string' && typeof body.appScopeId !== 'string') throw new SimHttpError(400, 'BadRequest', 'Either directoryScopeId or appScopeId is required.');
  const principal = requirePrincipal(ctx, body.principalId, graphNotFound);
  const directoryScopeId = typeof body.directoryScopeId === 'string' ? body.directoryScopeId : null;
  const appScopeId = typeof body.appScopeId === 'string' ? body.appScopeId : null;
  const duplicate = assignments(ctx).some(
    (a) => a.principalId === principal.id && a.roleDefinitionId === roleDefinitionId && a.directoryScopeId === directoryScopeId && (a.appScopeId ?? null) === appScopeId,
  );
  if (duplicate) throw new SimHttpError(400, 'Request_BadRequest', 'A conflicting object with one or more of the specified property values is present in the directory.');
  const record = { id: randomBytes(32).toString('base64url').slice(0, 43), principalId: principal.id, roleDefinitionId, directoryScopeId, appScopeId };
  ctx.directoryRoleAssignments.set(record.id, record);
  return { status: 201, body: { '@odata.context': `${ctx.baseUrl}/v1.0/$metadata#roleManagement/directory/roleAssignments/$entity`, ...entity(ctx, record) } };
}
