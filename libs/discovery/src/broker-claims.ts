import { CloudName, Grant, LIVE_STATES, StandingAssignment } from '@jit/domain';

/** The reading of grants a claim check needs: the grants among `ids` that exist, in one query (`GrantRepository.findByIds`). */
export interface ClaimedGrantsReader {
  findByIds(ids: readonly string[]): Promise<Grant[]>;
}

/** An IAM role or user ARN, path dropped (the broker's grants name the entity, the inventory may list it with its path). */
const IAM_ENTITY_ARN = /^arn:(aws(?:-cn|-us-gov)?):iam::(\d{12}):(role|user)\/(?:[^/]+\/)*([^/]+)$/i;

/**
 * A principal id as a cloud spells it, in a form two spellings of the same holder share: AWS IAM
 * ARNs without their path (IAM names are unique without regard to case), GCP members (`user:`,
 * `serviceAccount:`, ...; emails are case-insensitive), Entra object ids (GUIDs, either case).
 */
export function normalisePrincipalId(cloud: CloudName, id: string): string {
  const trimmed = id.trim();
  if (cloud === 'aws') {
    const m = IAM_ENTITY_ARN.exec(trimmed);
    if (m) return `arn:${m[1]}:iam::${m[2]}:${m[3]}/${m[4]}`.toLowerCase();
  }
  return trimmed.toLowerCase();
}

/**
 * Whether a grant can vouch for an assignment that claims it: same cloud, same principal, and its
 * access may still exist in the cloud: a live state (`LIVE_STATES`), or ended (expired, revoked,
 * failed) no earlier than `since`, the reconcile look-back, whose pass removes what is left. A grant
 * not yet provisioned (pending, approved) or denied has no access in the cloud and vouches for none.
 */
export function grantVouches(grant: Grant, assignment: Pick<StandingAssignment, 'cloud' | 'principal'>, since: Date): boolean {
  if (grant.cloud !== assignment.cloud) return false;
  if (normalisePrincipalId(assignment.cloud, grant.principal.id) !== normalisePrincipalId(assignment.cloud, assignment.principal.id)) return false;
  if (LIVE_STATES.includes(grant.state)) return true;
  if (grant.state !== 'expired' && grant.state !== 'revoked' && grant.state !== 'failed') return false;
  const ended = grant.endedAt ?? grant.expiresAt;
  return ended.getTime() >= since.getTime();
}

/** The reason a finding carries when it claims the broker but no live grant backs the claim. */
export function unbackedClaimReason(claimed: readonly string[]): string {
  const list = claimed.length ? claimed.slice(0, 3).join(', ') + (claimed.length > 3 ? `, and ${claimed.length - 3} more` : '') : 'none named';
  return `claims to be the broker's (grant ${list}) but no live grant matches`;
}
