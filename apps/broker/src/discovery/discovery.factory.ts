import { BrokerConfig } from '@jit/config';
import { Clock, CloudAccessProvider, GrantRepository, ProviderError, StandingAccessInventory, TargetKinds } from '@jit/domain';
import { DiscoverySchedule, DiscoveryScanner, DiscoveryService, StandingRemovalService, loadPrivilegeCriteria } from '@jit/discovery';
import { AuditLog } from '@jit/audit';
import { BrokerMetrics } from '@jit/observability';
import { PostgresDiscoveryStore } from '@jit/persistence';
import { PolicySource } from '@jit/policy';
import { DataSource } from 'typeorm';
import { registerDiscoveryMetrics } from './discovery.metrics';
import { DiscoveryScheduler } from './discovery.scheduler';

export interface Discovery {
  service: DiscoveryService;
  removals: StandingRemovalService;
  scheduler: DiscoveryScheduler;
}

/** How long the scan lease lasts without a page stored (a page's retries included). */
const SCAN_LEASE_MS = 10 * 60_000;

/**
 * Discovery wired from each configured provider's `standingInventory()` (docs/discovery.md): the
 * store, the scanner under its lease, removals through the same approvals and audit log as grants,
 * the scheduler, and the summary gauges in /metrics. A bad criteria file or schedule stops the start.
 */
export function createDiscovery(o: {
  dataSource: DataSource;
  providers: readonly CloudAccessProvider[];
  config: BrokerConfig;
  clock: Clock;
  auditLog: AuditLog;
  policies: PolicySource;
  kinds: TargetKinds;
  metrics: BrokerMetrics;
  /** What a scan checks the broker's claimed assignments against (docs/discovery.md, "The broker's own grants"). */
  grants: GrantRepository;
}): Discovery {
  const { config, clock } = o;
  const inventories = o.providers.map((p) => p.standingInventory()).filter((i): i is StandingAccessInventory => i !== null);
  const criteria = loadPrivilegeCriteria(config.discovery.criteriaFile);
  const schedule = config.discovery.schedule ? new DiscoverySchedule(config.discovery.schedule) : null;
  const store = new PostgresDiscoveryStore(o.dataSource);
  const chained = () => void o.auditLog.chained().catch(() => undefined);
  const retry = {
    maxAttempts: 5,
    backoff: { baseMs: 500, capMs: 30_000, jitter: 'equal' as const },
    retryable: (e: unknown) => e instanceof ProviderError && e.kind === 'transient',
    retryAfterMs: (e: unknown) => (e instanceof ProviderError ? e.options.retryAfterMs : undefined),
    maxRetryAfterMs: 120_000,
  };
  const scanner = new DiscoveryScanner(store, inventories, criteria, clock, chained, {
    owner: config.replicaId,
    leaseMs: SCAN_LEASE_MS,
    retry,
    grants: o.grants,
    claimLookbackMs: config.reconcileLookbackMs,
  });
  const scheduler = new DiscoveryScheduler(scanner, store, clock, schedule);
  const service = new DiscoveryService(store, scanner, o.kinds, clock, config.discovery.unusedDays, () => scheduler.kick());
  const removals = new StandingRemovalService(store, inventories, o.policies, clock, chained, {
    approvals: config.discovery.removalApprovals,
    approverGroup: config.discovery.removalApproverGroup,
    retry,
  });
  registerDiscoveryMetrics(o.metrics.registry, () => service.summaryNow());
  return { service, removals, scheduler };
}
