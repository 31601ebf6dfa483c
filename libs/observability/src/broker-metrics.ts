import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { GRANT_STATES, TERMINAL_STATES } from '@jit/domain';

/** The states `jit_grants` reports: ended grants only accumulate, so counting them at every scrape cost more each day. */
const OPEN_STATES = GRANT_STATES.filter((s) => !TERMINAL_STATES.includes(s));

/** Revocation lag buckets (seconds): on-time revocation lands in the first few. */
const LAG_BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 300, 900, 3600];

/** The broker's Prometheus metrics, on a registry of its own (several brokers can share a process in tests). */
export class BrokerMetrics {
  readonly registry = new Registry();

  /** Seconds between `expiresAt` and the revoke call being issued. */
  readonly revocationLag = new Histogram({
    name: 'jit_revocation_lag_seconds',
    help: 'Revoke call issued minus expiresAt, per cloud and kind; enforcement=sweeper marks kinds with no cloud-side expiry',
    labelNames: ['cloud', 'kind', 'enforcement'] as const,
    buckets: LAG_BUCKETS,
    registers: [this.registry],
  });

  readonly providerCalls = new Counter({
    name: 'jit_provider_calls_total',
    help: 'Cloud provider calls by operation and outcome',
    labelNames: ['cloud', 'operation', 'outcome'] as const,
    registers: [this.registry],
  });

  readonly transitions = new Counter({
    name: 'jit_grant_transitions_total',
    help: 'Grant state changes by target state',
    labelNames: ['state'] as const,
    registers: [this.registry],
  });

  readonly policyDecisions = new Counter({
    name: 'jit_policy_decisions_total',
    help: 'Access-rule decisions on grant requests: allow (auto, approvals, break_glass) or deny (deny_list, no_matching_rule, rule_conditions)',
    labelNames: ['effect', 'mode'] as const,
    registers: [this.registry],
  });

  readonly policyDryRuns = new Counter({
    name: 'jit_policy_dry_runs_total',
    help: 'Dry runs (POST /v1/policy/evaluate) by the decision they reported; nothing is stored or audited for them',
    labelNames: ['effect', 'mode'] as const,
    registers: [this.registry],
  });

  readonly policyReloads = new Counter({
    name: 'jit_policy_reloads_total',
    help: 'Rules-file reloads by outcome; rejected means the file was invalid and the previous rules stayed in force',
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });

  readonly notifications = new Counter({
    name: 'jit_notifications_total',
    help: 'Webhook notification deliveries by webhook and outcome (delivered, retried, failed)',
    labelNames: ['webhook', 'outcome'] as const,
    registers: [this.registry],
  });

  readonly siemEvents = new Counter({
    name: 'jit_siem_events_total',
    help: 'Audit events sent to each SIEM destination by outcome: delivered (events taken), retried (events of a batch whose attempt failed and is retried; the cursor waits)',
    labelNames: ['destination', 'outcome'] as const,
    registers: [this.registry],
  });

  readonly siemLag = new Gauge({
    name: 'jit_siem_lag_seconds',
    help: 'Age of the oldest audit event a SIEM destination has not taken yet (0 when caught up), from the replica that sends it',
    labelNames: ['destination'] as const,
    registers: [this.registry],
  });

  readonly breakGlassUses = new Counter({
    name: 'jit_break_glass_uses_total',
    help: 'Grants requested by break-glass accounts (each also a high-severity audit event and notification)',
    registers: [this.registry],
  });

  readonly auditCheckpoints = new Counter({
    name: 'jit_audit_checkpoints_total',
    help: 'Audit checkpoints signed, and deliveries to each sink by outcome (published, publish_failed)',
    labelNames: ['outcome', 'sink'] as const,
    registers: [this.registry],
  });

  readonly rateLimited = new Counter({
    name: 'jit_rate_limited_total',
    help: 'Requests refused with 429 by a per-subject limit (writes, dry_runs); nothing was stored or audited for them',
    labelNames: ['limit'] as const,
    registers: [this.registry],
  });

  readonly reconcileArtifacts = new Counter({
    name: 'jit_reconcile_artifacts_total',
    help: 'Artifacts reconciliation listed, by outcome: live (its grant is live), removed (an orphan, removed), remove_failed (an orphan left for the next pass)',
    labelNames: ['cloud', 'outcome'] as const,
    registers: [this.registry],
  });

  readonly reconcileErrors = new Counter({
    name: 'jit_reconcile_errors_total',
    help: 'Reconciliation failures by stage (scope, list, lookup, remove): retried (another attempt followed) or gave_up (the pass went on without that part)',
    labelNames: ['cloud', 'stage', 'outcome'] as const,
    registers: [this.registry],
  });

  /** What /health no longer tells anonymous callers: this replica's role, clouds and database kind. */
  readonly info = new Gauge({
    name: 'jit_broker_info',
    help: 'Always 1; labels: the replica role, the clouds it serves and its database (postgresql or embedded)',
    labelNames: ['role', 'clouds', 'database'] as const,
    registers: [this.registry],
  });

  constructor(countByState?: () => Promise<Record<string, number>>) {
    if (countByState) {
      new Gauge({
        name: 'jit_grants',
        help: 'Grants per non-terminal state (read from the database at scrape time); ended grants are not counted',
        labelNames: ['state'] as const,
        registers: [this.registry],
        async collect() {
          const counts = await countByState();
          for (const s of OPEN_STATES) this.set({ state: s }, counts[s] ?? 0);
        },
      });
    }
  }
}
