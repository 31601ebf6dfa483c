import { Grant } from '@jit/domain';

/**
 * When the sweeper next has work on a grant just written with `leaseUntil`: its expiry, its
 * revocation retry, its approval deadline, or (provisioning) its retry or recheck; a lease holds
 * the row back until it lapses. Null when nothing is due (ended grants).
 */
export function nextWorkAt(g: Grant, leaseUntil: Date | null): Date | null {
  let due: Date | null;
  switch (g.state) {
    case 'active':
      due = g.expiresAt;
      break;
    case 'revoking':
    case 'revoke_failed':
      due = g.nextAttemptAt;
      break;
    case 'pending_approval':
      due = g.approvalDeadline;
      break;
    case 'provisioning':
      due = leaseUntil;
      break;
    default:
      due = null;
  }
  if (!due) return null;
  return leaseUntil && leaseUntil > due ? leaseUntil : due;
}
