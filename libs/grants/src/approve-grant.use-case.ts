import { Clock, DomainError, Grant, GrantAggregate, GrantRepository } from '@jit/domain';
import { PolicySource } from '@jit/policy';
import { Actor } from './actor';
import { assertMayDecide, findForDecision } from './approval-eligibility';
import { GrantLifecycle, REQUEST_GRANT_ATTEMPTS } from './grant-lifecycle';
import { GrantTransitions } from './grant-transitions';
import { expireIfOverdue } from './pending-timeout';

/** Concurrent approvals of one grant retry on the fresh row this many times. */
export const APPROVAL_RACE_ATTEMPTS = 5;

export interface DecisionCommand {
  comment: string | null;
}

export interface ApproveGrantDeps {
  store: GrantRepository;
  transitions: GrantTransitions;
  lifecycle: GrantLifecycle;
  clock: Clock;
  policies: PolicySource;
  /** How long the final approval holds the row while it calls the cloud. */
  leaseMs: number;
}

/**
 * Records one approval. The approval that reaches the rule's count starts the grant: the
 * clock starts then (not at the request) and the cloud is called in this request.
 */
export class ApproveGrantUseCase {
  constructor(private readonly deps: ApproveGrantDeps) {}

  async execute(actor: Actor, id: string, command: DecisionCommand): Promise<Grant> {
    const { store, transitions, lifecycle, clock, policies } = this.deps;
    for (let attempt = 0; attempt < APPROVAL_RACE_ATTEMPTS; attempt++) {
      const grant = await findForDecision(store, id);
      await expireIfOverdue(transitions, grant, clock.now());
      assertMayDecide(actor, grant, policies.current);
      const now = clock.now();
      const approval = GrantAggregate.approve(grant, { approver: actor.subject, approverGroups: policies.current.groupsOf(actor), comment: command.comment, now });
      if (approval.grant.state === 'pending_approval') {
        const next = await transitions.apply(approval);
        if (next) return next;
        continue;
      }
      // The deny-list may have grown while the request waited: nothing on it is ever granted.
      const blocked = policies.current.denyListHit(grant.principal, grant.target);
      if (blocked) {
        const reason = blocked.reason ?? `the target is now on the deny-list (${blocked.name})`;
        const rule = `deny-list:${blocked.name}`;
        const denied = await transitions.apply(GrantAggregate.denyByPolicy(grant, { rule, reason, now }));
        if (!denied) continue;
        throw new DomainError('policy_denied', reason, [], {
          grantId: id,
          state: 'denied',
          decision: { effect: 'deny', rule, code: 'deny_list', reason, policyVersion: policies.current.version },
        });
      }
      const provisioning = await transitions.apply(approval, new Date(now.getTime() + this.deps.leaseMs));
      if (!provisioning) continue;
      // A cloud failure ends the grant as failed (nothing left in the cloud); the approval stands and the grant says why.
      return (await lifecycle.provision(provisioning, { recovered: false, attempts: REQUEST_GRANT_ATTEMPTS })).grant;
    }
    throw new DomainError('invalid_state', 'the request changed while approving; try again', [{ field: 'id', message: 'contended' }], { grantId: id });
  }
}
