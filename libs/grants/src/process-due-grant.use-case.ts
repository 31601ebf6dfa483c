import { Grant } from '@jit/domain';
import { GrantLifecycle, describeError } from './grant-lifecycle';
import { denyOnTimeout } from './pending-timeout';

/** Attempts of a grant call when the sweeper finishes a grant a crashed replica left half-done. */
const RECOVERY_GRANT_ATTEMPTS = 1;

/**
 * The sweeper's work on one claimed grant: expire it, retry its revocation, finish what a
 * crashed replica left in `provisioning`, or deny a request nobody approved in time.
 */
export class ProcessDueGrantUseCase {
  constructor(private readonly lifecycle: GrantLifecycle) {}

  async execute(g: Grant): Promise<Grant> {
    const now = this.lifecycle.clock.now();
    switch (g.state) {
      case 'active':
        return g.expiresAt <= now ? this.lifecycle.endAccess(g, 'expired') : g;
      case 'revoking':
      case 'revoke_failed':
        return this.lifecycle.endAccess(g, g.endReason === 'revoked' ? 'revoked' : 'expired');
      case 'provisioning':
        return this.recover(g, now);
      case 'pending_approval':
        return g.approvalDeadline && g.approvalDeadline <= now ? denyOnTimeout(this.lifecycle, g) : g;
      default:
        return g;
    }
  }

  private async recover(g: Grant, now: Date): Promise<Grant> {
    const provider = this.lifecycle.registry.get(g.cloud);
    if (g.endReason === 'failed') {
      return this.lifecycle.failProvisioning(g, provider, (g.lastError ?? 'provisioning failed').replace(/; cleanup pending:.*$/, ''));
    }
    if (provider.vendsCredentials(g.kind)) {
      return this.lifecycle.failProvisioning(g, provider, 'the broker stopped before it could return the credentials; the session was revoked');
    }
    if (g.expiresAt <= now) {
      return this.lifecycle.failProvisioning(g, provider, 'the grant expired before provisioning completed');
    }
    const result = await this.lifecycle.provision(g, { recovered: true, attempts: RECOVERY_GRANT_ATTEMPTS });
    if ('error' in result && result.grant.state === 'provisioning') {
      return { ...result.grant, lastError: describeError(result.error) };
    }
    return result.grant;
  }
}
