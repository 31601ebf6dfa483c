import { AuditTrail } from '@jit/audit';
import { DomainError, Grant } from '@jit/domain';
import { PolicySource } from '@jit/policy';
import { Actor } from './actor';
import { assertMayDecide, findForDecision } from './approval-eligibility';
import { APPROVAL_RACE_ATTEMPTS, DecisionCommand } from './approve-grant.use-case';
import { GrantLifecycle } from './grant-lifecycle';
import { expireIfOverdue } from './pending-timeout';

/** One eligible approver's denial ends a pending request; it needs a comment saying why. */
export class DenyGrantUseCase {
  constructor(
    private readonly lifecycle: GrantLifecycle,
    private readonly policies: PolicySource,
  ) {}

  async execute(actor: Actor, id: string, command: DecisionCommand): Promise<Grant> {
    for (let attempt = 0; attempt < APPROVAL_RACE_ATTEMPTS; attempt++) {
      const grant = await findForDecision(this.lifecycle.store, id);
      await expireIfOverdue(this.lifecycle, grant);
      assertMayDecide(actor, grant, this.policies.current);
      if (!command.comment) throw DomainError.validation([{ field: 'comment', message: 'a denial needs a comment the requester can read' }]);
      const now = this.lifecycle.clock.now();
      const denied = await this.lifecycle.transition(
        grant,
        'denied',
        {
          endedAt: now,
          endReason: 'denied',
          approvals: [...grant.approvals, { approver: actor.subject, decision: 'denied', comment: command.comment, at: now.toISOString() }],
        },
        (g) => [AuditTrail.denied(g, actor.subject, 'denied', command.comment)],
        // Guarded like approvals, so an approval landing at the same moment is not overwritten.
        { approvalCount: grant.approvals.length },
      );
      if (denied) return denied;
    }
    throw new DomainError('invalid_state', 'the request changed while denying; try again', [{ field: 'id', message: 'contended' }], { grantId: id });
  }
}
