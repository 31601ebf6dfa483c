import { AuditTrail } from '@jit/audit';
import { DomainError, Grant } from '@jit/domain';
import { Actor, hasRole, requireRole } from './actor';
import { GrantLifecycle } from './grant-lifecycle';
import { GetGrantUseCase } from './read-grants.use-case';

export interface RevokeCommand {
  reason: string | null;
  /** Admin only: close a `revoke_failed` grant that cannot be revoked in the cloud. */
  force: boolean;
}

/** Ends a grant before its expiry; idempotent for grants that already ended. */
export class RevokeGrantUseCase {
  constructor(
    private readonly lifecycle: GrantLifecycle,
    private readonly reader: GetGrantUseCase,
  ) {}

  async execute(actor: Actor, id: string, command: RevokeCommand): Promise<Grant> {
    requireRole(actor, 'requester', 'admin');
    const grant = await this.reader.execute(actor, id);
    if (grant.requestedBy !== actor.subject && !hasRole(actor, 'admin')) {
      throw new DomainError('forbidden', 'only the requester or an admin may revoke this grant', [{ field: 'id', message: 'not yours' }]);
    }
    if (command.force) return this.forceClose(actor, grant, command.reason);
    switch (grant.state) {
      case 'active': {
        const leaseUntil = new Date(this.lifecycle.clock.now().getTime() + this.lifecycle.settings.leaseMs);
        const revoking = await this.lifecycle.transition(
          grant,
          'revoking',
          // If this process dies before the cloud call ends, the sweeper finishes the revocation once the lease lapses.
          { endReason: 'revoked', leaseUntil, nextAttemptAt: leaseUntil },
          (g) => [AuditTrail.revokeRequested(g, actor.subject, command.reason)],
        );
        // Lost the race with the sweeper or another request: report where the grant is now.
        if (!revoking) return (await this.lifecycle.store.findById(id))!;
        return this.lifecycle.endAccess(revoking, 'revoked');
      }
      case 'pending_approval': {
        const withdrawn = await this.lifecycle.transition(
          grant,
          'denied',
          { endReason: 'withdrawn', endedAt: this.lifecycle.clock.now() },
          (g) => [AuditTrail.denied(g, actor.subject, 'withdrawn', command.reason)],
        );
        return withdrawn ?? (await this.lifecycle.store.findById(id))!;
      }
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

  private async forceClose(actor: Actor, grant: Grant, reason: string | null): Promise<Grant> {
    requireRole(actor, 'admin');
    if (grant.state !== 'revoke_failed') {
      throw new DomainError('invalid_state', 'only a revoke_failed grant can be force-closed', [{ field: 'force', message: `grant is ${grant.state}` }], {
        grantId: grant.id,
        state: grant.state,
      });
    }
    const closed = await this.lifecycle.transition(
      grant,
      'revoked',
      { endedAt: this.lifecycle.clock.now(), endReason: 'revoked', nextAttemptAt: null, leaseUntil: null },
      (g) => [AuditTrail.forceClosed(g, actor.subject, reason)],
    );
    return closed ?? (await this.lifecycle.store.findById(grant.id))!;
  }
}
