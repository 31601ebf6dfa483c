import { AuditTrail } from '@jit/audit';
import { DomainError, Grant } from '@jit/domain';
import { GrantLifecycle } from './grant-lifecycle';

/** Denies a pending request whose approval window has closed (`grant.denied`, reason `timeout`). */
export async function denyOnTimeout(lifecycle: GrantLifecycle, g: Grant): Promise<Grant> {
  const now = lifecycle.clock.now();
  const denied = await lifecycle.transition(
    g,
    'denied',
    { endedAt: now, endReason: 'timeout', leaseUntil: null },
    (x) => [AuditTrail.denied(x, 'broker', 'timeout', `no decision by ${g.approvalDeadline?.toISOString()}`)],
  );
  return denied ?? (await lifecycle.store.findById(g.id)) ?? g;
}

/** An approver acting after the deadline (before the sweeper got to it) closes the request instead. */
export async function expireIfOverdue(lifecycle: GrantLifecycle, g: Grant): Promise<void> {
  if (g.state !== 'pending_approval' || !g.approvalDeadline || g.approvalDeadline > lifecycle.clock.now()) return;
  const closed = await denyOnTimeout(lifecycle, g);
  throw new DomainError('invalid_state', `the approval window closed at ${g.approvalDeadline.toISOString()}; the request was denied (timeout)`, [
    { field: 'state', message: `is ${closed.state}` },
  ], { grantId: g.id, state: closed.state });
}
