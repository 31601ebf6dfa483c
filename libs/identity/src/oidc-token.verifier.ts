import {
  createRemoteJWKSet,
  decodeJwt,
  decodeProtectedHeader,
  errors,
  jwtVerify,
  type JWTPayload,
  type JWTVerifyGetKey,
  type JWTVerifyOptions,
  type RemoteJWKSet,
} from 'jose';
import { allowInsecureRequests, ClientError, customFetch, discovery, type CustomFetch, type ServerMetadata } from 'openid-client';
import { unstorableValue } from '@jit/domain';
import { assertOidcIssuerConfig, endpointUrlProblem, issuerRolesFor, type OidcIssuerConfig } from './oidc-issuer.config';

export interface OidcIdentity {
  issuerName: string;
  /** `<issuer name>:<subject claim value>`, so no issuer can mint another issuer's subjects. */
  subject: string;
  /** The verified token payload. */
  claims: Record<string, unknown>;
  groups: string[];
  roles: string[];
}

/** A token was refused (401) or could not be checked because the issuer is unreachable or broken (503). `reason` never contains the token. */
export class OidcAuthError extends Error {
  constructor(
    readonly reason: string,
    readonly status: 401 | 503 = 401,
  ) {
    super(reason);
    this.name = 'OidcAuthError';
  }
}

export interface OidcTokenVerifierOptions {
  /** Clock for token times and for the discovery cache. */
  now?: () => Date;
  discoveryTtlMs?: number;
  jwksCacheMaxAgeMs?: number;
  /** An unknown `kid` refetches the JWKS at most this often. */
  jwksCooldownMs?: number;
  fetchTimeoutMs?: number;
}

/** A failed discovery is retried by the next request after this long, so an outage is not hammered but heals quickly. */
const DISCOVERY_RETRY_MS = 5_000;
const JWT_SHAPE = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/;

interface IssuerState {
  config: OidcIssuerConfig;
  discovered?: { jwksUri: string; at: number };
  failure?: { error: OidcAuthError; at: number };
  pending?: Promise<string>;
  jwks?: { uri: string; getKey: RemoteJWKSet };
}

/** Verifies OIDC ID tokens (GitHub Actions, GitLab CI, Azure DevOps, Google...) against the trusted issuers' published keys. */
export class OidcTokenVerifier {
  private byIssuer = new Map<string, IssuerState>();
  private readonly now: () => Date;
  private readonly discoveryTtlMs: number;
  private readonly jwksCacheMaxAgeMs: number;
  private readonly jwksCooldownMs: number;
  private readonly fetchTimeoutMs: number;

  constructor(issuers: OidcIssuerConfig[], options: OidcTokenVerifierOptions = {}) {
    this.now = options.now ?? (() => new Date());
    this.discoveryTtlMs = options.discoveryTtlMs ?? 3_600_000;
    this.jwksCacheMaxAgeMs = options.jwksCacheMaxAgeMs ?? 600_000;
    this.jwksCooldownMs = options.jwksCooldownMs ?? 30_000;
    this.fetchTimeoutMs = options.fetchTimeoutMs ?? 5_000;
    this.setIssuers(issuers);
  }

  /** Replaces the trusted issuers (the access-rules file is reloadable); caches of issuers that stay are kept. */
  setIssuers(issuers: OidcIssuerConfig[]): void {
    const names = new Set<string>();
    const next = new Map<string, IssuerState>();
    for (const config of issuers) {
      assertOidcIssuerConfig(config);
      if (names.has(config.name)) throw new Error(`OIDC issuer name ${config.name} is listed twice`);
      if (next.has(config.issuer)) throw new Error(`OIDC issuer ${config.issuer} is listed twice`);
      names.add(config.name);
      const old = this.byIssuer.get(config.issuer);
      const frozen = freezeConfig(config);
      if (old && old.config.jwksUri === config.jwksUri) {
        old.config = frozen;
        next.set(config.issuer, old);
      } else {
        next.set(config.issuer, { config: frozen, jwks: old?.jwks });
      }
    }
    this.byIssuer = next;
  }

  /** Cheap shape test: three base64url segments and a JSON header with `alg`; decides JWT vs static bearer token. */
  static looksLikeJwt(token: string): boolean {
    if (typeof token !== 'string' || token.length > 65_536 || !JWT_SHAPE.test(token)) return false;
    try {
      return typeof decodeProtectedHeader(token).alg === 'string';
    } catch {
      return false;
    }
  }

  /** Verifies signature (keys from the issuer's JWKS via discovery), iss, aud, exp, nbf, iat within skew, optional max age, algorithm allow-list, required subject claim. */
  async verify(token: string): Promise<OidcIdentity> {
    let iss: unknown;
    let alg: unknown;
    try {
      iss = decodeJwt(token).iss;
      alg = decodeProtectedHeader(token).alg;
    } catch {
      throw new OidcAuthError('token is malformed');
    }
    if (typeof iss !== 'string' || !iss) throw new OidcAuthError('token has no issuer (iss) claim');
    const state = this.byIssuer.get(iss);
    if (!state) throw new OidcAuthError(`token issuer ${printable(iss)} is not trusted`);
    const { config } = state;

    const currentDate = this.now();
    const options: JWTVerifyOptions = {
      issuer: config.issuer,
      audience: config.audiences,
      algorithms: config.algorithms,
      clockTolerance: config.clockSkewSeconds,
      maxTokenAge: config.maxTokenAgeSeconds,
      currentDate,
      requiredClaims: ['exp', config.subjectClaim],
    };
    let payload: JWTPayload;
    try {
      payload = await this.verifyJwt(token, this.keyResolver(state), options);
    } catch (error) {
      throw this.reasonFor(error, config, alg);
    }
    // jose checks iat against the clock only together with maxTokenAge.
    if (typeof payload.iat === 'number' && payload.iat > currentDate.getTime() / 1000 + config.clockSkewSeconds) {
      throw new OidcAuthError('token issued-at time (iat) is in the future');
    }

    // Claims become actor subjects, groups and rule matches, all stored and hashed in the audit log.
    const unstorable = unstorableValue(payload, 16);
    if (unstorable) throw new OidcAuthError(`token claim "${printable(unstorable.field, 100)}" ${unstorable.message}`);
    const subject = payload[config.subjectClaim];
    if (typeof subject !== 'string' || !subject) {
      throw new OidcAuthError(`token claim "${config.subjectClaim}" must be a non-empty string`);
    }
    const groups = config.groupsClaim ? groupsOf(payload[config.groupsClaim]) : [];
    return { issuerName: config.name, subject: `${config.name}:${subject}`, claims: payload, groups, roles: issuerRolesFor(config, groups) };
  }

  private async verifyJwt(token: string, getKey: JWTVerifyGetKey, options: JWTVerifyOptions): Promise<JWTPayload> {
    try {
      return (await jwtVerify(token, getKey, options)).payload;
    } catch (error) {
      if (!(error instanceof errors.JWKSMultipleMatchingKeys)) throw error;
      // A token without `kid` against a JWKS with several keys of its type: the signature decides.
      for await (const key of error) {
        try {
          return (await jwtVerify(token, key, options)).payload;
        } catch (inner) {
          if (!(inner instanceof errors.JWSSignatureVerificationFailed)) throw inner;
        }
      }
      throw new errors.JWSSignatureVerificationFailed();
    }
  }

  /** Keys are looked up only after the algorithm passed the allow-list, so junk tokens cause no discovery traffic. */
  private keyResolver(state: IssuerState): JWTVerifyGetKey {
    return async (header, token) => {
      const jwks = await this.jwksFor(state);
      try {
        return await jwks(header, token);
      } catch (error) {
        if (
          error instanceof errors.JWKSNoMatchingKey ||
          error instanceof errors.JWKSMultipleMatchingKeys ||
          error instanceof errors.JOSENotSupported
        ) {
          throw error;
        }
        // Fetch failures, timeouts, non-200 answers and malformed key sets are the issuer's side.
        throw new OidcAuthError(`signing keys of issuer ${state.config.name} are unavailable`, 503);
      }
    };
  }

  private async jwksFor(state: IssuerState): Promise<RemoteJWKSet> {
    const uri = await this.jwksUriFor(state);
    if (state.jwks?.uri !== uri) {
      state.jwks = {
        uri,
        getKey: createRemoteJWKSet(new URL(uri), {
          cacheMaxAge: this.jwksCacheMaxAgeMs,
          cooldownDuration: this.jwksCooldownMs,
          timeoutDuration: this.fetchTimeoutMs,
        }),
      };
    }
    return state.jwks.getKey;
  }

  private async jwksUriFor(state: IssuerState): Promise<string> {
    if (state.config.jwksUri) return state.config.jwksUri;
    const now = this.now().getTime();
    if (state.discovered && now - state.discovered.at < this.discoveryTtlMs) return state.discovered.jwksUri;
    if (!state.pending && state.failure && now - state.failure.at < DISCOVERY_RETRY_MS) {
      if (state.discovered) return state.discovered.jwksUri;
      throw state.failure.error;
    }
    if (!state.pending) {
      const config = state.config;
      const pending: Promise<string> = this.discover(config)
        .then(
          (jwksUri) => {
            state.discovered = { jwksUri, at: this.now().getTime() };
            state.failure = undefined;
            return jwksUri;
          },
          (error: unknown) => {
            const failure =
              error instanceof OidcAuthError ? error : new OidcAuthError(`OIDC discovery for issuer ${config.name} failed`, 503);
            state.failure = { error: failure, at: this.now().getTime() };
            throw failure;
          },
        )
        .finally(() => {
          if (state.pending === pending) state.pending = undefined;
        });
      state.pending = pending;
    }
    try {
      return await state.pending;
    } catch (error) {
      // A previously discovered key URL stays usable while the issuer's discovery endpoint is down.
      if (state.discovered) return state.discovered.jwksUri;
      throw error;
    }
  }

  /**
   * Discovery through openid-client: it builds the well-known URL, refuses redirects, checks the
   * status, the content type and the document, and compares the issuer (after URL normalisation,
   * and not at all for Entra ID and B2C hosts). We add what a token verifier needs beyond that:
   * the issuer exactly as configured (the `iss` every token must carry), a bounded document, a
   * usable jwks_uri, and reasons that say which of these failed.
   */
  private async discover(config: OidcIssuerConfig): Promise<string> {
    const fail = (why: string) => new OidcAuthError(`OIDC discovery for issuer ${config.name} failed: ${why}`, 503);
    const issuerUrl = new URL(config.issuer);
    let metadata: Readonly<ServerMetadata>;
    try {
      const found = await discovery(issuerUrl, config.audiences[0], undefined, undefined, {
        timeout: this.fetchTimeoutMs / 1000,
        [customFetch]: boundedFetch,
        // The config allows http only on loopback (endpointUrlProblem): local test issuers.
        execute: issuerUrl.protocol === 'http:' ? [allowInsecureRequests] : [],
      });
      metadata = found.serverMetadata();
    } catch (error) {
      throw fail(discoveryFailure(error));
    }
    if (metadata.issuer !== config.issuer) throw fail('the document names a different issuer');
    const jwksUri = metadata.jwks_uri;
    if (typeof jwksUri !== 'string' || endpointUrlProblem(jwksUri)) throw fail('jwks_uri is missing or not https');
    return jwksUri;
  }

  private reasonFor(error: unknown, config: OidcIssuerConfig, alg: unknown): OidcAuthError {
    if (error instanceof OidcAuthError) return error;
    if (error instanceof errors.JWTExpired) {
      if (error.claim === 'iat') return new OidcAuthError(`token is older than the maximum age of ${config.maxTokenAgeSeconds}s`);
      return new OidcAuthError(`token expired at ${timeOf(error.payload.exp)}`);
    }
    if (error instanceof errors.JWTClaimValidationFailed) {
      const claim = error.claim;
      if (error.reason === 'missing') return new OidcAuthError(`token lacks the required "${claim}" claim`);
      if (error.reason === 'invalid') return new OidcAuthError(`token claim "${claim}" must be a number`);
      switch (claim) {
        case 'aud':
          return new OidcAuthError('token audience does not match');
        case 'iss':
          return new OidcAuthError('token issuer does not match');
        case 'nbf':
          return new OidcAuthError(`token is not valid before ${timeOf(error.payload.nbf)}`);
        case 'iat':
          return new OidcAuthError('token issued-at time (iat) is in the future');
        default:
          return new OidcAuthError(`token claim "${claim}" is not acceptable`);
      }
    }
    if (error instanceof errors.JOSEAlgNotAllowed) {
      return new OidcAuthError(`token algorithm ${typeof alg === 'string' ? printable(alg, 20) : ''} is not allowed for issuer ${config.name}`);
    }
    if (error instanceof errors.JOSENotSupported) return new OidcAuthError('token algorithm is not supported');
    if (error instanceof errors.JWSSignatureVerificationFailed) return new OidcAuthError('token signature is invalid');
    if (error instanceof errors.JWKSNoMatchingKey) return new OidcAuthError(`token signing key is not among the keys of issuer ${config.name}`);
    if (error instanceof errors.JWSInvalid || error instanceof errors.JWTInvalid) return new OidcAuthError('token is malformed');
    if (error instanceof errors.JWKSTimeout) return new OidcAuthError(`signing keys of issuer ${config.name} are unavailable`, 503);
    if (error instanceof errors.JOSEError) return new OidcAuthError('token could not be verified');
    throw error;
  }
}

const MAX_DISCOVERY_BYTES = 512 * 1024;

/** Why discovery could not be used, found on the error or its causes (openid-client wraps what the fetch threw). */
class DiscoveryRefused extends Error {}

/**
 * The fetch openid-client uses for discovery: the same request (its redirect: 'manual' and timeout
 * signal), a body read only up to MAX_DISCOVERY_BYTES, and transport failures named.
 */
const boundedFetch: CustomFetch = async (url, options) => {
  const timedOut = (error: unknown) => (error as Error)?.name === 'TimeoutError';
  let response: Response;
  try {
    response = await fetch(url, options);
  } catch (error) {
    throw new DiscoveryRefused(timedOut(error) ? 'timed out' : 'issuer unreachable');
  }
  if (response.status !== 200) {
    await response.body?.cancel().catch(() => undefined);
    throw new DiscoveryRefused(`HTTP ${response.status}`);
  }
  const declared = Number(response.headers.get('content-length'));
  if (declared > MAX_DISCOVERY_BYTES) {
    await response.body?.cancel().catch(() => undefined);
    throw new DiscoveryRefused('document too large');
  }
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    for await (const chunk of response.body ?? []) {
      size += chunk.byteLength;
      if (size > MAX_DISCOVERY_BYTES) throw new DiscoveryRefused('document too large');
      chunks.push(chunk);
    }
  } catch (error) {
    await response.body?.cancel().catch(() => undefined);
    if (error instanceof DiscoveryRefused) throw error;
    throw new DiscoveryRefused(timedOut(error) ? 'timed out' : 'connection lost');
  }
  return new Response(Buffer.concat(chunks), { status: response.status, headers: response.headers });
};

/** The reason for a failed openid-client discovery, without anything the issuer sent. */
function discoveryFailure(error: unknown): string {
  for (let e: unknown = error, depth = 0; e instanceof Error && depth < 5; e = e.cause, depth++) {
    if (e instanceof DiscoveryRefused) return e.message;
    if (e.name === 'TimeoutError') return 'timed out';
  }
  switch (error instanceof ClientError ? error.code : undefined) {
    case 'OAUTH_TIMEOUT':
      return 'timed out';
    case 'OAUTH_JSON_ATTRIBUTE_COMPARISON':
      return 'the document names a different issuer';
    case 'OAUTH_RESPONSE_IS_NOT_JSON':
      return 'document is not JSON (content type)';
    case 'OAUTH_PARSE_ERROR':
      return 'document is not JSON';
    case 'OAUTH_INVALID_RESPONSE':
      return 'document is not valid issuer metadata';
    default:
      return 'issuer metadata refused';
  }
}

function freezeConfig(config: OidcIssuerConfig): OidcIssuerConfig {
  return Object.freeze({ ...config, audiences: [...config.audiences], roles: [...config.roles], algorithms: [...config.algorithms] });
}

function groupsOf(value: unknown): string[] {
  const list = Array.isArray(value) ? value : [value];
  return [...new Set(list.filter((g): g is string => typeof g === 'string' && g.length > 0))];
}

/** Unverified, attacker-chosen text goes into error messages only shortened and printable. */
function printable(text: string, max = 200): string {
  const clean = text.replace(/[^\x20-\x7e]/g, '?');
  return clean.length > max ? `${clean.slice(0, max)}...` : clean;
}

function timeOf(seconds: unknown): string {
  const date = new Date(typeof seconds === 'number' ? seconds * 1000 : NaN);
  return Number.isNaN(date.getTime()) ? 'an invalid time' : date.toISOString();
}
