import { UnauthorizedException } from '@nestjs/common';
import { Actor, Role, ROLES } from '@jit/grants';
import { issuerRolesFor, type IssuerRole, type OidcIdentity, type OidcIssuerConfig } from '@jit/identity';

// The roles an issuer's groupRoles may name are the broker's roles, no more and no fewer.
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const ISSUER_ROLES_ARE_BROKER_ROLES: Same<IssuerRole, Role> = true;
void ISSUER_ROLES_ARE_BROKER_ROLES;

/** Subjects are stored in indexed columns of every grant and audit event. */
const MAX_OIDC_SUBJECT = 512;

/**
 * The actor a verified OIDC identity is: the issuer's broker roles, its groups prefixed with the
 * issuer's name (so a group named in one issuer's claim never stands for a group of the rules file
 * or of another issuer). A bearer token and a console session signed in with the same id_token
 * both go through here, so they are the same actor.
 */
export function actorOfOidcIdentity(identity: OidcIdentity): Actor {
  const roles = identity.roles.filter((r): r is Role => (ROLES as readonly string[]).includes(r));
  if (!roles.length) throw new UnauthorizedException('issuer grants no broker role');
  if (identity.subject.length > MAX_OIDC_SUBJECT) throw new UnauthorizedException(`token subject is longer than ${MAX_OIDC_SUBJECT} characters`);
  const groups = identity.groups.map((g) => `${identity.issuerName}:${g}`);
  return { subject: identity.subject, roles, groups, claims: identity.claims, issuer: identity.issuerName };
}

/**
 * The identity verified claims stand for under an issuer's configuration in force now, as
 * `OidcTokenVerifier.verify` derives it from a token's payload: a console session keeps the claims,
 * not the token, and so follows the rules file (an issuer removed or its roles changed) at once.
 */
export function oidcIdentityFromClaims(config: OidcIssuerConfig, claims: Record<string, unknown>): OidcIdentity {
  const subject = claims[config.subjectClaim];
  if (typeof subject !== 'string' || !subject) throw new UnauthorizedException(`token claim "${config.subjectClaim}" must be a non-empty string`);
  const raw = config.groupsClaim ? claims[config.groupsClaim] : undefined;
  const groups = raw === undefined ? [] : [...new Set((Array.isArray(raw) ? raw : [raw]).filter((g): g is string => typeof g === 'string' && g.length > 0))];
  return { issuerName: config.name, subject: `${config.name}:${subject}`, claims, groups, roles: issuerRolesFor(config, groups) };
}
