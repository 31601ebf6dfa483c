import { Clock, DomainError, Grant, GrantAggregate } from '@jit/domain';
import { Actor, hasRole, requireRole } from './actor';
import { GrantLifecycle } from './grant-lifecycle';
import { GrantTransitions } from './grant-transitions';
import { GetGrantUseCase } from './get-grant.use-case';

export interface RevokeCommand {
  reason: string | null;
  /** Admin only: close a `revoke_failed` grant that cannot be revoked in the cloud. */
  force: boolean;
}

export interface RevokeGrantDeps {
  reader: GetGrantUseCase;
  transitions: GrantTransitions;
  lifecycle: GrantLifecycle;
  clock: Clock;
  /** How long the revoking replica holds the row; past it, the sweeper finishes the revocation. */
  leaseMs: number;
}

/** Ends a grant before its expiry; idempotent for grants that already ended. */
export class RevokeGrantUseCase {
  constructor(private readonly deps: RevokeGrantDeps) {}

  async execute(actor: Actor, id: string, command: RevokeCommand): Promise<Grant> {
    const { reader, transitions, lifecycle, clock } = this.deps;
    requireRole(actor, 'requester', 'admin');
    const grant = await reader.execute(actor, id);
    if (grant.requestedBy !== actor.subject && !hasRole(actor, 'admin')) {
      throw new DomainError('forbidden', 'only the requester or an admin may revoke this grant', [{ field: 'id', message: 'not yours' }]);
    }
    if (command.force) {
      requireRole(actor, 'admin');
      return transitions.applyOrReload(GrantAggregate.forceClose(grant, { actor: actor.subject, reason: command.reason, now: clock.now() }));
    }
    switch (grant.state) {
      case 'active': {
        // If this process dies before the cloud call ends, the sweeper finishes the revocation once the lease lapses.
        const retryAt = new Date(clock.now().getTime() + this.deps.leaseMs);
        const revoking = await transitions.apply(GrantAggregate.startRevoke(grant, { actor: actor.subject, reason: command.reason, retryAt }), retryAt);
        // Lost the race with the sweeper or another request: report where the grant is now.
        if (!revoking) return reader.execute(actor, id);
        return lifecycle.endAccess(revoking, 'revoked');
      }
      case 'pending_approval':
        return transitions.applyOrReload(GrantAggregate.withdraw(grant, { actor: actor.subject, reason: command.reason, now: clock.now() }));
      case 'provisioning':
        throw new DomainError('invalid_state', 'the grant is still being provisioned; revoke it once it is active', [
          { field: 'state', message: 'is provisioning' },
        ], { grantId: id, state: grant.state });
      case 'revoking':
      case 'revoke_failed':
      case 'expired':
      case 'revoked':
      case 'denied':
      case 'failed':
        return grant;
    }
  }
}
