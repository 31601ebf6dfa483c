import { DomainError } from '@jit/domain';

export const ROLES = ['requester', 'approver', 'auditor', 'admin'] as const;
export type Role = (typeof ROLES)[number];

/** Who is calling, as established by authentication. */
export interface Actor {
  /** Static tokens: the configured subject. OIDC: `<issuer name>:<subject claim>`, so no token can pose as another issuer's subject. */
  subject: string;
  roles: readonly Role[];
  /** Group names from the tokens file or the issuer's groups claim; access rules add their own `groups`. */
  groups?: readonly string[];
  /** The verified token's claims (OIDC only): the attributes access rules match on. */
  claims?: Readonly<Record<string, unknown>>;
  /** The configured name of the OIDC issuer that vouched for this actor. */
  issuer?: string;
}

export function hasRole(actor: Actor, ...roles: Role[]): boolean {
  return actor.roles.some((r) => roles.includes(r));
}

export function requireRole(actor: Actor, ...roles: Role[]): void {
  if (!hasRole(actor, ...roles)) {
    throw new DomainError('forbidden', `this needs one of the roles ${roles.join(', ')}`, [{ field: 'Authorization', message: 'role' }]);
  }
}

/** Auditors and admins read every grant; others what `grantVisibility` allows. */
export function readsAllGrants(actor: Actor): boolean {
  return hasRole(actor, 'auditor', 'admin');
}
