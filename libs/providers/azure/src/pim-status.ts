/** How a PIM request status (Graph's or ARM's longer list) maps onto a grant. */
export type PimOutcome = 'active' | 'pending' | 'failed' | 'revoked';

const ACTIVE = ['provisioned', 'granted', 'schedulecreated', 'adminapproved'];
const FAILED = ['denied', 'admindenied', 'failed', 'failedasresourceislocked', 'timedout', 'invalid', 'canceled'];

export function classifyPimStatus(status: string): PimOutcome {
  const s = status.toLowerCase();
  if (ACTIVE.includes(s)) return 'active';
  if (FAILED.includes(s)) return 'failed';
  if (s === 'revoked' || s === 'pendingrevocation') return 'revoked';
  // Accepted, PendingEvaluation, PendingApproval, PendingProvisioning, ProvisioningStarted, ...
  return 'pending';
}

/** PendingApproval waits for a human: polling it is pointless. */
export function awaitsHuman(status: string): boolean {
  return /^(PendingApproval|PendingAdminDecision|PendingApprovalProvisioning)$/i.test(status);
}

export function failureReason(status: string): string {
  const s = status.toLowerCase();
  if (s === 'denied' || s === 'admindenied') return `PIM request ${status}: an approver denied it`;
  if (s === 'canceled') return 'PIM request Canceled before it was provisioned';
  if (s === 'timedout') return 'PIM request TimedOut waiting for approval';
  if (s === 'failedasresourceislocked') return 'PIM request FailedAsResourceIsLocked: a resource lock prevents the assignment';
  return `PIM request ${status}`;
}
