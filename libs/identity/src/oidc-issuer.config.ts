import { z } from 'zod';
import { parseIsoDurationSeconds } from '@jit/domain';

export interface OidcIssuerConfig {
  /** Short name, [a-z0-9-]{1,40}; actor subjects become `<name>:<subject claim value>`. */
  name: string;
  /** Exact `iss` value, e.g. https://token.actions.githubusercontent.com */
  issuer: string;
  /** Accepted `aud` values (at least one). */
  audiences: string[];
  /** Optional: skip discovery and use this JWKS URL. */
  jwksUri?: string;
  /** Claim used as the subject, default 'sub'. */
  subjectClaim: string;
  /** Optional claim holding group names (string or string[]). */
  groupsClaim?: string;
  /** Broker roles given to this issuer's tokens, e.g. ['requester']. Strings; the broker filters them. */
  roles: string[];
  /**
   * Optional: more roles by group, e.g. `{ auditor: ['audit'], approver: ['sre'] }`: a token gets
   * `roles` plus each role one of whose groups (as the groups claim names them) it is in.
   */
  groupRoles?: Partial<Record<IssuerRole, string[]>>;
  /** Allowed clock skew for exp/nbf/iat, seconds; default 60, bounded 0..300. */
  clockSkewSeconds: number;
  /** Optional: reject tokens whose iat is older than this many seconds. */
  maxTokenAgeSeconds?: number;
  /** Accepted JWS algorithms; never 'none' or HS*. */
  algorithms: string[];
}

/** The broker roles an issuer may give (the broker's own list, which apps/broker checks is the same). */
export const ISSUER_ROLES = ['requester', 'approver', 'auditor', 'admin'] as const;
export type IssuerRole = (typeof ISSUER_ROLES)[number];

/** The roles a token of this issuer has: the issuer's `roles`, and each `groupRoles` role one of whose groups is in `groups`. */
export function issuerRolesFor(config: OidcIssuerConfig, groups: readonly string[]): string[] {
  const roles = new Set(config.roles);
  for (const [role, from] of Object.entries(config.groupRoles ?? {})) {
    if (from?.some((g) => groups.includes(g))) roles.add(role);
  }
  return [...roles];
}

/** Asymmetric algorithms only: a shared-secret (HS*) or unsigned token could be minted by anyone holding the JWKS. */
export const OIDC_ALGORITHMS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA', 'Ed25519'] as const;
export const DEFAULT_OIDC_ALGORITHMS: readonly string[] = ['RS256', 'RS384', 'RS512', 'PS256', 'ES256', 'ES384', 'EdDSA'];
export const DEFAULT_CLOCK_SKEW_SECONDS = 60;
export const MAX_CLOCK_SKEW_SECONDS = 300;

const NAME = /^[a-z0-9-]{1,40}$/;
const LOOPBACK_HOSTS = new Set(['127.0.0.1', '[::1]', 'localhost']);

/** Why `url` cannot be an issuer or key URL, or undefined when it can: https, or http on loopback only (local test issuers). */
export function endpointUrlProblem(url: string): string | undefined {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return 'must be an absolute URL';
  }
  if (parsed.username || parsed.password) return 'must not contain credentials';
  if (parsed.search || parsed.hash) return 'must not have a query or fragment';
  if (parsed.protocol === 'https:') return undefined;
  if (parsed.protocol === 'http:' && LOOPBACK_HOSTS.has(parsed.hostname)) return undefined;
  return 'must be https (http only on 127.0.0.1, ::1 or localhost)';
}

/** Throws on a config the verifier must not run with; the schema checks the same, this guards hand-built configs. */
export function assertOidcIssuerConfig(config: OidcIssuerConfig): void {
  const fail = (what: string) => {
    throw new Error(`OIDC issuer ${JSON.stringify(config.name)}: ${what}`);
  };
  if (!NAME.test(config.name)) fail('name must match [a-z0-9-]{1,40}');
  const issuerProblem = endpointUrlProblem(config.issuer);
  if (issuerProblem) fail(`issuer ${issuerProblem}`);
  const jwksProblem = config.jwksUri === undefined ? undefined : endpointUrlProblem(config.jwksUri);
  if (jwksProblem) fail(`jwksUri ${jwksProblem}`);
  if (!config.audiences.length || config.audiences.some((a) => typeof a !== 'string' || !a)) fail('needs at least one non-empty audience');
  if (!config.subjectClaim) fail('subjectClaim must not be empty');
  if (!config.algorithms.length) fail('needs at least one algorithm');
  const unsafe = config.algorithms.filter((a) => !(OIDC_ALGORITHMS as readonly string[]).includes(a));
  if (unsafe.length) fail(`algorithms ${unsafe.join(', ')} are not allowed (only ${OIDC_ALGORITHMS.join(', ')})`);
  if (!Number.isFinite(config.clockSkewSeconds) || config.clockSkewSeconds < 0 || config.clockSkewSeconds > MAX_CLOCK_SKEW_SECONDS) {
    fail(`clockSkewSeconds must be between 0 and ${MAX_CLOCK_SKEW_SECONDS}`);
  }
  if (config.maxTokenAgeSeconds !== undefined && !(config.maxTokenAgeSeconds > 0)) fail('maxTokenAgeSeconds must be positive');
  for (const [role, groups] of Object.entries(config.groupRoles ?? {})) {
    if (!(ISSUER_ROLES as readonly string[]).includes(role)) fail(`groupRoles.${role}: not a broker role (${ISSUER_ROLES.join(', ')})`);
    if (!groups?.length || groups.some((g) => typeof g !== 'string' || !g)) fail(`groupRoles.${role} needs at least one non-empty group`);
  }
  if (config.groupRoles && !config.groupsClaim) fail('groupRoles needs groupsClaim (the claim the groups are read from)');
}

const endpointUrl = z
  .string()
  .max(2048)
  .superRefine((url, ctx) => {
    const problem = endpointUrlProblem(url);
    if (problem) ctx.addIssue({ code: 'custom', message: problem });
  });

const isoDuration = (max?: number) =>
  z
    .string()
    .transform((text, ctx) => {
      const seconds = parseIsoDurationSeconds(text);
      if (seconds === undefined) {
        ctx.addIssue({ code: 'custom', message: 'must be an ISO-8601 duration such as PT60S or PT10M' });
        return z.NEVER;
      }
      if (max !== undefined && seconds > max) {
        ctx.addIssue({ code: 'custom', message: `must be at most ${max} seconds` });
        return z.NEVER;
      }
      return seconds;
    });

const claimName = z.string().min(1).max(128);

/** One trusted issuer as written in the access-rules YAML; parses to `OidcIssuerConfig`. */
export const oidcIssuerSchema = z
  .strictObject({
    name: z.string().regex(NAME, 'must match [a-z0-9-]{1,40}'),
    issuer: endpointUrl,
    audience: z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]),
    jwksUri: endpointUrl.optional(),
    subjectClaim: claimName.default('sub'),
    groupsClaim: claimName.optional(),
    roles: z.array(z.string().min(1)).min(1).default(['requester']),
    groupRoles: z
      .partialRecord(z.enum(ISSUER_ROLES, { error: `must be a broker role: ${ISSUER_ROLES.join(', ')}` }), z.array(z.string().min(1).max(256)).min(1).max(100))
      .optional(),
    clockSkew: isoDuration(MAX_CLOCK_SKEW_SECONDS).default(DEFAULT_CLOCK_SKEW_SECONDS),
    maxTokenAge: isoDuration()
      .refine((s) => s > 0, 'must be longer than zero')
      .optional(),
    algorithms: z
      .array(z.enum(OIDC_ALGORITHMS, { error: `must be one of ${OIDC_ALGORITHMS.join(', ')} (never none or HS*)` }))
      .min(1)
      .default([...DEFAULT_OIDC_ALGORITHMS] as (typeof OIDC_ALGORITHMS)[number][]),
  })
  .superRefine((input, ctx) => {
    if (input.groupRoles !== undefined && input.groupsClaim === undefined) {
      ctx.addIssue({ code: 'custom', path: ['groupRoles'], message: 'needs groupsClaim: the claim whose groups it maps to roles' });
    }
  })
  .transform(
    (input): OidcIssuerConfig => ({
      name: input.name,
      issuer: input.issuer,
      audiences: typeof input.audience === 'string' ? [input.audience] : [...new Set(input.audience)],
      ...(input.jwksUri !== undefined && { jwksUri: input.jwksUri }),
      subjectClaim: input.subjectClaim,
      ...(input.groupsClaim !== undefined && { groupsClaim: input.groupsClaim }),
      roles: [...new Set(input.roles)],
      ...(input.groupRoles !== undefined && { groupRoles: Object.fromEntries(Object.entries(input.groupRoles).map(([role, groups]) => [role, [...new Set(groups)]])) }),
      clockSkewSeconds: input.clockSkew,
      ...(input.maxTokenAge !== undefined && { maxTokenAgeSeconds: input.maxTokenAge }),
      algorithms: [...new Set<string>(input.algorithms)],
    }),
  );

export type OidcIssuerInput = z.input<typeof oidcIssuerSchema>;

/** The `issuers:` list: names and issuer URLs must be unique, since tokens are routed by `iss` and subjects prefixed by name. */
export const oidcIssuersSchema = z.array(oidcIssuerSchema).superRefine((issuers, ctx) => {
  const names = new Set<string>();
  const urls = new Set<string>();
  issuers.forEach((issuer, index) => {
    if (names.has(issuer.name)) ctx.addIssue({ code: 'custom', path: [index, 'name'], message: `issuer name ${issuer.name} is listed twice` });
    if (urls.has(issuer.issuer)) ctx.addIssue({ code: 'custom', path: [index, 'issuer'], message: `issuer ${issuer.issuer} is listed twice` });
    names.add(issuer.name);
    urls.add(issuer.issuer);
  });
});
