import { Gauge, Registry } from 'prom-client';
import { DiscoverySummary } from '@jit/discovery';

/**
 * Discovery's summary in /metrics, read at scrape time with one small aggregate query over the
 * open findings (docs/discovery.md, "Metrics").
 */
export function registerDiscoveryMetrics(registry: Registry, summary: () => Promise<DiscoverySummary>): void {
  let last: Promise<DiscoverySummary> | null = null;
  // One query per scrape, shared by the three gauges.
  const read = () => (last ??= summary().finally(() => setTimeout(() => (last = null), 1000).unref()));
  new Gauge({
    name: 'jit_discovery_standing_privileged',
    help: 'Standing privileged assignments found by the latest discovery scans (open findings), by cloud',
    labelNames: ['cloud'],
    registers: [registry],
    async collect() {
      this.reset();
      for (const c of (await read()).clouds) this.set({ cloud: c.cloud }, c.privileged);
    },
  });
  new Gauge({
    name: 'jit_discovery_standing_privileged_unused',
    help: 'Of them, those never used or not used for JIT_DISCOVERY_UNUSED_DAYS days, by cloud',
    labelNames: ['cloud'],
    registers: [registry],
    async collect() {
      this.reset();
      for (const c of (await read()).clouds) this.set({ cloud: c.cloud }, c.privilegedUnused);
    },
  });
  new Gauge({
    name: 'jit_discovery_standing_privileged_holders',
    help: 'Standing privileged assignments by who holds them: human, workload, or unknown (AWS roles, groups), by cloud',
    labelNames: ['cloud', 'holder'],
    registers: [registry],
    async collect() {
      this.reset();
      for (const c of (await read()).clouds) {
        this.set({ cloud: c.cloud, holder: 'human' }, c.privilegedHumans);
        this.set({ cloud: c.cloud, holder: 'workload' }, c.privilegedWorkloads);
        this.set({ cloud: c.cloud, holder: 'unknown' }, c.privilegedUnknown);
      }
    },
  });
  new Gauge({
    name: 'jit_discovery_eligible_privileged',
    help: 'Eligibility (Azure PIM) to privileged access found by the latest discovery scans: not held until activated, so not standing privilege, by cloud',
    labelNames: ['cloud'],
    registers: [registry],
    async collect() {
      this.reset();
      for (const c of (await read()).clouds) this.set({ cloud: c.cloud }, c.eligiblePrivileged);
    },
  });
}
