import { Clock, Grant, failureReason, revokeRequestPending } from '@jit/domain';
import { CloudProviderRegistry } from './cloud-provider.registry';
import { CallGate, GrantLifecycle } from './grant-lifecycle';
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
   * With `gate`, an expiry's or a revocation's cloud call waits for and holds one of the caller's
   * slots (see GrantLifecycle.endAccess); `gatesCall` tells which work does, so the caller can
   * hold a slot for the whole of the rest (recovery, approval deadlines).
   */
  async execute(g: Grant, gate?: CallGate): Promise<Grant> {
    const { lifecycle, transitions } = this.deps;
    const now = this.deps.clock.now();
    switch (g.state) {
      case 'active':
        // A revoke recorded while provisioning, left undone by a replica that died after activating.
        if (revokeRequestPending(g)) return lifecycle.carryOutRevoke(g, gate);
        return g.expiresAt <= now ? lifecycle.endAccess(g, 'expired', gate) : g;
      case 'revoking':
      case 'revoke_failed':
        return lifecycle.endAccess(g, g.endReason === 'revoked' ? 'revoked' : 'expired', gate);
      case 'provisioning':
        return this.recover(g, now);
      case 'pending_approval':
        return g.approvalDeadline && g.approvalDeadline <= now ? denyOnTimeout(transitions, g, now) : g;
      default:
        return g;
    }
  }

  /** Whether execute() passes `g`'s cloud call through the gate (expiries and revocations), or makes no call or its own (recovery, approval deadlines). */
  static gatesCall(g: Grant): boolean {
    return g.state === 'active' || g.state === 'revoking' || g.state === 'revoke_failed';
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
