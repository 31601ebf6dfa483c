import { AuditTrail } from '@jit/audit';
import { DomainError, Grant } from '@jit/domain';
import { PolicySource } from '@jit/policy';
import { Actor } from './actor';
import { assertMayDecide, findForDecision } from './approval-eligibility';
import { DecisionCommand } from './approve-grant.use-case';
import { GrantLifecycle } from './grant-lifecycle';
import { expireIfOverdue } from './pending-timeout';

/** One eligible approver's denial ends a pending request; it needs a comment saying why. */
export class DenyGrantUseCase {
  constructor(
    private readonly lifecycle: GrantLifecycle,
    private readonly policies: PolicySource,
  ) {}

  async execute(actor: Actor, id: string, command: DecisionCommand): Promise<Grant> {
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
    );
    if (denied) return denied;
    const now2 = await this.lifecycle.store.findById(id);
    throw new DomainError('invalid_state', `the grant is ${now2?.state ?? 'gone'}, not waiting for approval`, [{ field: 'state', message: `is ${now2?.state}` }], {
      grantId: id,
      state: now2?.state,
    });
  }
}
