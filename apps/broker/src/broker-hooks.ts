import { CloudName, Grant, GrantState, TargetKinds } from '@jit/domain';
import { LifecycleHooks } from '@jit/grants';
import { BrokerMetrics } from '@jit/observability';

export class BrokerLifecycleHooks extends LifecycleHooks {
  /** Set once the sweeper exists (API-only replicas have none). */
  onWorkDue: ((at: Date) => void) | undefined;
  /** Set when webhooks are configured: wakes the relay so a human hears of a change at once, not at its next poll. */
  onRecorded: (() => void) | undefined;
  /** Set by the composition root: a grant's write failed, maybe for want of the database (StrandedClaims). */
  onWriteFailed: ((grantId: string, error: unknown) => void) | undefined;

  constructor(
    private readonly metrics: BrokerMetrics,
    /** Whose descriptors say which grants only the sweeper ends (no expiry in the cloud). */
    private readonly kinds: TargetKinds,
  ) {
    super();
  }

  revocationLag(grant: Grant, seconds: number): void {
    const enforcement = this.kinds.has(grant.kind) ? this.kinds.enforcement(grant.kind, grant.principal) : 'cloud';
    this.metrics.revocationLag.observe({ cloud: grant.cloud, kind: grant.kind, enforcement }, Math.max(0, seconds));
  }

  providerCall(cloud: CloudName, operation: 'grant' | 'revoke', outcome: 'ok' | 'transient' | 'terminal'): void {
    this.metrics.providerCalls.inc({ cloud, operation, outcome });
  }

  transitioned(to: GrantState): void {
    this.metrics.transitions.inc({ state: to });
    this.onRecorded?.();
  }

  workDue(_grant: Grant, at: Date): void {
    this.onWorkDue?.(at);
  }

  override writeFailed(grant: Grant, error: unknown): void {
    this.onWriteFailed?.(grant.id, error);
  }

  decided(effect: 'allow' | 'deny', mode: string, dryRun = false): void {
    if (dryRun) {
      this.metrics.policyDryRuns.inc({ effect, mode });
      return;
    }
    this.metrics.policyDecisions.inc({ effect, mode });
    if (mode === 'break_glass') this.metrics.breakGlassUses.inc();
  }
}
