import { DomainError } from '@jit/domain';

export const ROLES = ['requester', 'approver', 'auditor', 'admin'] as const;
export type Role = (typeof ROLES)[number];

/** Who is calling, as established by authentication. */
export interface Actor {
  subject: string;
  roles: readonly Role[];
}

export function hasRole(actor: Actor, ...roles: Role[]): boolean {
  return actor.roles.some((r) => roles.includes(r));
}

export function requireRole(actor: Actor, ...roles: Role[]): void {
  if (!hasRole(actor, ...roles)) {
    throw new DomainError('forbidden', `this needs one of the roles ${roles.join(', ')}`, [{ field: 'Authorization', message: 'role' }]);
  }
}

/** Auditors, approvers and admins read every grant; requesters only their own. */
export function readsAllGrants(actor: Actor): boolean {
  return hasRole(actor, 'auditor', 'approver', 'admin');
}
