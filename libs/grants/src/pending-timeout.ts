import { DomainError, Grant, GrantAggregate, approvalOverdue } from '@jit/domain';
import { GrantTransitions } from './grant-transitions';

/** Denies a pending request whose approval window has closed (`grant.denied`, reason `timeout`). */
export function denyOnTimeout(transitions: GrantTransitions, g: Grant, now: Date): Promise<Grant> {
  return transitions.applyOrReload(GrantAggregate.timeOut(g, now));
}

/** An approver acting after the deadline (before the sweeper got to it) closes the request instead. */
export async function expireIfOverdue(transitions: GrantTransitions, g: Grant, now: Date): Promise<void> {
  if (!approvalOverdue(g, now)) return;
  const closed = await denyOnTimeout(transitions, g, now);
  throw new DomainError('invalid_state', `the approval window closed at ${g.approvalDeadline!.toISOString()}; the request was denied (timeout)`, [
    { field: 'state', message: `is ${closed.state}` },
  ], { grantId: g.id, state: closed.state });
}
