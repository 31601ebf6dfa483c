import { Clock, DomainError, Grant, GrantAggregate, GrantRepository } from '@jit/domain';
import { PolicySource } from '@jit/policy';
import { Actor } from './actor';
import { assertMayDecide, findForDecision } from './approval-eligibility';
import { APPROVAL_RACE_ATTEMPTS, DecisionCommand } from './approve-grant.use-case';
import { GrantTransitions } from './grant-transitions';
import { expireIfOverdue } from './pending-timeout';

export interface DenyGrantDeps {
  store: GrantRepository;
  transitions: GrantTransitions;
  clock: Clock;
  policies: PolicySource;
}

/** One eligible approver's denial ends a pending request; it needs a comment saying why. */
export class DenyGrantUseCase {
  constructor(private readonly deps: DenyGrantDeps) {}

  async execute(actor: Actor, id: string, command: DecisionCommand): Promise<Grant> {
    const { store, transitions, clock, policies } = this.deps;
    for (let attempt = 0; attempt < APPROVAL_RACE_ATTEMPTS; attempt++) {
      const grant = await findForDecision(store, id);
      await expireIfOverdue(transitions, grant, clock.now());
      assertMayDecide(actor, grant, policies.current);
      const denied = await transitions.apply(GrantAggregate.deny(grant, { approver: actor.subject, comment: command.comment, now: clock.now() }));
      if (denied) return denied;
    }
    throw new DomainError('invalid_state', 'the request changed while denying; try again', [{ field: 'id', message: 'contended' }], { grantId: id });
  }
}
