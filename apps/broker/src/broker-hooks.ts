import { CloudName, Grant, GrantState } from '@jit/domain';
import { LifecycleHooks } from '@jit/grants';
import { BrokerMetrics } from '@jit/observability';

/** Kinds whose cloud has no expiry of its own: the sweeper is the only enforcement. */
const SWEEPER_ONLY = new Set(['azure.app-role']);

export class BrokerLifecycleHooks extends LifecycleHooks {
  /** Set once the sweeper exists (API-only replicas have none). */
  onWorkDue: ((at: Date) => void) | undefined;
  /** Set when webhooks are configured: wakes the relay so a human hears of a change at once, not at its next poll. */
  onRecorded: (() => void) | undefined;
  /** Set by the composition root: a grant's write failed, maybe for want of the database (StrandedClaims). */
  onWriteFailed: ((grantId: string, error: unknown) => void) | undefined;

  constructor(private readonly metrics: BrokerMetrics) {
    super();
  }

  revocationLag(grant: Grant, seconds: number): void {
    const enforcement =
      SWEEPER_ONLY.has(grant.kind) || (grant.kind === 'azure.resource-role' && grant.principal.type === 'workload') ? 'sweeper' : 'cloud';
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
