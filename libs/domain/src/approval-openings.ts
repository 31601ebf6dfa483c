import { Grant, approvalProgress } from './grant';

/**
 * The rule's groups whose members could still add an approval to a pending request: an
 * approver in any of these groups fills a step (`approvalProgress` gives after > before), one in
 * none of them fills nothing. One more approver adds to the maximum matching exactly when some
 * seat their groups fit is free or can be freed along an alternating path, and that path does not
 * depend on the approver's other groups, so a set of groups opens a step if and only if one of
 * its groups does. Stored with the grant, so the approvers' list (`awaitingDecisionBy`) is a
 * query, not a check made row by row. Empty for anything but a pending request that needs approvals.
 */
export function openApprovalGroups(grant: Grant): string[] {
  if (grant.state !== 'pending_approval' || grant.decision?.mode !== 'approvals') return [];
  return grant.decision.groups.filter((g) => {
    const p = approvalProgress(grant, new Set([g]));
    return p.after > p.before;
  });
}
