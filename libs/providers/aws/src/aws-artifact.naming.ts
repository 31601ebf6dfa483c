import { createHash } from 'node:crypto';
import { GRANT_ID_PATTERN } from '@jit/domain';

/** The one inline policy per role or user that holds all of the broker's statements. */
export const BROKER_POLICY_NAME = 'jit-broker-grants';

const GRANT_SID = /^Jit(?:Deny)?([0-9a-f]{32}|X[A-Za-z0-9]{1,96}|H[0-9a-f]{32})$/;

/**
 * The grant's part of a statement id: Sids must be alphanumeric, so a UUID loses its dashes
 * (and gets them back in `grantIdFromSid`); other ids are kept if alphanumeric, else hashed.
 */
function sidBody(grantId: string): string {
  if (GRANT_ID_PATTERN.test(grantId)) return grantId.replace(/-/g, '').toLowerCase();
  if (/^[A-Za-z0-9]{1,96}$/.test(grantId)) return `X${grantId}`;
  return `H${createHash('sha256').update(grantId).digest('hex').slice(0, 32)}`;
}

/** Sid of the Allow statement a policy grant owns in the broker policy. */
export function grantSid(grantId: string): string {
  return `Jit${sidBody(grantId)}`;
}

/** Sid of the Deny statement an early revoke of an `aws.sts-credentials` grant puts on its role. */
export function denySid(grantId: string): string {
  return `JitDeny${sidBody(grantId)}`;
}

export function isBrokerSid(sid: string | undefined): boolean {
  return sid !== undefined && GRANT_SID.test(sid);
}

/** The grant id encoded in a broker Sid, or null when it was hashed (or the Sid is not the broker's). */
export function grantIdFromSid(sid: string): string | null {
  const body = GRANT_SID.exec(sid)?.[1];
  if (!body || body.startsWith('H')) return null;
  if (body.startsWith('X')) return body.slice(1);
  return `${body.slice(0, 8)}-${body.slice(8, 12)}-${body.slice(12, 16)}-${body.slice(16, 20)}-${body.slice(20)}`;
}

/**
 * `RoleSessionName` and `SourceIdentity` of an `aws.sts-credentials` session (both 2–64 chars of
 * `[\w+=,.@-]`): the grant id, so CloudTrail and the early-revoke deny can name exactly this grant.
 */
export function sessionName(grantId: string): string {
  if (/^[\w+=,.@-]{1,60}$/.test(grantId)) return `jit-${grantId}`;
  return `jit-${createHash('sha256').update(grantId).digest('hex').slice(0, 40)}`;
}
