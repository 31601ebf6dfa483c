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

/** Reads and tries again this often when the grant changes state between the read and the write. */
const MAX_STATE_RACES = 3;

/**
 * Ends a grant before its expiry; idempotent for grants that already ended. Never refused for a
 * grant on its way: a pending request is withdrawn, a provisioning grant records the revoke
 * (answered 202) and the replica that settles its provisioning carries it out.
 */
export class RevokeGrantUseCase {
  constructor(private readonly deps: RevokeGrantDeps) {}

  async execute(actor: Actor, id: string, command: RevokeCommand): Promise<Grant> {
    const { reader, transitions, clock } = this.deps;
    requireRole(actor, 'requester', 'admin');
    let grant = await reader.execute(actor, id);
    if (grant.requestedBy !== actor.subject && !hasRole(actor, 'admin')) {
      throw new DomainError('forbidden', 'only the requester or an admin may revoke this grant', [{ field: 'id', message: 'not yours' }]);
    }
    if (command.force) {
      requireRole(actor, 'admin');
      return transitions.applyOrReload(GrantAggregate.forceClose(grant, { actor: actor.subject, reason: command.reason, now: clock.now() }));
    }
    // A grant moving on between the read and the write (approved, activated) is revoked as it is then.
    for (let attempt = 1; ; attempt++) {
      const done = await this.revokeAsIs(actor, grant, command);
      if (done || attempt === MAX_STATE_RACES) return done ?? (await reader.execute(actor, id));
      grant = await reader.execute(actor, id);
    }
  }

  /** Revokes the grant in the state it was read in; null when it left that state meanwhile. */
  private async revokeAsIs(actor: Actor, grant: Grant, command: RevokeCommand): Promise<Grant | null> {
    const { reader, transitions, lifecycle, clock } = this.deps;
    switch (grant.state) {
      case 'active': {
        // If this process dies before the cloud call ends, the sweeper finishes the revocation once the lease lapses.
        const retryAt = new Date(clock.now().getTime() + this.deps.leaseMs);
        const revoking = await transitions.apply(GrantAggregate.startRevoke(grant, { actor: actor.subject, reason: command.reason, retryAt }), retryAt);
        // Lost the race with the sweeper or another request: report where the grant is now.
        if (!revoking) return reader.execute(actor, grant.id);
        return lifecycle.endAccess(revoking, 'revoked');
      }
      case 'pending_approval':
        // Nothing is in the cloud yet: the request is withdrawn (terminal, no cloud call).
        return transitions.apply(GrantAggregate.withdraw(grant, { actor: actor.subject, reason: command.reason, now: clock.now() }));
      case 'provisioning':
        // Never refused: recorded (202) and carried out as soon as provisioning settles, even after a crash.
        if (grant.revokeRequest) return grant;
        return transitions.apply(GrantAggregate.requestRevoke(grant, { actor: actor.subject, reason: command.reason, now: clock.now() }));
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
