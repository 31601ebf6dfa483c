import { SimRoute, requirePrincipal } from './sim-context';
import { SimHttpError } from './sim-http';
import { graphNotFound } from './graph-odata';

/** Entra's object types as Graph names them in `@odata.type`. */
const ODATA_TYPE: Record<string, string> = {
  User: '#microsoft.graph.user',
  Group: '#microsoft.graph.group',
  ServicePrincipal: '#microsoft.graph.servicePrincipal',
};

/**
 * `GET /v1.0/directoryObjects/{id}`: any directory object by id, its derived type in
 * `@odata.type`. With `$select=id` (what the broker sends) only the id comes back, as Graph
 * does; an unknown id, or one not yet replicated, is a 404 Request_ResourceNotFound.
 */
export const graphDirectoryObjectRoutes: SimRoute = (req, ctx) => {
  const m = /^\/v1\.0\/directoryObjects\/([^/]+)$/.exec(req.path);
  if (!m || req.method !== 'GET') return undefined;
  const select = req.query.get('$select');
  const fields = select ? select.split(',').map((f) => f.trim()) : ['id', 'displayName'];
  const unknown = fields.find((f) => !['id', 'displayName'].includes(f));
  if (unknown) throw new SimHttpError(400, 'BadRequest', `Could not find a property named '${unknown}' on type 'microsoft.graph.directoryObject'.`);
  const principal = requirePrincipal(ctx, m[1], graphNotFound);
  return {
    status: 200,
    body: {
      '@odata.context': `${ctx.baseUrl}/v1.0/$metadata#directoryObjects(${fields.join(',')})/$entity`,
      '@odata.type': ODATA_TYPE[principal.type],
      ...(fields.includes('id') && { id: principal.id }),
      ...(fields.includes('displayName') && { displayName: principal.displayName }),
    },
  };
};
