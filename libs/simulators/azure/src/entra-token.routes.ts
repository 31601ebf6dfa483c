import { SimCaller, SimContext } from './sim-context';
import { SimHttpError, SimRequest, SimResponse } from './sim-http';

/** Audiences the simulator issues tokens for, keyed by the `.default` scope a client asks for. */
export const AUDIENCES = { graph: 'https://graph.microsoft.com', arm: 'https://management.azure.com' } as const;

interface TokenClaims {
  appid: string;
  aud: string;
  tid: string;
  exp: number;
}

/**
 * The OpenID configuration and the v2.0 token endpoint that @azure/identity (MSAL) calls with
 * `authorityHost` pointed here and instance discovery disabled. Tokens are opaque to clients.
 */
export function entraRoutes(req: SimRequest, ctx: SimContext): SimResponse | undefined {
  const m = /^\/([^/]+)\/(v2\.0\/\.well-known\/openid-configuration|oauth2\/v2\.0\/token|discovery\/v2\.0\/keys)$/.exec(req.path);
  if (!m) return undefined;
  const tenant = m[1];
  const issuerBase = `${ctx.baseUrl}/${tenant}`;
  if (m[2].startsWith('v2.0')) {
    return {
      status: 200,
      body: {
        token_endpoint: `${issuerBase}/oauth2/v2.0/token`,
        authorization_endpoint: `${issuerBase}/oauth2/v2.0/authorize`,
        issuer: `${ctx.baseUrl}/${ctx.tenantId}/v2.0`,
        jwks_uri: `${issuerBase}/discovery/v2.0/keys`,
        end_session_endpoint: `${issuerBase}/oauth2/v2.0/logout`,
        token_endpoint_auth_methods_supported: ['client_secret_post', 'private_key_jwt', 'client_secret_basic'],
        response_types_supported: ['code', 'id_token', 'code id_token', 'id_token token'],
        scopes_supported: ['openid', 'profile', 'email', 'offline_access'],
        subject_types_supported: ['pairwise'],
        id_token_signing_alg_values_supported: ['RS256'],
        tenant_region_scope: null,
      },
    };
  }
  if (m[2].startsWith('discovery')) return { status: 200, body: { keys: [] } };
  if (req.method !== 'POST') return undefined;
  return issueToken(req, ctx, tenant);
}

function issueToken(req: SimRequest, ctx: SimContext, tenant: string): SimResponse {
  const form = (req.body ?? {}) as Record<string, string>;
  const oauthError = (error: string, description: string): SimResponse => ({ status: 400, body: { error, error_description: description, error_codes: [700016] } });
  if (tenant.toLowerCase() !== ctx.tenantId && tenant !== 'organizations') return oauthError('invalid_request', `AADSTS90002: Tenant '${tenant}' not found.`);
  if (form.grant_type !== 'client_credentials') return oauthError('unsupported_grant_type', 'AADSTS70003: only client_credentials is simulated.');
  const client = ctx.directory.clients.get(form.client_id);
  const secretOk = client?.secret === undefined || client.secret === form.client_secret;
  const assertionOk = typeof form.client_assertion === 'string' && form.client_assertion.split('.').length === 3;
  if (!form.client_id || (!assertionOk && (!form.client_secret || !secretOk))) {
    return { status: 401, body: { error: 'invalid_client', error_description: 'AADSTS7000215: Invalid client secret provided.' } };
  }
  const scope = String(form.scope ?? '').split(' ').find((s) => s.endsWith('/.default')) ?? '';
  const aud = scope.replace(/\/\.default$/, '');
  if (!Object.values(AUDIENCES).includes(aud as never)) return oauthError('invalid_scope', `AADSTS70011: The provided scope '${scope}' is not valid.`);
  const claims: TokenClaims = { appid: form.client_id, aud, tid: ctx.tenantId, exp: Math.floor(Date.now() / 1000) + 3599 };
  return {
    status: 200,
    body: { token_type: 'Bearer', expires_in: 3599, ext_expires_in: 3599, access_token: `sim.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.sig` },
  };
}

/** Checks the bearer token of a Graph or ARM call; answers 401 like the services do. */
export function authenticate(req: SimRequest, ctx: SimContext, audience: string): SimCaller {
  const header = String(req.headers.authorization ?? '');
  const m = /^Bearer sim\.([\w-]+)\.sig$/.exec(header);
  const code = audience === AUDIENCES.graph ? 'InvalidAuthenticationToken' : 'AuthenticationFailed';
  if (!m) throw new SimHttpError(401, code, header ? 'Access token validation failure.' : 'Access token is empty.');
  let claims: TokenClaims;
  try {
    claims = JSON.parse(Buffer.from(m[1], 'base64url').toString('utf8')) as TokenClaims;
  } catch {
    throw new SimHttpError(401, code, 'Access token validation failure.');
  }
  if (claims.aud !== audience) throw new SimHttpError(401, code, `Invalid audience: the token is for ${claims.aud}.`);
  if (claims.exp * 1000 < Date.now()) throw new SimHttpError(401, code, 'Lifetime validation failed, the token is expired.');
  return { appId: claims.appid, authorized: ctx.directory.clients.get(claims.appid)?.authorized !== false };
}
