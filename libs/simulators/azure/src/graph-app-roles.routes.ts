import { randomBytes } from 'node:crypto';
import { AppRoleAssignmentRecord, SimContext, SimRoute, rejectUnknown, requirePrincipal } from './sim-context';
import { GUID, SimHttpError, isObject } from './sim-http';
import { graphList, graphNotFound, matchesFilter } from './graph-odata';

/** The default app role (`00000000-…`) every resource accepts when it defines no roles. */
const DEFAULT_APP_ROLE = '00000000-0000-0000-0000-000000000000';

/** `servicePrincipals/{id}/appRoleAssignedTo` and the service principal's `tags`. */
export const graphAppRoleRoutes: SimRoute = (req, ctx) => {
  const m = /^\/v1\.0\/servicePrincipals\/([^/]+)(\/appRoleAssignedTo(?:\/([^/]+))?)?$/.exec(req.path);
  if (!m) return req.path === '/v1.0/servicePrincipals' && req.method === 'GET' ? listByTag(req, ctx) : undefined;
  const resource = ctx.directory.servicePrincipals.get(m[1].toLowerCase());
  if (!resource) throw graphNotFound(m[1]);
  const base = `/v1.0/servicePrincipals/${m[1]}/appRoleAssignedTo`;
  if (!m[2]) {
    if (req.method === 'GET') return { status: 200, body: selected(req, spEntity(ctx, resource.id)) };
    if (req.method === 'PATCH') {
      if (!isObject(req.body)) throw new SimHttpError(400, 'BadRequest', 'The request body must be a JSON object.');
      rejectUnknown(req.body, ['tags', 'notes', 'displayName'], 'microsoft.graph.servicePrincipal');
      if (req.body.tags !== undefined) {
        if (!Array.isArray(req.body.tags) || req.body.tags.some((t) => typeof t !== 'string')) throw new SimHttpError(400, 'BadRequest', 'tags must be a collection of strings.');
        ctx.servicePrincipalTags.set(resource.id, req.body.tags as string[]);
      }
      return { status: 204 };
    }
    return undefined;
  }
  if (!m[3] && req.method === 'GET') {
    const items = [...ctx.appRoleAssignments.values()].filter((a) => a.resourceId === resource.id).map((a) => entity(ctx, a));
    return graphList(req, ctx, base, items.filter(matchesFilter(req)));
  }
  if (!m[3] && req.method === 'POST') {
    const body = req.body;
    if (!isObject(body)) throw new SimHttpError(400, 'BadRequest', 'The request body must be a JSON object.');
    rejectUnknown(body, ['principalId', 'resourceId', 'appRoleId'], 'microsoft.graph.appRoleAssignment');
    for (const f of ['principalId', 'resourceId', 'appRoleId']) {
      if (!GUID.test(String(body[f]))) throw new SimHttpError(400, 'Request_BadRequest', `Invalid value specified for property '${f}' of resource 'AppRoleAssignment'.`);
    }
    if (String(body.resourceId).toLowerCase() !== resource.id) throw new SimHttpError(400, 'Request_BadRequest', 'resourceId must be the service principal in the URL.');
    const appRoleId = String(body.appRoleId).toLowerCase();
    if (appRoleId !== DEFAULT_APP_ROLE && !resource.appRoles.some((r) => r.id.toLowerCase() === appRoleId)) {
      throw new SimHttpError(400, 'Request_BadRequest', 'Permission being assigned was not found on application.');
    }
    const principal = requirePrincipal(ctx, body.principalId, graphNotFound);
    const duplicate = [...ctx.appRoleAssignments.values()].some((a) => a.resourceId === resource.id && a.principalId === principal.id && a.appRoleId === appRoleId);
    if (duplicate) throw new SimHttpError(400, 'Request_BadRequest', 'Permission being assigned already exists on the object');
    const record: AppRoleAssignmentRecord = { id: randomBytes(32).toString('base64url').slice(0, 43), appRoleId, principalId: principal.id, resourceId: resource.id, createdDateTime: new Date().toISOString() };
    ctx.appRoleAssignments.set(record.id, record);
    return { status: 201, body: { '@odata.context': `${ctx.baseUrl}/v1.0/$metadata#servicePrincipals('${resource.id}')/appRoleAssignedTo/$entity`, ...entity(ctx, record) } };
  }
  if (m[3] && req.method === 'DELETE') {
    const record = ctx.appRoleAssignments.get(m[3]);
    if (!record || record.resourceId !== resource.id) throw graphNotFound(m[3]);
    ctx.appRoleAssignments.delete(m[3]);
    return { status: 204 };
  }
  return undefined;
};

function entity(ctx: SimContext, a: AppRoleAssignmentRecord): Record<string, unknown> {
  const principal = ctx.directory.principal(a.principalId);
  return {
    id: a.id,
    deletedDateTime: null,
    appRoleId: a.appRoleId,
    createdDateTime: a.createdDateTime,
    principalDisplayName: principal?.displayName ?? null,
    principalId: a.principalId,
    principalType: principal?.type ?? null,
    resourceDisplayName: ctx.directory.servicePrincipals.get(a.resourceId)?.displayName ?? null,
    resourceId: a.resourceId,
  };
}

function spEntity(ctx: SimContext, id: string): Record<string, unknown> {
  const sp = ctx.directory.servicePrincipals.get(id)!;
  return {
    '@odata.context': `${ctx.baseUrl}/v1.0/$metadata#servicePrincipals/$entity`,
    id,
    displayName: sp.displayName,
    appRoles: sp.appRoles,
    tags: ctx.servicePrincipalTags.get(id) ?? [],
    servicePrincipalType: sp.servicePrincipalType,
    accountEnabled: true,
  };
}

/** `$select` on a service principal: only the properties asked for (Graph refuses unknown ones). */
function selected(req: Parameters<SimRoute>[0], entity: Record<string, unknown>): Record<string, unknown> {
  const select = req.query.get('$select');
  if (!select) return entity;
  const fields = select.split(',').map((f) => f.trim());
  const unknown = fields.find((f) => !(f in entity));
  if (unknown) throw new SimHttpError(400, 'BadRequest', `Could not find a property named '${unknown}' on type 'microsoft.graph.servicePrincipal'.`);
  return { '@odata.context': entity['@odata.context'], ...Object.fromEntries(fields.map((f) => [f, entity[f]])) };
}

/** `$filter=tags/any(t:t eq 'x')`, the one service principal filter the broker uses. */
function listByTag(req: Parameters<SimRoute>[0], ctx: SimContext) {
  const m = /^tags\/any\((\w+):\s*\1\s+eq\s+'([^']*)'\)$/.exec(req.query.get('$filter') ?? '');
  if (!m) throw new SimHttpError(400, 'Request_UnsupportedQuery', 'Unsupported query.');
  const items = [...ctx.directory.servicePrincipals.keys()].filter((id) => (ctx.servicePrincipalTags.get(id) ?? []).includes(m[2])).map((id) => spEntity(ctx, id));
  return graphList(req, ctx, '/v1.0/servicePrincipals', items);
}
