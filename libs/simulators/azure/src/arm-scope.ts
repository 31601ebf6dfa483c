import { SimContext } from './sim-context';
import { GUID, SimHttpError, SimRequest, SimResponse, asText } from './sim-http';

/** Page size of simulated ARM collections; small so that clients must follow `nextLink`. */
export const ARM_PAGE_SIZE = 50;

/**
 * An ARM collection page: `{value, nextLink}`, where `nextLink` is the same request with a
 * `$skipToken` (the role assignments API's PaginationSkipToken; opaque to clients).
 */
export function armList(req: SimRequest, ctx: SimContext, items: unknown[]): SimResponse {
  const token = req.query.get('$skipToken');
  const skip = token === null ? 0 : Number.parseInt(Buffer.from(token, 'base64url').toString('utf8'), 10);
  if (!Number.isInteger(skip) || skip < 0) throw new SimHttpError(400, 'InvalidSkipToken', `The skipToken '${token}' is not valid.`);
  const body: Record<string, unknown> = { value: items.slice(skip, skip + ARM_PAGE_SIZE) };
  if (skip + ARM_PAGE_SIZE < items.length) {
    const next = new URLSearchParams(req.query);
    next.set('$skipToken', Buffer.from(String(skip + ARM_PAGE_SIZE)).toString('base64url'));
    body.nextLink = `${ctx.baseUrl}${req.path.split('/').map(encodeURIComponent).join('/')}?${next.toString().replace(/\+/g, '%20')}`;
  }
  return { status: 200, body };
}

export const PIM_API_VERSIONS = ['2020-10-01'];
export const ROLE_ASSIGNMENT_API_VERSIONS = ['2022-04-01'];

/** ARM requires `api-version` on every request and answers 400 for a missing or unknown one. */
export function requireApiVersion(req: SimRequest, supported: string[]): void {
  const v = req.query.get('api-version');
  if (!v) throw new SimHttpError(400, 'MissingApiVersionParameter', 'The api-version query parameter (?api-version=) is required for all requests.');
  if (!supported.includes(v)) {
    throw new SimHttpError(400, 'InvalidApiVersionParameter', `The api-version '${v}' is invalid. The supported versions are '${supported.join(',')}'.`);
  }
}

/** Checks that a scope names a seeded subscription or management group; returns it lower-cased. */
export function requireScope(ctx: SimContext, scope: string): string {
  // The tenant root: role assignments (and PIM) at `/` are ARM's, readable with elevated access.
  if (scope === '/') return '/';
  const sub = /^\/subscriptions\/([^/]+)/i.exec(scope);
  if (sub) {
    if (!ctx.directory.subscriptions.has(sub[1].toLowerCase())) throw new SimHttpError(404, 'SubscriptionNotFound', `The subscription '${sub[1]}' could not be found.`);
    return scope.toLowerCase();
  }
  const mg = /^\/providers\/Microsoft\.Management\/managementGroups\/([^/]+)$/i.exec(scope);
  if (mg && ctx.directory.managementGroups.has(mg[1].toLowerCase())) return scope.toLowerCase();
  throw new SimHttpError(400, 'InvalidScope', `The scope '${scope}' is not valid for this operation.`);
}

/** An ARM scope as the simulator stores it: lower case, no trailing slash; the tenant root `/`. */
export function normalScope(scope: string): string {
  return scope.replace(/\/$/, '').toLowerCase() || '/';
}

/** What goes before `/providers/Microsoft.Authorization/…` in a resource id: nothing for the tenant root. */
export function idPrefix(scope: string): string {
  return scope === '/' ? '' : scope;
}

/**
 * True when `outer` is `inner` or one of its ancestors (assignments are inherited downwards): the
 * root `/` is everything's; a management group is the ancestor of the groups and subscriptions
 * seeded under it (`managementGroups: [{ id, parent, subscriptions }]`), and of nothing else.
 */
export function covers(ctx: SimContext, outer: string, inner: string): boolean {
  const o = outer.toLowerCase().replace(/\/$/, '');
  const i = inner.toLowerCase();
  if (i === o || i.startsWith(`${o}/`)) return true;
  const mg = /^\/providers\/microsoft\.management\/managementgroups\/([^/]+)$/.exec(o)?.[1];
  if (!mg) return false;
  // The inner scope's own management group or subscription, then up the hierarchy.
  const start = /^\/providers\/microsoft\.management\/managementgroups\/([^/]+)/.exec(i)?.[1] ?? /^\/subscriptions\/([^/]+)/.exec(i)?.[1];
  let at = start ? ctx.directory.parents.get(start) : undefined;
  for (let hops = 0; at && hops < 10; hops++) {
    if (at === mg) return true;
    at = ctx.directory.parents.get(at);
  }
  return false;
}

/**
 * Resolves `roleDefinitionId`, which ARM wants as a full id: tenant-level
 * (`/providers/Microsoft.Authorization/roleDefinitions/{guid}`) or under the scope's subscription.
 */
export function resolveRoleDefinition(ctx: SimContext, value: unknown, scope: string): { guid: string; id: string; roleName: string } {
  const m = /^(\/subscriptions\/([^/]+))?\/providers\/Microsoft\.Authorization\/roleDefinitions\/([^/]+)$/i.exec(asText(value));
  if (!m || !GUID.test(m[3])) throw new SimHttpError(400, 'InvalidRoleDefinitionId', `The role definition ID '${value == null ? String(value) : asText(value)}' is not valid.`);
  const scopeSub = /^\/subscriptions\/([^/]+)/i.exec(scope)?.[1];
  if (m[2] && m[2].toLowerCase() !== scopeSub?.toLowerCase()) {
    throw new SimHttpError(400, 'InvalidRoleDefinitionId', `The role definition '${String(value)}' is not in the scope's subscription.`);
  }
  const role = ctx.directory.azureRoles.get(m[3].toLowerCase());
  if (!role) throw new SimHttpError(404, 'RoleDefinitionDoesNotExist', `The specified role definition with ID '${m[3]}' does not exist.`);
  return { guid: role.id, id: String(value), roleName: role.roleName };
}

export function principalNotFound(tenantId: string): (id: string) => SimHttpError {
  return (id) =>
    new SimHttpError(
      400,
      'PrincipalNotFound',
      `Principal ${id.replace(/-/g, '')} does not exist in the directory ${tenantId}. Check that you have the correct principal ID. If you are creating this principal and then immediately assigning a role, this error might be related to a replication delay. In this case, set the role assignment principalType property to a value, such as ServicePrincipal, User, or Group.  See https://aka.ms/docs-principaltype`,
    );
}

/** Splits `{scope}/providers/Microsoft.Authorization/{collection}[/{name}[/{op}]]`. */
export function parseArmPath(path: string): { scope: string; collection: string; name?: string; op?: string } | undefined {
  const m = /^(\/.*?)?\/providers\/Microsoft\.Authorization\/(roleAssignmentScheduleRequests|roleAssignmentScheduleInstances|roleAssignmentSchedules|roleEligibilitySchedules|roleDefinitions|roleAssignments)(?:\/([^/]+)(?:\/([^/]+))?)?$/i.exec(path);
  if (!m) return undefined;
  // No scope before `/providers/Microsoft.Authorization`: the tenant root `/`.
  return { scope: m[1] ?? '/', collection: m[2], name: m[3], op: m[4] };
}
