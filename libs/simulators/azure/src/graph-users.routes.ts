import { SimRoute, requirePrincipal } from './sim-context';
import { SimHttpError } from './sim-http';
import { graphNotFound } from './graph-odata';

/** Properties of `microsoft.graph.user` the simulator serves; Graph returns `signInActivity` only when `$select` names it. */
const SELECTABLE = ['id', 'displayName', 'userPrincipalName', 'accountEnabled', 'userType', 'mail', 'signInActivity'];
const DEFAULT = ['id', 'displayName', 'userPrincipalName', 'mail'];

/**
 * `GET /v1.0/users/{id}` with `$select`, `signInActivity` included (the v1.0 CSDL's
 * `lastSignInDateTime`, `lastSuccessfulSignInDateTime`, `lastNonInteractiveSignInDateTime` and
 * their request ids; null for a user Entra has no sign-in for).
 */
export const graphUserRoutes: SimRoute = (req, ctx) => {
  const m = /^\/v1\.0\/users\/([^/]+)$/.exec(req.path);
  if (!m || req.method !== 'GET') return undefined;
  const select = req.query.get('$select');
  const fields = select ? select.split(',').map((f) => f.trim()) : DEFAULT;
  const unknown = fields.find((f) => !SELECTABLE.includes(f));
  if (unknown) throw new SimHttpError(400, 'BadRequest', `Could not find a property named '${unknown}' on type 'microsoft.graph.user'.`);
  const principal = requirePrincipal(ctx, m[1], graphNotFound);
  if (principal.type !== 'User') throw graphNotFound(m[1]);
  const user = ctx.directory.users.get(principal.id);
  const a = user?.signInActivity;
  const values: Record<string, unknown> = {
    id: principal.id,
    displayName: principal.displayName,
    userPrincipalName: user?.userPrincipalName ?? null,
    accountEnabled: true,
    userType: 'Member',
    mail: null,
    signInActivity: a
      ? {
          lastSignInDateTime: a.lastSignInDateTime ?? null,
          lastSignInRequestId: a.lastSignInDateTime ? '5f1a3b5e-0000-4000-8000-000000000001' : null,
          lastNonInteractiveSignInDateTime: a.lastNonInteractiveSignInDateTime ?? null,
          lastNonInteractiveSignInRequestId: a.lastNonInteractiveSignInDateTime ? '5f1a3b5e-0000-4000-8000-000000000002' : null,
          lastSuccessfulSignInDateTime: a.lastSuccessfulSignInDateTime ?? null,
          lastSuccessfulSignInRequestId: a.lastSuccessfulSignInDateTime ? '5f1a3b5e-0000-4000-8000-000000000003' : null,
        }
      : null,
  };
  return {
    status: 200,
    body: { '@odata.context': `${ctx.baseUrl}/v1.0/$metadata#users(${fields.join(',')})/$entity`, ...Object.fromEntries(fields.map((f) => [f, values[f]])) },
  };
};
