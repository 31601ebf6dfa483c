import { Clock, Grant, failureReason, revokeRequestPending } from '@jit/domain';
import { CloudProviderRegistry } from './cloud-provider.registry';
import { GrantLifecycle } from './grant-lifecycle';
import { GrantTransitions } from './grant-transitions';
import { denyOnTimeout } from './pending-timeout';
import { describeError } from './provider-failure';

/** Attempts of a grant call when the sweeper finishes a grant a crashed replica left half-done. */
const RECOVERY_GRANT_ATTEMPTS = 1;

export interface ProcessDueGrantDeps {
  transitions: GrantTransitions;
  lifecycle: GrantLifecycle;
  registry: CloudProviderRegistry;
  clock: Clock;
}

/**
 * The sweeper's work on one claimed grant: expire it, retry its revocation, finish what a
 * crashed replica left in `provisioning` (or carry out the revoke recorded on it), or deny a
 * request nobody approved in time.
 */
export class ProcessDueGrantUseCase {
  constructor(private readonly deps: ProcessDueGrantDeps) {}

  /**
   * `callEnded`, when given, is told as soon as the grant's revoke call has returned and only its
   * write is left (expiries and revocations: the sweeper's catch-up), so the caller can free the
   * cloud's slot before the write commits; the other kinds of work never call it and hold the
   * slot until they end.
   */
  async execute(g: Grant, callEnded?: () => void): Promise<Grant> {
    const { lifecycle, transitions } = this.deps;
    const now = this.deps.clock.now();
    switch (g.state) {
      case 'active':
        // A revoke recorded while provisioning, left undone by a replica that died after activating.
        if (revokeRequestPending(g)) return lifecycle.carryOutRevoke(g, callEnded);
        return g.expiresAt <= now ? lifecycle.endAccess(g, 'expired', callEnded) : g;
      case 'revoking':
      case 'revoke_failed':
        return lifecycle.endAccess(g, g.endReason === 'revoked' ? 'revoked' : 'expired', callEnded);
      case 'provisioning':
        return this.recover(g, now);
      case 'pending_approval':
        return g.approvalDeadline && g.approvalDeadline <= now ? denyOnTimeout(transitions, g, now) : g;
      default:
        return g;
    }
  }

  private async recover(g: Grant, now: Date): Promise<Grant> {
    const { lifecycle } = this.deps;
    if (g.endReason === 'failed') return lifecycle.failProvisioning(g, failureReason(g));
    // Revoked while provisioning: remove whatever the cloud may hold instead of granting first.
    if (revokeRequestPending(g)) return lifecycle.carryOutRevoke(g);
    if (this.deps.registry.get(g.cloud).vendsCredentials(g.kind)) {
      return lifecycle.failProvisioning(g, 'the broker stopped before it could return the credentials; the session was revoked');
    }
    if (g.expiresAt <= now) return lifecycle.failProvisioning(g, 'the grant expired before provisioning completed');
    const result = await lifecycle.provision(g, { recovered: true, attempts: RECOVERY_GRANT_ATTEMPTS });
    if ('error' in result && result.grant.state === 'provisioning') {
      return { ...result.grant, lastError: describeError(result.error) };
    }
    return result.grant;
  }
}
