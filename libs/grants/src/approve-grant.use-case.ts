import { AuditTrail } from '@jit/audit';
import { DomainError, Grant } from '@jit/domain';
import { PolicySource } from '@jit/policy';
import { Actor } from './actor';
import { approvalProgress, assertMayDecide, findForDecision } from './approval-eligibility';
import { GrantLifecycle, REQUEST_GRANT_ATTEMPTS } from './grant-lifecycle';
import { expireIfOverdue } from './pending-timeout';

/** Concurrent approvals of one grant retry on the fresh row this many times. */
export const APPROVAL_RACE_ATTEMPTS = 5;

export interface DecisionCommand {
  comment: string | null;
}

/**
 * Records one approval. The approval that reaches the rule's count starts the grant: the
 * clock starts then (not at the request) and the cloud is called in this request.
 */
export class ApproveGrantUseCase {
  constructor(
    private readonly lifecycle: GrantLifecycle,
    private readonly policies: PolicySource,
  ) {}

  async execute(actor: Actor, id: string, command: DecisionCommand): Promise<Grant> {
    for (let attempt = 0; attempt < APPROVAL_RACE_ATTEMPTS; attempt++) {
      const grant = await findForDecision(this.lifecycle.store, id);
      await expireIfOverdue(this.lifecycle, grant);
      assertMayDecide(actor, grant, this.policies.current);
      if (grant.approvals.some((a) => a.approver === actor.subject)) {
        throw new DomainError('invalid_state', `${actor.subject} has already approved this request; approvals must come from distinct approvers`, [
          { field: 'approver', message: 'already approved' },
        ], { grantId: id, state: grant.state });
      }
      const progress = approvalProgress(grant, this.policies.current.groupsOf(actor));
      if (progress.after === progress.before) {
        throw new DomainError(
          'invalid_state',
          `the approvals your groups can give are already in; still needed: ${progress.missing}`,
          [{ field: 'approver', message: 'no open step for your groups' }],
          { grantId: id, state: grant.state },
        );
      }
      const now = this.lifecycle.clock.now();
      const approvals = [
        ...grant.approvals,
        { approver: actor.subject, decision: 'approved' as const, ...(command.comment ? { comment: command.comment } : {}), at: now.toISOString(), groups: progress.groups },
      ];
      const expect = { approvalCount: grant.approvals.length };
      if (progress.after < grant.decision!.required) {
        const next = await this.lifecycle.transition(grant, 'pending_approval', { approvals }, (g) => [AuditTrail.approved(g, actor.subject, command.comment, false)], expect);
        if (next) return next;
        continue;
      }
      // The deny-list may have grown while the request waited: nothing on it is ever granted.
      const blocked = this.policies.current.denyListHit(grant.principal, grant.target);
      if (blocked) {
        const reason = blocked.reason ?? `the target is now on the deny-list (${blocked.name})`;
        const denied = await this.lifecycle.transition(
          grant,
          'denied',
          { endedAt: now, endReason: 'denied' },
          (g) => [AuditTrail.denied(g, 'policy', 'denied', `deny-list:${blocked.name}: ${reason}`)],
        );
        if (!denied) continue;
        throw new DomainError('policy_denied', reason, [], {
          grantId: id,
          state: 'denied',
          decision: { effect: 'deny', rule: `deny-list:${blocked.name}`, code: 'deny_list', reason, policyVersion: this.policies.current.version },
        });
      }
      const provisioning = await this.lifecycle.transition(
        grant,
        'provisioning',
        {
          approvals,
          expiresAt: new Date(now.getTime() + grant.durationSeconds * 1000),
          leaseUntil: new Date(now.getTime() + this.lifecycle.settings.leaseMs),
        },
        (g) => [AuditTrail.approved(g, actor.subject, command.comment, true)],
        expect,
      );
      if (!provisioning) continue;
      // A cloud failure ends the grant as failed (nothing left in the cloud); the approval stands and the grant says why.
      return (await this.lifecycle.provision(provisioning, { recovered: false, attempts: REQUEST_GRANT_ATTEMPTS })).grant;
    }
    throw new DomainError('invalid_state', 'the request changed while approving; try again', [{ field: 'id', message: 'contended' }], { grantId: id });
  }
}
