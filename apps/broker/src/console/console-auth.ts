import { randomBytes, timingSafeEqual } from 'node:crypto';
import { BadRequestException, ForbiddenException, NotFoundException, ServiceUnavailableException, UnauthorizedException } from '@nestjs/common';
import * as client from 'openid-client';
import { ConsoleConfig } from '@jit/config';
import { Clock } from '@jit/domain';
import { Actor } from '@jit/grants';
import { endpointUrlProblem, OidcAuthError, OidcTokenVerifier } from '@jit/identity';
import { AccessPolicyHolder } from '@jit/policy';
import { actorOfOidcIdentity, oidcIdentityFromClaims } from '../http/auth/oidc-actor';
import { sha256Hex, TokenRegistry } from '../http/auth/token-registry';
import { ConsoleClientLimiter } from './console-client-limiter';
import { ConsoleSessionStore, SessionIdentity, StoredSession } from './console-session.store';

/** What the auth code reads of a request: Express's, or any with headers. */
export interface CookieRequest {
  method: string;
  secure?: boolean;
  headers: Record<string, string | string[] | undefined>;
}

/** A signed-in session as GET /console/session shows it (the CSRF token is the page's to send back). */
export interface ConsoleSessionView {
  subject: string;
  roles: string[];
  groups: string[];
  csrfToken: string;
  expiresAt: string;
  method: 'oidc' | 'token';
  name: string | null;
}

/** An OIDC sign-in must come back within this long (the IdP's login page is in between). */
const SIGN_IN_TTL_MS = 10 * 60_000;
/** Sign-ins in progress (rows of console_sign_ins) at most, over all clients and replicas. */
const MAX_SIGN_INS = 10_000;
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);
export const CSRF_HEADER = 'x-csrf-token';
const CALLBACK_PATH = '/console/auth/callback';

/**
 * The console's sign-in and sessions: OIDC authorization code with PKCE (openid-client) against
 * the configured issuer, or a pasted broker token; server-side sessions in the database
 * (ConsoleSessionStore) behind an HttpOnly, SameSite=Strict cookie holding 256 random bits; the
 * CSRF token every cookie-authenticated write must echo. A session is never more than the token
 * that signed in: each request derives its actor as a bearer token would (static tokens by their
 * hash from the tokens file, OIDC identities from their claims under the rules' issuer in force).
 */
export class ConsoleAuth {
  private rp?: Promise<client.Configuration>;
  /** /console/auth/* per client address (ConsoleAuthController counts each request). */
  readonly limiter = new ConsoleClientLimiter();

  constructor(
    private readonly store: ConsoleSessionStore,
    private readonly tokens: TokenRegistry,
    private readonly oidc: OidcTokenVerifier,
    private readonly policy: AccessPolicyHolder,
    readonly config: ConsoleConfig,
    private readonly clock: Clock,
    private readonly publicUrl: string | undefined,
  ) {
    const issuer = config.oidc?.issuer;
    const problem = issuer === undefined ? undefined : endpointUrlProblem(issuer);
    if (problem) throw new Error(`JIT_CONSOLE_OIDC_ISSUER ${problem}`);
  }

  get signInMethods(): { oidc: boolean; token: boolean } {
    return { oidc: this.config.oidc !== undefined, token: this.config.tokenSignIn };
  }

  /** The session cookie's actor, or undefined without a (live) session; a write without the session's CSRF token is a 403. */
  async actorOfRequest(req: CookieRequest): Promise<Actor | undefined> {
    const found = await this.sessionOf(req);
    if (!found) return undefined;
    if (!SAFE_METHODS.has(req.method.toUpperCase())) this.checkCsrf(req, found.session);
    return found.actor;
  }

  /** GET /console/session: the session with its CSRF token, or undefined when signed out. */
  async view(req: CookieRequest): Promise<ConsoleSessionView | undefined> {
    const found = await this.sessionOf(req);
    if (!found) return undefined;
    const { actor, session } = found;
    const name = session.method === 'oidc' ? (session.claims.name ?? session.claims.preferred_username) : undefined;
    return {
      subject: actor.subject,
      roles: [...actor.roles],
      groups: [...(actor.groups ?? [])],
      csrfToken: session.csrfToken,
      expiresAt: session.expiresAt.toISOString(),
      method: session.method,
      name: typeof name === 'string' ? name : null,
    };
  }

  /** Paste-a-token sign-in: a static token or an OIDC id_token the API would accept; the Set-Cookie header. */
  async signInWithToken(req: CookieRequest, token: string): Promise<string> {
    if (!this.config.tokenSignIn) throw new NotFoundException('token sign-in is off (JIT_CONSOLE_TOKEN_SIGN_IN)');
    if (OidcTokenVerifier.looksLikeJwt(token)) return this.startSession(req, await this.verifiedIdentity(token));
    const actor = this.tokens.resolve(token);
    if (!actor) throw new UnauthorizedException('unknown or revoked token');
    return this.startSession(req, { method: 'token', tokenSha256: sha256Hex(token) });
  }

  /** GET /console/auth/login: the IdP's authorization URL, and the cookie that binds the attempt to this browser. */
  async beginOidcSignIn(req: CookieRequest, returnTo: string): Promise<{ location: string; cookie: string }> {
    const settings = this.config.oidc;
    if (!settings) throw new NotFoundException('OIDC sign-in is not configured (JIT_CONSOLE_OIDC_ISSUER)');
    const rp = await this.relyingParty();
    const codeVerifier = client.randomPKCECodeVerifier();
    const state = client.randomState();
    const nonce = client.randomNonce();
    const location = client.buildAuthorizationUrl(rp, {
      redirect_uri: this.redirectUri(req),
      scope: settings.scopes,
      code_challenge: await client.calculatePKCECodeChallenge(codeVerifier),
      code_challenge_method: 'S256',
      state,
      nonce,
    });
    const attempt = randomBytes(32).toString('base64url');
    const now = this.clock.now();
    const stored = await this.store.createSignIn(sha256Hex(attempt), { state, nonce, codeVerifier, returnTo: safeReturnTo(returnTo) }, new Date(now.getTime() + SIGN_IN_TTL_MS), now, MAX_SIGN_INS);
    if (!stored) throw new ServiceUnavailableException(`more than ${MAX_SIGN_INS} console sign-ins are in progress; retry in a few minutes, as they expire ${SIGN_IN_TTL_MS / 60_000} minutes after they start`);
    return { location: location.toString(), cookie: this.signInCookie(req, attempt, SIGN_IN_TTL_MS / 1000) };
  }

  /**
   * GET /console/auth/callback: the attempt this browser started (used once), the code exchanged
   * with its PKCE verifier, state and nonce checked by openid-client, and the id_token verified as
   * a bearer id_token would be. Returns where to go and the cookies to set.
   */
  async finishOidcSignIn(req: CookieRequest & { url: string }): Promise<{ location: string; cookies: string[] }> {
    if (!this.config.oidc) throw new NotFoundException('OIDC sign-in is not configured (JIT_CONSOLE_OIDC_ISSUER)');
    const attemptId = this.cookies(req)[this.signInCookieName(req)];
    const attempt = attemptId ? await this.store.takeSignIn(sha256Hex(attemptId), this.clock.now()) : undefined;
    if (!attempt) throw new BadRequestException('state: no sign-in in progress in this browser, or it expired or was used; sign in again');
    const rp = await this.relyingParty();
    const current = new URL(this.redirectUri(req));
    current.search = new URL(req.url, 'http://callback.invalid').search;
    let tokens: client.TokenEndpointResponse;
    try {
      tokens = await client.authorizationCodeGrant(rp, current, {
        pkceCodeVerifier: attempt.codeVerifier,
        expectedState: attempt.state,
        expectedNonce: attempt.nonce,
        idTokenExpected: true,
      });
    } catch (error) {
      throw new BadRequestException(callbackFailure(error));
    }
    const session = await this.startSession(req, await this.verifiedIdentity(tokens.id_token!));
    return { location: attempt.returnTo, cookies: [session, this.signInCookie(req, '', 0)] };
  }

  /** POST /console/auth/logout: ends the session on the server (CSRF-checked); the Set-Cookie that clears it. */
  async signOut(req: CookieRequest): Promise<string> {
    const id = this.cookies(req)[this.sessionCookieName(req)];
    const found = await this.sessionOf(req);
    if (!found || !id) throw new UnauthorizedException('not signed in');
    this.checkCsrf(req, found.session);
    await this.store.deleteSession(sha256Hex(id));
    return this.sessionCookie(req, '', 0);
  }

  private async verifiedIdentity(idToken: string): Promise<SessionIdentity> {
    let identity;
    try {
      identity = await this.oidc.verify(idToken);
    } catch (error) {
      if (!(error instanceof OidcAuthError)) throw error;
      if (error.status === 503) throw new ServiceUnavailableException(error.reason);
      throw new UnauthorizedException(error.reason);
    }
    // Refuses an identity the API would refuse (no broker role, subject too long).
    actorOfOidcIdentity(identity);
    return { method: 'oidc', issuer: identity.issuerName, claims: identity.claims };
  }

  private async startSession(req: CookieRequest, identity: SessionIdentity): Promise<string> {
    const now = this.clock.now();
    const id = randomBytes(32).toString('base64url');
    const session: StoredSession = {
      ...identity,
      subject: '',
      csrfToken: randomBytes(32).toString('base64url'),
      expiresAt: new Date(Math.min(now.getTime() + this.config.sessionTtlMs, this.tokenEndMs(identity))),
    };
    const actor = this.actorOf(session, now);
    if (!actor) throw new UnauthorizedException('unknown or revoked token');
    session.subject = actor.subject;
    await this.store.createSession(sha256Hex(id), session, now);
    return this.sessionCookie(req, id, Math.max(1, Math.floor((session.expiresAt.getTime() - now.getTime()) / 1000)));
  }

  /**
   * When the token behind a session stops being accepted by the API: an id_token's `exp`, or
   * sooner its issuer's maximum token age after `iat`. A session never outlives it (refresh
   * tokens are not used, so a code-flow session ends with its id_token or the TTL, whichever is first).
   */
  private tokenEndMs(identity: SessionIdentity): number {
    if (identity.method === 'token') return Number.POSITIVE_INFINITY;
    const { exp, iat } = identity.claims;
    let end = typeof exp === 'number' ? exp * 1000 : Number.NEGATIVE_INFINITY;
    const issuer = this.policy.current.file.issuers.find((i) => i.name === identity.issuer);
    if (issuer?.maxTokenAgeSeconds !== undefined && typeof iat === 'number') end = Math.min(end, (iat + issuer.maxTokenAgeSeconds) * 1000);
    return end;
  }

  /** The session and its actor now; a session no longer worth an actor is deleted, so it stays ended whatever changes back. */
  private async sessionOf(req: CookieRequest): Promise<{ session: StoredSession; actor: Actor } | undefined> {
    const id = this.cookies(req)[this.sessionCookieName(req)];
    if (!id || id.length > 100) return undefined;
    const now = this.clock.now();
    const session = await this.store.findSession(sha256Hex(id), now);
    if (!session) return undefined;
    const actor = this.actorOf(session, now);
    if (!actor) {
      await this.store.deleteSession(sha256Hex(id));
      return undefined;
    }
    return { session, actor };
  }

  /**
   * The actor as the token would be now, under the configuration in force; undefined once the
   * API would refuse the token: token sign-in turned off, a static token gone from the tokens
   * file, an id_token past its `exp` or its issuer's maximum age, or an issuer that is no longer
   * trusted under that name with that URL and one of the token's audiences.
   */
  private actorOf(session: SessionIdentity, now: Date): Actor | undefined {
    if (session.method === 'token') return this.config.tokenSignIn ? this.tokens.resolveHash(session.tokenSha256) : undefined;
    const issuer = this.policy.current.file.issuers.find((i) => i.name === session.issuer);
    if (!issuer) return undefined;
    const { iss, aud } = session.claims;
    if (iss !== issuer.issuer) return undefined;
    const audiences = Array.isArray(aud) ? aud : [aud];
    if (!audiences.some((a) => typeof a === 'string' && issuer.audiences.includes(a))) return undefined;
    if (now.getTime() >= this.tokenEndMs(session)) return undefined;
    try {
      return actorOfOidcIdentity(oidcIdentityFromClaims(issuer, session.claims));
    } catch (error) {
      if (error instanceof UnauthorizedException) return undefined;
      throw error;
    }
  }

  /**
   * POST token sign-in and sign-out come from the console's own pages: a browser says so with
   * `Sec-Fetch-Site: same-origin` (or, older ones, an Origin equal to the broker's). A cross-site
   * form or fetch is refused (403) whatever its content type, and so is a request that says neither.
   */
  checkSameOrigin(req: CookieRequest): void {
    const site = req.headers['sec-fetch-site'];
    if (site !== undefined) {
      if (site === 'same-origin') return;
      throw new ForbiddenException(`Sec-Fetch-Site: ${typeof site === 'string' ? site.slice(0, 20) : 'repeated'}; console sign-in and sign-out are accepted only from the console's own pages (same-origin)`);
    }
    const origin = req.headers.origin;
    if (typeof origin === 'string' && origin === new URL(this.redirectUri(req)).origin) return;
    throw new ForbiddenException("Origin: missing or not this broker's; console sign-in and sign-out are accepted only from the console's own pages (Sec-Fetch-Site: same-origin or the broker's Origin)");
  }

  private checkCsrf(req: CookieRequest, session: StoredSession): void {
    const sent = req.headers[CSRF_HEADER];
    const given = Buffer.from(typeof sent === 'string' ? sent : '');
    const expected = Buffer.from(session.csrfToken);
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
      throw new ForbiddenException('X-CSRF-Token: missing or not this session\'s; a console request that changes something must send the token GET /console/session gives');
    }
  }

  private relyingParty(): Promise<client.Configuration> {
    const settings = this.config.oidc!;
    if (!this.rp) {
      const issuer = new URL(settings.issuer);
      this.rp = client
        .discovery(issuer, settings.clientId, undefined, settings.clientSecret ? client.ClientSecretBasic(settings.clientSecret) : client.None(), {
          // endpointUrlProblem allowed http only on loopback (a local IdP).
          execute: issuer.protocol === 'http:' ? [client.allowInsecureRequests] : [],
          timeout: 5,
        })
        .catch((error: unknown) => {
          this.rp = undefined;
          throw new ServiceUnavailableException(`the console's OIDC issuer cannot be reached: ${error instanceof Error ? error.message : String(error)}`);
        });
    }
    return this.rp;
  }

  private redirectUri(req: CookieRequest): string {
    if (this.publicUrl) return `${this.publicUrl}${CALLBACK_PATH}`;
    const host = typeof req.headers.host === 'string' ? req.headers.host : 'localhost';
    return `${this.isSecure(req) ? 'https' : 'http'}://${host}${CALLBACK_PATH}`;
  }

  isSecure(req: CookieRequest): boolean {
    if (this.config.cookieSecure !== 'auto') return this.config.cookieSecure === 'always';
    const forwarded = req.headers['x-forwarded-proto'];
    return req.secure === true || (typeof forwarded === 'string' && forwarded.split(',')[0].trim().toLowerCase() === 'https');
  }

  /** `__Host-` makes the browser refuse the cookie unless Secure, Path=/ and host-only: no subdomain can plant one. */
  sessionCookieName(req: CookieRequest): string {
    return this.isSecure(req) ? '__Host-jit_session' : 'jit_session';
  }

  private signInCookieName(req: CookieRequest): string {
    return this.isSecure(req) ? '__Secure-jit_sign_in' : 'jit_sign_in';
  }

  private sessionCookie(req: CookieRequest, value: string, maxAge: number): string {
    return this.setCookie(req, { name: this.sessionCookieName(req), value, path: '/', sameSite: 'strict', maxAge });
  }

  /** Lax, and only for the callback: the IdP's redirect back is a cross-site navigation, which a Strict cookie would miss. */
  private signInCookie(req: CookieRequest, value: string, maxAge: number): string {
    return this.setCookie(req, { name: this.signInCookieName(req), value, path: CALLBACK_PATH, sameSite: 'lax', maxAge });
  }

  /** Our values are base64url, so nothing needs encoding; Max-Age=0 removes the cookie. */
  private setCookie(req: CookieRequest, cookie: { name: string; value: string; path: string; sameSite: 'strict' | 'lax'; maxAge: number }): string {
    const secure = this.isSecure(req) ? '; Secure' : '';
    return `${cookie.name}=${cookie.value}; Path=${cookie.path}; Max-Age=${cookie.maxAge}; HttpOnly; SameSite=${cookie.sameSite === 'strict' ? 'Strict' : 'Lax'}${secure}`;
  }

  /** The Cookie header's name=value pairs; the first of a repeated name wins, as browsers send the most specific path first. */
  private cookies(req: CookieRequest): Record<string, string | undefined> {
    const header = req.headers.cookie;
    const found: Record<string, string> = {};
    if (typeof header !== 'string') return found;
    for (const pair of header.split(';')) {
      const eq = pair.indexOf('=');
      if (eq < 0) continue;
      const name = pair.slice(0, eq).trim();
      if (!Object.hasOwn(found, name)) found[name] = pair.slice(eq + 1).trim();
    }
    return found;
  }
}

/** Only a console path of this origin: never an absolute or protocol-relative URL (an open redirect). */
export function safeReturnTo(returnTo: string | undefined): string {
  if (typeof returnTo !== 'string' || !/^\/console(\/[^\\]*)?$/.test(returnTo) || returnTo.startsWith('//') || /[\r\n]/.test(returnTo)) return '/console/';
  return returnTo;
}

/** Why openid-client refused the IdP's answer, in words that name the part at fault and never a code or token. */
function callbackFailure(error: unknown): string {
  if (error instanceof client.AuthorizationResponseError) return `the identity provider refused the sign-in: ${error.error}${error.error_description ? ` (${error.error_description})` : ''}`;
  if (error instanceof client.ResponseBodyError) return `the identity provider refused the code: ${error.error}`;
  const code = (error as { code?: string }).code;
  // openid-client wraps oauth4webapi's reason (its cause) in a generic "invalid response".
  for (let e: unknown = error, depth = 0; e instanceof Error && depth < 4; e = e.cause, depth++) {
    if (/"state"/.test(e.message)) return 'state: does not match the sign-in this browser started';
    if (/"nonce"/.test(e.message)) return 'nonce: the id_token is not for the sign-in this browser started';
  }
  return `the sign-in could not be completed${code ? ` (${code})` : ''}`;
}
