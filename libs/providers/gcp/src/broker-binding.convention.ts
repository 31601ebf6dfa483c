import type { IamBinding } from './resource-manager.gateway';

/**
 * How the broker recognises its own bindings: a title that carries the grant id and an
 * expression of exactly the form the broker writes. Both must match; anything else in a policy
 * (a console user's binding, Terraform's, one with a look-alike title) is never touched.
 */
const TITLE_PREFIX = 'jit-broker grant ';
const GRANT_ID = /^[A-Za-z0-9_-]{1,64}$/;
const TITLE = /^jit-broker grant ([A-Za-z0-9_-]{1,64})$/;
const EXPRESSION = /^request\.time < timestamp\("(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z)"\)$/;
/** GCP's condition description limit (unverified upstream; the simulator enforces the same). */
const MAX_DESCRIPTION = 256;

export function isValidGrantId(grantId: string): boolean {
  return GRANT_ID.test(grantId);
}

export function bindingTitle(grantId: string): string {
  return `${TITLE_PREFIX}${grantId}`;
}

/** Double quotes, as GCP's own examples and jit-access write them; UTC with milliseconds. */
export function expiryExpression(expiresAt: Date): string {
  return `request.time < timestamp("${expiresAt.toISOString()}")`;
}

export function bindingDescription(grantId: string, requestedBy: string, expiresAt: Date): string {
  const text = `Just-in-time access granted by the access broker (grant ${grantId}, requested by ${requestedBy}) until ${expiresAt.toISOString()}. Removed by the broker; do not edit.`;
  return text.length <= MAX_DESCRIPTION ? text : `${text.slice(0, MAX_DESCRIPTION - 1)}…`;
}

export interface BrokerBinding {
  grantId: string;
  role: string;
  member: string;
  expiresAt: Date;
}

/** The grant a binding belongs to, or null for any binding the broker did not write. */
export function parseBrokerBinding(binding: IamBinding): BrokerBinding | null {
  const title = TITLE.exec(binding.condition?.title ?? '');
  const expression = EXPRESSION.exec(binding.condition?.expression ?? '');
  if (!title || !expression || binding.members?.length !== 1 || !binding.role) return null;
  return { grantId: title[1], role: binding.role, member: binding.members[0], expiresAt: new Date(expression[1]) };
}
