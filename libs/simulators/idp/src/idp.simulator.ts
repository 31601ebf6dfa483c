import { createHash, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import { IncomingMessage, ServerResponse } from 'node:http';
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWK } from 'jose';
import { LoopbackServer, readBody, RequestLog, startLoopbackServer } from '@jit/sim-kit';
import { loginPage, errorPage } from './login.page';

/** A person of the simulated company directory; `groups` go into the id_token's `groups` claim. */
export interface IdpUser {
  /** The `sub` claim and the login name. */
  username: string;
  name: string;
  email?: string;
  groups: string[];
}

/** A registered relying party: its redirect URIs are compared character for character. */
export interface IdpClient {
  clientId: string;
  redirectUris: string[];
  /** A confidential client authenticates at /token (client_secret_basic or client_secret_post); a public one may not. */
  clientSecret?: string;
}

export interface IdpSimulatorOptions {
  users: IdpUser[];
  clients: IdpClient[];
  port?: number;
  host?: string;
  /** Lifetime of an authorization code (default 60 s, as short as real IdPs make it). */
  codeTtlSeconds?: number;
  /** Lifetime of an id_token (default 1 h). */
  idTokenTtlSeconds?: number;
  now?: () => Date;
}

interface IssuedCode {
  clientId: string;
  redirectUri: string;
  codeChallenge: string;
  nonce?: string;
  scope: string[];
  user: IdpUser;
  expiresAt: number;
  authTime: number;
}

/** RFC 7636 §4.1: 43 to 128 characters of [A-Z] / [a-z] / [0-9] / "-" / "." / "_" / "~". */
const CODE_VERIFIER = /^[A-Za-z0-9\-._~]{43,128}$/;
/** A base64url SHA-256: 43 characters. */
const S256_CHALLENGE = /^[A-Za-z0-9_-]{43}$/;
const SCOPES = ['openid', 'profile', 'email', 'groups'];

class OAuthError extends Error {
  constructor(
    readonly error: string,
    readonly description: string,
    readonly status = 400,
  ) {
    super(description);
  }
}

/**
 * A simulated company identity provider (OpenID Connect authorization code flow with PKCE) on a
 * loopback port, for the console's sign-in in tests and in the sandbox: discovery, JWKS, an
 * /authorize login form listing the configured users, and /token, which refuses what a real IdP
 * refuses (an unknown client or redirect URI, a missing or non-S256 code challenge, a wrong
 * verifier, a code used twice, expired, or for another client or redirect URI, a wrong client
 * secret). id_tokens are RS256-signed and carry `nonce` and a `groups` claim.
 */
export class IdpSimulator {
  /** Method and path of each call (bodies are left out: they carry codes and verifiers). */
  readonly requests = new RequestLog<{ method: string; path: string }>(1000);
  private readonly codes = new Map<string, IssuedCode>();
  private readonly clients: Map<string, IdpClient>;
  private readonly now: () => Date;

  private constructor(
    private readonly server: LoopbackServer,
    readonly issuer: string,
    private readonly key: { kid: string; privateKey: CryptoKey; publicJwk: JWK },
    readonly users: readonly IdpUser[],
    clients: IdpClient[],
    private readonly options: IdpSimulatorOptions,
  ) {
    this.clients = new Map(clients.map((c) => [c.clientId, c]));
    this.now = options.now ?? (() => new Date());
  }

  static async start(options: IdpSimulatorOptions): Promise<IdpSimulator> {
    const { privateKey, publicKey } = await generateKeyPair('RS256', { extractable: true });
    const kid = `idp-${randomUUID().slice(0, 8)}`;
    const key = { kid, privateKey, publicJwk: { ...(await exportJWK(publicKey)), kid, alg: 'RS256', use: 'sig' } };
    let sim: IdpSimulator | undefined;
    const server = await startLoopbackServer({ name: 'IdP', port: options.port, host: options.host, hosts: ['127.0.0.1', 'localhost'] }, () => (req, res) => sim!.handle(req, res));
    const host = server.host === 'localhost' ? 'localhost' : '127.0.0.1';
    sim = new IdpSimulator(server, `http://${host}:${server.port}`, key, options.users, options.clients, options);
    return sim;
  }

  /** Registers another redirect URI for a client (the broker's port is known only after it listens). */
  addRedirectUri(clientId: string, redirectUri: string): void {
    const client = this.clients.get(clientId);
    if (!client) throw new Error(`no client ${clientId}`);
    if (!client.redirectUris.includes(redirectUri)) client.redirectUris.push(redirectUri);
  }

  close(): Promise<void> {
    return this.server.close();
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', this.issuer);
    const body = req.method === 'POST' ? await readBody(req) : '';
    this.requests.record({ method: req.method ?? '', path: url.pathname });
    try {
      if (req.method === 'GET' && url.pathname === '/.well-known/openid-configuration') return json(res, 200, this.discovery());
      if (req.method === 'GET' && url.pathname === '/jwks') return json(res, 200, { keys: [this.key.publicJwk] });
      if (url.pathname === '/authorize' && (req.method === 'GET' || req.method === 'POST')) {
        const params = req.method === 'GET' ? url.searchParams : new URLSearchParams(body);
        return this.authorize(req.method, params, res);
      }
      if (req.method === 'POST' && url.pathname === '/token') return await this.token(req, new URLSearchParams(body), res);
      json(res, 404, { error: 'not_found' });
    } catch (error) {
      if (!(error instanceof OAuthError)) throw error;
      json(res, error.status, { error: error.error, error_description: error.description });
    }
  }

  private discovery(): object {
    return {
      issuer: this.issuer,
      authorization_endpoint: `${this.issuer}/authorize`,
      token_endpoint: `${this.issuer}/token`,
      jwks_uri: `${this.issuer}/jwks`,
      response_types_supported: ['code'],
      response_modes_supported: ['query'],
      grant_types_supported: ['authorization_code'],
      code_challenge_methods_supported: ['S256'],
      token_endpoint_auth_methods_supported: ['none', 'client_secret_basic', 'client_secret_post'],
      subject_types_supported: ['public'],
      id_token_signing_alg_values_supported: ['RS256'],
      scopes_supported: SCOPES,
      claims_supported: ['iss', 'sub', 'aud', 'exp', 'iat', 'auth_time', 'nonce', 'name', 'preferred_username', 'email', 'groups'],
      authorization_response_iss_parameter_supported: true,
    };
  }

  /**
   * GET shows the login form; POST (the form) signs the chosen user in and redirects back with a
   * code. Before a redirect URI is known to be registered, errors are shown here, never sent to it.
   */
  private authorize(method: string, params: URLSearchParams, res: ServerResponse): void {
    const clientId = params.get('client_id') ?? '';
    const redirectUri = params.get('redirect_uri') ?? '';
    const client = this.clients.get(clientId);
    if (!client) return html(res, 400, errorPage('Unknown client', `client_id ${JSON.stringify(clientId)} is not registered.`));
    if (!client.redirectUris.includes(redirectUri)) {
      return html(res, 400, errorPage('Unregistered redirect URI', `redirect_uri ${JSON.stringify(redirectUri)} is not registered for ${clientId}.`));
    }
    const state = params.get('state') ?? undefined;
    const back = (query: Record<string, string>) => {
      const target = new URL(redirectUri);
      for (const [k, v] of Object.entries({ ...query, ...(state !== undefined && { state }), iss: this.issuer })) target.searchParams.set(k, v);
      res.writeHead(303, { location: target.toString(), 'cache-control': 'no-store' });
      res.end();
    };
    if (params.get('response_type') !== 'code') return back({ error: 'unsupported_response_type', error_description: 'only response_type=code' });
    const scope = (params.get('scope') ?? '').split(' ').filter(Boolean);
    if (!scope.includes('openid')) return back({ error: 'invalid_scope', error_description: 'scope must include openid' });
    const challenge = params.get('code_challenge') ?? '';
    if (!challenge) return back({ error: 'invalid_request', error_description: 'code_challenge is required (PKCE)' });
    if (params.get('code_challenge_method') !== 'S256' || !S256_CHALLENGE.test(challenge)) {
      return back({ error: 'invalid_request', error_description: 'code_challenge_method must be S256' });
    }
    if (method === 'GET') {
      const hidden = ['client_id', 'redirect_uri', 'response_type', 'scope', 'state', 'nonce', 'code_challenge', 'code_challenge_method']
        .flatMap((name) => (params.has(name) ? [[name, params.get(name)!] as const] : []));
      return html(res, 200, loginPage(clientId, this.users, hidden));
    }
    const username = params.get('username') ?? '';
    const user = this.users.find((u) => u.username === username);
    if (!user) return back({ error: 'access_denied', error_description: 'no such user' });
    const code = randomBytes(32).toString('base64url');
    const nowMs = this.now().getTime();
    this.codes.set(code, {
      clientId,
      redirectUri,
      codeChallenge: challenge,
      nonce: params.get('nonce') ?? undefined,
      scope,
      user,
      expiresAt: nowMs + (this.options.codeTtlSeconds ?? 60) * 1000,
      authTime: Math.floor(nowMs / 1000),
    });
    back({ code });
  }

  private async token(req: IncomingMessage, params: URLSearchParams, res: ServerResponse): Promise<void> {
    if (!/^application\/x-www-form-urlencoded\b/i.test(req.headers['content-type'] ?? '')) {
      throw new OAuthError('invalid_request', 'the body must be application/x-www-form-urlencoded');
    }
    const client = this.authenticateClient(req, params);
    if (params.get('grant_type') !== 'authorization_code') throw new OAuthError('unsupported_grant_type', 'only authorization_code');
    const code = params.get('code') ?? '';
    const issued = this.codes.get(code);
    // Single use: whatever happens next, this code is spent.
    this.codes.delete(code);
    if (!issued) throw new OAuthError('invalid_grant', 'the code is unknown or was already used');
    if (issued.expiresAt <= this.now().getTime()) throw new OAuthError('invalid_grant', 'the code has expired');
    if (issued.clientId !== client.clientId) throw new OAuthError('invalid_grant', 'the code was issued to another client');
    if (params.get('redirect_uri') !== issued.redirectUri) throw new OAuthError('invalid_grant', 'redirect_uri differs from the authorization request');
    const verifier = params.get('code_verifier') ?? '';
    if (!CODE_VERIFIER.test(verifier)) throw new OAuthError('invalid_grant', 'code_verifier is missing or malformed');
    if (!sameText(createHash('sha256').update(verifier).digest('base64url'), issued.codeChallenge)) {
      throw new OAuthError('invalid_grant', 'code_verifier does not match the code_challenge');
    }
    const nowSeconds = Math.floor(this.now().getTime() / 1000);
    const ttl = this.options.idTokenTtlSeconds ?? 3600;
    const { user } = issued;
    const claims: Record<string, unknown> = {
      auth_time: issued.authTime,
      ...(issued.nonce !== undefined && { nonce: issued.nonce }),
      ...(issued.scope.includes('profile') && { name: user.name, preferred_username: user.username }),
      ...(issued.scope.includes('email') && user.email !== undefined && { email: user.email, email_verified: true }),
      ...(issued.scope.includes('groups') && { groups: user.groups }),
    };
    const idToken = await new SignJWT(claims)
      .setProtectedHeader({ alg: 'RS256', typ: 'JWT', kid: this.key.kid })
      .setIssuer(this.issuer)
      .setSubject(user.username)
      .setAudience(client.clientId)
      .setIssuedAt(nowSeconds)
      .setExpirationTime(nowSeconds + ttl)
      .setJti(randomUUID())
      .sign(this.key.privateKey);
    json(res, 200, {
      access_token: randomBytes(32).toString('base64url'),
      token_type: 'Bearer',
      expires_in: ttl,
      scope: issued.scope.join(' '),
      id_token: idToken,
    });
  }

  /** client_secret_basic or client_secret_post for a confidential client; a public client sends only client_id. */
  private authenticateClient(req: IncomingMessage, params: URLSearchParams): IdpClient {
    const basic = /^Basic (.+)$/i.exec(req.headers.authorization ?? '');
    let clientId = params.get('client_id') ?? '';
    let secret = params.get('client_secret') ?? undefined;
    if (basic) {
      const decoded = Buffer.from(basic[1], 'base64').toString('utf8');
      const colon = decoded.indexOf(':');
      clientId = decodeURIComponent(decoded.slice(0, colon));
      secret = decodeURIComponent(decoded.slice(colon + 1));
    }
    const client = this.clients.get(clientId);
    if (!client) throw new OAuthError('invalid_client', 'unknown client', 401);
    if (client.clientSecret === undefined ? secret !== undefined : secret === undefined || !sameText(secret, client.clientSecret)) {
      throw new OAuthError('invalid_client', 'client authentication failed', 401);
    }
    return client;
  }
}

function sameText(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' });
  res.end(JSON.stringify(body));
}

function html(res: ServerResponse, status: number, body: string): void {
  res.writeHead(status, {
    'content-type': 'text/html; charset=utf-8',
    'cache-control': 'no-store',
    'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'; form-action 'self' http: https:; frame-ancestors 'none'",
  });
  res.end(body);
}
